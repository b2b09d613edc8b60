"""``nn.functional``: layers and losses as functions, with PyTorch's names and arguments.

Most are thin wrappers over :mod:`diffalg.ops`; the rest (losses, batch
normalisation, dropout, grouped and dilated convolution) are compositions of
primitives, so the tape differentiates them (to any order) with no rules of
their own.  Arguments are checked the way PyTorch checks them: a target of
the wrong dtype or shape is an error that names what was expected, never a
silently broadcast number.

>>> import diffalg as dg
>>> import diffalg.nn.functional as F
>>> logits = dg.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], requires_grad=True)
>>> loss = F.cross_entropy(logits, dg.tensor([0, 2]))
>>> round(loss.item(), 4)
0.1755
>>> loss.backward(); logits.grad.shape
(2, 3)
"""

from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import no_grad
from ..ops.creation import generator
from ..ops.losses import cross_entropy_p, mse_loss_p, nll_loss_p
from ..ops.registry import as_tensor
from ..tensor import Tensor

_TORCH_NAMES = {
    "float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
    "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
}  # fmt: skip


def _tname(dtype) -> str:
    """PyTorch's scalar type name of a dtype (``Long`` for int64) for error messages."""
    return _TORCH_NAMES.get(np.dtype(dtype).name, np.dtype(dtype).name)


