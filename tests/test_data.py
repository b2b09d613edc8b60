"""Datasets, collation and mini-batch loading, checked against numpy slicing and torch.utils.data."""

from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import diffalg as dg
import diffalg.utils.data as data


def dataset(n=10, features=3):
    """Rows whose first feature is their index, so any batch says which samples it holds."""
    x = np.arange(n * features, dtype=np.float32).reshape(n, features) / features
    y = np.arange(n, dtype=np.int64)
    return x, y, data.TensorDataset(dg.from_numpy(x), dg.from_numpy(y))


# ---------------------------------------------------------------- TensorDataset
def test_tensor_dataset_items_are_rows():
    x, y, ds = dataset()
    assert len(ds) == 10
    xi, yi = ds[4]
    np.testing.assert_array_equal(xi.numpy(), x[4])
    assert yi.item() == 4 and yi.shape == ()
    assert len(ds.tensors) == 2


def test_tensor_dataset_rejects_mismatched_first_dimensions():
    with pytest.raises(ValueError, match=r"Size mismatch.*\(5, 2\), \(4,\)"):
        data.TensorDataset(dg.zeros(5, 2), dg.zeros(4))
    with pytest.raises(ValueError, match="at least one tensor"):
        data.TensorDataset()
    with pytest.raises(TypeError, match="argument 1 is a ndarray"):
        data.TensorDataset(dg.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="0-d"):
        data.TensorDataset(dg.tensor(1.0))


# --------------------------------------------------------------- batch counts
@pytest.mark.parametrize("n", [1, 9, 10, 11, 12])
@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 13])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_counts_and_sizes_match_torch(n, batch_size, drop_last):
    _, _, ds = dataset(n)
    loader = data.DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
    ref = tdata.DataLoader(
        tdata.TensorDataset(torch.zeros(n, 3), torch.zeros(n)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    sizes = [len(yb) for _, yb in loader]
    assert len(loader) == len(ref) == len(sizes)
    assert sizes == [len(yb) for _, yb in ref]


def test_batches_are_the_consecutive_slices():
    x, y, ds = dataset(10)
    batches = list(data.DataLoader(ds, batch_size=4))
    assert len(batches) == 3
    for k, (xb, yb) in enumerate(batches):
        np.testing.assert_array_equal(xb.numpy(), x[4 * k : 4 * k + 4])
        np.testing.assert_array_equal(yb.numpy(), y[4 * k : 4 * k + 4])
        assert xb.dtype == np.float32 and yb.dtype == np.int64
    assert isinstance(batches[0], list)  # as torch's default collation gives


def test_batches_are_copies():
    x, _, ds = dataset(6)
    for shuffle in (False, True):
        for xb, _ in data.DataLoader(ds, batch_size=4, shuffle=shuffle):
            xb.numpy()[...] = -1.0
    np.testing.assert_array_equal(ds.tensors[0].numpy(), x)


def test_batch_size_one_and_the_default():
    x, _, ds = dataset(3)
    loader = data.DataLoader(ds)
    assert len(loader) == 3
    xb, yb = next(iter(loader))
    assert xb.shape == (1, 3) and yb.shape == (1,)


# --------------------------------------------------------------------- shuffle
def shuffled_labels(loader):
    return [[int(i) for i in yb.numpy()] for _, yb in loader]


def test_shuffle_covers_every_index_once_per_epoch():
    x, _, ds = dataset(23)
    dg.manual_seed(5)
    loader = data.DataLoader(ds, batch_size=5, shuffle=True)
    epochs = [shuffled_labels(loader) for _ in range(3)]
    for batches in epochs:
        flat = [i for b in batches for i in b]
        assert sorted(flat) == list(range(23))
        assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    orders = [tuple(i for b in batches for i in b) for batches in epochs]
    assert len(set(orders)) == 3 and orders[0] != tuple(range(23))  # a new order each epoch
    for xb, yb in loader:  # rows stay paired with their labels
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])


