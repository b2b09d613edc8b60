"""Series on a GPU: every CUDA kernel against the CPU path and brute-force polynomials.

Without an NVIDIA GPU the root ``conftest.py`` switches numba's CUDA simulator
on, so these tests run the same kernels thread by thread on the CPU (slowly:
small descriptors and batches).  The CPU forwards are the reference, with a
few checks against the dict polynomials of ``truth``.
"""

import copy
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import truth

import diffalg as dg
from diffalg.maps import TaylorMap

D2 = dict(nv=2, order=3)
D3 = dict(nv=3, order=2)
DP = dict(variables=["x", "y"], params=["k"], order=3, param_order=1)
DESCRIPTORS = [D2, D3, DP]
IDS = ["nv2-o3", "nv3-o2", "params"]
N = 7  # rows of a batch


def _batch(d, rng, n=N, c0=None):
    """A CPU tensor of ``n`` random series (shape ``(n,)``), constant parts from ``c0``."""
    c = rng.uniform(-1, 1, (n, d.ncoef))
    if c0 is not None:
        c[:, 0] = rng.uniform(*c0, n)
    return dg.Tensor(c, d)


def _close(gpu, cpu, rtol=1e-13):
    assert gpu.device == "cuda" and cpu.device == "cpu"
    assert gpu.shape == cpu.shape and gpu.desc is cpu.desc
    truth.assert_close(gpu.coeffs, cpu.coeffs, rtol=rtol, floor=1e-2)


# ------------------------------------------------------------------ moves
def test_move_to_cuda_and_back():
    d = dg.Descriptor(**D2)
    x, y = d.vars([1.5, -0.5])
    f = x * y + dg.sin(x)
    g = f.to("cuda")
    assert dg.cuda.is_available() and dg.cuda.device_count() >= 1
    assert g.device == "cuda" and f.device == "cpu" and g.desc is d and g.shape == ()
    assert "device='cuda'" in repr(g)
    np.testing.assert_array_equal(g.coeffs, f.coeffs)  # read-outs are host copies
    assert g.const == f.const and g.coeff((1, 1)) == f.coeff((1, 1))
    assert str(g) == str(f)
    back = g.cpu()
    assert back.device == "cpu" and isinstance(back._data, np.ndarray)
    np.testing.assert_array_equal(back.coeffs, f.coeffs)
    assert f.cuda().device == "cuda" and f.to(device="cuda:0").device == "cuda"
    assert f.to(g).device == "cuda" and g.to(f).device == "cpu"  # a tensor gives its device
    assert g.cuda() is g and f.cpu() is f and g.to("cuda") is g
    M = dg.maps.identity(d).cuda()
    assert isinstance(M, TaylorMap) and M.device == "cuda"
    assert isinstance(M.cpu(), TaylorMap)


def test_indexing_comparisons_and_copies():
    d = dg.Descriptor(**D3)
    b = _batch(d, np.random.default_rng(10), n=12).reshape(3, 4)
    B = b.cuda()
    for idx in (1, -1, (2, 3), slice(1, 3), (1, slice(2, None))):
        assert B[idx].device == "cuda"
        np.testing.assert_array_equal(B[idx].coeffs, b[idx].coeffs)
    assert [t.shape for t in B] == [(4,)] * 3  # iteration takes rows
    with pytest.raises(IndexError, match="out of bounds"):
        B[3]
    with pytest.raises(NotImplementedError, match="not contiguous"):
        B[:, 1]
    np.testing.assert_array_equal((B > 0).numpy(), (b > 0).numpy())  # by constant parts
    assert bool(B[0, 0] < B[0, 0] + 1)
    C = copy.deepcopy(B)
    assert C.device == "cuda" and C._data is not B._data
    np.testing.assert_array_equal(C.coeffs, b.coeffs)


