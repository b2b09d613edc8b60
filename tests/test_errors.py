"""Bad input raises an exception that names the problem."""

import numpy as np
import pytest

import diffalg as dg

D = dg.Descriptor(nv=2, order=3)
D4 = dg.Descriptor(nv=2, order=4)


@pytest.fixture
def xy():
    return D.vars([1.0, 0.0])  # x0 = 1, y0 = 0


# ------------------------------------------------------------- descriptors


@pytest.mark.parametrize(
    "kw,exc,match",
    [
        (dict(nv=2), TypeError, "needs an order"),
        (dict(order=2), TypeError, "needs nv or variables"),
        (dict(nv=0, order=2), ValueError, "nv must be a positive integer"),
        (dict(nv=2.5, order=2), ValueError, "nv must be a positive integer"),
        (dict(nv=2, order=-1), ValueError, "order must be a non-negative integer"),
        (dict(nv=2, order=2.0), ValueError, "order must be a non-negative integer"),
        (dict(nv=2, order=True), ValueError, "order must be a non-negative integer"),
        (dict(variables=[], order=2), ValueError, "at least one variable"),
        (dict(variables=6, order=2), TypeError, "sequence of names.*nv="),
        (dict(variables="xy", order=2), TypeError, "sequence of names"),
        (dict(variables=["x"], params="k1", order=2), TypeError, "params must be a sequence"),
        (dict(nv=3, variables=["a", "b"], order=2), ValueError, "2 variable names"),
        (dict(variables=["a", "a"], order=2), ValueError, "must be unique"),
        (dict(variables=["a"], params=["a"], order=2), ValueError, "must be unique"),
        (dict(variables=["a"], params=["k"], order=2, param_order=3), ValueError, "param_order"),
        (dict(variables=["a"], params=["k"], order=2, param_order=0), ValueError, "param_order"),
    ],
)
def test_bad_descriptor_arguments(kw, exc, match):
    with pytest.raises(exc, match=match):
        dg.Descriptor(**kw)


# ----------------------------------------------------- mixing descriptors


def test_mixing_descriptors(xy):
    x, y = xy
    u, v = D4.vars([1.0, 2.0])
    w = dg.Descriptor(variables=["a", "b"], order=3).var(0, 1.0)  # same shape, other names
    for f in (
        lambda: x + u,
        lambda: x - u,
        lambda: x * u,
        lambda: x / u,
        lambda: x * w,
        lambda: dg.atan2(x, u),
        lambda: dg.hypot(x, w),
        lambda: dg.pow(u, x),
        lambda: dg.stack([x, u]),
        lambda: dg.cat([dg.stack([x]), dg.stack([u])]),
        lambda: dg.stack([x, y]) @ dg.stack([u, v]),
    ):
        with pytest.raises(ValueError, match="different descriptors"):
            f()
    t = D.zeros(2)
    with pytest.raises(ValueError, match="different descriptors"):
        t[0] = u
    with pytest.raises(ValueError, match="share one descriptor"):
        x.compose(u, x)


# ------------------------------------------------------------------ domains


