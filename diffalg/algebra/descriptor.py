"""The descriptor: variables, parameters, orders and every index table.

A :class:`Descriptor` fixes the algebra of truncated power series that its
tensors live in.  It owns the monomial ordering and builds, once and lazily,
the integer tables the numba kernels walk; descriptors are interned, so equal
arguments give the very same object and its tables are shared by every series.
"""

from __future__ import annotations

import math
import threading
from functools import cached_property

import numpy as np

from .monomials import graded_exponents, lookup, monomial_keys

#: Largest product table we agree to build (entries); beyond it a dense
#: multiplication would need more memory than a workstation has to spare.
MAX_TABLE_ENTRIES = 200_000_000


class Descriptor:
    """Truncated power series in ``nv`` variables (plus optional parameters).

    Series are truncated at total degree ``order``; parameters ("knobs", as in
    GTPSA) are extra variables whose own combined degree is further limited to
    ``param_order``.

    >>> import diffalg as dg
    >>> d = dg.Descriptor(nv=2, order=3)
    >>> d.ncoef, d.index((1, 1)), d.monomials[4].tolist()
    (10, 4, [1, 1])
    >>> d is dg.Descriptor(nv=2, order=3)
    True
    """

    _interned: dict[tuple, Descriptor] = {}
    _lock = threading.Lock()

    def __new__(cls, nv=None, order=None, *, variables=None, params=None, param_order=None):
        variables, params, order, param_order = _normalise(
            nv, order, variables, params, param_order
        )
        key = (variables, params, order, param_order)
        with cls._lock:
            self = cls._interned.get(key)
            if self is None:
                self = super().__new__(cls)
                self._init(variables, params, order, param_order)
                cls._interned[key] = self
        return self

    def _init(self, variables, params, order, param_order):
        self.variables = variables
        self.params = params
        self.names = variables + params
        self.nv = len(variables)
        self.np = len(params)
        self.nn = self.nv + self.np
        self.order = order
        self.param_order = param_order
        if (order + 1) ** self.nn >= 2**63:  # monomial keys would overflow int64
            raise ValueError(
                f"{self.nn} variables at order {order} are beyond this engine's monomial keys "
                f"((order+1)**nn must stay below 2**63)"
            )
        exps = graded_exponents(self.nn, order)
        if self.np:
            exps = exps[exps[:, self.nv :].sum(axis=1) <= param_order]
        exps.setflags(write=False)
        self.monomials = exps
        self.ncoef = len(exps)
        degree = exps.sum(axis=1)
        self.degrees = degree
        #: block k of a series is ``c[ord_off[k]:ord_off[k+1]]``
        self.ord_off = np.searchsorted(degree, np.arange(order + 2)).astype(np.int64)
        self.keys = monomial_keys(exps, order)
        self._perm = np.argsort(self.keys, kind="stable")
        self._sorted_keys = self.keys[self._perm]

    # ------------------------------------------------------------------ lookup
    def __repr__(self):
        p = f", params={list(self.params)}, param_order={self.param_order}" if self.np else ""
        return f"Descriptor(variables={list(self.variables)}, order={self.order}{p})"

    def __reduce__(self):  # interned objects copy and pickle as themselves
        return (_rebuild, (self.variables, self.params, self.order, self.param_order))

    def check_exponents(self, exponents) -> tuple[int, ...]:
        """Validate an exponent tuple, naming what is wrong with it."""
        e = tuple(int(v) for v in exponents)
        if len(e) != self.nn:
            raise ValueError(
                f"exponent tuple {tuple(exponents)} has {len(e)} entries; "
                f"{self!r} has {self.nn} variables and parameters"
            )
        if min(e) < 0:
            raise ValueError(f"exponent tuple {e} has a negative entry")
        if sum(e) > self.order:
            raise ValueError(f"exponent tuple {e} has degree {sum(e)} > order {self.order}")
        if sum(e[self.nv :]) > self.param_order:
            raise ValueError(
                f"exponent tuple {e} has parameter degree {sum(e[self.nv :])} "
                f"> param_order {self.param_order}"
            )
        return e

    def index(self, exponents) -> int:
        """Position of the monomial with these exponents in a coefficient array."""
        e = self.check_exponents(exponents)
        key = np.array([monomial_keys(np.array([e]), self.order)[0]])
        return int(self.lookup(key)[0])

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Indices of monomial keys; ``ncoef`` for a key outside the algebra."""
        return lookup(self._sorted_keys, self._perm, keys, self.ncoef)

    def var_index(self, name_or_index) -> int:
        """Position of a variable or parameter given by name or number."""
        if isinstance(name_or_index, str):
            if name_or_index not in self.names:
                raise KeyError(
                    f"unknown variable {name_or_index!r}; {self!r} has {list(self.names)}"
                )
            return self.names.index(name_or_index)
        i = int(name_or_index)
        if not 0 <= i < self.nn:
            raise IndexError(f"variable index {i} out of range for {self.nn} variables")
        return i

    @cached_property
    def factorials(self) -> np.ndarray:
        """``Π e_v!`` for each monomial: coefficient → partial derivative."""
        f = np.array([math.factorial(k) for k in range(self.order + 1)], dtype=np.float64)
        return f[self.monomials].prod(axis=1)

    # ------------------------------------------------------------ series
    #: Wraps coefficient data as a tensor; installed by the tensor layer so that
    #: this lower layer never imports it.
    _wrap = None

    @staticmethod
    def _finite(data):
        if not np.all(np.isfinite(data)):
            raise ValueError("series coefficients must be finite (got nan or inf)")

    def _series(self, data):
        data = np.asarray(data, dtype=np.float64)
        self._finite(data)
        return Descriptor._wrap(data, self)

    def var(self, name_or_index, value=0.0):
        """The independent variable (or parameter) ``value + d<name>``."""
        i = self.var_index(name_or_index)
        value = np.asarray(value, dtype=np.float64)
        self._finite(value)  # the only entries that are not 0 or 1: no full scan
        data = np.zeros(value.shape + (self.ncoef,))
        data[..., 0] = value
        if self.order >= 1:  # at order 0 a variable is just its value
            data[..., 1 + i] = 1.0
        return Descriptor._wrap(data, self)

    def vars(self, point=None):
        """The variables around ``point`` (default 0): ``[point[0] + dx1, ...]``.

        Each entry of ``point`` may be an array, giving a tensor of series.
        """
        point = [0.0] * self.nv if point is None else list(point)
        if len(point) != self.nv:
            raise ValueError(f"vars() needs {self.nv} values (one per variable), got {len(point)}")
        return [self.var(i, v) for i, v in enumerate(point)]

    def params_at(self, values=None):
        """The parameters (knobs) around ``values`` (default 0)."""
        values = [0.0] * self.np if values is None else list(values)
        if len(values) != self.np:
            raise ValueError(f"params_at() needs {self.np} values, got {len(values)}")
        return [self.var(self.nv + i, v) for i, v in enumerate(values)]

    def const(self, value):
        """A series with only a constant part (any shape of values)."""
        value = np.asarray(value, dtype=np.float64)
        data = np.zeros(value.shape + (self.ncoef,))
        data[..., 0] = value
        return self._series(data)

    def zeros(self, shape=()):
        """A tensor of zero series of element shape ``shape``."""
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        return self._series(np.zeros(shape + (self.ncoef,)))

    def from_coeffs(self, coeffs):
        """A series from ``{exponents: value}`` or a full coefficient array."""
        if isinstance(coeffs, dict):
            data = np.zeros(self.ncoef)
            for e, v in coeffs.items():
                data[self.index(e)] = v
            return self._series(data)
        data = np.asarray(coeffs, dtype=np.float64)
        if data.shape[-1:] != (self.ncoef,):
            raise ValueError(
                f"coefficient array has trailing size {data.shape[-1:]} but "
                f"{self!r} has {self.ncoef} coefficients"
            )
        return self._series(data)

    # ------------------------------------------------------- kernel tables
    @cached_property
    def mul_args(self) -> tuple:
        """``(ord_off, pair_off, tab)``: what every product kernel takes."""
        return (self.ord_off, *self.mul_tables)

    @cached_property
    def mul_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """``(pair_off, tab)`` for the truncated product.

        For orders ``1 <= ob <= oa`` with ``ob + oa <= order`` the table holds,
        row by row over monomial ``i`` of block ``ob``, the output index of
        ``m_i · m_j`` for ``j`` in block ``oa`` (only ``j >= i`` when
        ``ob == oa``, the symmetric half).  ``pair_off[ob, oa]`` is where that
        pair's rows start in ``tab``.  Products leaving the algebra (parameter
        degree too high) point at ``ncoef``, a slot the kernel skips.
        """
        o, off = self.order, self.ord_off
        sizes = np.diff(off)
        pair_off = np.zeros((o + 1, o + 1), dtype=np.int64)
        total = 0
        for ob in range(1, o // 2 + 1):
            for oa in range(ob, o - ob + 1):
                pair_off[ob, oa] = total
                nb, na = sizes[ob], sizes[oa]
                total += nb * (nb + 1) // 2 if ob == oa else nb * na
        if total > MAX_TABLE_ENTRIES:
            raise MemoryError(f"{self!r} needs {total} product-table entries; too large")
        dtype = np.uint16 if self.ncoef < np.iinfo(np.uint16).max else np.int32
        tab = np.empty(total, dtype=dtype)
        for ob in range(1, o // 2 + 1):
            kb = self.keys[off[ob] : off[ob + 1]]
            for oa in range(ob, o - ob + 1):
                ka = self.keys[off[oa] : off[oa + 1]]
                prod = self.lookup(kb[:, None] + ka[None, :])
                if ob == oa:
                    prod = prod[np.triu_indices(len(kb))]
                tab[pair_off[ob, oa] : pair_off[ob, oa] + prod.size] = prod.ravel()
        pair_off.setflags(write=False)
        tab.setflags(write=False)
        return pair_off, tab

    @cached_property
    def gather_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(start, I, J)``: the product as a gather, output coefficient by coefficient.

        ``[x·y]_k = Σ_{p = start[k]}^{start[k+1]-1} x[I[p]] · y[J[p]]`` over every
        *ordered* pair with ``m_I · m_J = m_k``.  The batched and GPU kernels
        read it: each output is one running sum, so many series (SIMD lanes, GPU
        threads) accumulate side by side with no scattered writes.  Built once
        from :attr:`mul_tables`; pairs of one output are sorted by ``I``.
        """
        pair_off, tab = self.mul_tables
        off, o, m = self.ord_off, self.order, self.ncoef
        every = np.arange(m)
        K, I, J = [every, every[1:]], [np.zeros(m, np.int64), every[1:]], [every, np.zeros(m - 1, np.int64)]  # fmt: skip
        for ob in range(1, o // 2 + 1):
            for oa in range(ob, o - ob + 1):
                nb, na = off[ob + 1] - off[ob], off[oa + 1] - off[oa]
                if ob == oa:
                    i, j = np.triu_indices(nb)
                else:
                    i, j = (
                        g.ravel() for g in np.meshgrid(np.arange(nb), np.arange(na), indexing="ij")
                    )
                k = tab[pair_off[ob, oa] : pair_off[ob, oa] + i.size].astype(np.int64)
                keep = k < m  # products leaving the algebra (parameter degree)
                i, j, k = i[keep] + off[ob], j[keep] + off[oa], k[keep]
                twin = i != j  # the mirrored pair, except on the diagonal
                K += [k, k[twin]]
                I += [i, j[twin]]
                J += [j, i[twin]]
        K, I, J = np.concatenate(K), np.concatenate(I), np.concatenate(J)
        order = np.lexsort((I, K))
        start = np.searchsorted(K[order], np.arange(m + 1)).astype(np.uint64)
        out = start, I[order].astype(np.uint32), J[order].astype(np.uint32)
        for a in out:
            a.setflags(write=False)
        return out

    @cached_property
    def lane_tables(self) -> tuple:
        """``(starts, I, J, degrees, ord_off)``: what the batched lane kernels take.

        ``I, J`` are :attr:`gather_tables`'; ``starts[e, k]`` (``e = 0 .. order + 1``)
        is where the pairs of output ``k`` with ``deg m_I >= e`` begin, so
        ``starts[0]`` is the gather table's ``start`` (``ncoef + 1`` entries).  A
        kernel that knows which degree blocks of its operands are nonzero runs
        only the pairs with ``lo_a <= deg m_I <= hi_a`` and ``lo_b <= deg m_J <=
        hi_b``: one contiguous run of the gather table (its pairs are sorted by
        ``I``, and the graded order sorts ``I`` by degree), as GTPSA skips the
        zero orders of its series.
        """
        start, I, J = self.gather_tables
        m, w = self.ncoef, self.order + 2
        # pairs of output k with deg m_I < e: a search on the sorted key (k, deg m_I)
        key = np.repeat(np.arange(m), np.diff(start).astype(np.int64)) * w + self.degrees[I]
        want = np.arange(m * w)  # k · w + e, every k and e
        starts = np.empty((w, m + 1), np.uint64)
        starts[:, :m] = np.searchsorted(key, want).reshape(m, w).T
        starts[:, m] = start[m]
        starts.setflags(write=False)
        return starts, I, J, self.degrees, self.ord_off

    @cached_property
    def shift_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """``(down, up)``: index of ``m / x_v`` and ``m · x_v`` for every monomial.

        ``down[v, i]`` is ``ncoef`` where ``x_v`` does not divide ``m_i``;
        ``up[v, i]`` is ``ncoef`` where the product leaves the algebra.  They
        drive ``deriv``, ``integ`` and the monomial tree of composition.
        """
        base = np.int64(self.order + 1) ** np.arange(self.nn, dtype=np.int64)
        keys = self.keys[None, :]
        has = self.monomials.T > 0
        down = np.where(has, self.lookup(keys - base[:, None]), self.ncoef)
        up = self.lookup(keys + base[:, None])
        top = (self.degrees == self.order)[None, :]
        up = np.where(top, self.ncoef, up)
        return down.astype(np.int64), up.astype(np.int64)

    @cached_property
    def tree(self) -> tuple[np.ndarray, np.ndarray]:
        """Monomial tree: ``parent[i]`` and ``var[i]`` with ``m_i = m_parent · x_var``.

        Each monomial of degree >= 1 hangs below the monomial obtained by
        removing one power of its *last* variable (GTPSA's choice), so parents
        precede children in the graded order and one product per node builds
        every monomial (composition and evaluation share this walk).  The last
        variables of a map (``t, pt`` of an accelerator, the parameters) tend
        to have the sparsest series, and most products of a composition are by
        them: at order 10 this made a ring map's composition 40 % faster than
        removing the first variable.
        """
        down, _ = self.shift_tables
        last = self.nn - 1 - np.argmax(self.monomials[:, ::-1] > 0, axis=1)
        idx = np.arange(self.ncoef)
        parent = down[last, idx]
        parent[0] = -1
        return parent.astype(np.int64), last.astype(np.int64)

    @cached_property
    def tree_dfs(self) -> tuple[np.ndarray, np.ndarray]:
        """Depth-first order of the monomial tree: ``(order, end)``.

        ``order[p]`` is the monomial at position ``p``; its subtree occupies
        positions ``p .. end[p] - 1``.
        """
        parent, _ = self.tree
        children = [[] for _ in range(self.ncoef)]
        for i in range(1, self.ncoef):
            children[parent[i]].append(i)
        order, end = np.empty(self.ncoef, np.int64), np.empty(self.ncoef, np.int64)
        pos, stack = 0, [(0, False)]
        while stack:
            node, done = stack.pop()
            if done:
                end[node] = pos
                continue
            order[pos] = node
            pos += 1
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(children[node]))
        end = end[order]
        return order, end