def _shape(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _pair(v, name):
    if isinstance(v, (int, np.integer)):
        return (int(v), int(v))
    if isinstance(v, (tuple, list)) and len(v) == 2:
        return (int(v[0]), int(v[1]))
    raise TypeError(f"{name} must be an int or a pair of ints, got {v!r}")


# ------------------------------------------------------------ activations
def relu(input, inplace: bool = False):
    """``max(x, 0)``."""
    return input.relu_() if inplace else ops.relu(input)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """``x`` where positive, else ``negative_slope · x``."""
    y = ops.leaky_relu(input, negative_slope)
    return input.copy_(y) if inplace else y


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """``x`` where positive, else ``alpha · (exp(x) - 1)``."""
    y = ops.elu(input, alpha)
    return input.copy_(y) if inplace else y


def gelu(input, approximate: str = "none"):
    """``x · Φ(x)`` (``approximate="tanh"`` for the tanh formula)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return ops.gelu(input, approximate)


def silu(input, inplace: bool = False):
    """``x · sigmoid(x)``."""
    y = ops.silu(input)
    return input.copy_(y) if inplace else y


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``."""
    input = as_tensor(input)
    y = ops.softplus(input, beta)
    points = input._data if input.desc is None else np.asarray(input.coeffs)[..., 0]
    above = points * beta > threshold  # series: by constant part
    return ops.where(Tensor(above), input, y) if above.any() else y


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, without overflow."""
    return -ops.softplus(-as_tensor(input))


def tanh(input):
    return ops.tanh(input)


def sigmoid(input):
    return ops.sigmoid(input)


def softmax(input, dim=None, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    input = as_tensor(input)
    return ops.softmax(input if dtype is None else input.to(dtype), dim)


def log_softmax(input, dim=None, dtype=None):
    """``x - logsumexp(x)`` along ``dim``."""
    input = as_tensor(input)
    return ops.log_softmax(input if dtype is None else input.to(dtype), dim)


# ------------------------------------------------------------------ layers
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``."""
    return ops.linear(input, weight, bias)


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    return ops.flatten(input, start_dim, end_dim)


def pad(input, pad, mode: str = "constant", value: float = 0.0):
    """Pad the last dimensions: ``pad = (left, right, top, bottom, ...)`` from the last one back."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got {mode!r}")
    input = as_tensor(input)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"Padding length must be divisible by 2 and at most twice the number of "
            f"dimensions of the input ({input.ndim}), got {len(pad)}"
        )
    if any(p < 0 for p in pad):
        raise NotImplementedError("pad: negative padding (cropping) is not supported")
    shape, index = list(input.shape), [slice(None)] * input.ndim
    for i in range(len(pad) // 2):
        d = input.ndim - 1 - i
        lo, hi = int(pad[2 * i]), int(pad[2 * i + 1])
        index[d] = slice(lo, lo + shape[d])
        shape[d] += lo + hi
    out = Tensor(np.full(shape, value, dtype=input.dtype))
    out[tuple(index)] = input
    return out


def _dilate(weight, dilation):
    """The kernel with ``dilation - 1`` zeros between its taps (same cross-correlation)."""
    (dh, dw), (o, c, kh, kw) = dilation, weight.shape
    w = Tensor(np.zeros((o, c, dh * (kh - 1) + 1, dw * (kw - 1) + 1), dtype=weight.dtype))
    w[:, :, ::dh, ::dw] = weight
    return w


def _same_padding(input, weight, stride, dilation):
    """Padding that keeps the size: split evenly, the odd pixel (if any) right/bottom."""
    if stride != (1, 1):
        raise ValueError("padding='same' is not supported for strided convolutions")
    totals = [d * (k - 1) for d, k in zip(dilation, weight.shape[2:], strict=True)]
    left = [t // 2 for t in totals]
    if all(t % 2 == 0 for t in totals):
        return input, tuple(left)
    (th, tw), (lh, lw) = totals, left
    return pad(input, (lw, tw - lw, lh, th - lh)), (0, 0)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-D cross-correlation of (N, C, H, W) images with (O, C/groups, kh, kw) kernels.

    ``padding`` may be ``"valid"`` (none) or ``"same"`` (output size = input size).
    """
    input = as_tensor(input)
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            input, padding = _same_padding(input, weight, stride, dilation)
        else:
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of 'valid', 'same'"
            )
    if dilation != (1, 1):
        weight = _dilate(weight, dilation)
    if groups == 1:
        return ops.conv2d(input, weight, bias, stride, padding)
    if input.ndim != 4 or input.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{list(input.shape)} to have {weight.shape[1] * groups} channels"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"out_channels ({weight.shape[0]}) must be divisible by groups ({groups})"
        )
    xs = ops.chunk(input, groups, 1)
    ws = ops.chunk(weight, groups, 0)
    bs = ops.chunk(bias, groups, 0) if bias is not None else [None] * groups
    return ops.cat(
        [ops.conv2d(x, w, b, stride, padding) for x, w, b in zip(xs, ws, bs, strict=True)], 1
    )


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """The maximum over each window (stride defaults to the kernel size)."""
    if _pair(dilation, "dilation") != (1, 1) or ceil_mode or return_indices:
        raise NotImplementedError(
            "max_pool2d: dilation, ceil_mode and return_indices are not supported"
        )
    return ops.max_pool2d(input, kernel_size, stride, padding)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """The mean over each window; padding counts unless ``count_include_pad=False``."""
    if ceil_mode:
        raise NotImplementedError("avg_pool2d: ceil_mode=True is not supported")
    input = as_tensor(input)
    out = ops.avg_pool2d(input, kernel_size, stride, padding)
    if divisor_override is not None:
        kh, kw = _pair(kernel_size, "kernel_size")
        return out * (kh * kw / divisor_override)
    if not count_include_pad and _pair(padding, "padding") != (0, 0):
        inside = Tensor(np.ones((1, 1) + input.shape[2:], dtype=input.dtype))
        out = out / ops.avg_pool2d(inside, kernel_size, stride, padding)  # share of real pixels
    return out


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Inverted dropout: zero each element with probability ``p``, scale the rest by ``1/(1-p)``.

    The identity when not ``training``, so evaluation needs no rescaling.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    input = as_tensor(input)
    if not training or p == 0.0:
        return input
    keep = generator().random(input.shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    dtype = np.float64 if input.desc is not None else input.dtype
    mask = Tensor((keep * scale).astype(dtype))
    return input.mul_(mask) if inplace else input * mask


def batch_norm(
    input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):
    """Normalise each channel (dim 1) to zero mean and unit variance, then scale and shift.

    Training uses the batch's mean and biased variance and moves the running
    statistics towards them (``running = (1 - momentum) running + momentum batch``,
    with the unbiased variance); otherwise the running statistics are used.
    """
    input = as_tensor(input)
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected an input of at least 2 dimensions, got {input.shape}"
        )
    c = input.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and t.shape != (c,):
            raise RuntimeError(
                f"{name} should contain {c} elements not {t.numel()} (input {_shape(input.shape)})"
            )
    dims = (0,) + tuple(range(2, input.ndim))
    bshape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        n = input.numel() // c
        if n <= 1:
            raise ValueError(
                "Expected more than 1 value per channel when training, got input size "
                f"{_shape(input.shape)}"
            )
        mean = input.mean(dims, keepdim=True)
        centred = input - mean
        var = (centred * centred).mean(dims, keepdim=True)
        with no_grad():
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(mean.detach().reshape(c) * momentum)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(
                    var.detach().reshape(c) * (momentum * n / (n - 1))
                )
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: running_mean and running_var are needed when not training"
            )
        centred = input - running_mean.reshape(bshape)
        var = running_var.reshape(bshape)
    y = centred * (1 / ops.sqrt(var + eps))
    if weight is not None:
        y = y * weight.reshape(bshape)
    if bias is not None:
        y = y + bias.reshape(bshape)
    return y


