"""Primitives on tensors of reals and of series (see :mod:`.registry`)."""

from .. import tensor as _tensor
from . import adjoint, creation, inplace, methods, registry, series, shape, ufuncs
from .activations import (
    clamp,
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    where,
)
from .arithmetic import add, compare, div, mul, neg, pow, sub
from .conv import avg_pool2d, conv2d, max_pool2d, unfold
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
    expm1,
    hypot,
    log,
    log1p,
    sign,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
)
from .linalg import bmm, dot, linear, matmul, mm, mv
from .reduce import (
    amax,
    amin,
    argmax,
    argmin,
    cumsum,
    flip,
    gather,
    logsumexp,
    max,
    mean,
    min,
    prod,
    std,
    sum,
    var,
)
from .registry import PRIMITIVES, apply, primitive
from .series import compose, deriv, integ, truncate
from .shape import (
    cat,
    chunk,
    concatenate,
    expand,
    flatten,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    sum_to,
    transpose,
    unsqueeze,
    view,
)

adjoint.share_structural_vjps(registry.PRIMITIVES)
_tensor.ops = __import__(__name__, fromlist=["*"])