def _rebuild(variables, params, order, param_order):
    return Descriptor(
        variables=list(variables), params=list(params), order=order, param_order=param_order
    )


def _names(names, what, hint=""):
    """``names`` as a tuple of strings; a count or a bare string is refused.

    A count would fail deep inside, and a string would split silently: "xy"
    into two names.
    """
    if isinstance(names, (str, int, np.integer)):
        raise TypeError(f"{what} must be a sequence of names, got {names!r}{hint}")
    return tuple(str(v) for v in names)


def _normalise(nv, order, variables, params, param_order):
    """Check constructor arguments; return ``(variables, params, order, param_order)``."""
    if order is None:
        raise TypeError("Descriptor needs an order")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise ValueError(f"order must be a non-negative integer, got {order!r}")
    if variables is None:
        if nv is None:
            raise TypeError("Descriptor needs nv or variables")
        if isinstance(nv, bool) or not isinstance(nv, (int, np.integer)) or nv < 1:
            raise ValueError(f"nv must be a positive integer, got {nv!r}")
        variables = tuple(f"x{i + 1}" for i in range(int(nv)))
    else:
        variables = _names(variables, "variables", " (pass nv= for a number of variables)")
        if nv is not None and int(nv) != len(variables):
            raise ValueError(f"nv={nv} but {len(variables)} variable names given")
        if not variables:
            raise ValueError("Descriptor needs at least one variable")
    params = _names(params or (), "params")
    names = variables + params
    if len(set(names)) != len(names):
        raise ValueError(f"variable and parameter names must be unique, got {list(names)}")
    if params:
        param_order = order if param_order is None else int(param_order)
        if not 1 <= param_order <= order:
            raise ValueError(f"param_order must lie in [1, order={order}], got {param_order}")
    else:
        param_order = 0
    return variables, params, int(order), param_order
