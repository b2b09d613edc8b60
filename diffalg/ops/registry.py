"""The primitive registry: every operation written once, per algebra.

A :class:`Primitive` holds a forward for the reals (numpy arrays) and one for
a descriptor's truncated power series (arrays with a trailing coefficient
axis).  :func:`apply` picks the algebra from the operands, checks that all
series share one descriptor, and wraps the result.  The tape adds a
vector-Jacobian product to each primitive in the same place (``vjp`` slot),
and :mod:`diffalg.ops.device` a forward for series on a GPU (``cuda`` slot).
"""

from __future__ import annotations

import math
from types import MethodType

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
    checked against in-place changes, and ``out`` is kept only if listed.  A
    pair ``(i, j)`` says only the VJP of argument ``j`` reads ``i`` (``a * 2``
    need not keep ``a``), so ``i`` is checked only when ``j`` needs a gradient.

    ``da_vjp`` (same form) is the VJP when the forward ran on series: the
    gradient of a series is then the adjoint of each of its coefficients, held
    in a DA tensor of the same descriptor, and products turn into their
    transposes (:func:`diffalg.ops.adjoint.mul_adjoint`) where the real VJP
    multiplies.  Sums and scalings of adjoints are those of series.

    ``cuda(desc, *operands, **kw)`` is the forward for series on a GPU (device
    arrays, numbers as :class:`Real`); :mod:`diffalg.ops.device` fills it in
    from its table the first time a tensor moves there.
    """

    __slots__ = ("name", "real", "da", "vjp", "da_vjp", "saves", "view", "promote", "cuda")

    def __init__(
        self, name, real=None, da=None, vjp=None, saves=None, view=False, promote=True, da_vjp=None
    ):
        self.name, self.real, self.da, self.vjp, self.da_vjp = name, real, da, vjp, da_vjp
        self.saves, self.view, self.promote = saves, view, promote
        self.cuda = None

    def __repr__(self):
        return f"<primitive {self.name}>"

    def __call__(self, *args, **kw):
        return apply(self, *args, **kw)

    def __get__(self, obj, objtype=None):  # bound as a Tensor method, like a function
        return self if obj is None else MethodType(self, obj)

    def reads(self, i) -> bool:
        """Whether some VJP may read argument ``i`` (or ``"out"``)."""
        return any(s == i or (type(s) is tuple and s[0] == i) for s in self.saves)


def primitive(
    name, *, real=None, da=None, vjp=None, saves=None, view=False, promote=True, da_vjp=None
) -> Primitive:
    """Register a primitive under ``name`` (names are unique).

    ``saves=None`` means every argument; ``view=True`` marks a forward whose
    result shares memory with its first argument (it shares the version).
    ``promote=False`` keeps a real forward's float64 result as it is (a cast
    asked for by dtype) instead of applying PyTorch's promotion rules.
    """
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} registered twice")
    if saves is None:
        saves = tuple(range(len(vjp))) if isinstance(vjp, tuple) else ()
    p = PRIMITIVES[name] = Primitive(name, real, da, vjp, tuple(saves), view, promote, da_vjp)
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


class Device:
    """The GPU hook, set by :mod:`diffalg.ops.device` once a tensor has moved to a GPU.

    ``forward(prim, desc, grad, args, kw)`` runs a DA operation whose series
    live on the GPU and returns ``None`` when all of them are on the CPU; until
    the first move, CPU series pay one attribute test for it.
    """

    forward = None


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

    An ndarray or numpy scalar keeps its dtype (``torch.tensor`` keeps an int32
    array int32); lists of bools/ints/floats become bool/int64/float.
    """
    if isinstance(x, np.ndarray):
        arr = x if dtype is None else x.astype(dtype)
    else:
        arr = np.array(x, dtype=dtype)
        if dtype is None and not isinstance(x, np.generic):
            if arr.dtype == np.float64:
                arr = arr.astype(DEFAULT_FLOAT[0])
            elif arr.dtype.kind in "iu" and arr.dtype != np.int64:
                arr = arr.astype(np.int64)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"cannot make a tensor of dtype {arr.dtype}")
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


