"""Loss modules: each holds its settings and calls the function of :mod:`.functional`.

``reduction`` is ``"mean"`` (the default), ``"sum"`` or ``"none"`` (one loss
per element).  Class weights are buffers, so they appear in ``state_dict``
under the same names as in PyTorch.
"""

from __future__ import annotations

from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            raise TypeError("size_average and reduce are deprecated; pass reduction= instead")
        F._check_reduction(reduction)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error ``mean((input - target)²)``.

    Input and target must have the same shape (a broadcast here would give a
    wrong number silently, so it is an error).

    >>> import diffalg as dg
    >>> dg.nn.MSELoss()(dg.tensor([1.0, 2.0]), dg.tensor([0.0, 4.0]))
    tensor(2.5000)
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ``mean(|input - target|)``."""

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits (N, C) (or (N, C, d...)) against int64 classes (N,).

    ``weight`` rescales each class, ``ignore_index`` drops targets of that
    value, ``label_smoothing`` mixes in the uniform distribution; a floating
    target of the input's shape is read as class probabilities.

    >>> import diffalg as dg
    >>> loss = dg.nn.CrossEntropyLoss()
    >>> logits = dg.tensor([[0.0, 0.0, 0.0, 0.0]], requires_grad=True)
    >>> out = loss(logits, dg.tensor([1]))
    >>> round(out.item(), 4)  # log 4
    1.3863
    >>> out.backward(); logits.grad
    tensor([[ 0.2500, -0.7500,  0.2500,  0.2500]])
    """

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (N, C) (e.g. from ``LogSoftmax``) and classes."""

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped at -100 as PyTorch)."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of ``sigmoid(input)``, computed stably from the logits.

    ``pos_weight`` scales the loss of positive targets.

    >>> import diffalg as dg
    >>> loss = dg.nn.BCEWithLogitsLoss()
    >>> round(loss(dg.tensor([0.0]), dg.tensor([1.0])).item(), 4)  # log 2
    0.6931
    """

    def __init__(
        self, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None
    ):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )


__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "L1Loss", "MSELoss", "NLLLoss"]
