"""The PyTorch-named methods of :class:`~diffalg.tensor.Tensor`, bound in one table.

Each method is the ops function of the same meaning with the tensor first,
so ``t.sum(1)`` is ``ops.sum(t, 1)``; nothing here computes.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import activations as A
from . import arithmetic, conv, device, inplace, linalg, reduce, series, shape
from . import functions as F


def _type(t, dtype=None):
    return t.dtype.name if dtype is None else shape.to(t, dtype)


def _norm(t, p="fro", dim=None, keepdim=False):
    if t.desc is not None:
        return series.norm(t, 1 if p == "fro" else p)
    return reduce.norm_real(t, p, dim, keepdim)


def _cast(dtype):
    return lambda t: shape.to(t, dtype)


_METHODS = {
    # shapes and views
    "view": shape.view, "reshape": shape.reshape, "permute": shape.permute,
    "transpose": shape.transpose, "t": shape.t_, "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze, "flatten": shape.flatten, "expand": shape.expand,
    "expand_as": lambda t, o: shape.expand(t, *o.shape), "split": shape.split,
    "chunk": shape.chunk, "view_as": lambda t, o: shape.view(t, *o.shape),
    "reshape_as": lambda t, o: shape.reshape(t, *o.shape), "to": shape.to,
    "float": _cast(np.float32), "double": _cast(np.float64), "long": _cast(np.int64),
    "int": _cast(np.int32), "bool": _cast(np.bool_), "type": _type, "clone": shape.clone,
    "contiguous": lambda t: t, "cpu": device.cpu, "cuda": device.cuda, "flip": reduce.flip,
    # reductions
    "sum": reduce.sum, "mean": reduce.mean, "prod": reduce.prod, "max": reduce.max,
    "min": reduce.min, "amax": reduce.amax, "amin": reduce.amin, "argmax": reduce.argmax,
    "argmin": reduce.argmin, "std": reduce.std, "var": reduce.var,
    "logsumexp": reduce.logsumexp, "norm": _norm, "cumsum": reduce.cumsum,
    "gather": reduce.gather,
    # products
    "matmul": linalg.matmul, "mm": linalg.mm, "mv": linalg.mv, "bmm": linalg.bmm,
    "dot": linalg.dot,
    # elementwise
    "add": arithmetic.add, "sub": arithmetic.sub, "mul": arithmetic.mul,
    "div": arithmetic.div, "pow": arithmetic.pow, "neg": arithmetic.neg,
    "exp": F.exp, "log": F.log, "sqrt": F.sqrt, "sin": F.sin, "cos": F.cos, "tan": F.tan,
    "sinh": F.sinh, "cosh": F.cosh, "tanh": F.tanh, "asin": F.asin, "acos": F.acos,
    "atan": F.atan, "asinh": F.asinh, "acosh": F.acosh, "atanh": F.atanh, "erf": F.erf,
    "abs": F.abs, "sign": F.sign, "relu": A.relu, "sigmoid": A.sigmoid,
    "softmax": A.softmax, "log_softmax": A.log_softmax, "clamp": A.clamp, "clip": A.clamp,
    "maximum": A.maximum, "minimum": A.minimum, "masked_fill": inplace.masked_fill,
    "square": lambda t: t * t, "rsqrt": lambda t: 1 / F.sqrt(t),
    "reciprocal": lambda t: 1 / t, "log1p": F.log1p, "expm1": F.expm1,
    "unfold2d": conv.unfold,
    "eq": lambda t, o: t == o, "ne": lambda t, o: t != o, "lt": lambda t, o: t < o,
    "le": lambda t, o: t <= o, "gt": lambda t, o: t > o, "ge": lambda t, o: t >= o,
    "any": lambda t, dim=None: Tensor(np.asarray(np.any(t._data, axis=dim))),
    "all": lambda t, dim=None: Tensor(np.asarray(np.all(t._data, axis=dim))),
    "allclose": lambda t, o, rtol=1e-5, atol=1e-8: bool(np.allclose(t._data, o._data, rtol, atol)),
    # in place
    "add_": inplace.add_, "sub_": inplace.sub_, "mul_": inplace.mul_, "div_": inplace.div_,
    "pow_": inplace.pow_, "neg_": inplace.neg_, "exp_": inplace.exp_, "log_": inplace.log_,
    "sqrt_": inplace.sqrt_, "sin_": inplace.sin_, "cos_": inplace.cos_,
    "tanh_": inplace.tanh_, "abs_": inplace.abs_inplace, "sigmoid_": inplace.sigmoid_,
    "relu_": inplace.relu_, "clamp_": inplace.clamp_, "fill_": inplace.fill_,
    "zero_": inplace.zero_, "copy_": inplace.copy_, "uniform_": inplace.uniform_,
    "normal_": inplace.normal_,
}  # fmt: skip

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