def test_shuffle_with_drop_last_draws_distinct_indices():
    _, _, ds = dataset(23)
    loader = data.DataLoader(ds, batch_size=5, shuffle=True, drop_last=True)
    flat = [i for b in shuffled_labels(loader) for i in b]
    assert len(flat) == 20 and len(set(flat)) == 20 and set(flat) <= set(range(23))


def test_shuffle_is_reproducible_with_manual_seed():
    _, _, ds = dataset(50)
    loader = data.DataLoader(ds, batch_size=8, shuffle=True)
    dg.manual_seed(123)
    first = [shuffled_labels(loader) for _ in range(2)]
    dg.manual_seed(123)
    again = [shuffled_labels(loader) for _ in range(2)]
    dg.manual_seed(124)
    other = shuffled_labels(loader)
    assert first == again and first[0] != other


def test_shuffle_with_its_own_generator():
    _, _, ds = dataset(50)
    a = data.DataLoader(ds, 8, shuffle=True, generator=np.random.default_rng(7))
    b = data.DataLoader(ds, 8, shuffle=True, generator=np.random.default_rng(7))
    dg.manual_seed(0)
    first = shuffled_labels(a)
    dg.manual_seed(99)  # the global seed plays no part
    assert shuffled_labels(b) == first
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        data.DataLoader(ds, 8, shuffle=True, generator=7)


def test_tensor_datasets_are_batched_without_per_sample_indexing(monkeypatch):
    _, _, ds = dataset(1000)

    def refuse(self, index):
        raise AssertionError("per-sample __getitem__ called")

    monkeypatch.setattr(data.TensorDataset, "__getitem__", refuse)
    for shuffle in (False, True):
        assert sum(len(yb) for _, yb in data.DataLoader(ds, 64, shuffle=shuffle)) == 1000
    sub = data.Subset(ds, np.arange(0, 1000, 7))
    assert sum(len(yb) for _, yb in data.DataLoader(sub, 16, shuffle=True)) == 143


def test_batches_of_a_dataset_that_requires_grad_stay_on_the_tape():
    w = dg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    loader = data.DataLoader(data.TensorDataset(w), batch_size=2)
    for (xb,) in loader:
        (xb * xb).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * np.arange(6.0).reshape(3, 2))


def test_tensor_dataset_of_series():
    d = dg.Descriptor(nv=1, order=2)
    (xs,) = d.vars([np.arange(5.0)])
    (xb,) = next(iter(data.DataLoader(data.TensorDataset(xs), batch_size=3)))
    assert xb.desc is d and xb.shape == (3,)
    np.testing.assert_array_equal(xb.coeffs, xs.coeffs[:3])


