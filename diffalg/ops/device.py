"""Series on a GPU: moving tensors between devices and the CUDA forward of primitives.

A DA tensor on the GPU keeps its layout, ``(..., ncoef)`` float64, in a
``numba.cuda`` device array as ``Tensor._data``; ``t.device`` is ``"cuda"``.
The first move there imports ``numba.cuda`` and the kernels, fills the
``cuda`` slot of the primitives in :data:`FORWARDS` and hooks
:func:`forward` into ``registry.apply``, so the same operators and functions
run on either device.  What this version keeps to the CPU:

* real tensors (``x.to("cuda")`` of one is an error);
* the tape: an operation on GPU series that would be recorded is an error;
* primitives without a GPU forward (an error that says so: ``.cpu()`` first).

Read-outs (``coeffs``, ``const``, ``coeff``, ``str``...) copy to the host.

Elementary functions follow "Taylor coefficients about each constant part,
then the series": the constant parts come to the host, the CPU forward of the
same primitive runs on ``a0 + t`` in one variable (which gives every
``f^(k)(a0)/k!`` and the CPU's domain errors), and the GPU sums
``Σ f_k ā^k`` by Horner's rule.  Composition builds the monomials of the
substituted series once on the CPU and multiplies by them on the GPU.

>>> import diffalg as dg
>>> d = dg.Descriptor(nv=2, order=3)
>>> x, y = (v.cuda() for v in d.vars([0.5, 2.0]))
>>> f = dg.sin(x) / y + 1
>>> f.device
'cuda'
>>> g = dg.sin(d.var(0, 0.5)) / d.var(1, 2.0) + 1        # the same on the CPU
>>> bool(abs(f.cpu().coeffs - g.coeffs).max() < 1e-15)
True
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import cuda as gpu
from ..algebra import Descriptor
from ..tensor import Tensor
from . import series, shape  # shape imports this module: use its names at call time
from .registry import PRIMITIVES, Device, Real, Tape, da_shape, series_mismatch

K = None  # diffalg.kernels.cuda, imported (with numba.cuda) by the first move to a GPU
_TABLES: dict[Descriptor, dict] = {}  # per descriptor: its index tables on the device


# ------------------------------------------------------------------ devices
def device_name(device) -> str:
    """``"cpu"`` or ``"cuda"`` from PyTorch's spellings (``"cuda:0"``)."""
    name = str(device)
    if name in ("cpu", "cuda"):
        return name
    if name.startswith("cuda:") and name[5:].isdigit():
        if int(name[5:]) != 0:
            raise RuntimeError(f"device {name!r}: only the first GPU (cuda:0) is used here")
        return "cuda"
    raise RuntimeError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")


def is_device_array(x) -> bool:
    """Whether ``x`` lives on a GPU (a numba device array or a CUDA array of another library)."""
    return not isinstance(x, np.ndarray) and (
        hasattr(x, "copy_to_host") or hasattr(x, "__cuda_array_interface__")
    )


def to_device(t: Tensor, device) -> Tensor:
    """``t`` on ``device`` (itself when it is there): the series data copied over."""
    device = device_name(device)
    if device == t.device:
        return t
    if t.desc is None:
        raise RuntimeError(
            f"only DA tensors (series) live on the GPU in this version; this real tensor of "
            f"shape {t.shape} stays on the cpu"
        )
    if t._rg and Tape.enabled:
        raise RuntimeError(
            "the tape does not record moves between devices in this version; "
            "move t.detach() instead"
        )
    if device == "cpu":
        data = t._data.copy_to_host()
    else:
        _activate()
        data = K.cuda.to_device(np.ascontiguousarray(t._data, dtype=np.float64))
    out = t.__class__.__new__(t.__class__)  # a Taylor map stays a Taylor map
    Tensor.__init__(out, data, t.desc)
    return out


def cpu(t: Tensor) -> Tensor:
    """``t`` on the CPU (a copy of a GPU tensor; the tensor itself on the CPU)."""
    return to_device(t, "cpu")


def cuda(t: Tensor, device=None) -> Tensor:
    """A DA tensor on the GPU (``device``: ``None``, ``0``, ``"cuda"`` or ``"cuda:0"``)."""
    if isinstance(device, int):
        device = f"cuda:{device}"
    return to_device(t, "cuda" if device is None else device)


