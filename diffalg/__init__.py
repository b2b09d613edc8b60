"""diffalg: differential algebra — truncated Taylor series in many variables to any order.

>>> import diffalg as dg
>>> x, y = dg.Descriptor(nv=2, order=10).vars([2.0, 0.5])
>>> f = (1 + dg.sqrt(x)) / x * dg.sin(y)
>>> round(f.derivative((1, 0)) / float(dg.sin(y).const), 6)
-0.426777
"""

import numpy as _np

from .algebra import Descriptor
from .io import load, save
from .ops import (
    abs,
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    cat,
    compose,
    cos,
    cosh,
    deriv,
    erf,
    exp,
    hypot,
    integ,
    log,
    matmul,
    pow,
    reshape,
    sin,
    sinh,
    sqrt,
    stack,
    sum,
    tan,
    tanh,
    transpose,
    truncate,
)
from .tensor import Tensor

Descriptor._wrap = staticmethod(lambda data, desc: Tensor(data, desc))


def tensor(data, dtype=None) -> Tensor:
    """A real tensor from numbers, lists or arrays (a copy)."""
    return Tensor(_np.array(data, dtype=dtype))


__version__ = "0.1.0"
__all__ = [
    "Descriptor",
    "Tensor",
    "abs",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "cat",
    "compose",
    "cos",
    "cosh",
    "deriv",
    "erf",
    "exp",
    "hypot",
    "integ",
    "load",
    "log",
    "matmul",
    "pow",
    "reshape",
    "save",
    "sin",
    "sinh",
    "sqrt",
    "stack",
    "sum",
    "tan",
    "tanh",
    "tensor",
    "transpose",
    "truncate",
]
