"""Optimizers that update parameters from their ``.grad``, as in ``torch.optim``.

>>> import diffalg as dg
>>> w = dg.tensor([3.0], requires_grad=True)
>>> opt = dg.optim.SGD([w], lr=0.25)
>>> for _ in range(20):
...     opt.zero_grad(); ((w - 1) ** 2).sum().backward(); opt.step()
>>> round(w.item(), 6)  # the minimum of (w - 1)^2
1.000002
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer, required
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "lr_scheduler", "required"]
