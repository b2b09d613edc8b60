"""The Tensor: an n-d array whose elements live in an algebra.

The algebra is either the reals (``desc is None``; ``_data`` is a float/int/bool
ndarray of the tensor's shape) or a descriptor's truncated power series
(``_data`` is float64 with one trailing axis of ``desc.ncoef`` coefficients).
A DA scalar is a 0-d tensor of series; a Taylor map a 1-d one.

A tensor also carries its place on the tape: ``requires_grad``, ``grad``,
``grad_fn`` (the node that made it) and a version counter shared with its
views, bumped by every in-place change so the tape can refuse stale values.

A DA tensor may live on a GPU (``t.cuda()``, ``t.device == "cuda"``): its
``_data`` is then a ``numba.cuda`` device array of the same layout, the
operations run there (:mod:`diffalg.ops.device`) and read-outs (``coeffs``,
``const``, ``coeff``, ``str``...) return host copies.

Operators delegate to the primitives in :mod:`diffalg.ops` (bound when that
package is imported, with the PyTorch-named methods of
:mod:`diffalg.ops.methods`); ``backward`` to :mod:`diffalg.autograd`.
"""

from __future__ import annotations

import numpy as np

from .algebra import Descriptor

ops = None  # the diffalg.ops package, set by diffalg/ops/__init__.py (it imports us)
autograd = None  # the diffalg.autograd package, set by it on import

_FLOAT_KINDS = "f"


