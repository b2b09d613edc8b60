"""The tape through series: VJPs of DA primitives against finite differences and knobs."""

import math

import numpy as np
import pytest

import diffalg as dg
from diffalg.maps import COORDS, Beam, Drift, Lattice, Multipole, Quadrupole, Sextupole
from diffalg.ops import adjoint
from diffalg.ops.registry import PRIMITIVES

D = dg.Descriptor(nv=2, order=3)
DP = dg.Descriptor(variables=["x", "y"], params=["k"], order=3, param_order=1)


def _series(d, rng, shape=(), c0=(-0.5, 0.5), scale=0.3):
    c = scale * rng.uniform(-1, 1, shape + (d.ncoef,))
    c[..., 0] = rng.uniform(*c0, shape)
    return c


def _loss(out, w):
    """A fixed random linear functional of the output (coefficients or reals)."""
    vals = adjoint.coefficients(out) if out.desc is not None else out
    return (vals * dg.tensor(w)).sum()


def _check(f, inputs, rtol=1e-7, h=1e-6):
    """Tape gradient of ``w · f(inputs)`` against central differences, input by input.

    ``inputs`` are ``(data, desc or None)``; series inputs get the adjoint of
    every coefficient, real inputs an ordinary gradient.
    """
    leaves = [
        dg.Tensor(np.array(a), d) if d is not None else dg.tensor(np.array(a)) for a, d in inputs
    ]
    for t in leaves:
        t.requires_grad_()
    out = f(*leaves)
    w = np.random.default_rng(99).uniform(-1, 1, (out._data.shape))
    _loss(out, w).backward()

    def value(arrays):
        with dg.no_grad():
            ts = [
                dg.Tensor(a, d) if d is not None else dg.tensor(a)
                for a, (_, d) in zip(arrays, inputs, strict=True)
            ]
            r = f(*ts)
        return float((np.asarray(r._data if isinstance(r, dg.Tensor) else r) * w).sum())

    base = [np.array(a, dtype=np.float64) for a, _ in inputs]
    for k, t in enumerate(leaves):
        got = t.grad._data
        assert (t.grad.desc is None) == (inputs[k][1] is None)
        want = np.zeros_like(base[k])
        for idx in np.ndindex(base[k].shape):
            up = [b.copy() for b in base]
            dn = [b.copy() for b in base]
            up[k][idx] += h
            dn[k][idx] -= h
            want[idx] = (value(up) - value(dn)) / (2 * h)
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale, err_msg=f"input {k}")


RNG = np.random.default_rng(0)
S1, S2 = _series(D, RNG), _series(D, RNG)
POS = _series(D, RNG, c0=(0.8, 1.5))
UNIT = _series(D, RNG, c0=(-0.6, 0.6), scale=0.1)
BIG = _series(D, RNG, c0=(1.3, 2.0), scale=0.1)
B3 = _series(D, RNG, (3,))
R3 = RNG.uniform(0.5, 1.5, 3)

