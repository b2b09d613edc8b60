"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

With gradient ``g`` of parameter ``p`` (negated when ``maximize``), PyTorch's rule::

    g ← g + weight_decay · p
    b ← g                                   on the first step
    b ← momentum · b + (1 − dampening) · g  after that
    g ← g + momentum · b  (nesterov)   or   g ← b
    p ← p − lr · g
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    >>> import diffalg as dg
    >>> w = dg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = dg.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> w  # b = 2 w0 = 2, w1 = 0.8; then b = 0.9 b + 2 w1 = 3.4, w2 = 0.46
    tensor([ 0.4600, -0.9200], requires_grad=True)
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, o):
        if not o["lr"] >= 0.0:
            raise ValueError(f"Invalid learning rate: {o['lr']}")
        if not o["momentum"] >= 0.0:
            raise ValueError(f"Invalid momentum value: {o['momentum']}")
        if not o["weight_decay"] >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {o['weight_decay']}")
        if o["nesterov"] and (o["momentum"] <= 0 or o["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def step(self, closure=None):
        """One update of every parameter that has a ``.grad``; returns ``closure()``'s loss."""
        loss = self._loss(closure)
        for group in self.param_groups:
            lr, momentum = float(group["lr"]), float(group["momentum"])
            dampening, decay = float(group["dampening"]), float(group["weight_decay"])
            nesterov, maximize = group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p._data
                g = self._grad(p)
                if maximize:
                    g = -g
                if decay:
                    g = np.multiply(d, decay) + g
                if momentum:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        b = np.array(g, copy=True)
                        state["momentum_buffer"] = Tensor(b)
                    else:
                        b = buf._data
                        b *= momentum
                        b += g if dampening == 0 else np.multiply(g, 1 - dampening)
                    g = np.multiply(b, momentum) + g if nesterov else b
                d -= np.multiply(g, lr)
                p._bump()
        return loss
