"""Freed memory kept for the next array: glibc's allocator thresholds, set at import.

A batch of series is an array of a few hundred kilobytes to a few hundred
megabytes, and every operation makes a new one.  With glibc's default
thresholds such arrays are handed back to the kernel when freed (the heap is
trimmed once its free top passes about twice the largest chunk freed so far,
and chunks above 32 MiB are separate mappings), so the next operation's result
lands on fresh pages: a page fault and a zeroed page per 4 KiB.  On the 2-core
virtual machine of ``docs/benchmarks.md`` that is about 3 µs per page, and it
was half of the time of a 12-operation function of 1000 series at (3 variables,
order 6): 9.8 ms against 4.8 ms with the memory kept.  Products of 10^4 series
at (6, 6), 74 MB each, went from 36 to 30 ms.

So, on glibc, :func:`keep_freed` raises both thresholds at import to
:data:`KEEP` bytes: arrays below it come from the heap, and up to that much
free memory stays mapped for reuse instead of going back to the kernel.  The
process's peak memory is unchanged; its resident size does not shrink back
after a peak below :data:`KEEP` (PyTorch's CUDA caching allocator makes the
same trade).  Set the environment variable ``DIFFALG_KEEP_FREED_MEMORY=0``
before importing diffalg to leave the allocator alone, or call
:func:`keep_freed` with another size.  Elsewhere than glibc nothing is changed.

>>> import diffalg as dg
>>> dg.allocator.keep_freed(dg.allocator.KEEP)  # what import did, on glibc
True
"""

from __future__ import annotations

import ctypes
import os
import platform

KEEP = 1 << 30  #: bytes: allocations below this come from the heap, and this much free heap is kept
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)


def _libc():
    """The C library, where it is glibc (the only one whose ``mallopt`` we know), else ``None``."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def keep_freed(nbytes: int = KEEP) -> bool:
    """Keep up to ``nbytes`` of freed memory mapped, and serve allocations below it from the heap.

    Returns whether the allocator took the setting (``False`` where the C
    library is not glibc).  ``nbytes`` must be a positive int below 2^31.
    """
    if not isinstance(nbytes, int) or not 0 < nbytes < 1 << 31:
        raise ValueError(
            f"keep_freed() needs a positive number of bytes below 2**31, got {nbytes!r}"
        )
    libc = _libc()
    if libc is None:
        return False
    # the trim threshold first: set alone, the mmap threshold would leave glibc's
    # dynamic trimming on; each call returns 1 on success
    return bool(libc.mallopt(_M_TRIM_THRESHOLD, nbytes) and libc.mallopt(_M_MMAP_THRESHOLD, nbytes))


if os.environ.get("DIFFALG_KEEP_FREED_MEMORY", "1") != "0":
    keep_freed()