# name -> (function of leaves, inputs as (data, descriptor or None))
CASES = {
    "add": (lambda a, b: a + b, [(S1, D), (S2, D)]),
    "add real": (lambda a, r: a + r, [(B3, D), (R3, None)]),
    "sub": (lambda a, b: a - b, [(S1, D), (S2, D)]),
    "sub real": (lambda r, a: r - a, [(R3, None), (B3, D)]),
    "neg": (lambda a: -a, [(S1, D)]),
    "mul": (lambda a, b: a * b, [(S1, D), (S2, D)]),
    "mul real": (lambda r, a: r * a, [(R3, None), (B3, D)]),
    "mul broadcast": (lambda a, b: a * b, [(S1, D), (B3, D)]),
    "div": (lambda a, b: a / b, [(S1, D), (POS, D)]),
    "div real": (lambda a, r: a / r, [(B3, D), (R3, None)]),
    "real div": (lambda r, a: r / a, [(R3, None), (POS, D)]),
    "pow": (lambda a: a**2.5, [(POS, D)]),
    "pow tensor exponent": (lambda a, p: a**p, [(POS, D), (np.array(1.7), None)]),
    "exp": (dg.exp, [(S1, D)]),
    "expm1": (dg.expm1, [(S1, D)]),
    "log1p": (dg.log1p, [(UNIT, D)]),
    "log": (dg.log, [(POS, D)]),
    "sqrt": (dg.sqrt, [(POS, D)]),
    "sin": (dg.sin, [(S1, D)]),
    "cos": (dg.cos, [(S1, D)]),
    "tan": (dg.tan, [(S1, D)]),
    "sinh": (dg.sinh, [(S1, D)]),
    "cosh": (dg.cosh, [(S1, D)]),
    "tanh": (dg.tanh, [(S1, D)]),
    "asin": (dg.asin, [(UNIT, D)]),
    "acos": (dg.acos, [(UNIT, D)]),
    "atan": (dg.atan, [(S1, D)]),
    "asinh": (dg.asinh, [(S1, D)]),
    "acosh": (dg.acosh, [(BIG, D)]),
    "atanh": (dg.atanh, [(UNIT, D)]),
    "erf": (dg.erf, [(S1, D)]),
    "abs": (dg.abs, [(POS, D)]),
    "deriv": (lambda a: a.deriv(1), [(S1, D)]),
    "integ": (lambda a: a.integ(0), [(S1, D)]),
    "truncate": (lambda a: a.truncate(2), [(S1, D)]),
    "mul_adjoint": (adjoint.mul_adjoint, [(S1, D), (S2, D)]),
    "deriv_adjoint": (lambda a: PRIMITIVES["deriv_adjoint"](a, var=0), [(S1, D)]),
    "integ_adjoint": (lambda a: PRIMITIVES["integ_adjoint"](a, var=1), [(S1, D)]),
    "coefficients": (lambda a: adjoint.coefficients(a)[1:], [(B3, D)]),
    "as_series": (lambda r, a: adjoint.as_series(r, a) * a, [(B3 * 0.5, None), (B3, D)]),
    "with parameters": (
        lambda a, b: dg.sin(a * b),
        [(_series(DP, RNG), DP), (_series(DP, RNG), DP)],
    ),
    "select": (lambda a: a[1] * a[2], [(B3, D)]),
    "index": (lambda a: a[[0, 2]].sum(), [(B3, D)]),
    "stack": (lambda a, b: dg.stack([a, b * b]), [(S1, D), (S2, D)]),
    "cat": (lambda a, b: dg.cat([a, b]), [(B3, D), (B3, D)]),
    "reshape": (lambda a: a.reshape(3, 1) * a.reshape(1, 3), [(B3, D)]),
    "permute": (lambda a: a.reshape(3, 1).permute(1, 0) * 2.0, [(B3, D)]),
    "expand": (lambda a: a.reshape(3, 1).expand(3, 2), [(B3, D)]),
    "sum": (lambda a: a.sum(), [(B3, D)]),
    "clone": (lambda a: a.clone() * a, [(S1, D)]),
    "view": (lambda a: a.view(3, 1) * a, [(B3, D)]),
    "eval": (lambda a: a.eval(np.array([[0.1, -0.2], [0.3, 0.05]])), [(B3, D)]),
    "compose": (lambda f, a, b: f.compose(a, b), [(B3, D), (S1 - S1[0], D), (S2 - S2[0], D)]),
    "compose_into": (
        lambda f, a, b: f.compose(a, b),
        [(B3, D), (_series(DP, RNG, c0=(0, 0)), DP), (_series(DP, RNG, c0=(0, 0)), DP)],
    ),
    "compose_into second descriptor only": (
        lambda a, b: dg.Tensor(B3, D).compose(a, b * a),
        [(_series(DP, RNG, c0=(0, 0)), DP), (_series(DP, RNG, c0=(0, 0)), DP)],
    ),
    "sum_to_size": (lambda a: dg.ops.sum_to(a.reshape(1, 3).expand(2, 3), (1, 3)), [(B3, D)]),
    "im2row": (
        lambda a: PRIMITIVES["im2row"](
            a.reshape(1, 1, 2, 2), k=(2, 2), stride=(1, 1), padding=(1, 1), pad_value=0.5
        ),
        [(_series(D, RNG, (4,)), D)],
    ),
    "row2im": (
        lambda r: PRIMITIVES["row2im"](
            r, k=(2, 2), stride=(1, 1), padding=(0, 0), shape=(1, 1, 2, 3)
        ),
        [(_series(D, RNG, (1, 1, 2, 4)), D)],
    ),
    "index_backward": (
        lambda a: PRIMITIVES["index_backward"](a, idx=(slice(0, 2),), shape=(4,), basic=True),
        [(B3[:2], D)],
    ),
    "index_put": (lambda a, v: PRIMITIVES["index_put"](a, v, idx=(1,)), [(B3, D), (S1, D)]),
    "relu": (dg.relu, [(B3 * np.array([[1], [-1], [1]]), D)]),
    "sigmoid": (dg.sigmoid, [(B3, D)]),
    "softmax": (lambda a: dg.softmax(a.reshape(1, 3), dim=1), [(B3, D)]),
    "log_softmax": (lambda a: dg.log_softmax(a.reshape(3, 1), dim=0), [(B3, D)]),
    "where": (
        lambda a, r: dg.where(dg.tensor([True, False, True]), a, r),
        [(B3, D), (R3, None)],
    ),
    "maximum": (dg.maximum, [(B3, D), (np.roll(B3, 1, axis=0), D)]),
    "minimum": (lambda a, r: dg.minimum(a, r), [(B3, D), (np.array([0.0, 9.0, -9.0]), None)]),
    "clamp": (lambda a: dg.clamp(a, min=-0.1, max=0.2), [(B3 - np.array([[0.5], [0.1], [0]]), D)]),
}
# networks on series inputs, gradients for their real weights (what trains a network
# on a loss made of Taylor coefficients)
F = dg.nn.functional
CASES["network mlp"] = (
    lambda x, w1, b1, w2: F.linear(dg.tanh(F.linear(x, w1, b1)), w2),
    [(B3.reshape(1, 3, -1), D), (RNG.uniform(-1, 1, (4, 3)), None), (R3[[0, 1, 2, 0]], None),
     (RNG.uniform(-1, 1, (2, 4)), None)],
)  # fmt: skip
CASES["network conv"] = (
    lambda x, w, b: F.max_pool2d(F.softplus(F.conv2d(x, w, b, padding=1)), 2),
    [(_series(D, RNG, (1, 1, 3, 3)), D), (RNG.uniform(-1, 1, (2, 1, 2, 2)), None),
     (RNG.uniform(-1, 1, 2), None)],
)  # fmt: skip
CASES["network softmax"] = (
    lambda x, w: F.log_softmax(F.relu(x @ w), dim=1) + F.softmax(x @ w, dim=1),
    [(np.stack([B3, np.roll(B3, 1, axis=0)]), D), (RNG.uniform(0.5, 1, (3, 4)), None)],
)
# matmul: real and series matrices and vectors, every pairing of kinds and ranks
for _ka, _kb in [("real", "series"), ("series", "real"), ("series", "series")]:
    for _ra, _rb in [(1, 1), (1, 2), (2, 1), (2, 2), (3, 2)]:
        _sa = (3,) if _ra == 1 else (2, 3) if _ra == 2 else (2, 2, 3)
        _sb = (3,) if _rb == 1 else (3, 2)
        _in = [
            (_series(D, RNG, s), D) if k == "series" else (RNG.uniform(-1, 1, s), None)
            for k, s in ((_ka, _sa), (_kb, _sb))
        ]
        CASES[f"matmul {_ka}{_ra} @ {_kb}{_rb}"] = (lambda a, b: a @ b, _in)


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_through_series_against_finite_differences(name):
    f, inputs = CASES[name]
    _check(f, inputs)


