"""Shape primitives: indexing, views, reshape, permute, expand/sum_to, dtype, stack/cat.

For series the coefficient axis trails the element axes, so each forward maps
element axes onto data axes and leaves the last axis alone.  Each VJP is the
adjoint shape operation (index ↔ scatter, expand ↔ sum_to, stack ↔ split).
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .device import device_name, to_device
from .registry import Real, as_tensor, common_descriptor, primitive


def _axis(n, axis):
    """Element axis → data axis (negative axes count from the element axes' end)."""
    if not -n - 1 < axis < max(n, 1):
        raise IndexError(
            f"dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], "
            f"but got {axis})"
        )
    return axis + n if axis < 0 else axis


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _lift(d, a):
    """A real operand as constant series (for joins and stores of mixed tensors)."""
    if not isinstance(a, Real):
        return a
    v = np.asarray(a.value, dtype=np.float64)
    out = np.zeros(v.shape + (d.ncoef,))
    out[..., 0] = v
    return out


# --------------------------------------------------------------- indexing
def _index_array(i):
    if isinstance(i, Tensor):
        if i.desc is not None:
            raise IndexError("a DA tensor cannot be used as an index")
        i = i._data
    if isinstance(i, np.ndarray) and i.dtype.kind not in "iub":
        raise IndexError(
            f"tensors used as indices must be long, int or bool tensors, not {i.dtype}"
        )
    if isinstance(i, list):
        i = np.asarray(i)
        if i.dtype.kind not in "iub":
            raise IndexError(f"indices must be integers or booleans, not {i.dtype}")
    if isinstance(i, (float, np.floating)):
        raise IndexError(
            f"only integers, slices, None, ... and integer or boolean tensors are valid indices (got {i!r})"
        )
    return i


def normalize_index(idx):
    """Tensors in an index become arrays, with PyTorch's dtype rules checked."""
    if isinstance(idx, tuple):
        return tuple(_index_array(i) for i in idx)
    return _index_array(idx)


def is_basic(idx) -> bool:
    """True when indexing gives a view (ints, slices, None and ``...`` only)."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer)) for i in parts)


def _series_index(idx, ndim):
    """An index over element axes, made safe for the trailing coefficient axis."""
    idx = idx if isinstance(idx, tuple) else (idx,)
    used = 0
    for i in idx:
        if i is None or i is Ellipsis:
            continue
        used += np.ndim(i) if getattr(i, "dtype", None) == np.dtype(bool) else 1
    if used > ndim:
        raise IndexError(f"too many indices for a tensor of {ndim} dimensions: {used} given")
    return idx + (slice(None),) if any(i is Ellipsis for i in idx) else idx


def _scatter(g, idx, shape, basic):
    """Zeros of ``shape`` with ``g`` added at ``idx`` (repeated indices add up)."""
    z = np.zeros(shape, dtype=g.dtype)
    if basic:
        z[idx] = g
    else:
        np.add.at(z, idx, g)
    return z


index_grad = primitive(
    "index_backward",
    real=lambda g, idx, shape, basic: _scatter(g, idx, shape, basic),
    # for series: the adjoints scattered over the element axes, coefficients along
    da=lambda d, g, idx, shape, basic: _scatter(
        g, _series_index(idx, len(shape)), tuple(shape) + (d.ncoef,), basic
    ),
    vjp=(lambda gg, out, g, idx, shape, basic: getitem(gg, idx),),
    saves=(),
    da_vjp=(lambda gg, out, g, idx, shape, basic: getitem(gg, idx),),
)


def _getitem_vjp(g, out, a, idx):
    return index_grad(g, idx=idx, shape=a.shape, basic=is_basic(idx))


def _getitem_real(a, idx):
    try:
        r = a[idx]
    except IndexError as e:
        raise IndexError(f"{e} (tensor of shape {a.shape})") from None
    if not isinstance(r, np.ndarray):  # numpy gives a scalar copy for a full integer index;
        r = a[(idx if isinstance(idx, tuple) else (idx,)) + (Ellipsis,)]  # ... keeps a 0-d view
    return r


def _getitem_da(d, a, idx):
    return a[_series_index(idx, a.ndim - 1)]


getitem_view = primitive(
    "select", real=_getitem_real, da=_getitem_da, vjp=(_getitem_vjp,), saves=(), view=True
)
getitem_p = primitive("index", real=_getitem_real, da=_getitem_da, vjp=(_getitem_vjp,), saves=())


def getitem(t, idx):
    """``t[idx]``: ints, slices, ``None``, ``...``, integer and boolean tensors."""
    idx = normalize_index(idx)
    return (getitem_view if is_basic(idx) else getitem_p)(t, idx=idx)


def store(dst: np.ndarray, idx, value) -> None:
    """``dst[idx] = value`` with a shape mismatch reported as PyTorch would (a RuntimeError)."""
    try:
        dst[idx] = value
    except ValueError:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {tuple(np.shape(value))} cannot be broadcast "
            f"to indexing result of shape {dst[idx].shape} (tensor of shape {dst.shape})"
        ) from None


def _index_put_real(a, v, idx):
    r = a.copy()
    store(r, idx, v)
    return r


def _index_put_da(d, a, v, idx):
    r = a.copy()
    r[_series_index(idx, a.ndim - 1)] = _lift(d, v)
    return r


def _mask_out(g, idx):
    """``g`` with zeros where ``idx`` was written (the overwritten values get no gradient)."""
    keep = np.ones(g.shape, dtype=g.dtype)
    keep[idx] = 0
    return g * Tensor(keep)


index_put = primitive(
    "index_put",
    real=_index_put_real,
    da=_index_put_da,
    vjp=(
        lambda g, out, a, v, idx: _mask_out(g, idx),
        lambda g, out, a, v, idx: getitem(g, idx),
    ),
    saves=(),
)


# ----------------------------------------------------------- reshaping
def _reshape_vjp(g, out, a, shape):
    return reshape(g, a.shape)


reshape_p = primitive(
    "reshape",
    real=lambda a, shape: a.reshape(shape),
    da=lambda d, a, shape: a.reshape(tuple(shape) + (d.ncoef,)),
    vjp=(_reshape_vjp,),
    saves=(),
    view=True,
)


def _view_real(a, shape):
    v = a.view()
    try:
        v.shape = shape
    except (AttributeError, ValueError):
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride {a.shape} -> "
            f"{shape}; use .reshape(...) instead"
        ) from None
    return v


view_p = primitive(
    "view",
    real=_view_real,
    da=lambda d, a, shape: _view_real(a, tuple(shape) + (d.ncoef,)),
    vjp=(_reshape_vjp,),
    saves=(),
    view=True,
)


def _resolve_shape(t, shape):
    shape = list(_shape_args(shape))
    n = t.numel()
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred (-1)")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        if known == 0 or n % known:
            raise RuntimeError(f"shape {tuple(shape)} is invalid for input of size {n}")
        shape[shape.index(-1)] = n // known
    if int(np.prod(shape, dtype=np.int64)) != n:
        raise RuntimeError(f"shape {tuple(shape)} is invalid for input of size {n}")
    return tuple(shape)


def reshape(t, *shape):
    """The same elements in a new shape (a view when possible, else a copy)."""
    t = as_tensor(t)
    return reshape_p(t, shape=_resolve_shape(t, shape))


def view(t, *shape):
    """The same buffer in a new shape; an error if that needs a copy (use ``reshape``)."""
    if len(shape) == 1 and isinstance(shape[0], np.dtype | type):
        raise TypeError("view(dtype) is not supported; use .to(dtype)")
    return view_p(t, shape=_resolve_shape(t, shape))


def _permute_real(a, axes):
    return a.transpose(axes)


def _permute_da(d, a, axes):
    return a.transpose(tuple(axes) + (a.ndim - 1,))


def _inverse(axes):
    return tuple(int(i) for i in np.argsort(axes))


permute_p = primitive(
    "permute",
    real=_permute_real,
    da=_permute_da,
    vjp=(lambda g, out, a, axes: permute_p(g, axes=_inverse(axes)),),
    saves=(),
    view=True,
)


def permute(t, *dims):
    """Reorder the dimensions: ``t.permute(2, 0, 1)``."""
    t = as_tensor(t)
    dims = _shape_args(dims)
    n = t.ndim
    axes = tuple(_axis(n, d) for d in dims)
    if sorted(axes) != list(range(n)):
        raise RuntimeError(f"permute: dims {dims} are not a permutation of {n} dimensions")
    return permute_p(t, axes=axes)


def transpose(t, *dims):
    """Swap two dimensions (``transpose(t, 0, 1)``), or reverse all (numpy's ``transpose(t)``)."""
    t = as_tensor(t)
    n = t.ndim
    if not dims:
        return permute_p(t, axes=tuple(range(n))[::-1])
    dims = _shape_args(dims)
    if len(dims) == 2:
        axes = list(range(n))
        i, j = (_axis(n, d) for d in dims)
        axes[i], axes[j] = axes[j], axes[i]
        return permute_p(t, axes=tuple(axes))
    return permute(t, *dims)


def t_(t):
    """Transpose of a tensor of at most 2 dimensions (``Tensor.t()``)."""
    if t.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {t.ndim}D")
    return transpose(t) if t.ndim == 2 else t


def squeeze(t, dim=None):
    """Drop dimensions of size 1 (all, or the given one if it has size 1)."""
    shape = t.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = dim if isinstance(dim, tuple) else (dim,)
        dims = {_axis(len(shape), d) for d in dims} if shape else set()
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return reshape_p(t, shape=new) if new != shape else t


def unsqueeze(t, dim):
    """Insert a dimension of size 1 at ``dim``."""
    shape = list(t.shape)
    n = len(shape) + 1
    if not -n <= dim < n:
        raise IndexError(
            f"dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    shape.insert(dim + n if dim < 0 else dim, 1)
    return reshape_p(t, shape=tuple(shape))


def flatten(t, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim..end_dim`` into one."""
    shape = t.shape
    if not shape:
        return reshape_p(t, shape=(1,))
    n = len(shape)
    s, e = _axis(n, start_dim), _axis(n, end_dim)
    new = shape[:s] + (int(np.prod(shape[s : e + 1], dtype=np.int64)),) + shape[e + 1 :]
    return reshape_p(t, shape=new)


# ------------------------------------------------ broadcasting and dtype
def _sum_to_real(g, shape):
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1
    )
    r = np.add.reduce(g, axis=axes, keepdims=True) if axes else g
    return r.reshape(shape)


def _sum_to_series(g, shape):
    es = g.shape[:-1]
    lead = len(es) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and es[lead + i] != 1
    )
    r = g.sum(axis=axes, keepdims=True) if axes else g
    return r.reshape(tuple(shape) + g.shape[-1:])


def _expand_real(a, shape):
    try:
        return np.broadcast_to(a, shape)
    except ValueError:
        raise RuntimeError(
            f"the expanded size of the tensor must match the existing size: {a.shape} -> {shape}"
        ) from None


expand_p = primitive(
    "expand",
    real=_expand_real,
    da=lambda d, a, shape: np.broadcast_to(a, tuple(shape) + (d.ncoef,)),
    vjp=(lambda g, out, a, shape: sum_to(g, a.shape),),
    saves=(),
    view=True,
)
sum_to_p = primitive(
    "sum_to_size",
    real=_sum_to_real,
    da=lambda d, g, shape: _sum_to_series(g, tuple(shape)),
    vjp=(lambda g, out, a, shape: expand_p(g, shape=a.shape),),
    saves=(),
)


def sum_to(t, shape):
    """Sum a broadcast gradient back down to ``shape``."""
    return sum_to_p(t, shape=tuple(shape))


def expand(t, *shape):
    """Broadcast to ``shape`` without copying (``-1`` keeps a dimension)."""
    shape = _shape_args(shape)
    cur = t.shape
    lead = len(shape) - len(cur)
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal "
            f"to the number of dimensions in the tensor ({len(cur)})"
        )
    shape = tuple(cur[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return expand_p(t, shape=shape)


def broadcast_to(t, shape):
    return expand(t, *shape)


to_dtype = primitive(
    "to_copy",
    real=lambda a, dtype: a.astype(dtype),
    vjp=(lambda g, out, a, dtype: to_dtype(g, dtype=a.dtype),),
    saves=(),
    promote=False,  # the dtype asked for, not one promoted from the operand's
)
clone = primitive(
    "clone",
    real=np.copy,
    da=lambda d, a: a.copy(),
    vjp=(lambda g, out, a: g,),
    saves=(),
)


def parse_to(args, kw, what="this tensor"):
    """The dtype asked of ``.to(...)`` (or ``None``): PyTorch's forms, a device only 'cpu'."""
    dtype, device = parse_to_device(args, kw)
    if device is not None and device != "cpu":
        raise RuntimeError(f"device {device!r} is not available for {what}; only 'cpu' here")
    return dtype


def parse_to_device(args, kw):
    """``(dtype, device)`` asked of ``.to(...)``, each ``None`` when not given.

    A tensor argument gives both its dtype and its device, as in PyTorch.
    """
    dtype = kw.pop("dtype", None)
    device = kw.pop("device", None)
    if kw:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kw)}")
    for a in args:
        if isinstance(a, str):
            device = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        else:
            dtype = a
    return dtype, None if device is None else device_name(device)


def to(t, *args, **kw):
    """``t.to(dtype)`` (a copy when the dtype changes), ``t.to("cpu")`` or ``t.to("cuda")``.

    Only DA tensors move to a GPU (see :mod:`diffalg.ops.device`).
    """
    dtype, device = parse_to_device(args, kw)
    if dtype is not None and np.dtype(dtype) != t.dtype:
        if t.desc is not None:
            raise TypeError("a DA tensor is always float64")
        t = to_dtype(t, dtype=np.dtype(dtype))
    return t if device is None else to_device(t, device)


# ------------------------------------------------------------------ joins
def _split_vjp(name):
    def vjp(g, out, *arrays, axis):
        sizes = [1 if name == "stack" else a.shape[axis] for a in arrays]
        ends = np.cumsum(sizes)
        n = g.ndim
        parts = []
        for s, e in zip(ends - sizes, ends, strict=True):
            idx = (slice(None),) * _axis(n, axis) + (slice(int(s), int(e)),)
            p = getitem(g, idx)
            parts.append(squeeze(p, axis) if name == "stack" else p)
        return parts

    return vjp


def _join(name, np_join):
    def real(*arrays, axis):
        return np_join(arrays, axis=axis)

    def da(d, *arrays, axis):
        arrays = [_lift(d, a) for a in arrays]
        n = arrays[0].ndim - 1
        return np_join(arrays, axis=_axis(n + (name == "stack"), axis))

    p = primitive(name, real=real, da=da, vjp=_split_vjp(name))

    def join(tensors, dim=0, *, axis=None):
        axis = dim if axis is None else axis
        tensors = [as_tensor(t) for t in tensors]
        if not tensors:
            raise ValueError(f"{name} needs at least one tensor")
        shapes = [t.shape for t in tensors]
        n = len(shapes[0]) + (name == "stack")
        axis = _axis(n, axis)
        try:
            return p(*tensors, axis=axis)
        except ValueError as e:
            raise ValueError(f"{name}: tensors of shapes {shapes} do not fit ({e})") from None

    join.__name__ = name
    join.__doc__ = f"PyTorch/numpy-style {name} of real or series tensors along ``dim``."
    return join


stack = _join("stack", np.stack)
cat = _join("cat", np.concatenate)
concatenate = cat


def split(t, split_size, dim=0):
    """Pieces of ``split_size`` (an int, or a list of sizes) along ``dim``."""
    n = t.shape[dim]
    sizes = (
        [split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])
        if isinstance(split_size, int)
        else list(split_size)
    )
    if sum(sizes) != n:
        raise RuntimeError(f"split sizes {sizes} do not add up to {n} (dim {dim})")
    d = _axis(t.ndim, dim)
    out, start = [], 0
    for s in sizes:
        out.append(getitem(t, (slice(None),) * d + (slice(start, start + s),)))
        start += s
    return tuple(out)


def chunk(t, chunks, dim=0):
    n = t.shape[dim]
    return split(t, -(-n // chunks), dim)


__all__ = [
    "cat", "chunk", "expand", "flatten", "getitem", "index_put", "permute", "reshape",
    "split", "squeeze", "stack", "sum_to", "t_", "to", "transpose", "unsqueeze", "view",
    "common_descriptor",
]  # fmt: skip