@pytest.mark.parametrize(
    "make,exc,match",
    [
        (lambda x, y: dg.log(y), ValueError, r"log: constant part 0 outside the domain \(0, inf\)"),
        (lambda x, y: dg.log(-x), ValueError, r"log: constant part -1 outside"),
        (lambda x, y: dg.sqrt(-x), ValueError, r"sqrt: constant part -1 outside"),
        (lambda x, y: dg.sqrt(y), ValueError, r"sqrt: constant part 0 outside"),
        (lambda x, y: 1 / y, ZeroDivisionError, "constant part is 0"),
        (lambda x, y: x / y, ZeroDivisionError, "constant part is 0"),
        (lambda x, y: x / (y * x), ZeroDivisionError, "constant part is 0"),
        (
            lambda x, y: dg.asin(x),
            ValueError,
            r"asin: constant part 1 outside the domain \(-1, 1\)",
        ),
        (lambda x, y: dg.asin(-2 * x), ValueError, r"asin: constant part -2 outside"),
        (lambda x, y: dg.acos(1.5 * x), ValueError, r"acos: constant part 1.5 outside"),
        (
            lambda x, y: dg.acosh(x),
            ValueError,
            r"acosh: constant part 1 outside the domain \(1, inf\)",
        ),
        (lambda x, y: dg.acosh(y), ValueError, r"acosh: constant part 0 outside"),
        (
            lambda x, y: dg.atanh(x),
            ValueError,
            r"atanh: constant part 1 outside the domain \(-1, 1\)",
        ),
        (lambda x, y: dg.atanh(-x), ValueError, r"atanh: constant part -1 outside"),
        (lambda x, y: y**0.5, ValueError, r"x\*\*0.5: constant part 0 outside the domain"),
        (lambda x, y: (-x) ** 1.5, ValueError, r"x\*\*1.5: constant part -1 outside"),
        (lambda x, y: y**-1, ZeroDivisionError, "constant part 0 and a negative exponent"),
        (lambda x, y: y**-2.0, ZeroDivisionError, "negative exponent"),
        (lambda x, y: dg.abs(y), ValueError, r"abs: constant part 0"),
        (lambda x, y: dg.atan2(y, 0 * x), ValueError, "both constant parts are 0"),
        (lambda x, y: dg.hypot(y, y), ValueError, "sqrt: constant part 0"),
        (lambda x, y: dg.pow(-x, y), ValueError, "non-finite|log"),
    ],
)
def test_outside_domain(xy, make, exc, match):
    x, y = xy
    with pytest.raises(exc, match=match):
        make(x, y)


def test_domain_checked_per_element():
    t = D.var(0, np.array([1.0, 2.0, -3.0]))
    with pytest.raises(ValueError, match="log: constant part -3 outside"):
        dg.log(t)
    with pytest.raises(ZeroDivisionError, match="constant part is 0"):
        1 / (t - 2)
    with pytest.raises(ValueError, match=r"x\*\*0.5: constant part -3"):
        t**0.5


def test_domain_boundary_just_inside_is_accepted(xy):
    x, _ = xy
    for f in (dg.asin, dg.acos, dg.atanh):
        f(x * (1 - 2**-20))
    dg.acosh(x * (1 + 2**-20))
    dg.log(x * 1e-300)


# --------------------------------------------------------------- exponents


@pytest.mark.parametrize(
    "exps,match",
    [
        ((1,), "has 1 entries"),
        ((1, 0, 0), "has 3 entries"),
        ((1, -1), "negative entry"),
        ((2, 2), "degree 4 > order 3"),
        ((4, 0), "degree 4 > order 3"),
    ],
)
def test_bad_exponent_tuples(xy, exps, match):
    x, _ = xy
    for read in (x.coeff, x.derivative, D.index):
        with pytest.raises(ValueError, match=match):
            read(exps)
    with pytest.raises(ValueError, match=match):
        D.from_coeffs({exps: 1.0})


def test_exponents_above_param_order():
    d = dg.Descriptor(variables=["x"], params=["k"], order=4, param_order=1)
    (x,) = d.vars([1.0])
    with pytest.raises(ValueError, match="parameter degree 2 > param_order 1"):
        x.coeff((0, 2))