def test_every_primitive_with_a_series_vjp_has_a_case():
    names = {c.split(" ")[0] for c in CASES}
    missing = [n for n, p in PRIMITIVES.items() if p.da_vjp is not None and n not in names]
    assert not missing, f"no gradient test through series for {missing}"


def test_second_derivative_through_series_with_create_graph():
    d = dg.Descriptor(nv=1, order=4)
    (x,) = d.vars([0.0])
    k = dg.tensor(0.7, dtype=dg.float64, requires_grad=True)
    c4 = adjoint.coefficients(dg.exp(k * x))[4]  # k⁴/24
    (g,) = dg.autograd.grad(c4, k, create_graph=True)
    (h,) = dg.autograd.grad(g, k)
    assert float(g) == pytest.approx(0.7**3 / 6, rel=1e-13)
    assert float(h) == pytest.approx(0.7**2 / 2, rel=1e-13)


def _ring(k2f, k2d, knob=0.0):
    beam = Beam("proton", energy=1.2)
    k = k2f + knob
    return Lattice(
        [Quadrupole(0.5, 0.6), Sextupole(0.2, k), Drift(1.0), Quadrupole(0.5, -0.6),
         Sextupole(0.2, k2d), Drift(1.0), Multipole(knl=[0, 0.05, 0.5 * k])],
        beam,
    )  # fmt: skip