# ------------------------------------------------------------- arithmetic
@pytest.mark.parametrize("kw", DESCRIPTORS, ids=IDS)
def test_product_equals_cpu_and_brute_force(kw):
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(1)
    x, y = _batch(d, rng), _batch(d, rng)
    got = x.cuda() * y.cuda()
    _close(got, x * y)
    keep = truth.keeper(d)
    c = got.coeffs
    for i in (0, N - 1):
        want = truth.dense(d, truth.mul(truth.as_dict(x[i]), truth.as_dict(y[i]), keep))
        truth.assert_close(c[i], want, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("kw", [D2, DP], ids=["nv2-o3", "params"])
def test_one_series_broadcasts_against_a_batch(kw):
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(2)
    x, s = _batch(d, rng), _batch(d, rng, n=1)[0]
    X, S = x.cuda(), s.cuda()
    for f in (lambda a, b: a * b, lambda a, b: b * a, lambda a, b: a - b, lambda a, b: b + a):
        _close(f(X, S), f(x, s))
    # a (7, 1) batch against a (1,)-shaped series: the element shapes broadcast too
    _close(X.reshape(N, 1) * S.reshape(1), x.reshape(N, 1) * s.reshape(1))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        X * _batch(d, rng, n=3).cuda()
    with pytest.raises(ValueError, match="on cuda"):  # numpy would broadcast (7, 1) and (3,)
        X.reshape(N, 1) * _batch(d, rng, n=3).cuda()


def test_linear_operations_equal_cpu():
    d = dg.Descriptor(**DP)
    rng = np.random.default_rng(3)
    x, y = _batch(d, rng), _batch(d, rng)
    X, Y = x.cuda(), y.cuda()
    cases = [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: -a,
        lambda a, b: 2.5 * a,
        lambda a, b: a * np.float32(0.5),
        lambda a, b: a / 4.0,
        lambda a, b: a + 1,
        lambda a, b: 3 - b,
        lambda a, b: b - 0.25,
        lambda a, b: a.clone(),
    ]
    for f in cases:
        _close(f(X, Y), f(x, y))


# -------------------------------------------------------------- functions
UNIT = (-0.6, 0.6)
POSITIVE = (0.3, 2.0)
FUNCTIONS = {
    "exp": (dg.exp, UNIT),
    "log": (dg.log, POSITIVE),
    "sqrt": (dg.sqrt, POSITIVE),
    "sin": (dg.sin, UNIT),
    "cos": (dg.cos, UNIT),
    "tan": (dg.tan, UNIT),
    "sinh": (dg.sinh, UNIT),
    "cosh": (dg.cosh, UNIT),
    "tanh": (dg.tanh, UNIT),
    "asin": (dg.asin, UNIT),
    "acos": (dg.acos, UNIT),
    "atan": (dg.atan, UNIT),
    "asinh": (dg.asinh, UNIT),
    "acosh": (dg.acosh, (1.2, 2.0)),
    "atanh": (dg.atanh, UNIT),
    "erf": (dg.erf, UNIT),
    "abs": (abs, (0.2, 0.9)),
    "pow 1.5": (lambda a: a**1.5, POSITIVE),
    "pow -2": (lambda a: a**-2, POSITIVE),
    "pow 3": (lambda a: a**3, UNIT),
    "reciprocal": (lambda a: 1 / a, POSITIVE),
    "number / series": (lambda a: -2.5 / a, POSITIVE),
    "series / series": (lambda a: (a - 1) / (a * a), POSITIVE),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions_equal_cpu(name):
    f, c0 = FUNCTIONS[name]
    d = dg.Descriptor(**DP)
    x = _batch(d, np.random.default_rng(4), c0=c0)
    _close(f(x.cuda()), f(x), rtol=1e-12)


def test_function_of_one_series_and_closed_form():
    d = dg.Descriptor(**D2)
    x = _batch(d, np.random.default_rng(5), n=1)[0]
    got = dg.exp(x.cuda())
    _close(got, dg.exp(x))
    # exp(a0 + ā) = e^{a0} Σ ā^k / k!, summed on dict polynomials
    a = truth.as_dict(x)
    a0 = a.pop((0, 0))
    taylor = [math.exp(a0) / math.factorial(k) for k in range(d.order + 1)]
    want = truth.compose_univariate(taylor, a, d.nn, truth.keeper(d))
    truth.assert_close(got.coeffs, truth.dense(d, want), rtol=1e-14, atol=1e-15)


def test_series_exponent_and_pow_at_zero():
    d = dg.Descriptor(**D2)
    x, y = d.vars([0.0, 0.7])
    X, Y = x.cuda(), y.cuda()
    _close(X**2, x**2)  # constant part 0: the integer power is still a polynomial
    _close(dg.pow(Y, X + 1), dg.pow(y, x + 1))  # exp(p log a)
    _close(2.0**X, 2.0**x)


@pytest.mark.parametrize(
    "f, x0, error, match",
    [
        (dg.log, -0.5, ValueError, r"log: constant part -0.5 outside the domain"),
        (dg.sqrt, 0.0, ValueError, r"sqrt: constant part 0 outside the domain"),
        (dg.acosh, 0.5, ValueError, r"acosh: constant part 0.5 outside the domain"),
        (lambda a: a**0.5, -1.0, ValueError, r"outside the domain \(0, inf\)"),
        (lambda a: 1 / a, 0.0, ZeroDivisionError, r"constant part is 0"),
        (lambda a: a / 0.0, 1.0, ZeroDivisionError, r"by the number 0"),
    ],
)
def test_domain_errors_as_on_the_cpu(f, x0, error, match):
    d = dg.Descriptor(**D2)
    c = np.zeros((3, d.ncoef))
    c[:, 0] = [1.5, x0, 2.0]  # one bad row in the batch is enough
    c[:, 1] = 1.0
    with pytest.raises(error, match=match):
        f(dg.Tensor(c, d).cuda())


# ---------------------------------------------------- composition, tracking
def _map(d, rng, scale=0.4):
    """A random map of ``d`` (zero constant parts), one series per variable."""
    c = rng.uniform(-scale, scale, (d.nv, d.ncoef))
    c[:, 0] = 0.0
    return TaylorMap(c, d)


@pytest.mark.parametrize("kw", DESCRIPTORS, ids=IDS)
def test_compose_equals_cpu_and_substitution(kw):
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(6)
    f = _batch(d, rng)
    subs = list(_map(d, rng)) + d.params_at()
    got = f.cuda().compose(*[g.cuda() for g in subs])
    _close(got, f.compose(*subs))
    gs = [truth.as_dict(g) for g in subs]
    want = truth.substitute(truth.as_dict(f[2]), gs, d.nn, truth.keeper(d))
    truth.assert_close(got.coeffs[2], truth.dense(d, want), rtol=1e-13, atol=1e-15)


def test_compose_into_another_descriptor_and_with_a_map():
    d, e = dg.Descriptor(**D2), dg.Descriptor(**D3)
    rng = np.random.default_rng(7)
    f = _batch(d, rng, n=3)
    g = [dg.Tensor(rng.uniform(-0.5, 0.5, e.ncoef), e) for _ in range(d.nv)]
    _close(f.cuda().compose(*[h.cuda() for h in g]), f.compose(*g))
    M = _map(d, rng)
    _close(f.cuda().compose(M.cuda()), f.compose(M))  # one 1-d tensor of series


@pytest.mark.parametrize("kw", [D3, DP], ids=["nv3-o2", "params"])
def test_track_equals_cpu_and_polynomial_values(kw):
    d = dg.Descriptor(**kw)
    rng = np.random.default_rng(8)
    M = _map(d, rng)
    M._data[:, 0] = [0.1 * (i + 1) for i in range(d.nv)]  # a constant part too
    pts = rng.uniform(-0.3, 0.3, (13, d.nv))
    params = rng.uniform(-0.2, 0.2, (13, d.np)) if d.np else None
    got = M.cuda().track(pts, params)
    assert isinstance(got, np.ndarray) and got.shape == (13, d.nv)
    truth.assert_close(got, M.track(pts, params), rtol=1e-13, floor=1e-14)
    z = np.concatenate([pts[4], params[4]]) if d.np else pts[4]
    want = [truth.evaluate(truth.as_dict(M[i]), z) for i in range(d.nv)]
    truth.assert_close(got[4], want, rtol=1e-13, floor=1e-14)
    one = M.cuda().track(pts[0], None if params is None else params[0])
    truth.assert_close(one, got[0], rtol=1e-15, floor=1e-15)


def test_track_keeps_device_points_on_the_device():
    from numba import cuda

    d = dg.Descriptor(**DP)
    rng = np.random.default_rng(9)
    M = _map(d, rng)
    pts = rng.uniform(-0.3, 0.3, (6, d.nv))
    got = M.cuda().track(cuda.to_device(pts), [0.15])
    assert not isinstance(got, np.ndarray) and got.shape == (6, d.nv)
    truth.assert_close(got.copy_to_host(), M.track(pts, [0.15]), rtol=1e-13, floor=1e-14)
    with pytest.raises(ValueError, match=r"particles must be float64 of shape \(N, 2\)"):
        M.cuda().track(cuda.to_device(np.zeros((6, 1))))


# ------------------------------------------------------------------ errors
def test_mixing_devices_is_an_error():
    d = dg.Descriptor(**D2)
    x, y = d.vars()
    with pytest.raises(RuntimeError, match="same device.*cuda and cpu"):
        x.cuda() * y
    with pytest.raises(RuntimeError, match="same device.*cuda and cpu"):
        x + y.cuda()
    # compose runs where the composed series lives; the substituted ones may be on either
    assert x.cuda().compose(y, x).device == "cuda" and x.compose(y.cuda(), x).device == "cpu"


def test_real_tensors_stay_on_the_cpu():
    d = dg.Descriptor(**D2)
    a = dg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="only DA tensors .* live on the GPU"):
        a.to("cuda")
    with pytest.raises(RuntimeError, match="only DA tensors"):
        a.cuda()
    assert a.cpu() is a and a.device == "cpu"
    x = d.vars()[0].cuda()
    with pytest.raises(RuntimeError, match="real tensors stay on the cpu"):
        x * dg.tensor(2.0)
    with pytest.raises(RuntimeError, match="ndarray cannot meet series on cuda"):
        x + np.ones(3)
    with pytest.raises(RuntimeError, match="only the first GPU"):
        d.vars()[0].to("cuda:1")


def test_primitives_without_a_gpu_forward_say_so():
    x = dg.Descriptor(**D2).vars()[0].cuda()
    with pytest.raises(NotImplementedError, match="deriv is not available for tensors on cuda"):
        x.deriv(0)
    with pytest.raises(NotImplementedError, match=r"move them with \.cpu\(\)"):
        x.sum()


def test_the_tape_does_not_record_on_cuda():
    x = dg.Descriptor(**D2).vars()[0]
    with pytest.raises(RuntimeError, match="tape does not record moves"):
        x.detach().requires_grad_().cuda()
    X = x.cuda().requires_grad_()
    with pytest.raises(RuntimeError, match="tape does not record operations on cuda"):
        X * X
    with dg.no_grad():
        assert (X * X).device == "cuda"


def test_without_a_gpu_moving_to_cuda_is_a_clear_error():
    """With the simulator off and no GPU: a clear error, and diffalg still works on the cpu."""
    script = (
        "import sys, diffalg as dg\n"
        "lazy = 'numba.cuda' not in sys.modules\n"
        "if dg.cuda.is_available(): print('GPU'); raise SystemExit\n"
        "x, y = dg.Descriptor(nv=2, order=3).vars([1.0, 2.0])\n"
        "assert (x * y).device == 'cpu' and dg.cuda.device_count() == 0\n"
        "try:\n    x.to('cuda')\nexcept RuntimeError as e:\n    print(lazy, e)\n"
    )
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    if run.stdout.strip() == "GPU":
        pytest.skip("this machine has a CUDA GPU: moving to cuda succeeds there")
    assert run.stdout.startswith("True no CUDA GPU is available"), run.stdout


def test_map_composition_stays_on_the_gpu():
    d = dg.Descriptor(**D2)
    x, p = d.vars()
    M = TaylorMap([x + 0.5 * p, p - 0.1 * (x + 0.5 * p) ** 2])
    on_gpu = M.cuda() @ M.cuda()
    assert on_gpu.device == "cuda"
    truth.assert_close(on_gpu.coeffs, (M @ M).coeffs, rtol=1e-13)


def test_in_place_writes_and_atan2_on_cuda_are_refused_clearly():
    d = dg.Descriptor(**D2)
    x = d.vars([0.5, 0.2])[0].cuda()
    with pytest.raises(NotImplementedError, match="in-place operation.*cuda"):
        x += 1
    X = _batch(d, np.random.default_rng(0)).cuda()
    with pytest.raises(NotImplementedError, match="assignment.*cuda"):
        X[0] = X[1]
    with pytest.raises(NotImplementedError, match="atan2.*cuda"):
        dg.atan2(x, x)
