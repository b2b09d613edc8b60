"""Fused losses: ``mse_loss``, ``cross_entropy`` and ``nll_loss`` as single primitives.

Written out of smaller primitives a loss costs four to six tape nodes; as one
primitive with its own VJP it costs one, which matters for small models
where the per-operation overhead, not the arithmetic, sets the step time.
The VJPs are written with primitives, so they differentiate again.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .activations import softmax_p
from .registry import primitive


def _scale(reduction, n):
    return 1.0 / n if reduction == "mean" else 1.0


def _mse_real(a, b, reduction):
    d = a - b
    s = np.vdot(d, d) if d.dtype.kind == "f" else np.sum(d * d)
    return s / d.size if reduction == "mean" else s


def _mse_vjp(sign):
    def vjp(g, out, a, b, reduction):
        n = np.broadcast_shapes(a.shape, b.shape)
        return (a - b) * (g * (sign * 2.0 * _scale(reduction, int(np.prod(n)))))

    return vjp


mse_loss_p = primitive(
    "mse_loss", real=_mse_real, vjp=(_mse_vjp(1.0), _mse_vjp(-1.0)), saves=(0, 1)
)


def _onehot(target, shape, dtype):
    z = np.zeros(shape, dtype=dtype)
    z[np.arange(shape[0]), target] = 1.0
    return z


def _picked(a, target):
    return a[np.arange(a.shape[0]), target]


def _ce_real(a, target, reduction):
    m = a.max(axis=1, keepdims=True)
    lse = np.log(np.exp(a - m).sum(axis=1)) + m[:, 0]
    losses = lse - _picked(a, target)
    return losses.sum() * _scale(reduction, len(target))


cross_entropy_p = primitive(
    "cross_entropy",
    real=_ce_real,
    vjp=(
        lambda g, out, a, target, reduction: (
            softmax_p(a, dim=1) - Tensor(_onehot(target, a.shape, a.dtype))
        ) * (g * _scale(reduction, len(target))),
    ),
    saves=(0,),
)  # fmt: skip
nll_loss_p = primitive(
    "nll_loss",
    real=lambda a, target, reduction: -_picked(a, target).sum() * _scale(reduction, len(target)),
    vjp=(
        lambda g, out, a, target, reduction: Tensor(
            _onehot(target, a.shape, a.dtype) * -_scale(reduction, len(target))
        ) * g,
    ),
    saves=(),
)  # fmt: skip

__all__ = ["cross_entropy_p", "mse_loss_p", "nll_loss_p"]
