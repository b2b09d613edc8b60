"""Matrix products: ``matmul`` (with numpy/PyTorch broadcasting), ``mm mv bmm dot`` and ``linear``.

For series, ``matmul`` sums series products over the inner index (one batched
kernel call per inner index); a real matrix times series is a linear
combination of coefficient arrays, one real matrix product with the
coefficient axis carried along (no series products), so ``linear`` and
``conv2d`` with real weights cost one GEMM on series input too.
The VJPs are matrix products with a transposed operand; batch dimensions
that were broadcast are summed back by the tape.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .adjoint import coefficients, mul_adjoint
from .arithmetic import _mul_da
from .reduce import sum as sum_
from .registry import Real, as_tensor, primitive
from .shape import reshape, squeeze, sum_to, transpose, unsqueeze


def _matmul_da(d, a, b):
    ra, rb = isinstance(a, Real), isinstance(b, Real)
    av = np.asarray(a.value, dtype=np.float64) if ra else a
    bv = np.asarray(b.value, dtype=np.float64) if rb else b
    sa = av.shape if ra else av.shape[:-1]
    sb = bv.shape if rb else bv.shape[:-1]
    if not sa or not sb:
        raise ValueError("matmul needs tensors of at least one dimension; use * for scalars")
    va, vb = len(sa) == 1, len(sb) == 1
    if va:
        av = av[None]
    if vb:
        bv = bv[..., None] if rb else bv[..., None, :]
    ka = (av.shape if ra else av.shape[:-1])[-1]
    kb = (bv.shape if rb else bv.shape[:-1])[-2]
    if ka != kb:
        raise ValueError(f"matmul: shapes {sa} and {sb} cannot be multiplied ({ka} != {kb})")
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: shapes {sa} and {sb} cannot be multiplied (batch dimensions "
            f"{sa[:-2]} and {sb[:-2]} do not broadcast)"
        ) from None
    if ra:  # Σ_k a_nk b_km: the coefficient axis rides along with m (one GEMM)
        flat = bv.reshape(bv.shape[:-2] + (bv.shape[-2] * bv.shape[-1],))
        out = np.matmul(av, flat).reshape(
            np.broadcast_shapes(av.shape[:-2], bv.shape[:-3]) + (av.shape[-2],) + bv.shape[-2:]
        )
    elif rb:  # row n of the result is bᵀ (m, k) times the (k, ncoef) block of a's row n
        out = np.matmul(np.swapaxes(bv, -1, -2)[..., None, :, :], av)
    else:  # Σ_k a_nk b_km: one batched series product per k
        out = np.zeros(
            np.broadcast_shapes(av.shape[:-3], bv.shape[:-3])
            + (av.shape[-3], bv.shape[-2], d.ncoef)
        )
        for k in range(ka):
            out += _mul_da(d, av[..., :, k : k + 1, :], bv[..., k : k + 1, :, :])
    if va:
        out = out[..., 0, :, :]
    if vb:
        out = out[..., 0, :]
    return out


def _product(a, b):
    """``a @ b``; an inner size of 1 is an outer product, done by broadcasting.

    numpy hands that case to a general matrix product that is several times
    slower than the elementwise products it amounts to (the same numbers).
    """
    if a.ndim >= 2 and b.ndim >= 2 and a.shape[-1] == 1 and b.shape[-2] == 1:
        return np.multiply(a, b)
    return np.matmul(a, b)


def _matmul_real(a, b):
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D")
    try:
        return _product(a, b)
    except ValueError:
        raise RuntimeError(
            f"matmul: shapes {tuple(np.shape(a))} and {tuple(np.shape(b))} cannot be multiplied"
        ) from None


def _vjp_a(g, out, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if a.ndim == 1:  # (k) @ (..., k, m): Σ_m b_km g_m, summed over the batch by the tape
        return squeeze(matmul(b, unsqueeze(g, -1)), -1)
    if b.ndim == 1:  # (..., n, k) @ (k)
        return unsqueeze(g, -1) * b
    return matmul(g, transpose(b, -1, -2))


def _vjp_b(g, out, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:
        return unsqueeze(a, -1) * unsqueeze(g, -2)
    if b.ndim == 1:
        return squeeze(matmul(transpose(a, -1, -2), unsqueeze(g, -1)), -1)
    return matmul(transpose(a, -1, -2), g)


def _series(t):
    return t.desc is not None


def _merge(t, axis):
    """Axes ``axis`` and ``axis + 1`` (negative, counted from the end) as one."""
    s = t.shape
    return reshape(t, s[: len(s) + axis] + (-1,) + s[len(s) + axis + 2 :])


# Through series.  A real operand's adjoint sums over the coefficients too:
# the coefficient axis joins the other operand's free index (the ``m`` of
# ``b_km`` for ``a``, the ``n`` of ``a_nk`` for ``b``; the whole index of a
# vector), which makes it a real matrix product written with the real VJP.
# A series operand facing a real one gets the real VJP as it stands (series
# times real matrices); two series give transposed products summed over the
# free index.
def _da_vjp_a(g, out, a, b):
    if not _series(a):
        gc, bc = coefficients(g), coefficients(b)
        if b.ndim >= 2:  # (..., m, C) → (..., m·C)
            gc, bc = _merge(gc, -2), _merge(bc, -2)
        return _vjp_a(gc, out, a, bc)
    if not _series(b):
        return _vjp_a(g, out, a, b)
    if b.ndim == 1:  # ā_nk = g_n ⋆ b_k
        return mul_adjoint(unsqueeze(g, -1) if a.ndim >= 2 else g, b)
    # ā_nk = Σ_m g_nm ⋆ b_km
    return sum_(mul_adjoint(unsqueeze(g, -2), unsqueeze(b, -3) if a.ndim >= 2 else b), -1)


def _da_vjp_b(g, out, a, b):
    if not _series(b):
        ac, gc = transpose(coefficients(a), -1, -2), coefficients(g)  # a: (..., [n], C, k)
        if b.ndim >= 2:
            gc = transpose(gc, -1, -2)  # (..., [n], C, m)
        if a.ndim >= 2:  # n and the coefficients as one index
            ac, gc = _merge(ac, -3), _merge(gc, -3 if b.ndim >= 2 else -2)
        return _vjp_b(gc, out, ac, b)
    if not _series(a):
        return _vjp_b(g, out, a, b)
    if a.ndim == 1:  # b̄_km = a_k ⋆ g_m, b̄_k = a_k ⋆ g (no sum)
        return mul_adjoint(unsqueeze(g, -2), unsqueeze(a, -1)) if b.ndim >= 2 else mul_adjoint(g, a)
    if b.ndim == 1:  # b̄_k = Σ_n g_n ⋆ a_nk
        return sum_(mul_adjoint(unsqueeze(g, -1), a), -2)
    # b̄_km = Σ_n g_nm ⋆ a_nk
    return sum_(mul_adjoint(unsqueeze(g, -2), unsqueeze(a, -1)), -3)


matmul = primitive(
    "matmul",
    real=_matmul_real,
    da=_matmul_da,
    vjp=(_vjp_a, _vjp_b),
    da_vjp=(_da_vjp_a, _da_vjp_b),
    saves=((1, 0), (0, 1)),
)


def _need(name, a, b, nda, ndb):
    if a.ndim != nda or b.ndim != ndb:
        raise RuntimeError(
            f"{name}: expected {nda}-D and {ndb}-D tensors, got shapes {a.shape} and {b.shape}"
        )


def mm(a, b):
    """Matrix product of two 2-D tensors."""
    a, b = as_tensor(a), as_tensor(b)
    _need("mm", a, b, 2, 2)
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
            f"{b.shape[0]}x{b.shape[1]})"
        )
    return matmul(a, b)


def mv(a, v):
    """Matrix (2-D) times vector (1-D)."""
    a, v = as_tensor(a), as_tensor(v)
    _need("mv", a, v, 2, 1)
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"mv: size mismatch, got input {a.shape}, vec {v.shape}")
    return matmul(a, v)


def bmm(a, b):
    """Batched matrix product of two 3-D tensors with equal batch sizes."""
    a, b = as_tensor(a), as_tensor(b)
    _need("bmm", a, b, 3, 3)
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"bmm: shapes {a.shape} and {b.shape} do not fit")
    return matmul(a, b)


def dot(a, b):
    """Inner product of two 1-D tensors of equal length."""
    a, b = as_tensor(a), as_tensor(b)
    _need("dot", a, b, 1, 1)
    if a.shape != b.shape:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] "
            "to have the same number of elements"
        )
    return matmul(a, b)


def _linear_real(x, w, b):
    y = _product(x, w.T)
    if b is not None:
        y += b
    return y


def _linear_w(g, out, x, w, b):
    k = w.shape[1]
    return matmul(transpose(reshape(g, -1, w.shape[0]), 0, 1), reshape(x, -1, k))


linear_p = primitive(
    "addmm",
    real=_linear_real,
    vjp=(
        lambda g, out, x, w, b: matmul(g, w),
        _linear_w,
        lambda g, out, x, w, b: sum_to(g, b.shape),
    ),
    saves=((1, 0), (0, 1)),  # x @ W.T for data x: W's gradient reads x, x's reads W
)


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` (PyTorch's ``F.linear``); one primitive for speed."""
    x = as_tensor(x)
    if x.desc is not None or (isinstance(weight, Tensor) and weight.desc is not None):
        y = matmul(x, transpose(weight, 0, 1))
        return y if bias is None else y + bias
    if x.shape[-1:] != weight.shape[1:]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, x.shape))} and "
            f"{weight.shape[1]}x{weight.shape[0]}): linear expects input (..., {weight.shape[1]})"
        )
    return linear_p(x, weight, bias)


__all__ = ["bmm", "dot", "linear", "matmul", "mm", "mv"]
