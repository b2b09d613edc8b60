"""The dtypes PyTorch users name: ``dg.float32``, ``dg.float64``, ``dg.int64``, ``dg.bool``...

They are numpy dtypes, so ``t.dtype == dg.float32`` and ``t.numpy().dtype``
agree.  Real tensors made from Python floats take the default float dtype
(float32, as PyTorch); series are always float64.
"""

from __future__ import annotations

import numpy as np

from .ops.registry import DEFAULT_FLOAT

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
float16 = np.dtype(np.float16)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
int16 = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
double, long, half = float64, int64, float16


def get_default_dtype():
    """The dtype of tensors made from Python floats (float32 unless set)."""
    return DEFAULT_FLOAT[0]


def set_default_dtype(dtype) -> None:
    """Make ``dtype`` (float32 or float64) the default float dtype."""
    dt = np.dtype(dtype)
    if dt not in (float32, float64):
        raise TypeError(f"only float32 and float64 can be the default dtype, got {dt}")
    DEFAULT_FLOAT[0] = dt