def _activate():
    """Import the kernels, fill the primitives' ``cuda`` slots, hook :func:`forward`."""
    global K
    if K is not None:
        return
    if not gpu.is_available():
        raise RuntimeError(
            "no CUDA GPU is available: numba.cuda finds no device or driver. Install the "
            "NVIDIA driver and `pip install diffalg[cuda]`, or set NUMBA_ENABLE_CUDASIM=1 "
            "before numba is imported to run numba's CUDA simulator"
        )
    from ..kernels import cuda as kernels

    for name, fn in FORWARDS.items():
        PRIMITIVES[name].cuda = fn
    K = kernels
    Device.forward = forward


def forward(prim, desc, grad, args, kw):
    """``registry.apply`` for series on the GPU; ``None`` when every series is on the CPU."""
    gpu_series = cpu_series = False
    for a in args:
        if isinstance(a, Tensor) and a.desc is not None:
            if isinstance(a._data, np.ndarray):
                cpu_series = True
            else:
                gpu_series = True
    if not gpu_series or prim.da is None:  # (apply says what is wrong with the latter)
        return None
    if cpu_series:
        raise RuntimeError(
            f"Expected all tensors to be on the same device, but found at least two devices, "
            f"cuda and cpu! ({prim.name} of series on both; move them with .cuda() or .cpu())"
        )
    if grad and Tape.enabled:
        raise RuntimeError(
            f"{prim.name}: the tape does not record operations on cuda tensors in this version; "
            "run them under dg.no_grad(), or on the cpu"
        )
    if prim.cuda is None:
        raise NotImplementedError(
            f"{prim.name} is not available for tensors on cuda; move them with .cpu()"
        )
    return Tensor(prim.cuda(desc, *map(_operand, args), **kw), desc)


def _operand(a):
    """A GPU forward's view of one operand: device array, or a number as :class:`Real`."""
    if isinstance(a, Tensor):
        if a.desc is None:
            raise RuntimeError(
                "real tensors stay on the cpu in this version and cannot meet series on cuda; "
                "use Python numbers, or series (DA tensors) moved with .cuda()"
            )
        return a._data
    if isinstance(a, numbers.Real) and np.ndim(a) == 0:
        v = float(a)
        if not math.isfinite(v):
            raise ValueError(f"non-finite number {v} combined with a series")
        return Real(v)
    raise RuntimeError(
        f"a {type(a).__name__} cannot meet series on cuda; use Python numbers or series on cuda"
    )


# ------------------------------------------------------------ device data
def _tables(desc: Descriptor) -> dict:
    """The descriptor's index tables on the device, copied once."""
    tabs = _TABLES.get(desc)
    if tabs is None:
        to = K.cuda.to_device
        parent, var = desc.tree
        dfs, _ = desc.tree_dfs
        tabs = _TABLES[desc] = {
            "gather": tuple(to(np.ascontiguousarray(a)) for a in desc.gather_tables),
            "tree": (to(var), to(dfs), to(desc.degrees.astype(np.int64))),
        }
    return tabs


def _empty(shape):
    return K.cuda.device_array(shape, dtype=np.float64)


def _rows(desc, *datas):
    """Broadcast device series: ``(shape, rows)``, each ``(n, ncoef)`` or one broadcast row.

    On the GPU a series broadcasts only against one of the same number of
    elements or as a single series (numpy's general broadcasting would need
    copies the kernels avoid).
    """
    shapes = [da_shape(d) for d in datas]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise series_mismatch(shapes) from None
    n, m = math.prod(shape), desc.ncoef
    rows = []
    for d, s in zip(datas, shapes, strict=True):
        k = math.prod(s)
        if k != n and k != 1:
            listed = ", ".join(str(tuple(s)) for s in shapes)
            raise ValueError(
                f"shapes {listed}: on cuda a tensor of series broadcasts only as a single "
                "series or against one with as many elements; expand it on the cpu"
            )
        rows.append(d.reshape(k, m))
    return shape, rows


def _affine(desc, x, s, c=0.0):
    """``s·x + c`` (``c`` added to the constant parts)."""
    out = _empty(x.shape)
    n = math.prod(da_shape(x))
    K.launch(K.affine, n * desc.ncoef, x.reshape(n, desc.ncoef), s, c, out.reshape(n, desc.ncoef))
    return out


def _axpby(desc, alpha, x, beta, y):
    shape, (rx, ry) = _rows(desc, x, y)
    out = _empty((math.prod(shape), desc.ncoef))
    K.launch(K.axpby, out.size, alpha, rx, beta, ry, out)
    return out.reshape(shape + (desc.ncoef,))