def test_gradients_of_map_coefficients_against_finite_differences_and_knobs():
    """``∂T_ijk/∂k2f`` three ways: the tape, central differences, and a DA knob."""
    k2f = dg.tensor(1.5, dtype=dg.float64, requires_grad=True)
    M = _ring(k2f, -2.0).map(order=3)
    picks = [(0, (2, 0, 0, 0, 0, 0)), (1, (1, 1, 0, 0, 0, 0)), (2, (1, 0, 1, 0, 0, 0))]
    idx = [(r, M.desc.index(e)) for r, e in picks]
    coeffs = adjoint.coefficients(M)
    got = []
    for r, i in idx:
        (g,) = dg.autograd.grad(coeffs[r, i], k2f, retain_graph=True)
        got.append(float(g))

    def at(v):
        with dg.no_grad():
            c = _ring(v, -2.0).map(order=3).coeffs
        return np.array([c[r, i] for r, i in idx])

    h = 1e-6
    fd = (at(1.5 + h) - at(1.5 - h)) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-7)
    # forward mode: the strength as a DA parameter; ∂/∂k2 is the coefficient with k^1
    dk = dg.Descriptor(variables=list(COORDS), params=["k2"], order=4, param_order=1)
    knob = dk.params_at([0.0])[0]
    Mk = _ring(1.5, -2.0, knob).map(desc=dk)
    fwd = [float(Mk[r].coeff(e + (1,))) for r, e in picks]
    np.testing.assert_allclose(got, fwd, rtol=1e-10)


def test_backward_from_a_series_needs_a_gradient():
    x = dg.Descriptor(nv=1, order=2).vars([0.5])[0]
    k = dg.tensor(2.0, dtype=dg.float64, requires_grad=True)
    y = dg.sin(k * x)
    with pytest.raises(RuntimeError, match="series.*coeff"):
        y.backward()
    with pytest.raises(RuntimeError, match="algebra"):
        y.backward(dg.tensor(1.0, dtype=dg.float64))
    y.backward(dg.Tensor(np.ones(3), x.desc))  # one adjoint per coefficient: L = c0 + c1 + c2
    # c0 = sin(k x0), c1 = k cos(k x0), c2 = -k² sin(k x0) / 2 at k = 2, x0 = 0.5
    s, c = math.sin(1.0), math.cos(1.0)
    want = 0.5 * c + (c - 1.0 * s) + (-2.0 * s - 4.0 * 0.5 * c / 2)
    assert float(k.grad) == pytest.approx(want, rel=1e-13)


def test_series_of_two_descriptors_on_the_tape_are_refused():
    k = dg.tensor(2.0, dtype=dg.float64, requires_grad=True)
    a = k * dg.Descriptor(nv=1, order=2).vars()[0]
    b = k * dg.Descriptor(nv=1, order=3).vars()[0]
    with pytest.raises(ValueError, match="different descriptors"):
        a + b


def test_composition_on_the_tape_against_finite_differences():
    d = dg.Descriptor(nv=2, order=3)
    rng = np.random.default_rng(5)
    f = _series(d, rng, (2,))
    g1, g2 = _series(d, rng, c0=(0, 0)), _series(d, rng, c0=(0, 0))
    _check(lambda f, a, b: f.compose(a, b), [(f, d), (g1, d), (g2, d)])


