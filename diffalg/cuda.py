"""``dg.cuda``: series on an NVIDIA GPU, through ``numba.cuda``.

DA tensors move with ``t.to("cuda")`` / ``t.cuda()`` and back with ``t.cpu()``;
on the GPU their arithmetic, elementary functions, composition and map
tracking run as CUDA kernels (:mod:`diffalg.kernels.cuda`).  Real tensors stay
on the CPU.  ``numba.cuda`` is imported on first use, not with ``diffalg``.
Without a GPU, numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, set before
numba is imported) runs the same kernels on the CPU, slowly: it is a test bed.

>>> import diffalg as dg
>>> x, y = dg.Descriptor(nv=2, order=3).vars([1.0, 2.0])
>>> f = dg.exp(x.cuda() * y.cuda())                  # e^(xy) computed on the GPU
>>> f.device, round(f.const, 6), round(f.cpu().coeff((1, 1)), 6)
('cuda', 7.389056, 22.167168)
"""

from __future__ import annotations


def _numba_cuda():
    """``numba.cuda``, or ``None`` where numba has no CUDA support installed."""
    try:
        from numba import cuda
    except ImportError:
        return None
    return cuda


def is_available() -> bool:
    """Whether a CUDA GPU (or numba's CUDA simulator) can hold tensors."""
    cuda = _numba_cuda()
    return cuda is not None and bool(cuda.is_available())


def device_count() -> int:
    """Number of CUDA GPUs numba sees (0 without one)."""
    return len(_numba_cuda().gpus) if is_available() else 0


def synchronize() -> None:
    """Wait until every kernel launched so far has finished (for timings)."""
    if is_available():
        _numba_cuda().synchronize()
