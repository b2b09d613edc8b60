"""Checking the tape against finite differences: ``gradcheck`` and ``gradgradcheck``."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .engine import grad
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """The analytic and numerical Jacobians differ."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _numerical(fn, inputs, i, eps):
    """Columns d out / d inputs[i] by central differences, one input element at a time."""
    x = inputs[i]._data
    cols = []
    with no_grad():
        for k in range(x.size):
            old = x.flat[k]
            x.flat[k] = old + eps
            plus = [o._data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
            x.flat[k] = old - eps
            minus = [o._data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
            x.flat[k] = old
            cols.append(
                np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus, strict=True)])
            )
    return np.stack(cols, axis=1) if cols else np.zeros((0, 0))


def _analytic(fn, inputs, diff):
    outs = _outputs(fn, inputs)
    rows = []
    for o in outs:
        for k in range(o.numel()):
            gout = np.zeros(o._data.shape, dtype=o.dtype)
            gout.flat[k] = 1.0
            if not o.requires_grad:
                rows.append([np.zeros(inputs[i].numel()) for i in diff])
                continue
            gs = grad(
                [o],
                [inputs[i] for i in diff],
                [Tensor(gout)],
                retain_graph=True,
                allow_unused=True,
            )
            rows.append(
                [
                    np.zeros(inputs[i].numel()) if g is None else g._data.astype(np.float64).ravel()
                    for i, g in zip(diff, gs, strict=True)
                ]
            )
    return [
        np.array([r[n] for r in rows]).reshape(-1, inputs[i].numel()) for n, i in enumerate(diff)
    ]


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True) -> bool:
    """Compare the tape's Jacobian of ``fn`` with central finite differences.

    Use float64 inputs; those with ``requires_grad=True`` are checked.

    >>> import diffalg as dg
    >>> x = dg.tensor([0.3, -1.2], dtype=dg.float64, requires_grad=True)
    >>> dg.autograd.gradcheck(lambda t: dg.tanh(t) * t, (x,))
    True
    """
    inputs = tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad")
    for i in diff:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64"
            )
    analytic = _analytic(fn, inputs, diff)
    for n, i in enumerate(diff):
        num = _numerical(fn, inputs, i, eps)
        ana = analytic[n]
        if num.shape != ana.shape or not np.allclose(ana, num, rtol=rtol, atol=atol):
            if raise_exception:
                raise GradcheckError(
                    f"Jacobian mismatch for input {i}:\nnumerical:\n{num}\nanalytical:\n{ana}"
                )
            return False
    return True


def gradgradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True) -> bool:
    """``gradcheck`` of the gradient itself (second derivatives through ``create_graph``).

    The scalar ``sum(fn(x) * v)`` with a fixed random ``v`` is differentiated
    with ``create_graph=True`` and its gradient checked by finite differences.
    """
    inputs = tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    rng = np.random.default_rng(0)
    vs = [Tensor(rng.standard_normal(o._data.shape)) for o in _outputs(fn, inputs)]

    def first(*xs):
        with enable_grad():  # the finite differences of gradcheck run under no_grad
            outs = _outputs(fn, xs)
            s = sum((o * v).sum() for o, v in zip(outs, vs, strict=True))
            gs = grad(s, [xs[i] for i in diff], create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)
