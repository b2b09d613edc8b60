"""Initialisation of parameters in place, with PyTorch's names and formulas.

Every function fills its tensor under ``no_grad`` (so it works on parameters
that require grad) from the generator that ``dg.manual_seed`` seeds, and
returns the tensor.  The scaled schemes draw from

* ``xavier_uniform_``: U(-b, b), ``b = gain · sqrt(6 / (fan_in + fan_out))``;
* ``xavier_normal_``: N(0, s²), ``s = gain · sqrt(2 / (fan_in + fan_out))``;
* ``kaiming_uniform_``: U(-b, b), ``b = gain · sqrt(3 / fan)``;
* ``kaiming_normal_``: N(0, s²), ``s = gain / sqrt(fan)``;

with ``gain = calculate_gain(nonlinearity, a)`` and ``fan`` the fan-in or
fan-out of :func:`_calculate_fan_in_and_fan_out` (``mode``).

>>> import diffalg as dg
>>> w = dg.empty(64, 100)
>>> _ = dg.nn.init.kaiming_uniform_(w, a=5 ** 0.5)   # nn.Linear's default
>>> bound = 1 / 100 ** 0.5                            # gain·sqrt(3/fan_in) for a = √5
>>> bool(w.abs().max() <= bound)
True
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor

_LINEAR = (
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d",
)  # fmt: skip


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended scale of weights feeding ``nonlinearity``.

    1 for linear/convolution/sigmoid, 5/3 for tanh, √2 for relu,
    √(2 / (1 + slope²)) for leaky_relu (slope ``param``, default 0.01), 3/4 for selu.

    >>> import diffalg as dg
    >>> round(dg.nn.init.calculate_gain("leaky_relu", 0.2), 6)
    1.38675
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(size(1) · receptive field, size(0) · receptive field)`` of a weight."""
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive = int(np.prod(tensor.shape[2:], dtype=np.int64))
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _real(tensor, name):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.desc is not None:
        raise TypeError(f"{name}: initialises real tensors, not series")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of U(a, b)."""
    _real(tensor, "uniform_")
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples of N(mean, std²)."""
    _real(tensor, "normal_")
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    _real(tensor, "constant_")
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix in a 2-D tensor (ones on the diagonal, zeros elsewhere)."""
    _real(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        return tensor.copy_(Tensor(np.eye(*tensor.shape, dtype=tensor.dtype)))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot & Bengio (2010): U(-b, b) with ``b = gain · sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot & Bengio (2010): N(0, s²) with ``s = gain · sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity, name):
    if 0 in tensor.shape:
        warnings.warn(f"Initializing zero-element tensors is a no-op ({name})", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    """He et al. (2015): U(-b, b) with ``b = gain · sqrt(3 / fan)``.

    ``a`` is the negative slope of the leaky_relu that follows (``gain`` is
    :func:`calculate_gain` of ``nonlinearity`` and ``a``); ``mode`` picks
    ``fan_in`` (keeps the forward variance) or ``fan_out`` (the backward one).
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator=None,
) -> Tensor:
    """He et al. (2015): N(0, s²) with ``s = gain / sqrt(fan)``."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


__all__ = [
    "calculate_gain", "constant_", "eye_", "kaiming_normal_", "kaiming_uniform_", "normal_",
    "ones_", "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_",
]  # fmt: skip
