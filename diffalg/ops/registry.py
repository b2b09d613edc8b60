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
    """One operation: ``real(*arrays, **kw)`` and ``da(desc, *operands, **kw)``.

    For the DA forward, series operands arrive as coefficient arrays and real
    operands as :class:`Real` wrappers, so mixed arithmetic (``2 * x``) takes
    a cheap path instead of lifting the number to a series.
    """

    __slots__ = ("name", "real", "da", "vjp")

    def __init__(self, name, real=None, da=None):
        self.name, self.real, self.da, self.vjp = name, real, da, None

    def __repr__(self):
        return f"<primitive {self.name}>"

    def __call__(self, *args, **kw):
        return apply(self, *args, **kw)


def primitive(name, *, real=None, da=None) -> Primitive:
    """Register a primitive under ``name`` (names are unique)."""
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} registered twice")
    p = PRIMITIVES[name] = Primitive(name, real, da)
    return p


class Real:
    """A real operand handed to a DA forward (``value`` is an ndarray or float)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def as_tensor(x) -> Tensor:
    """Wrap numbers and arrays as real tensors; tensors pass through."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Number, np.ndarray, np.generic, list, tuple)):
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"cannot make a tensor of dtype {arr.dtype}")
        return Tensor(arr)
    raise TypeError(f"unsupported operand type {type(x).__name__}")


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
            return a.data
        if not np.all(np.isfinite(a.data)):
            raise ValueError("non-finite values combined with a series")
        return Real(a.data)
    if isinstance(a, (float, int)):
        if not math.isfinite(a):
            raise ValueError(f"non-finite number {a} combined with a series")
        return Real(float(a))
    v = as_tensor(a).data
    if not np.all(np.isfinite(v)):
        raise ValueError("non-finite values combined with a series")
    return Real(v)


def apply(prim: Primitive, *args, **kw) -> Tensor:
    """Run ``prim`` on tensors/numbers in the algebra they live in."""
    desc = common_descriptor(args)
    if desc is None:
        if prim.real is None:
            raise TypeError(f"{prim.name} needs a DA tensor (a series), got real operands")
        datas = [a.data if isinstance(a, Tensor) else np.asarray(a) for a in args]
        return Tensor(prim.real(*datas, **kw))
    if prim.da is None:
        raise TypeError(f"{prim.name} is not defined for DA tensors")
    return Tensor(prim.da(desc, *map(_operand, args), **kw), desc)


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