def _product(desc, x, y):
    """Truncated products, one thread per output coefficient of every row."""
    shape, (rx, ry) = _rows(desc, x, y)
    m = desc.ncoef
    out = _empty((math.prod(shape), m))
    K.launch(K.mul, out.size, rx, ry, out, m, *_tables(desc)["gather"])
    return out.reshape(shape + (m,))


def _taylor(desc, a, coeffs_of):
    """``Σ_k f_k ā^k`` for every series of ``a``; ``coeffs_of(d1, c)`` gives the ``f_k``.

    ``c`` holds ``a0 + t`` per row in the one-variable descriptor ``d1`` of the
    same order, so a CPU forward of the function returns its Taylor
    coefficients about each ``a0`` (and raises its domain errors).
    """
    shape, m, o = da_shape(a), desc.ncoef, desc.order
    n = math.prod(shape)
    if n == 0:
        return _empty(a.shape)
    A = a.reshape(n, m)
    a0 = _empty(n)
    K.launch(K.constants, n, A, a0)
    c = np.zeros((n, o + 1))
    c[:, 0] = a0.copy_to_host()
    if o >= 1:
        c[:, 1] = 1.0
    f = coeffs_of(Descriptor(nv=1, order=o), c)
    F = K.cuda.to_device(np.ascontiguousarray(f, dtype=np.float64).reshape(n, o + 1))
    acc, other, abar = _empty((n, m)), _empty((n, m)), _empty((n, m))
    K.launch(K.horner_start, n * m, A, F, acc, other, abar)
    tabs = _tables(desc)["gather"]
    for j in range(o - 1, -1, -1):
        # acc·ā gains one degree per step: coefficients of degree <= order - j still matter
        mtop = int(desc.ord_off[o - j + 1])
        K.launch(K.horner_step, n * mtop, acc, abar, F, j, other, mtop, *tabs)
        acc, other = other, acc
    return acc.reshape(shape + (m,))


# ------------------------------------------------------------- forwards
def _add(d, a, b):
    if isinstance(a, Real):
        return _affine(d, b, 1.0, a.value)
    if isinstance(b, Real):
        return _affine(d, a, 1.0, b.value)
    return _axpby(d, 1.0, a, 1.0, b)


def _sub(d, a, b):
    if isinstance(a, Real):
        return _affine(d, b, -1.0, a.value)
    if isinstance(b, Real):
        return _affine(d, a, 1.0, -b.value)
    return _axpby(d, 1.0, a, -1.0, b)


def _mul(d, a, b):
    if isinstance(a, Real):
        return _affine(d, b, a.value)
    if isinstance(b, Real):
        return _affine(d, a, b.value)
    return _product(d, a, b)


def _div(d, a, b):
    if isinstance(b, Real):
        if b.value == 0.0:
            raise ZeroDivisionError("division of a series by the number 0")
        return _affine(d, a, 1.0 / b.value)
    cpu_div = PRIMITIVES["div"].da
    if isinstance(a, Real):  # the Taylor coefficients of a/x about b0
        return _taylor(d, b, lambda d1, c: cpu_div(d1, a, c))
    return _product(d, a, _taylor(d, b, lambda d1, c: cpu_div(d1, Real(1.0), c)))


def _pow(d, a, p):
    if isinstance(a, Real):
        raise TypeError("series ** needs a number exponent here; use dg.pow for series exponents")
    return _taylor(d, a, lambda d1, c: PRIMITIVES["pow"].da(d1, c, p))


def _function(name):
    """The GPU forward of a function of one series, by its CPU forward's Taylor coefficients."""
    return lambda d, a: _taylor(d, a, PRIMITIVES[name].da)


def copy(a):
    """A new device array with the values of the device array ``a``."""
    out = _empty(a.shape)
    out.copy_to_device(a)
    return out


def _reshape(d, a, shape):
    return a.reshape(tuple(shape) + (d.ncoef,))  # GPU series are contiguous: a view


def _select(d, a, idx):
    """``a[idx]`` for ints and slices that keep whole series contiguous (a view)."""
    idx = shape._series_index(idx, a.ndim - 1)
    if any(i is None or i is Ellipsis for i in idx):
        raise NotImplementedError("indexing with None or ... is not available for cuda tensors")
    np.broadcast_to(np.empty((), bool), a.shape)[idx]  # numpy's IndexError, on no memory
    view = a[idx]
    if not view.is_c_contiguous():
        raise NotImplementedError(
            "this index picks series that are not contiguous in memory; on cuda take whole "
            "series with integers and slices of the leading axes, or index on the cpu"
        )
    return view


