"""In-place operations (``add_``, ``x[i] = v``, ``zero_``...) that keep the tape honest.

Without gradients an in-place op writes into the tensor's buffer and bumps
its version counter.  On the tape it is recorded as its out-of-place
primitive and the tensor is rebased onto the new node (PyTorch's scheme), so
the history stays right; a node that saved the old values sees the version
move and refuses to run.  On an indexed view (``y[1:] *= 2``) the result is
written into the view's source as ``source[idx] = op(view)``, so the source's
history records it, and the view is taken again when next used.  Refused
outright: a leaf that requires grad (its ``.grad`` would describe values that
no longer exist), and views the tape cannot write back (reshapes, permutes,
views of tensors that do not require grad written with ones that do).
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .activations import clamp_p, relu, sigmoid
from .arithmetic import _pow_number, add, div, mul, neg, sub
from .functions import abs as abs_
from .functions import cos, exp, log, sin, sqrt, tanh
from .registry import Real, Tape, as_tensor, common_descriptor, primitive
from .shape import _lift, _series_index, clone, getitem_view, index_put, normalize_index, store


def _tracking(t, others) -> bool:
    if not Tape.enabled:
        return False
    if t._rg or any(isinstance(o, Tensor) and o._rg for o in others):
        return True
    if t._base is not None and t._base._rg:
        # taken under no_grad from a tensor on the tape: writing through it with the tape
        # on would change the base's values behind its history
        raise RuntimeError(
            "a view created in no_grad mode is being modified in place with grad mode "
            "enabled; modify it inside no_grad() too, or take the view with grad enabled"
        )
    return False


def _check(t):
    if t._rg and t.grad_fn is None:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation; "
            "wrap it in no_grad() (as optimisers do) or clone() it first"
        )


def _through_view(t, prim, others, kw) -> Tensor:
    """In place on a view: ``source[idx] = prim(view)``, recorded on the source."""
    node = t.grad_fn
    if node is None or node.prim is not getitem_view or node.freed:
        made = "made by " + node.prim.name if node is not None else "of a tensor without grad"
        raise RuntimeError(
            f"in-place operation on a view ({made}) that the tape cannot write back to its "
            "base; clone() the view, or assign through the base: base[idx] = value"
        )
    # the op must not read the view's buffer after the write below changes it
    x = clone(t) if prim.reads(0) else t
    setitem(node.args[0], node.kw["idx"], prim(x, *others, **kw))
    return t


def _on_host(t, what):
    """In-place writes work on CPU buffers only; a GPU tensor says so instead of failing oddly."""
    if not isinstance(t._data, np.ndarray):
        raise NotImplementedError(
            f"{what} is not available for tensors on cuda; move them with .cpu() or build "
            "the result out of place"
        )


def _write(t, data):
    _on_host(t, "an in-place operation")
    try:
        np.copyto(t._data, data, casting="same_kind")
    except TypeError:
        raise RuntimeError(
            f"result type {np.asarray(data).dtype} can't be cast to the desired output type "
            f"{t.dtype}"
        ) from None
    except ValueError as e:
        if "read-only" in str(e):
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location (an expanded tensor); clone() it first"
            ) from None
        shape = np.shape(data)[: np.ndim(data) - (t.desc is not None)]
        raise RuntimeError(
            f"output with shape {list(t.shape)} doesn't match the broadcast shape {list(shape)}"
        ) from None
    t._bump()


def inplace(t: Tensor, prim, *others, **kw) -> Tensor:
    """``t = prim(t, *others)`` written into ``t``'s buffer, with the tape kept right."""
    if not _tracking(t, others):
        _write(t, prim(t, *others, **kw)._data)
        return t
    if t._base is not None:
        return _through_view(t, prim, others, kw)
    _check(t)
    old = Tensor(t._data.copy() if prim.reads(0) else t._data, t.desc)
    old._rg, old.grad_fn, old._accum = t._rg, t.grad_fn, t._accum
    new = prim(old, *others, **kw)
    _write(t, new._data)
    t.grad_fn, t._rg = new.grad_fn, True
    return t


