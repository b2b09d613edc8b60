"""diffalg.allocator: freed memory stays mapped for the next batch (glibc only).

The allocator's own statistics (``mallinfo2``) are the independent truth: an
array served from the heap does not add to the mapped-block bytes, and a freed
one stays in the heap's free bytes instead of going back to the kernel.
"""

import ctypes
import os
import subprocess
import sys

import numpy as np
import pytest

import diffalg as dg

libc = dg.allocator._libc()
pytestmark = pytest.mark.skipif(
    libc is None or not hasattr(libc, "mallinfo2"), reason="glibc >= 2.33 only"
)

MIB = 1 << 20


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _info():
    libc.mallinfo2.restype = _Mallinfo2
    return libc.mallinfo2()


def _mapped_bytes_of_new_array(nbytes):
    """Growth of the separately mapped bytes while an array of ``nbytes`` lives."""
    before = _info().hblkhd
    a = np.ones(nbytes // 8)
    grown = _info().hblkhd - before
    del a
    return grown


def test_large_arrays_come_from_the_heap():
    # 64 MiB is above glibc's largest dynamic mmap threshold (32 MiB): without
    # the setting it is always a mapping of its own, zeroed by the kernel each time
    assert _mapped_bytes_of_new_array(64 * MIB) < MIB


def test_freed_memory_stays_in_the_heap():
    a = np.ones(8 * MIB // 8)
    free_before = _info().fordblks
    del a
    assert _info().fordblks - free_before >= 8 * MIB


def test_opt_out_leaves_the_allocator_alone():
    code = (
        "import numpy as np, tests.test_allocator as t;"
        "print(t._mapped_bytes_of_new_array(64 << 20))"
    )
    env = dict(os.environ, DIFFALG_KEEP_FREED_MEMORY="0")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) >= 64 * MIB  # glibc's default: a mapping of its own


@pytest.mark.parametrize("bad", [0, -1, 1 << 31, 1.5, "1GB"])
def test_bad_sizes_are_refused(bad):
    with pytest.raises(ValueError, match="keep_freed"):
        dg.allocator.keep_freed(bad)
