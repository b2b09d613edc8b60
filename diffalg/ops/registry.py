"""The primitive registry: every operation written once, per algebra.

A :class:`Primitive` holds a forward for the reals (numpy arrays) and one for
a descriptor's truncated power series (arrays with a trailing coefficient
axis).  :func:`apply` picks the algebra from the operands, checks that all
series share one descriptor, and wraps the result.  The tape adds a
vector-Jacobian product to each primitive in the same place (``vjp`` slot).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..algebra import Descriptor
from ..tensor import Tensor

PRIMITIVES: dict[str, Primitive] = {}


class Primitive:
    """One operation: ``real(*arrays, **kw)``, ``da(desc, *operands, **kw)`` and its VJP.

    For the DA forward, series operands arrive as coefficient arrays and real
    operands as :class:`Real` wrappers, so mixed arithmetic (``2 * x``) takes
    a cheap path instead of lifting the number to a series.

    ``vjp`` is a tuple with one function per positional argument (``None``
    where there is no gradient), each ``f(g, out, *args, **kw)`` written with
    other primitives so it can be differentiated again; or one function that
    returns the tuple (for variadic primitives).  ``saves`` lists what those
    functions read (argument indices and ``"out"``): only these are kept
    checked against in-place changes, and ``out`` is kept only if listed.
    """

    __slots__ = ("name", "real", "da", "vjp", "saves", "view")

    def __init__(self, name, real=None, da=None, vjp=None, saves=None, view=False):
        self.name, self.real, self.da, self.vjp = name, real, da, vjp
        self.saves, self.view = saves, view

    def __repr__(self):
        return f"<primitive {self.name}>"

    def __call__(self, *args, **kw):
        return apply(self, *args, **kw)


def primitive(name, *, real=None, da=None, vjp=None, saves=None, view=False) -> Primitive:
    """Register a primitive under ``name`` (names are unique).

    ``saves=None`` means every argument; ``view=True`` marks a forward whose
    result shares memory with its first argument (it shares the version).
    """
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} registered twice")
    if saves is None:
        saves = tuple(range(len(vjp))) if isinstance(vjp, tuple) else ()
    p = PRIMITIVES[name] = Primitive(name, real, da, vjp, tuple(saves), view)
    return p


class Real:
    """A real operand handed to a DA forward (``value`` is an ndarray or float)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Tape:
    """Whether operations are recorded, and the recorder (set by ``diffalg.autograd``)."""

    enabled = True
    record = None


def as_tensor(x) -> Tensor:
    """Wrap numbers and arrays as real tensors (as ``dg.tensor`` would); tensors pass through."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, int, float, np.generic, np.ndarray, list, tuple)):
        return Tensor(as_array(x))
    raise TypeError(f"unsupported operand type {type(x).__name__}")


DEFAULT_FLOAT = [np.dtype(np.float32)]  # the default float dtype (``dg.set_default_dtype``)


def as_array(x, dtype=None) -> np.ndarray:
    """Values as an ndarray with PyTorch's inference: Python floats → the default dtype.

    An ndarray keeps its dtype; lists of bools/ints/floats become bool/int64/float.
    """
    if isinstance(x, np.ndarray):
        arr = x if dtype is None else x.astype(dtype)
    else:
        arr = np.array(x, dtype=dtype)
        if dtype is None and arr.dtype == np.float64 and not isinstance(x, np.generic):
            arr = arr.astype(DEFAULT_FLOAT[0])
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"cannot make a tensor of dtype {arr.dtype}")
    if dtype is None and arr.dtype.kind in "iu" and arr.dtype != np.int64:
        arr = arr.astype(np.int64)
    return arr


def common_descriptor(args) -> Descriptor | None:
    """The one descriptor of the DA operands, or ``None`` if all are real."""
    desc = None
    for a in args:
        d = a.desc if isinstance(a, Tensor) else None
        if d is not None:
            if desc is None:
                desc = d
            elif d is not desc:
                raise ValueError(
                    f"cannot combine series of different descriptors: {desc!r} and {d!r}"
                )
    return desc


def _operand(a):
    """A DA forward's view of one operand: series data, or :class:`Real`."""
    if isinstance(a, Tensor):
        if a.desc is not None:
            return a._data
        if not np.all(np.isfinite(a._data)):
            raise ValueError("non-finite values combined with a series")
        return Real(a._data.astype(np.float64, copy=False))
    if isinstance(a, (float, int)):
        if not math.isfinite(a):
            raise ValueError(f"non-finite number {a} combined with a series")
        return Real(float(a))
    v = as_tensor(a)._data.astype(np.float64)
    if not np.all(np.isfinite(v)):
        raise ValueError("non-finite values combined with a series")
    return Real(v)


