"""Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), PyTorch's formulas.

At step ``t`` with gradient ``g`` (negated when ``maximize``)::

    g ← g + weight_decay · p           (Adam: L2 penalty in the gradient)
    p ← p · (1 − lr · weight_decay)    (AdamW: decoupled decay, instead)
    m ← m + (1 − β1) (g − m)
    v ← β2 v + (1 − β2) g²
    v̂ ← max(v̂, v)                      (amsgrad; then v̂ replaces v below)
    p ← p − lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + ε)
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam: steps scaled by running averages of the gradient and its square.

    >>> import diffalg as dg
    >>> w = dg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = dg.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w  # the first step moves every entry by about lr
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        maximize=False,
        decoupled_weight_decay=False,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _validate(self, o):
        if not o["lr"] >= 0.0:
            raise ValueError(f"Invalid learning rate: {o['lr']}")
        if not o["eps"] >= 0.0:
            raise ValueError(f"Invalid epsilon value: {o['eps']}")
        betas = o["betas"]
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if not o["weight_decay"] >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {o['weight_decay']}")

    def step(self, closure=None):
        """One update of every parameter that has a ``.grad``; returns ``closure()``'s loss."""
        loss = self._loss(closure)
        for group in self.param_groups:
            lr, eps, decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(b) for b in group["betas"])
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p._data
                g = self._grad(p)
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = Tensor(np.zeros_like(d))
                    state["exp_avg_sq"] = Tensor(np.zeros_like(d))
                state["step"] = t = state["step"] + 1
                if maximize:
                    g = -g
                if decay:
                    if decoupled:
                        d *= 1 - lr * decay
                    else:
                        g = np.multiply(d, decay) + g
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                tmp, denom = np.empty_like(m), np.empty_like(m)  # arrays even when 0-d
                np.subtract(g, m, out=tmp)
                _lerp(m, g, 1 - beta1, tmp)
                np.multiply(g, 1 - beta2, out=tmp)
                tmp *= g
                v *= beta2
                v += tmp
                if amsgrad:
                    vmax = state.get("max_exp_avg_sq")
                    if vmax is None:  # amsgrad switched on after the first step
                        vmax = state["max_exp_avg_sq"] = Tensor(np.zeros_like(d))
                    v = np.maximum(vmax._data, v, out=vmax._data)
                np.sqrt(v, out=denom)
                denom /= (1 - beta2**t) ** 0.5
                denom += eps
                np.multiply(m, -lr / (1 - beta1**t), out=tmp)
                tmp /= denom
                d += tmp
                p._bump()
        return loss


def _lerp(m: np.ndarray, end: np.ndarray, w: float, diff: np.ndarray) -> None:
    """``m ← m + w (end − m)`` in place, rounded as PyTorch does; ``diff`` holds ``end − m``."""
    if abs(w) < 0.5:
        diff *= w
        m += diff
    else:  # from the far end, so that w = 1 gives exactly ``end``
        diff *= 1 - m.dtype.type(w)
        np.subtract(end, diff, out=m)


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p ← p (1 − lr · weight_decay)`` before each step.

    >>> import diffalg as dg
    >>> w = dg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = dg.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward(); opt.step()
    >>> w  # decay by 1 - 0.05, then the Adam step of about lr
    tensor([ 0.8500, -1.8000], requires_grad=True)
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
    ):
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
            decoupled_weight_decay=True,
        )  # fmt: skip

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
