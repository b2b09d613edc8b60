"""Neural networks, PyTorch's ``torch.nn`` for diffalg tensors.

Layers, containers and losses are :class:`Module` subclasses with PyTorch's
constructors, default initialisations, ``state_dict`` keys and ``repr``;
:mod:`.functional` has them as functions and :mod:`.init` the initialisers.

>>> import diffalg as dg
>>> from diffalg import nn
>>> model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
>>> x, y = dg.randn(16, 3), dg.randn(16, 1)
>>> loss = nn.MSELoss()(model(x), y)
>>> loss.backward()
>>> [tuple(p.grad.shape) for p in model.parameters()]
[(8, 3), (8,), (1, 8), (1,)]
"""

from . import functional, init
from .containers import ModuleDict, ModuleList, Sequential
from .layers import (
    ELU,
    GELU,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSigmoid,
    LogSoftmax,
    MaxPool2d,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, Parameter

__all__ = [
    "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d",
    "CrossEntropyLoss", "Dropout", "ELU", "Flatten", "GELU", "Identity", "L1Loss", "LeakyReLU",
    "Linear", "LogSigmoid", "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleDict",
    "ModuleList", "NLLLoss", "Parameter", "ReLU", "SiLU", "Sequential", "Sigmoid", "Softmax",
    "Softplus", "Tanh", "functional", "init",
]  # fmt: skip
