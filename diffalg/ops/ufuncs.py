"""numpy ufunc dispatch: ``np.sin(x)`` on a tensor calls ``diffalg.sin``."""

from __future__ import annotations

import numpy as np

from . import arithmetic as A
from . import functions as F
from .linalg import matmul

_UFUNCS = {
    np.add: A.add, np.subtract: A.sub, np.multiply: A.mul, np.true_divide: A.div,
    np.power: A.pow, np.negative: A.neg, np.matmul: matmul,
    np.exp: F.exp, np.log: F.log, np.sqrt: F.sqrt, np.sin: F.sin, np.cos: F.cos,
    np.tan: F.tan, np.arcsin: F.asin, np.arccos: F.acos, np.arctan: F.atan,
    np.sinh: F.sinh, np.cosh: F.cosh, np.tanh: F.tanh, np.arcsinh: F.asinh,
    np.arccosh: F.acosh, np.arctanh: F.atanh, np.arctan2: F.atan2, np.hypot: F.hypot,
    np.absolute: F.abs,
    np.less: lambda a, b: A.compare(np.less, a, b),
    np.less_equal: lambda a, b: A.compare(np.less_equal, a, b),
    np.greater: lambda a, b: A.compare(np.greater, a, b),
    np.greater_equal: lambda a, b: A.compare(np.greater_equal, a, b),
    np.equal: lambda a, b: A.compare(np.equal, a, b),
    np.not_equal: lambda a, b: A.compare(np.not_equal, a, b),
}  # fmt: skip


def dispatch(ufunc, method, inputs, kw):
    """``Tensor.__array_ufunc__``: plain calls of known ufuncs, nothing else."""
    f = _UFUNCS.get(ufunc)
    if method != "__call__" or f is None or kw:
        return NotImplemented
    return f(*inputs)
