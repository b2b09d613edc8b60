"""Primitives on tensors of reals and of series (see :mod:`.registry`)."""

from .. import tensor as _tensor
from . import series, shape, ufuncs
from .arithmetic import add, compare, div, mul, neg, pow, sub
from .functions import (
    abs,
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    cos,
    cosh,
    erf,
    exp,
    hypot,
    log,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
)
from .registry import PRIMITIVES, apply, primitive
from .series import compose, deriv, integ, truncate
from .shape import cat, matmul, reshape, stack, transpose
from .shape import sum as sum

_tensor.ops = __import__(__name__, fromlist=["*"])

__all__ = [
    "PRIMITIVES",
    "abs",
    "acos",
    "acosh",
    "add",
    "apply",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "cat",
    "compare",
    "compose",
    "cos",
    "cosh",
    "deriv",
    "div",
    "erf",
    "exp",
    "hypot",
    "integ",
    "log",
    "matmul",
    "mul",
    "neg",
    "pow",
    "primitive",
    "reshape",
    "series",
    "shape",
    "sin",
    "sinh",
    "sqrt",
    "stack",
    "sub",
    "sum",
    "tan",
    "tanh",
    "transpose",
    "truncate",
    "ufuncs",
]