# ------------------------------------------------------------- generic datasets
class Pairs(data.Dataset):
    """Samples built in Python: (a float32 tensor, an int label)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return dg.tensor([float(i), 2.0 * i]), i % 3


class TorchPairs(tdata.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.tensor([float(i), 2.0 * i]), i % 3


def test_generic_dataset_is_collated_like_torch():
    ours = list(data.DataLoader(Pairs(7), batch_size=3))
    theirs = list(tdata.DataLoader(TorchPairs(7), batch_size=3))
    assert len(ours) == len(theirs) == 3
    for (xb, yb), (tx, ty) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(xb.numpy(), tx.numpy())
        np.testing.assert_array_equal(yb.numpy(), ty.numpy())
        assert xb.dtype == np.float32 and yb.dtype == np.int64


def test_generic_dataset_shuffles_every_index_once():
    dg.manual_seed(1)
    seen = [
        int(v) for xb, _ in data.DataLoader(Pairs(11), 4, shuffle=True) for v in xb.numpy()[:, 0]
    ]
    assert sorted(seen) == list(range(11)) and seen != list(range(11))


Point = namedtuple("Point", "x y")


@pytest.mark.parametrize(
    "samples",
    [
        [1.5, 2.5],
        [1, 2, 3],
        [True, False],
        [np.array([1, 2], dtype=np.int32), np.array([3, 4], dtype=np.int32)],
        [np.float32(1.0), np.float32(2.0)],
        [{"a": 1.0, "b": (1, 2)}, {"a": 2.0, "b": (3, 4)}],
        [Point(1.0, 2), Point(3.0, 4)],
        [("s", 1), ("t", 2)],
    ],
    ids=["floats", "ints", "bools", "arrays", "np-scalars", "dicts", "namedtuple", "strings"],
)
def test_default_collate_matches_torch(samples):
    def plain(v):  # collated structures, as numpy arrays and Python containers
        if isinstance(v, (dg.Tensor, torch.Tensor)):
            arr = v.numpy()
            return arr.dtype.name, arr.tolist()
        if isinstance(v, dict):
            return {k: plain(w) for k, w in v.items()}
        if isinstance(v, Point):
            return ("Point", *map(plain, v))
        if isinstance(v, (list, tuple)):
            return [plain(w) for w in v]
        return v

    assert plain(data.default_collate(samples)) == plain(tdata.default_collate(samples))


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match=r"equal size.*\(2,\) at entry 0 and \(3,\) at entry 1"):
        data.default_collate([dg.zeros(2), dg.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        data.default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="found object"):
        data.default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="entry 1"):
        data.default_collate([dg.zeros(2), 3.0])


def test_custom_collate_fn():
    loader = data.DataLoader(Pairs(5), batch_size=2, collate_fn=lambda batch: len(batch))
    assert list(loader) == [2, 2, 1]
    _, _, ds = dataset(5)  # a custom collate_fn also receives TensorDataset samples one by one
    loader = data.DataLoader(ds, batch_size=2, collate_fn=lambda b: [int(y) for _, y in b])
    assert list(loader) == [[0, 1], [2, 3], [4]]


def test_dataset_base_needs_getitem():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        data.Dataset()[0]


# ----------------------------------------------------- Subset and random_split
def test_subset():
    x, _, ds = dataset(10)
    sub = data.Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[0][1].item() == 7
    (xb, yb), (xc, yc) = list(data.DataLoader(sub, batch_size=2))
    np.testing.assert_array_equal(yb.numpy(), [7, 2])
    np.testing.assert_array_equal(xb.numpy(), x[[7, 2]])
    np.testing.assert_array_equal(yc.numpy(), [5])
    pairs = data.Subset(Pairs(10), [9, 0, 4])
    (xb, yb), _ = list(data.DataLoader(pairs, batch_size=2))
    np.testing.assert_array_equal(xb.numpy()[:, 0], [9, 0])


@pytest.mark.parametrize(
    ("n", "lengths", "sizes"),
    [(10, [3, 7], [3, 7]), (10, [0.8, 0.2], [8, 2]), (11, [0.5, 0.5], [6, 5]), (7, [1.0], [7])],
)
def test_random_split_is_a_disjoint_cover(n, lengths, sizes):
    _, _, ds = dataset(n)
    parts = data.random_split(ds, lengths, generator=np.random.default_rng(0))
    assert [len(s) for s in parts] == sizes
    assert [len(s) for s in tdata.random_split(range(n), lengths)] == sizes
    labels = [int(ds[int(i)][1]) for s in parts for i in s.indices]
    assert sorted(labels) == list(range(n))


def test_random_split_errors():
    _, _, ds = dataset(10)
    with pytest.raises(ValueError, match=r"Sum of input lengths \(9\)"):
        data.random_split(ds, [4, 5])
    with pytest.raises(ValueError, match="negative"):
        data.random_split(ds, [12, -2])


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("batch_size", [0, -1, 2.5, None, True])
def test_bad_batch_size(batch_size):
    _, _, ds = dataset(4)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        data.DataLoader(ds, batch_size=batch_size)


def test_dataset_without_len():
    class Endless(data.Dataset):
        def __getitem__(self, i):
            return i

    with pytest.raises(TypeError, match="__len__"):
        data.DataLoader(Endless())