def test_map_composition_and_inverse_carry_gradients():
    """d/dk of a coefficient of (M ∘ M)⁻¹-free quantities: M @ M against differences."""
    k = dg.tensor(0.3, dtype=dg.float64, requires_grad=True)
    d = dg.Descriptor(nv=2, order=4)

    def M_of(kv):
        x, p = d.vars()
        return dg.maps.TaylorMap([x + 0.5 * p, p - kv * (x + 0.5 * p) ** 2])

    M = M_of(k)
    c = adjoint.coefficients(M @ M)[1, d.index((2, 1))]
    c.backward()
    h = 1e-6
    with dg.no_grad():
        up = (M_of(0.3 + h) @ M_of(0.3 + h)).coeffs[1, d.index((2, 1))]
        dn = (M_of(0.3 - h) @ M_of(0.3 - h)).coeffs[1, d.index((2, 1))]
    assert float(k.grad) == pytest.approx((up - dn) / (2 * h), rel=1e-8)


def test_composition_coefficient_adjoint_walks_the_tree():
    """f̄_i = <ḡ, G^{m_i}>: backward() walks the monomial tree (no m × m matrix of
    monomials); it must agree with the create_graph path, which builds that matrix on
    the tape, and with f̄ = Σ_k ḡ_k ∂(f∘G)_k/∂f_i by brute force on a few monomials."""
    import tracemalloc

    d = dg.Descriptor(nv=4, order=8)  # 495 coefficients
    rng = np.random.default_rng(5)
    G = [dg.Tensor(rng.uniform(-0.5, 0.5, d.ncoef), d) for _ in range(4)]
    f = dg.Tensor(rng.uniform(-1, 1, (2, d.ncoef)), d).requires_grad_()
    gbar = dg.Tensor(rng.uniform(-1, 1, (2, d.ncoef)), d)
    dg.autograd.grad(f.compose(*G), f, gbar)  # compile first: numba allocates while it does
    tracemalloc.start()
    (walked,) = dg.autograd.grad(f.compose(*G), f, gbar)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < d.ncoef * d.ncoef * 8 / 4  # the matrix alone would be 2 MB
    (taped,) = dg.autograd.grad(f.compose(*G), f, gbar, create_graph=True)
    np.testing.assert_allclose(walked.coeffs, taped.detach().coeffs, rtol=1e-12, atol=1e-12)
    for i in (0, 7, d.ncoef // 2, d.ncoef - 1):  # the monomial alone, composed
        e = dg.Tensor(np.eye(d.ncoef)[i], d)
        want = (gbar.coeffs * e.compose(*G).coeffs).sum(axis=-1)
        np.testing.assert_allclose(walked.coeffs[:, i], want, rtol=1e-12, atol=1e-12)


def test_composition_into_another_descriptor_on_the_tape_closed_form():
    """``f = k·x³`` (order 3, one variable) composed with ``y + y²`` of a two-variable
    descriptor: the ``y³`` coefficient is ``k``, the ``y⁴`` one ``3k``."""
    k = dg.tensor(0.3, dtype=dg.float64, requires_grad=True)
    (x,) = dg.Descriptor(nv=1, order=3).vars()
    d2 = dg.Descriptor(nv=2, order=4)
    y, _ = d2.vars()
    h = (k * x * x * x).compose(y + y * y)
    c = dg.coefficients(h)
    loss = c[d2.index((3, 0))] + 2 * c[d2.index((4, 0))]  # k + 6k
    loss.backward()
    assert loss.item() == pytest.approx(7 * 0.3, rel=1e-14)
    assert k.grad.item() == pytest.approx(7.0, rel=1e-14)
    # second order through it: the same coefficients of k²·x³ ∘ (y + y²) are 7k²
    c = dg.coefficients((k * k * x * x * x).compose(y + y * y))
    (g,) = dg.autograd.grad(c[d2.index((3, 0))] + 2 * c[d2.index((4, 0))], k, create_graph=True)
    (gg,) = dg.autograd.grad(g, k)
    assert (g.item(), gg.item()) == pytest.approx((14 * 0.3, 14.0), rel=1e-14)