def one_hot(tensor, num_classes: int = -1):
    """Class indices (int64) → rows of zeros with a one at the index (int64, one more dim)."""
    tensor = as_tensor(tensor)
    if tensor.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    v = tensor._data
    if v.size and v.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(v.max()) + 1 if v.size else 0
    elif v.size and v.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor((v[..., None] == np.arange(num_classes)).astype(np.int64))


# ----------------------------------------------------------------- losses
def _reduce(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _regression_pair(name, input, target):
    """Input and a floating target of the same shape (broadcasting here is a silent bug)."""
    input, target = as_tensor(input), as_tensor(target)
    if target.desc is None and target.dtype.kind != "f":
        raise RuntimeError(
            f"{name}: expected a floating point target, but found {_tname(target.dtype)} "
            f"({target.dtype}); convert it with target.float()"
        )
    if input.shape != target.shape:
        raise ValueError(
            f"{name}: target size {_shape(target.shape)} is different from input size "
            f"{_shape(input.shape)}; they must be equal (reshape one of them)"
        )
    return input, target


def mse_loss(input, target, reduction: str = "mean"):
    """Squared error ``(input - target)²``, averaged, summed or per element."""
    _check_reduction(reduction)
    input, target = _regression_pair("mse_loss", input, target)
    if reduction != "none" and input.desc is None and target.desc is None:
        return mse_loss_p(input, target, reduction=reduction)  # one tape node
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction: str = "mean"):
    """Absolute error ``|input - target|``."""
    _check_reduction(reduction)
    input, target = _regression_pair("l1_loss", input, target)
    return _reduce(ops.abs(input - target), reduction)


def _log_clamped(x):
    """``max(log x, -100)`` (PyTorch's BCE clamp) with a finite gradient where ``x = 0``."""
    pos = Tensor(x._data > 0)
    return ops.where(pos, ops.clamp(ops.log(ops.where(pos, x, 1.0)), min=-100.0), -100.0)


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """``-(t log p + (1 - t) log(1 - p))`` for probabilities ``p`` (logs clamped at -100)."""
    _check_reduction(reduction)
    input, target = _regression_pair("binary_cross_entropy", input, target)
    v = input._data
    if np.any((v < 0) | (v > 1)) or np.any(np.isnan(v)):
        raise RuntimeError("all elements of input should be between 0 and 1")
    losses = -(target * _log_clamped(input) + (1 - target) * _log_clamped(1 - input))
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)


def binary_cross_entropy_with_logits(
    input, target, weight=None, reduction: str = "mean", pos_weight=None
):
    """BCE of ``sigmoid(input)`` written stably: ``(1 - t) x + (1 + (pw - 1) t) softplus(-x)``."""
    _check_reduction(reduction)
    input, target = _regression_pair("binary_cross_entropy_with_logits", input, target)
    sp = ops.softplus(-input)
    if pos_weight is not None:
        sp = sp * ((pos_weight - 1) * target + 1)
    losses = (1 - target) * input + sp
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction)


def _class_target(name, input, target):
    """Check class-index targets: int64 (or uint8), shape = input's without the class dim."""
    target = as_tensor(target)
    if target.dtype not in (np.int64, np.uint8):
        raise RuntimeError(
            f"expected scalar type Long but found {_tname(target.dtype)}: {name} takes class "
            f"indices of dtype int64 (target.long()), got a {target.dtype} target"
        )
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have at least one dimension (the classes)")
    want = () if input.ndim == 1 else input.shape[:1] + input.shape[2:]
    if target.shape != want:
        if input.ndim == 2 and target.ndim == 1:
            raise ValueError(
                f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                f"({target.shape[0]})."
            )
        raise ValueError(
            f"{name}: expected target of shape {_shape(want)} for input of shape "
            f"{_shape(input.shape)}, got {_shape(target.shape)}"
        )
    return target


def _class_weights(weight, c):
    if weight is None:
        return np.ones(c)
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (c,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {c} classes or no classes but got "
            f"weight tensor of shape: {list(w.shape)}"
        )
    return w