FUNCTIONS = (
    "exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan",
    "asinh", "acosh", "atanh", "erf", "abs",
)  # fmt: skip

#: Primitive name → its forward for series on the GPU.
FORWARDS = {
    "add": _add, "sub": _sub, "mul": _mul, "div": _div, "pow": _pow,
    "neg": lambda d, a: _affine(d, a, -1.0), "clone": lambda d, a: copy(a),
    "reshape": _reshape, "view": _reshape, "select": _select, **{name: _function(name) for name in FUNCTIONS},
}  # fmt: skip


# ------------------------------------------------- composition, tracking
def compose(f: Tensor, *gs) -> Tensor:
    """``f(g_1, ..., g_nn)`` for ``f`` on the GPU (see :func:`diffalg.ops.series.compose`).

    The monomials of ``f``'s descriptor in the ``g`` (one series per monomial,
    ``Mono``) are built once on the CPU, where the substituted map is small;
    then every series of ``f`` is its coefficient row times ``Mono``: one
    matrix product ``F @ Mono`` on the GPU, however many series ``f`` holds.
    The result lives with ``f``; the ``g`` may be on either device.
    """
    subs = gs[0] if len(gs) == 1 and isinstance(gs[0], (list, tuple)) else gs
    d = f.desc
    if d is None:
        raise TypeError("compose needs a DA tensor (a series)")
    basis = Tensor(np.eye(d.ncoef), d)
    # series.compose checks the g as on the CPU
    mono = series.compose(basis, *[cpu(g) if isinstance(g, Tensor) else g for g in subs])
    dg = mono.desc
    n = math.prod(f.shape)
    F = f._data.reshape(n, d.ncoef)
    out = _empty((n, dg.ncoef))
    if n:
        T = K.TILE
        grid = ((dg.ncoef + T - 1) // T, (n + T - 1) // T)
        K.matmul[grid, (T, T)](F, K.cuda.to_device(mono._data), out)
    return Tensor(out.reshape(f.shape + (dg.ncoef,)), dg)


def track(data, desc: Descriptor, points, params=None):
    """The series rows ``data`` (``(nf, ncoef)`` on the GPU) at many particles: ``(N, nf)``.

    ``points`` is ``(N, nv)`` (the parameters then come from ``params``,
    ``(np,)`` or ``(N, np)``, 0 by default) or ``(N, nn)``, a device array or
    host values.  The result is a device array when ``points`` is one, else an
    ndarray.  Host values are checked to be finite; device arrays are used as
    they are.
    """
    on_device = is_device_array(points)
    if on_device and not hasattr(points, "copy_to_host"):
        points = K.cuda.as_cuda_array(points)
    P = points if on_device else _host_values(points, "particle coordinates")
    npar = desc.nn - (P.shape[1] if P.ndim == 2 else 0)
    if P.ndim != 2 or npar not in (0, desc.np) or P.dtype != np.float64:
        raise ValueError(
            f"track: particles must be float64 of shape (N, {desc.nv}), "
            f"got {P.dtype} {tuple(P.shape)}"
        )
    if npar == 0 and params is not None:
        raise ValueError(f"track: {desc!r} has no parameters")
    if npar == 0 or params is None:
        params = np.zeros((1, max(npar, 1)))
    elif not is_device_array(params):
        params = _host_values(np.atleast_2d(params), "parameter values")
    if params.ndim != 2 or params.shape[1] != max(npar, 1) or params.shape[0] not in (1, len(P)):
        raise ValueError(
            f"track: params must have shape ({npar},) or ({len(P)}, {npar}), "
            f"got {tuple(params.shape)}"
        )
    if desc.order >= K.MAX_DEPTH:
        raise ValueError(
            f"track on cuda walks monomials of order <= {K.MAX_DEPTH - 1}; "
            f"{desc!r} has order {desc.order}: track on the cpu"
        )
    to = K.cuda.to_device
    P, params = (a if is_device_array(a) else to(a) for a in (P, params))
    nf = data.shape[0]
    out = _empty((P.shape[0], nf))
    tree = _tables(desc)["tree"]
    for r0 in range(0, nf, K.MAX_OUT):
        K.launch(K.track, P.shape[0], data, P, params, out, r0, *tree)
    return out if on_device else out.copy_to_host()


def _host_values(x, what) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"track: {what} must be finite")
    return x
