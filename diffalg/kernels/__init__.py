"""numba kernels: pure functions on numpy arrays and the descriptor's index tables."""