# -------------------------------------------------------- values and names


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input(bad):
    with pytest.raises(ValueError, match="finite"):
        D.vars([bad, 1.0])
    with pytest.raises(ValueError, match="finite"):
        D.var(0, np.array([1.0, bad]))
    with pytest.raises(ValueError, match="finite"):
        D.const(bad)
    with pytest.raises(ValueError, match="finite"):
        D.from_coeffs(np.full(D.ncoef, bad))
    x, _ = D.vars([1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        x.eval([[bad, 0.0]])


def test_non_finite_number_combined_with_series():
    x, _ = D.vars([1.0, 2.0])
    for f in (lambda: x + np.nan, lambda: x * np.inf, lambda: x - np.array([1.0, np.nan])):
        with pytest.raises(ValueError, match="non-finite"):
            f()


def test_unknown_variable_names_and_indices():
    d = dg.Descriptor(variables=["x", "y"], order=3)
    with pytest.raises(KeyError, match="unknown variable 'z'"):
        d.var("z")
    (x, _) = d.vars([1.0, 2.0])
    with pytest.raises(KeyError, match="unknown variable 'q'"):
        x.deriv("q")
    with pytest.raises(KeyError, match="unknown variable 'q'"):
        x.integ("q")
    with pytest.raises(IndexError, match="out of range"):
        d.var(2)
    with pytest.raises(IndexError, match="out of range"):
        x.deriv(-1)
    with pytest.raises(ValueError, match="needs 2 values"):
        d.vars([1.0])
    with pytest.raises(ValueError, match="needs 0 values"):
        d.params_at([1.0])


# ------------------------------------------------------------------- shapes


def test_broadcast_shape_mismatch():
    a = D.var(0, np.zeros(3))
    b = D.var(1, np.zeros(4))
    for f in (lambda: a + b, lambda: a - b, lambda: a * b, lambda: (a + 1) / (b + 1)):
        with pytest.raises(ValueError, match=r"shapes \(3,\), \(4,\) cannot be broadcast"):
            f()
    for f in (lambda: a + np.zeros(4), lambda: a * np.ones((2, 4)), lambda: np.zeros(4) - a):
        with pytest.raises(ValueError, match="cannot be broadcast"):
            f()


def test_matmul_shape_mismatch():
    A = D.zeros((2, 3))
    with pytest.raises(
        ValueError, match=r"matmul: shapes \(2, 3\) and \(2, 3\) cannot be multiplied"
    ):
        A @ A
    with pytest.raises(
        ValueError, match=r"matmul: shapes \(2, 3\) and \(2,\) cannot be multiplied"
    ):
        A @ D.zeros(2)
    with pytest.raises(ValueError, match="cannot be multiplied"):
        np.zeros((4, 2)) @ A.T.T.T  # (4,2) @ (3,2)
    with pytest.raises(ValueError, match="cannot be multiplied"):
        A @ np.zeros(4)
    with pytest.raises(ValueError, match="at least one dimension"):
        D.zeros() @ D.zeros()


def test_other_shape_errors(xy):
    x, _ = xy
    t = D.zeros((2, 3))
    with pytest.raises(RuntimeError, match=r"shape \(4, 2\) is invalid for input of size 6"):
        t.reshape(4, 2)
    with pytest.raises(ValueError, match="do not fit"):
        dg.cat([t, D.zeros((2, 2))])
    with pytest.raises(ValueError, match="at least one tensor"):
        dg.stack([])
    with pytest.raises(ValueError, match="trailing size"):
        D.from_coeffs(np.zeros(3))
    with pytest.raises(ValueError, match=r"points must have shape \(npoints, 2\)"):
        x.eval([1.0])
    with pytest.raises(ValueError, match=r"has 2 variables, got 1 series"):
        x.compose(x)
    with pytest.raises(TypeError, match="0-d DA tensor"):
        x.compose(1.0, 2.0)
    with pytest.raises(ValueError, match="order must be >= 0"):
        x.truncate(-1)


# -------------------------------------------------------------------- types


def test_wrong_types(xy):
    x, _ = xy
    with pytest.raises(TypeError, match="needs a DA tensor"):
        dg.deriv(dg.tensor(1.0), var=0)
    with pytest.raises(TypeError, match="a DA tensor"):
        dg.tensor(1.0).gradient()
    with pytest.raises(TypeError, match="number exponent"):
        x ** np.array([1.0, 2.0])
    with pytest.raises(TypeError, match="unsupported operand type"):
        x + "a"
    with pytest.raises(TypeError, match="dtype"):
        x + np.array(["a"])
    with pytest.raises(TypeError, match="const|coeffs"):
        np.asarray(x)
