"""diffalg: differential algebra — truncated Taylor series in many variables to any order.

>>> import diffalg as dg
>>> x, y = dg.Descriptor(nv=2, order=10).vars([2.0, 0.5])
>>> f = (1 + dg.sqrt(x)) / x * dg.sin(y)
>>> round(f.derivative((1, 0)) / dg.sin(y).const, 6)
-0.426777

The same Tensor carries the tape, PyTorch-style:

>>> a = dg.tensor([1.0, 2.0], requires_grad=True)
>>> dg.tanh(a + 1).sum().backward()
>>> [round(v, 4) for v in a.grad.tolist()]
[0.0707, 0.0099]
"""

# allocator first: it sets the C allocator up for batches of series
from . import allocator, autograd, cuda, maps, nn, optim, utils
from .algebra import Descriptor
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .dtypes import (
    bool_ as bool,  # noqa: A004 - PyTorch's name
)
from .dtypes import (
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    uint8,
)
from .dtypes import float32 as float  # noqa: A004
from .io import load, save
from .ops import (
    abs,
    acos,
    acosh,
    amax,
    amin,
    argmax,
    argmin,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    avg_pool2d,
    bmm,
    cat,
    chunk,
    clamp,
    compose,
    concatenate,
    conv2d,
    cos,
    cosh,
    cumsum,
    deriv,
    dot,
    erf,
    exp,
    expand,
    expm1,
    flatten,
    flip,
    gather,
    hypot,
    integ,
    linear,
    log,
    log1p,
    log_softmax,
    logsumexp,
    matmul,
    max,
    max_pool2d,
    maximum,
    mean,
    min,
    minimum,
    mm,
    mv,
    permute,
    pow,
    prod,
    relu,
    reshape,
    sigmoid,
    sign,
    sin,
    sinh,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    tan,
    tanh,
    transpose,
    truncate,
    unsqueeze,
    var,
    where,
)
from .ops.adjoint import coefficients
from .ops.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .tensor import Tensor

Descriptor._wrap = staticmethod(lambda data, desc: Tensor(data, desc))


def clone(t: Tensor) -> Tensor:
    return t.clone()


def numel(t: Tensor) -> int:
    return t.numel()


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def allclose(a, b, rtol=1e-5, atol=1e-8) -> bool:
    return a.allclose(b, rtol, atol)


__version__ = "0.2.0"
__all__ = [n for n in dir() if not n.startswith("_")]
