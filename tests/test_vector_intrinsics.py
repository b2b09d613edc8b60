"""The LLVM intrinsics of the lane kernels, against numpy's transposition and sum."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit
from numba.core.errors import TypingError

from diffalg.kernels.vector import prefetch, transpose4


@njit(cache=True)
def _transpose(src, s0, ss, dst, d0, ds):
    transpose4(src, s0, ss, dst, d0, ds)


@njit(cache=True)
def _prefetched_sum(x, ahead):
    s = 0.0
    for i in range(x.size):
        prefetch(x, min(i + ahead, x.size - 1))
        s += x[i]
    return s


@settings(max_examples=60, deadline=None)
@given(
    s0=st.integers(0, 9),
    ss=st.integers(4, 13),
    d0=st.integers(0, 9),
    ds=st.integers(4, 13),
    seed=st.integers(0, 2**32 - 1),
)
def test_transpose4_moves_a_block_to_its_transpose(s0, ss, d0, ds, seed):
    """Any offsets and strides (unaligned ones included); nothing outside the block is written."""
    rng = np.random.default_rng(seed)
    src = rng.standard_normal(s0 + 3 * ss + 4)
    dst = rng.standard_normal(d0 + 3 * ds + 4)
    want = dst.copy()
    block = np.lib.stride_tricks.as_strided(src[s0:], (4, 4), (8 * ss, 8))
    view = np.lib.stride_tricks.as_strided(want[d0:], (4, 4), (8 * ds, 8))
    view[:] = block.T
    _transpose(src, s0, ss, dst, d0, ds)
    np.testing.assert_array_equal(dst, want)


def test_transpose4_keeps_bits():
    """A move, not arithmetic: −0, inf, nan and subnormals arrive as they left."""
    src = np.array([-0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1.0, 2.0] * 2)
    dst = np.zeros(16)
    _transpose(src, 0, 4, dst, 0, 4)
    assert dst.view(np.uint64).tolist() == src.reshape(4, 4).T.ravel().view(np.uint64).tolist()


def test_prefetch_changes_no_value():
    x = np.random.default_rng(3).standard_normal(1000)
    assert _prefetched_sum(x, 64) == pytest.approx(np.sum(x), rel=1e-13)


def test_intrinsics_refuse_other_arrays():
    @njit
    def on_ints(a):
        prefetch(a, 0)

    @njit
    def on_matrix(a, b):
        transpose4(a, 0, 4, b, 0, 4)

    with pytest.raises(TypingError):
        on_ints(np.zeros(4, dtype=np.int64))
    with pytest.raises(TypingError):
        on_matrix(np.zeros((4, 4)), np.zeros((4, 4)))
    # a strided view: the element pointers would step over the wrong elements
    strided = np.zeros(32)[::2]
    with pytest.raises(TypingError):
        on_matrix(strided, np.zeros(16))