def _picked(input, target, weight, ignore_index):
    """``input[n, target[n], ...]``, the per-element class weights (0 where ignored), valid mask."""
    t = target._data.astype(np.int64)
    c = input.shape[1]
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    safe = np.where(valid, t, 0)
    picked = ops.squeeze(ops.gather(input, 1, np.expand_dims(safe, 1)), 1)
    w = np.where(valid, _class_weights(weight, c)[safe], 0.0).astype(input.dtype)
    return picked, w, valid


def _as_batch(input, target):
    """A single sample (C,) with target () as a batch of one."""
    if input.ndim == 1:
        return ops.unsqueeze(input, 0), ops.reshape(target, 1)
    return input, target


def _simple_classes(input, target, weight, ignore_index, reduction):
    """The common case the fused primitives handle: (N, C) real input, no weights or ignoring."""
    if input.ndim != 2 or input.desc is not None or weight is not None or reduction == "none":
        return False
    t = target._data
    if np.any(t == ignore_index):
        return False
    if np.any((t < 0) | (t >= input.shape[1])):
        bad = t[(t < 0) | (t >= input.shape[1])]
        raise IndexError(f"Target {int(bad.flat[0])} is out of bounds.")
    return True


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """``-w[t] · input[n, t]`` for log-probabilities ``input`` (N, C, ...) and classes ``t``.

    ``mean`` divides by the summed weights of the targets that are not ``ignore_index``.
    """
    _check_reduction(reduction)
    input = as_tensor(input)
    target = _class_target("nll_loss", input, target)
    if _simple_classes(input, target, weight, ignore_index, reduction):
        return nll_loss_p(input, target=target._data, reduction=reduction)
    x, t = _as_batch(input, target)
    picked, w, _ = _picked(x, t, weight, ignore_index)
    losses = -picked * Tensor(w)
    if reduction == "none":
        return losses.reshape(target.shape)
    total = losses.sum()
    return total if reduction == "sum" else total / Tensor(np.asarray(w.sum(), dtype=w.dtype))


def cross_entropy(
    input,
    target,
    weight=None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    """``nll_loss(log_softmax(input, 1), target)`` for logits (N, C, ...) and class indices.

    A floating ``target`` of the input's shape holds class probabilities
    instead.  ``label_smoothing`` ε mixes the target with the uniform
    distribution: ``(1 - ε) · loss + ε/C · Σ_c -w_c log p_c``.
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    input, target = as_tensor(input), as_tensor(target)
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have at least one dimension (the classes)")
    if target.dtype.kind != "f" and not label_smoothing:
        target = _class_target("cross_entropy", input, target)
        if _simple_classes(input, target, weight, ignore_index, reduction):
            return cross_entropy_p(input, target=target._data, reduction=reduction)
    cdim = 0 if input.ndim == 1 else 1
    logp = ops.log_softmax(input, cdim)
    c = input.shape[cdim]
    wshape = (c,) + (1,) * (input.ndim - 1 - cdim)
    if target.dtype.kind == "f" and target.shape == input.shape:
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / c
        terms = logp * target
        if weight is not None:
            terms = terms * Tensor(_class_weights(weight, c).reshape(wshape).astype(input.dtype))
        return _reduce(-terms.sum(cdim), reduction)
    target = _class_target("cross_entropy", input, target)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if not label_smoothing:
        return nll
    x, t = _as_batch(logp, target)
    w = _class_weights(weight, c).reshape((c,) + (1,) * (x.ndim - 2)).astype(input.dtype)
    _, wt, valid = _picked(x, t, weight, ignore_index)
    smooth = -(x * Tensor(w)).sum(1) * Tensor(valid.astype(input.dtype))
    if reduction == "none":
        smooth = smooth.reshape(target.shape)
    elif reduction == "sum":
        smooth = smooth.sum()
    else:
        smooth = smooth.sum() / Tensor(np.asarray(wt.sum(), dtype=wt.dtype))
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / c)


__all__ = [
    "avg_pool2d", "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "conv2d", "cross_entropy", "dropout", "elu", "flatten", "gelu", "l1_loss", "leaky_relu",
    "linear", "log_softmax", "logsigmoid", "max_pool2d", "mse_loss", "nll_loss", "one_hot",
    "pad", "relu", "sigmoid", "silu", "softmax", "softplus", "tanh",
]  # fmt: skip