class Tensor:
    """An n-d array of reals or of truncated power series.

    >>> import diffalg as dg
    >>> x, y = dg.Descriptor(nv=2, order=3).vars([1.0, 2.0])
    >>> f = x * y + 1
    >>> f.const, f.coeff((1, 1)), f.shape
    (3.0, 1.0, ())
    >>> a = dg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (a * a).sum().backward(); a.grad
    tensor([2., 4., 6.])
    """

    __slots__ = (
        "_data",
        "desc",
        "_rg",
        "grad",
        "grad_fn",
        "_vc",
        "_base",
        "_accum",
        "_retain",
        "__weakref__",
    )
    __array_priority__ = 1000

    def __init__(self, data, desc: Descriptor | None = None, requires_grad=False):
        self._data = data
        self.desc = desc
        self._rg = False
        self.grad = None
        self.grad_fn = None
        # version counter (a one-element int array), shared by views of one buffer;
        # ``None`` stands for a counter at 0 that nothing shares yet: most tensors are
        # never written in place, and making one costs time
        self._vc = None
        self._base = None  # the tensor this one is a view of, when the tape must know
        self._accum = None  # the leaf's AccumulateGrad node, made on first use
        self._retain = False
        if requires_grad:
            self.requires_grad = True

    # ----------------------------------------------------------- structure
    @property
    def is_da(self) -> bool:
        """True for a tensor of series."""
        return self.desc is not None

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape[:-1] if self.desc is not None else self._data.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def dim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self) -> str:
        """``"cpu"``, or ``"cuda"`` for series on a GPU."""
        return "cpu" if isinstance(self._data, np.ndarray) else "cuda"

    def _host(self) -> Tensor:
        """This tensor, or a CPU copy of one on a GPU (for read-outs)."""
        return self if isinstance(self._data, np.ndarray) else ops.device.cpu(self.detach())

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    # ------------------------------------------------------------ autograd
    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, flag):
        flag = bool(flag)
        if flag and self._data.dtype.kind not in _FLOAT_KINDS:
            raise RuntimeError(
                f"only tensors of floating point dtype can require gradients, got {self.dtype}"
            )
        if not flag and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables; "
                "use detach() to get a tensor that does not require grad"
            )
        self._rg = flag

    def requires_grad_(self, requires_grad=True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        vc = self._vc
        return 0 if vc is None else int(vc[0])

    def _counter(self) -> np.ndarray:
        """The version counter, made now so that a view or a node can share it.

        A one-element array: unlike a list, the garbage collector does not track
        it, and a tape keeps one for each tensor a VJP reads.
        """
        if self._vc is None:
            self._vc = np.zeros(1, np.int64)
        return self._vc

    def _bump(self) -> None:
        """Count one in-place change of the buffer."""
        self._counter()[0] += 1

    @property
    def data(self) -> Tensor:
        """The same values, detached from the tape (shares memory, not the version)."""
        return Tensor(self._data, self.desc)

    @data.setter
    def data(self, value: Tensor):
        if not isinstance(value, Tensor):
            raise TypeError(f".data must be set to a Tensor, got {type(value).__name__}")
        self._data, self.desc = value._data, value.desc

    def detach(self) -> Tensor:
        """A tensor sharing the values (and version counter) with no history."""
        t = Tensor(self._data, self.desc)
        t._vc = self._counter()
        return t

    def __deepcopy__(self, memo):
        """A leaf copy with its own buffer, version and accumulator (PyTorch refuses non-leaves)."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "only tensors created explicitly by the user (graph leaves) support deepcopy"
            )
        t = type(self).__new__(type(self))
        own = isinstance(self._data, np.ndarray)
        Tensor.__init__(t, self._data.copy() if own else ops.device.copy(self._data), self.desc)
        t._rg = self._rg
        if self.grad is not None:
            t.grad = Tensor(self.grad._data.copy(), self.grad.desc)
        memo[id(self)] = t
        return t

    def detach_(self) -> Tensor:
        if self._base is not None:
            raise RuntimeError("cannot detach_() a view of another tensor in place; use detach()")
        self.grad_fn, self._rg = None, False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate ``d self / d leaf`` into every leaf's ``.grad`` (see ``diffalg.autograd``)."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after ``backward``."""
        autograd.retain_grad(self)

    @property
    def retains_grad(self) -> bool:
        return self._retain

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        return autograd.register_hook(self, hook)

    # ------------------------------------------------------------- values
    def numpy(self) -> np.ndarray:
        """The values as an ndarray sharing memory (for series use ``coeffs``/``const``)."""
        if self.desc is not None:
            raise TypeError("a DA tensor has no single value per element: use .const or .coeffs")
        if self._rg:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()"
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self.desc is not None:
            raise TypeError("a DA tensor has no single value per element: use .const or .coeffs")
        return np.asarray(self._data, dtype=dtype)

    def item(self):
        if self.desc is not None:
            return self.const if self.shape == () else self._item_error()
        if self._data.size != 1:
            self._item_error()
        return self._data.item()

    def _item_error(self):
        raise RuntimeError(
            f"a tensor with {self.numel()} elements cannot be converted to a Python scalar"
        )

    def tolist(self):
        return np.asarray(self).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.desc is not None or self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError(
                "the truth value of a tensor with more than one element is ambiguous"
            )
        return bool(self.const if self.desc is not None else self._data.item())

    @property
    def coeffs(self) -> np.ndarray:
        """All coefficients, in the descriptor's monomial order (trailing axis).

        The tensor's own buffer on the CPU; a copy on the host for one on a GPU.
        """
        if self.desc is None:
            raise TypeError("a real tensor has no series coefficients")
        return self._host()._data

    def __repr__(self):
        if self.desc is not None:
            on = "" if isinstance(self._data, np.ndarray) else ", device='cuda'"
            return f"Tensor(shape={self.shape}, {self.desc!r}{on})"
        v = np.asarray(self._data)
        fixed = v.dtype.kind == "f" and v.size and not np.all(np.mod(v[np.isfinite(v)], 1) == 0)
        body = np.array2string(
            v,
            separator=", ",
            prefix="tensor(",
            precision=4,
            floatmode="fixed" if fixed else "maxprec",
        )
        extra = ""
        if self._data.dtype not in (np.float32, np.int64, np.bool_) or not self._data.size:
            extra += f", dtype={self._data.dtype.name}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name()}>"
        elif self._rg:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __str__(self):
        if self.desc is None:
            return repr(self)
        return ops.series.table(self._host())

    def __format__(self, spec):
        if spec and self.numel() == 1:
            return format(self.item(), spec)
        return str(self)

    # ------------------------------------------------------------ indexing
    def __getitem__(self, idx):
        return ops.shape.getitem(self, idx)

    def __setitem__(self, idx, value):
        ops.inplace.setitem(self, idx, value)

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

    def __iadd__(self, o):
        return ops.inplace.add_(self, o)

    def __isub__(self, o):
        return ops.inplace.sub_(self, o)

    def __imul__(self, o):
        return ops.inplace.mul_(self, o)

    def __itruediv__(self, o):
        return ops.inplace.div_(self, o)

    def __lt__(self, o):
        return self._compare(np.less, o)

    def __le__(self, o):
        return self._compare(np.less_equal, o)

    def __gt__(self, o):
        return self._compare(np.greater, o)

    def __ge__(self, o):
        return self._compare(np.greater_equal, o)

    def __eq__(self, o):
        return self._compare(np.equal, o)

    def __ne__(self, o):
        return self._compare(np.not_equal, o)

    def _compare(self, ufunc, o):
        """Compare values; series by their constant parts (read on the host for GPU ones)."""
        return ops.compare(ufunc, self._host(), o._host() if isinstance(o, Tensor) else o)

    def __invert__(self):
        return ops.logical_not(self)

    def __and__(self, o):
        return ops.logical_and(self, o)

    def __or__(self, o):
        return ops.logical_or(self, o)

    __hash__ = object.__hash__

    def __array_ufunc__(self, ufunc, method, *inputs, **kw):
        return ops.ufuncs.dispatch(ufunc, method, inputs, kw)

    @property
    def T(self):
        return ops.transpose(self)

    # ------------------------------------------------- series read-out/ops
    @property
    def const(self):
        """Value at the expansion point: a float for a 0-d series, else an ndarray."""
        return ops.series.const(self._host())

    def coeff(self, exponents):
        """Taylor coefficient of the monomial with these exponents."""
        return ops.series.coeff(self._host(), exponents)

    def derivative(self, exponents):
        """Partial derivative value at the point: coefficient × Π e_v!."""
        return ops.series.derivative(self._host(), exponents)

    def gradient(self):
        """First partial derivatives (last axis: variables then parameters)."""
        return ops.series.gradient(self._host())

    def hessian(self):
        """Matrix of second partial derivatives (last two axes)."""
        return ops.series.hessian(self._host())

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
        return ops.series.evaluate(self._host(), points)

    def compose(self, *args):
        """Substitute series for the variables: ``f(g_1, ..., g_n)``."""
        if not isinstance(self._data, np.ndarray):  # on a GPU
            return ops.device.compose(self, *args)
        return ops.series.compose(self, *args)

    def norm(self, ord=1):
        """Norm of the coefficients: 1 (sum of |c|, GTPSA's), 2 or ``inf`` (max |c|)."""
        return ops.series.norm(self._host(), ord)
