"""Making tensors: ``tensor zeros ones empty full arange linspace eye rand randn randint``.

Random tensors come from one numpy generator (PCG64) that ``manual_seed``
resets, so a seeded script is reproducible (the numbers differ from
PyTorch's generator; compare against PyTorch by copying tensors across).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..tensor import Tensor
from .registry import DEFAULT_FLOAT, as_array

_RNG = [np.random.default_rng()]


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the generator behind ``rand``, ``randn``, ``randint``, ``nn.init`` and shuffling."""
    _RNG[0] = np.random.default_rng(int(seed))
    return _RNG[0]


def generator() -> np.random.Generator:
    return _RNG[0]


def _finish(arr, requires_grad):
    t = Tensor(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def _float(dtype):
    return DEFAULT_FLOAT[0] if dtype is None else np.dtype(dtype)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not all(isinstance(s, (int, np.integer)) for s in size):
        raise TypeError(f"sizes must be integers, got {size}")
    if any(s < 0 for s in size):
        raise RuntimeError(f"negative dimension in size {tuple(size)}")
    return tuple(int(s) for s in size)


def tensor(data, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A real tensor (a copy) from numbers, (nested) lists, arrays or tensors.

    Python floats give the default float dtype (float32), ints int64, bools bool;
    an ndarray keeps its dtype.

    >>> import diffalg as dg
    >>> dg.tensor([1.0, 2.0]).dtype, dg.tensor([1, 2]).dtype
    (dtype('float32'), dtype('int64'))
    """
    _device(device)
    if isinstance(data, Tensor):
        if data.desc is not None:
            raise TypeError("tensor() makes real tensors; copy a series with .clone()")
        data = data._data
    if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in _flat(data)):
        data = np.array([_scalar(v) for v in _flat(data)]).reshape(np.shape(_nested(data)))
    arr = as_array(data, dtype)
    if arr is data:
        arr = arr.copy()
    return _finish(arr, requires_grad)


def _flat(data):
    for v in data:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _scalar(v):
    return v.item() if isinstance(v, Tensor) else v


def _nested(data):
    if isinstance(data, (list, tuple)):
        return [_nested(v) for v in data]
    return 0


def as_tensor(data, dtype=None) -> Tensor:
    """Like ``tensor`` but shares an ndarray's memory when the dtype already fits."""
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == np.dtype(dtype) else data.to(dtype)
    return Tensor(as_array(data, dtype))


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing ``arr``'s memory (changes show through both ways)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"can't convert np.ndarray of type {arr.dtype}")
    return Tensor(arr)


def _device(device):
    if device is not None and str(device) != "cpu":
        raise RuntimeError(
            f"device {device!r}: tensors are created on 'cpu'; move series to a GPU with .cuda()"
        )


def _filled(fill):
    def make(*size, dtype=None, requires_grad=False, device=None):
        _device(device)
        return _finish(fill(_size(size), _float(dtype)), requires_grad)

    return make


zeros = _filled(np.zeros)
ones = _filled(np.ones)
empty = _filled(np.empty)
zeros.__doc__ = "A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."
ones.__doc__ = "A tensor of ones."
empty.__doc__ = "An uninitialised tensor."


def full(size, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A tensor of ``fill_value`` (its dtype inferred as ``tensor`` would)."""
    _device(device)
    if dtype is None:
        dtype = as_array(fill_value).dtype
    return _finish(np.full(_size((size,)), fill_value, dtype=dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None) -> Tensor:
    """``start, start+step, ...`` below ``end``; integers give int64, floats the default float."""
    _device(device)
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = np.int64 if ints else DEFAULT_FLOAT[0]
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    return _finish(np.arange(start, end, step, dtype=np.float64).astype(dtype), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    _device(device)
    return _finish(np.linspace(start, end, int(steps)).astype(_float(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """The identity matrix (``n × m``)."""
    _device(device)
    return _finish(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Uniform samples in [0, 1)."""
    _device(device)
    return _finish(_RNG[0].random(_size(size)).astype(_float(dtype)), requires_grad)


def randn(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Standard normal samples."""
    _device(device)
    return _finish(_RNG[0].standard_normal(_size(size)).astype(_float(dtype)), requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None) -> Tensor:
    """Integers uniform in ``[low, high)`` (``randint(high, size)`` also works)."""
    _device(device)
    if size is None:
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint() needs a size, e.g. randint(0, 10, (3,))")
    return Tensor(_RNG[0].integers(low, high, _size((size,))).astype(dtype or np.int64))


def randperm(n, dtype=None, device=None) -> Tensor:
    """A random permutation of ``0..n-1``."""
    _device(device)
    return Tensor(_RNG[0].permutation(int(n)).astype(dtype or np.int64))


def _like(fill):
    def make(t, dtype=None, requires_grad=False, device=None):
        _device(device)
        dt = t.dtype if dtype is None else np.dtype(dtype)
        return _finish(fill(t.shape, dt), requires_grad)

    return make


zeros_like = _like(np.zeros)
ones_like = _like(np.ones)
empty_like = _like(np.empty)
rand_like = _like(lambda s, dt: _RNG[0].random(s).astype(dt))
randn_like = _like(lambda s, dt: _RNG[0].standard_normal(s).astype(dt))


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    _device(device)
    dt = t.dtype if dtype is None else np.dtype(dtype)
    return _finish(np.full(t.shape, fill_value, dtype=dt), requires_grad)


__all__ = [
    "arange", "as_tensor", "empty", "empty_like", "eye", "from_numpy", "full", "full_like",
    "generator", "linspace", "manual_seed", "ones", "ones_like", "rand", "rand_like", "randint",
    "randn", "randn_like", "randperm", "tensor", "zeros", "zeros_like",
]  # fmt: skip
