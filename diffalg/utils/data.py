"""Datasets and mini-batches, as in ``torch.utils.data``.

A :class:`Dataset` maps an index to a sample; a :class:`DataLoader` walks it
in batches (shuffled each epoch when asked) and collates each batch's
samples into tensors with a leading batch dimension.  A
:class:`TensorDataset` (and a :class:`Subset` of one) is batched by indexing
its tensors with the whole batch's indices at once — no Python loop over
samples.  Shuffling draws from ``diffalg.manual_seed``'s generator unless a
``generator`` (a ``numpy.random.Generator``) is given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ..ops import creation, shape
from ..tensor import Tensor


class Dataset:
    """A map from an index ``0 <= i < len(ds)`` to a sample; define ``__getitem__``, ``__len__``.

    >>> import diffalg as dg
    >>> class Squares(dg.utils.data.Dataset):
    ...     def __len__(self): return 5
    ...     def __getitem__(self, i): return float(i), float(i * i)
    >>> [b for b in dg.utils.data.DataLoader(Squares(), batch_size=4)][1]
    [tensor([4.], dtype=float64), tensor([16.], dtype=float64)]
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")


class TensorDataset(Dataset):
    """Samples are the ``i``-th rows of tensors that share their first dimension.

    >>> import diffalg as dg
    >>> ds = dg.utils.data.TensorDataset(dg.arange(6.0).reshape(3, 2), dg.tensor([0, 1, 0]))
    >>> len(ds), ds[1]
    (3, (tensor([2., 3.]), tensor(1)))
    """

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"TensorDataset: argument {i} is a {type(t).__name__}, not a Tensor"
                )
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is 0-d; samples run along dim 0")
        if len({t.shape[0] for t in tensors}) > 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(
                f"Size mismatch between tensors: their first dimensions differ (shapes {shapes})"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _batch(self, idx):
        return [_take(t, idx) for t in self.tensors]


def _take(t: Tensor, idx) -> Tensor:
    """Rows ``idx`` (a slice or an integer array) of ``t`` as a new tensor."""
    if t._rg:
        return t[idx]  # on the tape
    rows = t._data[idx]
    return Tensor(rows.copy() if isinstance(idx, slice) else rows, t.desc)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> import diffalg as dg
    >>> sub = dg.utils.data.Subset(dg.utils.data.TensorDataset(dg.arange(10)), [7, 2])
    >>> len(sub), sub[0]
    (2, (tensor(7),))
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[int(i)] for i in self.indices[index]]
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)

    def _batch(self, idx):
        rows = self.indices[idx]
        if hasattr(self.dataset, "_batch"):
            return self.dataset._batch(rows)
        return default_collate([self.dataset[int(i)] for i in rows])


def random_split(dataset, lengths, generator=None) -> list[Subset]:
    """Split ``dataset`` into random disjoint :class:`Subset` s of the given lengths or fractions.

    Fractions summing to 1 are turned into lengths by rounding down and
    handing the remainder out one at a time, first subset first.

    >>> import diffalg as dg
    >>> train, val = dg.utils.data.random_split(dg.utils.data.TensorDataset(dg.arange(10)), [0.8, 0.2])
    >>> len(train), len(val)
    (8, 2)
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(k < 0 for k in lengths) or sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input "
            f"dataset ({n}), or a length is negative: {lengths}"
        )
    order = _generator(generator).permutation(n)
    ends = np.cumsum(lengths)
    return [Subset(dataset, order[e - k : e]) for e, k in zip(ends, lengths, strict=True)]


def _generator(generator):
    if generator is None:
        return creation.generator()
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"generator must be a numpy.random.Generator, got {type(generator).__name__}"
        )
    return generator


def default_collate(batch: list):
    """Stack a list of samples into a batch, recursing into tuples, lists and dicts.

    Tensors and numpy arrays are stacked along a new first dimension; Python
    floats become a float64 tensor, ints an int64 one; strings stay a list.

    >>> import diffalg as dg
    >>> dg.utils.data.default_collate([(dg.tensor([1.0, 2.0]), 0), (dg.tensor([3.0, 4.0]), 1)])
    [tensor([[1., 2.],
            [3., 4.]]), tensor([0, 1])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        for i, t in enumerate(batch):
            if not isinstance(t, Tensor) or t.shape != elem.shape or t.desc is not elem.desc:
                what = t.shape if isinstance(t, Tensor) else type(t).__name__
                raise RuntimeError(
                    f"stack expects each tensor to be equal size and of one algebra, but got "
                    f"{elem.shape} at entry 0 and {what} at entry {i}"
                )
        if any(t._rg for t in batch):
            return shape.stack(batch)
        return Tensor(np.stack([t._data for t in batch]), elem.desc)
    if isinstance(elem, np.ndarray):
        return Tensor(np.stack(batch))
    if isinstance(elem, (bool, int, float, np.number, np.bool_)):
        dtype = np.float64 if isinstance(elem, float) else None
        return Tensor(np.array(batch, dtype=dtype))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # named tuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch, strict=True)))
    if isinstance(elem, Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch, strict=True)]
    raise TypeError(
        "default_collate: a batch must hold tensors, numpy arrays, numbers, strings, dicts or "
        f"sequences; found {type(elem).__name__}"
    )


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples.

    ``shuffle=True`` draws a new order each epoch (each sample exactly once);
    ``drop_last=True`` leaves out a last, smaller batch; ``collate_fn`` turns
    a list of samples into a batch (:func:`default_collate` otherwise).

    >>> import diffalg as dg
    >>> ds = dg.utils.data.TensorDataset(dg.arange(10.0), dg.arange(10))
    >>> loader = dg.utils.data.DataLoader(ds, batch_size=4)
    >>> len(loader), [len(y) for x, y in loader]
    (3, [4, 4, 2])
    >>> _ = dg.manual_seed(0)
    >>> sorted(int(i) for _, y in dg.utils.data.DataLoader(ds, 3, shuffle=True) for i in y)
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """

    def __init__(
        self,
        dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator=None,
        collate_fn=None,
    ):
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or (batch_size <= 0)
        ):
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not hasattr(dataset, "__len__"):
            raise TypeError(
                f"DataLoader needs a dataset with __len__; {type(dataset).__name__} has none"
            )
        if generator is not None:
            _generator(generator)
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.generator, self.collate_fn = generator, collate_fn

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n, bs = len(self.dataset), self.batch_size
        order = _generator(self.generator).permutation(n) if self.shuffle else None
        stop = n - n % bs if self.drop_last else n
        fast = getattr(self.dataset, "_batch", None) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        for start in range(0, stop, bs):
            end = min(start + bs, n)
            idx = slice(start, end) if order is None else order[start:end]
            if fast is not None:
                yield fast(idx)
            else:
                rows = range(start, end) if order is None else idx
                yield collate([self.dataset[int(i)] for i in rows])