def _binary(prim):
    def op(t, other, alpha=None):
        if alpha is not None:
            other = other * alpha
        return inplace(t, prim, other)

    op.__name__ = prim.name + "_"
    op.__doc__ = f"In-place ``{prim.name}`` (PyTorch's ``{prim.name}_``)."
    return op


def _unary(prim):
    def op(t):
        return inplace(t, prim)

    op.__name__ = prim.name + "_"
    op.__doc__ = f"In-place ``{prim.name}``."
    return op


add_, sub_, mul_, div_, pow_ = (_binary(p) for p in (add, sub, mul, div, _pow_number))
neg_, exp_, log_, sqrt_, sin_, cos_, tanh_, abs_inplace, sigmoid_, relu_ = (
    _unary(p) for p in (neg, exp, log, sqrt, sin, cos, tanh, abs_, sigmoid, relu)
)


def clamp_(t, min=None, max=None):  # noqa: A002
    return inplace(t, clamp_p, lo=min, hi=max)


fill_p = primitive(
    "fill",
    real=lambda a, value: np.full(a.shape, value, dtype=a.dtype),
    vjp=(lambda g, out, a, value: None,),
    saves=(),
)
copy_p = primitive(
    "copy",
    real=lambda a, src: np.broadcast_to(src, a.shape).astype(a.dtype),
    vjp=(lambda g, out, a, src: None, lambda g, out, a, src: g),
    saves=(),
)


def fill_(t, value):
    """Set every element to ``value`` (no gradient flows to the old values)."""
    if isinstance(value, Tensor):
        value = value.item()
    if t.desc is not None:
        _write(t, _lift(t.desc, Real(value)))
        return t
    return inplace(t, fill_p, value=value)


def zero_(t):
    return fill_(t, 0)


def copy_(t, src):
    """Copy ``src``'s values (broadcast) into ``t``."""
    src = as_tensor(src)
    if t.desc is not None or src.desc is not None:
        common_descriptor([t, src])
        _write(t, src._data if src.desc is not None else _lift(t.desc, Real(src._data)))
        return t
    return inplace(t, copy_p, src)


def _overwrite(t, values, what):
    if Tape.enabled and t._rg:
        raise RuntimeError(
            f"{what}: the tensor requires grad; fill it inside no_grad() (as nn.init does)"
        )
    _write(t, values)
    return t


def uniform_(t, a=0.0, b=1.0, generator=None):
    from .creation import generator as rng  # noqa: PLC0415 - creation imports this package

    return _overwrite(t, (generator or rng()).uniform(a, b, t.shape), "uniform_")


def normal_(t, mean=0.0, std=1.0, generator=None):
    from .creation import generator as rng  # noqa: PLC0415

    return _overwrite(t, (generator or rng()).normal(mean, std, t.shape), "normal_")


def setitem(t: Tensor, idx, value):
    """``t[idx] = value``; recorded as ``index_put`` when gradients flow."""
    _on_host(t, "assignment into a tensor")
    idx = normalize_index(idx)
    if isinstance(value, (bool, int, float)):  # a number is stored at the tensor's precision
        value = Tensor(np.asarray(value, dtype=t._data.dtype))
    value = as_tensor(value)
    if _tracking(t, (value,)):
        inplace(t, index_put, value, idx=idx)
        return
    if t.desc is None:
        if value.desc is not None:
            raise TypeError("cannot store series in a real tensor")
        store(t._data, idx, value._data)
    else:
        common_descriptor([t, value])
        sidx = _series_index(idx, t._data.ndim - 1)
        t._data[sidx] = value._data if value.desc is not None else _lift(t.desc, Real(value._data))
    t._bump()


def masked_fill(t, mask, value):
    """``value`` where ``mask`` holds, else ``t`` (out of place)."""
    from .activations import where  # noqa: PLC0415

    return where(mask, value.item() if isinstance(value, Tensor) else value, t)


__all__ = [
    "abs_inplace", "add_", "clamp_", "copy_", "cos_", "div_", "exp_", "fill_", "inplace",
    "log_", "masked_fill", "mul_", "neg_", "normal_", "pow_", "relu_", "setitem", "sigmoid_",
    "sin_", "sqrt_", "sub_", "tanh_", "uniform_", "zero_",
]  # fmt: skip