_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)


def _real_value(a):
    """A real forward's view of one operand: Python numbers stay weak (they keep float32)."""
    if isinstance(a, Tensor):
        return a._data
    if isinstance(a, (list, tuple)):
        return as_array(a)
    return a


def _strong_f64(args) -> bool:
    for a in args:
        d = getattr(a, "dtype", None)  # Tensors, ndarrays, numpy scalars; not Python floats
        if d is _F64 or d == _F64:
            return True
    return False


def apply(prim: Primitive, *args, **kw) -> Tensor:
    """Run ``prim`` on tensors/numbers in the algebra they live in; record it if needed.

    Real results follow PyTorch's promotion: float64 only from a float64
    operand, otherwise the default float dtype (int / int, int * 0.5, exp(int)).
    """
    desc = None
    grad = False
    for a in args:
        if isinstance(a, Tensor):
            if a._rg:
                grad = True
            d = a.desc
            if d is not None and d is not desc:
                desc = d if desc is None else common_descriptor(args)
    if desc is None:
        if prim.real is None:
            raise TypeError(f"{prim.name} needs a DA tensor (a series), got real operands")
        r = prim.real(*[_real_value(a) for a in args], **kw)
        if type(r) is not np.ndarray:
            r = np.asarray(r)
        if r.dtype is _F64 and not _strong_f64(args):
            r = r.astype(DEFAULT_FLOAT[0])
        out = Tensor(r)
    else:
        if prim.da is None:
            raise TypeError(f"{prim.name} is not defined for DA tensors")
        out = Tensor(prim.da(desc, *map(_operand, args), **kw), desc)
    if prim.view and np.may_share_memory(out._data, args[0]._data):
        src = args[0]
        out._vc = src._vc
        out._base = src if src._base is None else src._base
    if grad and Tape.enabled:
        Tape.record(prim, out, args, kw)
    return out


def da_shape(data: np.ndarray) -> tuple[int, ...]:
    """Element shape of series data (the coefficient axis dropped)."""
    return data.shape[:-1]


def broadcast_series(desc: Descriptor, *datas) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """Broadcast series arrays over their element shapes; rows of contiguous 2-d arrays.

    Returns the element shape and each operand as ``(N, ncoef)``.
    """
    shapes = [da_shape(d) for d in datas]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            "shapes " + ", ".join(str(tuple(s)) for s in shapes) + " cannot be broadcast together"
        ) from None
    m = desc.ncoef
    rows = [np.ascontiguousarray(np.broadcast_to(d, shape + (m,))).reshape(-1, m) for d in datas]
    return shape, rows


def real_broadcast(series: np.ndarray, real) -> tuple[np.ndarray, np.ndarray | float]:
    """Broadcast a real array against series data; the real gains a trailing axis."""
    if isinstance(real, float):  # a number: nothing to broadcast
        return series, real
    r = np.asarray(real, dtype=np.float64)
    shapes = (da_shape(series), r.shape)
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"shapes {shapes[0]} and {shapes[1]} cannot be broadcast together"
        ) from None
    return np.broadcast_to(series, shape + series.shape[-1:]), r[..., None]