def _promoted_float(args):
    """The dtype PyTorch gives a result that numpy computed in float64.

    Python and numpy scalars are weak (they never widen a tensor), and a 0-d
    tensor widens only tensors of a lower category (an int tensor times a 0-d
    float64 is float64, a float32 tensor plus a 0-d float64 stays float32):
    the floats of dimensioned operands win, then those of 0-d ones, else the
    default dtype (int / int, int * 0.5, exp(int)).
    """
    dims = zero = None
    for a in args:
        d = a._data if isinstance(a, Tensor) else a if isinstance(a, np.ndarray) else None
        if d is None or d.dtype.kind != "f":
            continue
        if d.ndim:
            if d.dtype == _F64:
                return _F64
            dims = d.dtype if dims is None else np.promote_types(dims, d.dtype)
        else:
            zero = d.dtype if zero is None else np.promote_types(zero, d.dtype)
    return dims if dims is not None else zero if zero is not None else DEFAULT_FLOAT[0]


def _shape_of(a):
    return a.shape if isinstance(a, (Tensor, np.ndarray)) else ()


def broadcast_mismatch(sa, sb) -> str | None:
    """PyTorch's sentence for two shapes that do not broadcast (``None`` if they do).

    Like PyTorch it names the last (rightmost) clashing dimension, counted in
    the broadcast result.
    """
    n = max(len(sa), len(sb))
    for i in range(n - 1, -1, -1):
        k = n - 1 - i
        da = sa[len(sa) - 1 - k] if k < len(sa) else 1
        db = sb[len(sb) - 1 - k] if k < len(sb) else 1
        if da != db and da != 1 and db != 1:
            return (
                f"The size of tensor a ({da}) must match the size of tensor b ({db}) "
                f"at non-singleton dimension {i}"
            )
    return None


def _first_mismatch(shapes) -> str | None:
    """:func:`broadcast_mismatch` of the first operand that does not fit the ones before it."""
    shape = ()
    for s in shapes:
        msg = broadcast_mismatch(shape, s)
        if msg is not None:
            return msg
        shape = np.broadcast_shapes(shape, s)
    return None


def _broadcast_error(args, err: ValueError) -> Exception:
    """numpy's broadcasting ValueError as PyTorch's RuntimeError (others unchanged)."""
    msg = _first_mismatch([_shape_of(a) for a in args]) if "broadcast" in str(err) else None
    return err if msg is None else RuntimeError(msg)


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
        try:
            r = prim.real(
                *[a._data if isinstance(a, Tensor) else _real_value(a) for a in args], **kw
            )
        except ValueError as e:
            raise _broadcast_error(args, e) from None
        if type(r) is not np.ndarray:
            r = np.asarray(r)
        if r.dtype is _F64 and prim.promote:
            dt = _promoted_float(args)
            if dt is not _F64:
                r = r.astype(dt)
        out = Tensor(r)
    else:
        if Device.forward is not None:
            out = Device.forward(prim, desc, grad, args, kw)
            if out is not None:
                return out
        if prim.da is None:
            raise TypeError(f"{prim.name} is not defined for DA tensors")
        r = prim.da(desc, *map(_operand, args), **kw)
        out = Tensor(r, desc) if type(r) is not Real else Tensor(r.value)  # a read-out is real
    if prim.view and np.may_share_memory(out._data, args[0]._data):
        src = args[0]
        out._vc = src._counter()
        out._base = src if src._base is None else src._base
    if grad and Tape.enabled:
        Tape.record(prim, out, args, kw)
    return out


def da_shape(data: np.ndarray) -> tuple[int, ...]:
    """Element shape of series data (the coefficient axis dropped)."""
    return data.shape[:-1]


def real_broadcast(series: np.ndarray, real) -> tuple[np.ndarray, np.ndarray | float]:
    """Broadcast a real array against series data; the real gains a trailing axis."""
    if isinstance(real, float):  # a number: nothing to broadcast
        return series, real
    r = np.asarray(real, dtype=np.float64)
    shapes = (da_shape(series), r.shape)
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise series_mismatch(shapes) from None
    return np.broadcast_to(series, shape + series.shape[-1:]), r[..., None]


def series_mismatch(shapes) -> ValueError:
    """Series keep the DA layer's ValueError; the message adds PyTorch's sentence."""
    msg = _first_mismatch(shapes) or ""
    listed = ", ".join(str(tuple(s)) for s in shapes)
    return ValueError(f"shapes {listed} cannot be broadcast together ({msg[:1].lower()}{msg[1:]})")
