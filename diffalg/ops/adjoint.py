"""What the tape needs to run through series: transposed products and read-outs.

The gradient of a series is the adjoint of each of its coefficients, kept in a
DA tensor of the same descriptor.  Sums and scalings of adjoints are those of
series, so linear operations reuse their VJPs; a product ``z = x · y`` sends
``∂L/∂x_i = Σ ∂L/∂z_k · y_j`` over the pairs ``m_i m_j = m_k``, the transposed
product :func:`mul_adjoint` (a kernel of its own, the cost of one product).
:func:`coefficients` reads a series' coefficients into a real tensor, which is
how a loss is made of map coefficients; its VJP puts real adjoints back into a
series (:func:`as_series`).
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels.adjoint import mul_adjoint_rows
from ..tensor import Tensor
from . import batch
from .registry import Real, primitive, real_broadcast


def _mul_adjoint_da(d, g, y):
    if isinstance(y, Real):  # a real factor: the transposed product is the product
        g, r = real_broadcast(g, y.value)
        return g * r
    shape, (rg, ry) = batch.series_rows(d, g, y)
    out = np.empty((math.prod(shape), d.ncoef))
    mul_adjoint_rows(rg, ry, out, *d.gather_tables)
    return out.reshape(shape + (d.ncoef,))


# bilinear: u_i = Σ g_k y_j  ⇒  ḡ = ū · y (a product), ȳ = mul_adjoint(g, ū); the
# same two rules hold for reals, where the transposed product is the product
_MUL_ADJOINT_VJP = (lambda u, out, g, y: u * y, lambda u, out, g, y: mul_adjoint(g, u))
_mul_adjoint = primitive(
    "mul_adjoint",
    real=np.multiply,
    da=_mul_adjoint_da,
    vjp=_MUL_ADJOINT_VJP,
    da_vjp=_MUL_ADJOINT_VJP,
)


def mul_adjoint(g, y):
    """``mul_adjoint(g, y)``: the adjoint of ``x`` in ``z = x · y`` given ``g = ∂L/∂z``.

    For real tensors this is the product ``g * y``, so a VJP written with it
    serves both algebras.

    >>> import diffalg as dg
    >>> d = dg.Descriptor(nv=1, order=2)
    >>> x, = d.vars([0.0])
    >>> g = d.from_coeffs([0.0, 0.0, 1.0])         # ∂L/∂z: only z's x² coefficient counts
    >>> mul_adjoint(g, 3.0 + 2.0 * x).coeffs.tolist()   # z_2 = x_1·y_1 + x_2·y_0 + x_0·y_2
    [0.0, 2.0, 3.0]
    """
    return _mul_adjoint(g, y)


def _nothing(*args, **kw):
    return None


def _coefficients_da(d, a):
    return Real(np.array(a, dtype=np.float64))


def _as_series_da(d, g, like):
    v = g.value if isinstance(g.value, np.ndarray) else np.asarray(g.value)
    if v.shape != like.shape:
        raise ValueError(f"as_series: adjoints of shape {v.shape} for series data {like.shape}")
    return np.array(v, dtype=np.float64)


_coefficients = primitive(
    "coefficients",
    da=_coefficients_da,
    vjp=(lambda g, out, a: as_series(g, a),),
    saves=(),
)
_as_series = primitive(
    "as_series",
    da=_as_series_da,
    da_vjp=(lambda u, out, g, like: coefficients(u), _nothing),
    saves=(),
)


def coefficients(t):
    """The coefficients of series as a real tensor (last axis: the coefficients).

    Recorded on the tape, so a loss built from them sends gradients back into
    the series and whatever made them.

    >>> import diffalg as dg
    >>> k = dg.tensor(2.0, dtype=dg.float64, requires_grad=True)
    >>> x, = dg.Descriptor(nv=1, order=2).vars([0.0])
    >>> loss = coefficients(dg.exp(k * x))[2]   # the x² coefficient of e^{kx}: k²/2
    >>> loss.backward()
    >>> float(loss), float(k.grad)
    (2.0, 2.0)
    """
    return _coefficients(t)


def as_series(g, like):
    """Real values ``g`` (the shape of ``like``'s data) as series of ``like``'s descriptor."""
    return _as_series(g, like)


def const_adjoint(g):
    """The adjoint of a real added to a series: the adjoint of the constant coefficient."""
    return coefficients(g)[..., 0]


def copied_adjoint(g, a):
    """The adjoint of an operand the output copies or adds (``a + b``, ``where``, ``relu``).

    A series operand gets ``g`` itself; a real one, which entered as a constant
    part, gets the constant coefficient's adjoint.  On real tensors (``g`` real)
    it is ``g``, so a VJP written with it serves both algebras.
    """
    if g.desc is None or (isinstance(a, Tensor) and a.desc is not None):
        return g  # reals on the real tape, or a series operand
    return const_adjoint(g)


def coeff_dot(g, x):
    """``Σ_c g_c x_c`` per element: the adjoint of a real that scales the series ``x``."""
    return (coefficients(g) * coefficients(x)).sum(-1)


#: Primitives that only move, copy, select or add up elements (never mix the
#: coefficients of one series): written with primitives, their VJPs act on
#: adjoint series exactly as on reals, so one rule serves both algebras.
STRUCTURAL = (
    "select", "index", "index_put", "reshape", "view", "permute", "expand", "sum_to_size",
    "clone", "stack", "cat", "sum", "gather", "scatter_add", "im2row", "row2im",
)  # fmt: skip


def share_structural_vjps(primitives) -> None:
    """Give the structural primitives their real VJP for series too (run once, at import)."""
    for name in STRUCTURAL:
        p = primitives[name]
        if p.da is not None and p.da_vjp is None:
            p.da_vjp = p.vjp
