"""The Tensor: an n-d array whose elements live in an algebra.

The algebra is either the reals (``desc is None``; ``data`` is a float/int/bool
ndarray of the tensor's shape) or a descriptor's truncated power series
(``data`` is float64 with one trailing axis of ``desc.ncoef`` coefficients).
A DA scalar is a 0-d tensor of series; a Taylor map a 1-d one.

Operators and methods delegate to the primitives in :mod:`diffalg.ops`, which
are bound at the end of this module's package import.
"""

from __future__ import annotations

import numpy as np

from .algebra import Descriptor

ops = None  # the diffalg.ops package, set by diffalg/ops/__init__.py (it imports us)


class Tensor:
    """An n-d array of reals or of truncated power series.

    >>> import diffalg as dg
    >>> x, y = dg.Descriptor(nv=2, order=3).vars([1.0, 2.0])
    >>> f = x * y + 1
    >>> f.const, f.coeff((1, 1)), f.shape
    (3.0, 1.0, ())
    """

    __slots__ = ("data", "desc", "__weakref__")
    __array_priority__ = 1000

    def __init__(self, data, desc: Descriptor | None = None):
        self.data = data
        self.desc = desc

    # ----------------------------------------------------------- structure
    @property
    def is_da(self) -> bool:
        """True for a tensor of series."""
        return self.desc is not None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape[:-1] if self.desc is not None else self.data.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self):
        return self.data.dtype

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def numpy(self) -> np.ndarray:
        """The real values as an ndarray (for series use ``coeffs``/``const``)."""
        if self.desc is not None:
            raise TypeError("a DA tensor has no single value per element: use .const or .coeffs")
        return self.data

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.numpy(), dtype=dtype)

    def item(self) -> float:
        return self.numpy().item()

    def __float__(self):
        return float(self.const if self.desc is not None else self.item())

    def __bool__(self):
        if self.shape != ():
            raise ValueError("the truth value of a tensor with more than one element is ambiguous")
        return bool(self.const if self.desc is not None else self.data)

    @property
    def coeffs(self) -> np.ndarray:
        """All coefficients, in the descriptor's monomial order (trailing axis)."""
        if self.desc is None:
            raise TypeError("a real tensor has no series coefficients")
        return self.data

    def __repr__(self):
        if self.desc is None:
            return "tensor(" + np.array2string(self.data, separator=", ", prefix="tensor(") + ")"
        return f"Tensor(shape={self.shape}, {self.desc!r})"

    def __str__(self):
        if self.desc is None:
            return repr(self)
        return ops.series.table(self)

    # ------------------------------------------------------------ indexing
    def __getitem__(self, idx):
        return ops.shape.getitem(self, idx)

    def __setitem__(self, idx, value):
        ops.shape.setitem(self, idx, value)

    # ----------------------------------------------------------- operators
    def __add__(self, o):
        return ops.add(self, o)

    def __radd__(self, o):
        return ops.add(o, self)

    def __sub__(self, o):
        return ops.sub(self, o)

    def __rsub__(self, o):
        return ops.sub(o, self)

    def __mul__(self, o):
        return ops.mul(self, o)

    def __rmul__(self, o):
        return ops.mul(o, self)

    def __truediv__(self, o):
        return ops.div(self, o)

    def __rtruediv__(self, o):
        return ops.div(o, self)

    def __pow__(self, o):
        return ops.pow(self, o)

    def __rpow__(self, o):
        return ops.pow(o, self)

    def __neg__(self):
        return ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __matmul__(self, o):
        return ops.matmul(self, o)

    def __rmatmul__(self, o):
        return ops.matmul(o, self)

    def __lt__(self, o):
        return ops.compare(np.less, self, o)

    def __le__(self, o):
        return ops.compare(np.less_equal, self, o)

    def __gt__(self, o):
        return ops.compare(np.greater, self, o)

    def __ge__(self, o):
        return ops.compare(np.greater_equal, self, o)

    def __eq__(self, o):
        return ops.compare(np.equal, self, o)

    def __ne__(self, o):
        return ops.compare(np.not_equal, self, o)

    __hash__ = object.__hash__

    def __array_ufunc__(self, ufunc, method, *inputs, **kw):
        return ops.ufuncs.dispatch(ufunc, method, inputs, kw)

    # ---------------------------------------------------------- shape ops
    def reshape(self, *shape):
        return ops.reshape(self, *shape)

    def sum(self, axis=None):
        return ops.sum(self, axis=axis)

    def transpose(self, *axes):
        return ops.transpose(self, *axes)

    @property
    def T(self):
        return ops.transpose(self)

    def copy(self):
        return Tensor(self.data.copy(), self.desc)

    # ------------------------------------------------- series read-out/ops
    @property
    def const(self):
        """Value at the expansion point: a float for a 0-d series, else an ndarray."""
        return ops.series.const(self)

    def coeff(self, exponents):
        """Taylor coefficient of the monomial with these exponents."""
        return ops.series.coeff(self, exponents)

    def derivative(self, exponents):
        """Partial derivative value at the point: coefficient × Π e_v!."""
        return ops.series.derivative(self, exponents)

    def gradient(self):
        """First partial derivatives (last axis: variables then parameters)."""
        return ops.series.gradient(self)

    def hessian(self):
        """Matrix of second partial derivatives (last two axes)."""
        return ops.series.hessian(self)

    def deriv(self, var):
        """The DA derivative ``∂/∂x_var`` (order of the result drops by one)."""
        return ops.deriv(self, var=var)

    def integ(self, var):
        """The DA antiderivative in ``x_var`` (inverse of ``deriv`` up to a constant)."""
        return ops.integ(self, var=var)

    def truncate(self, order):
        """Drop every coefficient of degree above ``order``."""
        return ops.truncate(self, order=order)

    def eval(self, points):
        """The polynomial at displacement points ``(npoints, nn)``: shape + (npoints,)."""
        return ops.series.evaluate(self, points)

    def compose(self, *args):
        """Substitute series for the variables: ``f(g_1, ..., g_n)``."""
        return ops.series.compose(self, *args)

    def norm(self, ord=1):
        """Norm of the coefficients: 1 (sum of |c|, GTPSA's), 2 or ``inf`` (max |c|)."""
        return ops.series.norm(self, ord)
