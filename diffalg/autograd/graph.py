"""Tape nodes: one per recorded primitive call, one ``AccumulateGrad`` per leaf.

Every primitive has one output, so a node stands for the tensor it made: the
gradient arriving at a node is the gradient of that tensor.  A node keeps
the call's arguments (for its VJP and to undo broadcasting), the version of
each argument its VJP reads, and the output's buffer only when the VJP reads
it — rebuilt as a fresh tensor on that node at backward time, so no tensor
and node ever hold each other (no reference cycles, memory freed promptly).
"""

from __future__ import annotations

import weakref

import numpy as np

from ..ops import shape as S
from ..tensor import Tensor
from .grad_mode import set_grad_enabled


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


_RAW = object()  # in a node's desc slot: the argument is kept as given (not a tensor)


class Node:
    """The record of one primitive call (``grad_fn`` of its output).

    Long tapes of small series are bound by CPython's garbage collector, which
    walks every container a node keeps alive, so a node keeps none but itself
    where it can: of a call with one or two tensor arguments it keeps each
    argument's buffer, descriptor and version counter (arrays, which the collector
    does not track) in slots, with its edge (where its gradient goes), and makes
    the tensors again at backward time, pointing at the same history, as it does
    for its output.  Calls with more arguments, and views (whose arguments the
    tape writes through), keep their arguments and edges in one tuple, ``more``.
    """

    __slots__ = (
        "prim", "vjp", "kw", "nargs", "a0", "a1", "d0", "d1", "c0", "c1", "e0", "e1",
        "more", "versions", "out", "odesc", "ovc", "hooks", "retained", "freed",
        "view_version",
    )  # fmt: skip

    def __init__(self, prim, vjp, kw, nargs, versions):
        self.prim, self.vjp, self.kw, self.nargs, self.versions = prim, vjp, kw, nargs, versions
        self.more = self.a1 = self.d1 = self.c1 = self.e1 = None
        self.out = self.odesc = self.ovc = self.hooks = self.retained = None
        self.freed = False
        self.view_version = None  # for a view: the buffer's version when it was taken

    @property
    def args(self) -> tuple:
        n = self.nargs
        if self.more is not None:
            return self.more[:n]
        a0 = _remade(self.a0, self.d0, self.c0, self.e0)
        return (a0,) if n == 1 else (a0, _remade(self.a1, self.d1, self.c1, self.e1))

    @property
    def edges(self) -> tuple:
        n = self.nargs
        if self.more is not None:
            return self.more[n:]
        return (self.e0,) if n == 1 else (self.e0, self.e1)

    def name(self) -> str:
        return _camel(self.prim.name) + "Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        return tuple((e, 0) for e in self.edges)

    def release(self):
        """Drop what the VJP needed (after a backward without ``retain_graph``)."""
        if self.more is not None:
            self.more = (None,) * self.nargs + self.edges
        self.a0 = self.a1 = self.c0 = self.c1 = None
        self.out = self.odesc = self.ovc = self.versions = None
        self.freed = True

    def _saved_counter(self, i):
        """The version counter of argument ``i`` (or ``"out"``) as the node keeps it."""
        if i == "out":
            return self.ovc
        if self.more is not None:
            return self.more[i]._vc
        return self.c0 if i == 0 else self.c1

    def check_versions(self):
        v = self.versions
        for j in range(0, len(v), 2):
            i, version = v[j], v[j + 1]
            vc = self._saved_counter(i)
            now = 0 if vc is None else int(vc[0])
            if now != version:
                what = "its output" if i == "out" else f"input {i}"
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: {what} of {self.name()} is at version {now}; "
                    f"expected version {version} instead"
                )

    def vjps(self, g: Tensor) -> list:
        """The gradient for each edge (``None`` where no gradient flows)."""
        if self.freed:
            raise RuntimeError(
                "trying to backward through the graph a second time (or to use saved values "
                "after they were freed): the saved values of the graph are freed by backward() "
                "and autograd.grad(); pass retain_graph=True to keep them"
            )
        self.check_versions()
        args, edges, kw = self.args, self.edges, self.kw
        out = None if self.out is None else _remade(self.out, self.odesc, self.ovc, self)
        vjp = self.vjp
        if isinstance(vjp, tuple):
            grads = [
                None if e is None else vjp[i](g, out, *args, **kw) for i, e in enumerate(edges)
            ]
        else:
            grads = list(vjp(g, out, *args, **kw))
        for i, e in enumerate(edges):
            gi = grads[i]
            if e is not None and gi is not None:
                grads[i] = fit(gi, args[i])
        return grads


def _kept(a) -> tuple:
    """What a node keeps of an argument: buffer, descriptor and version counter."""
    return (a._data, a.desc, a._vc) if isinstance(a, Tensor) else (a, _RAW, None)


def _remade(data, desc, vc, e):
    """An argument kept by :func:`_kept`, made again: a tensor on the same buffer,
    version counter and history (its edge ``e``), or the value as given."""
    if desc is _RAW:
        return data
    t = Tensor(data, desc)
    t._vc = vc
    if e is not None:
        t._rg = True
        if type(e) is AccumulateGrad:
            t._accum = e
        else:
            t.grad_fn = e
    return t


class AccumulateGrad:
    """The node of a leaf that requires grad: adds what arrives to ``leaf.grad``."""

    __slots__ = ("leaf", "hooks", "retained", "__weakref__")

    edges = ()
    freed = False

    def __init__(self, leaf: Tensor):
        self.leaf = weakref.ref(leaf)
        self.hooks = self.retained = None

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"

    @property
    def next_functions(self) -> tuple:
        return ()

    @property
    def variable(self) -> Tensor | None:
        return self.leaf()


def accumulator(t: Tensor) -> AccumulateGrad:
    if t._accum is None:
        t._accum = AccumulateGrad(t)
    return t._accum


def edge(t: Tensor):
    """Where a gradient for ``t`` goes: its ``grad_fn``, or its leaf accumulator."""
    fn = t.grad_fn
    if fn is None:
        return accumulator(t)
    if fn.view_version is not None and fn.view_version != t._version:
        return _retake_view(t)
    return fn


def _retake_view(t: Tensor) -> Node:
    """A view whose buffer was written in place since it was taken: its recorded history
    reads the source as it was, its values are the source as it is.  Take the view again
    from the source's current history (PyTorch regenerates a view's ``grad_fn`` likewise)."""
    node = t.grad_fn
    if node.freed:
        raise RuntimeError(
            "a view whose base was modified in place is used after backward() freed the "
            "graph it was taken in; take the view again from its base"
        )
    with set_grad_enabled(True):
        fresh = node.prim(node.args[0], **node.kw).grad_fn  # a stale source is retaken too
    fresh.hooks, fresh.retained = node.hooks, node.retained
    t.grad_fn = fresh
    return fresh


def record(prim, out: Tensor, args, kw) -> None:
    """Put ``out = prim(*args, **kw)`` on the tape (called by ``ops.registry.apply``)."""
    if out._data.dtype.kind != "f":
        return  # integer and boolean results carry no gradient
    vjp = prim.vjp if out.desc is None else prim.da_vjp
    if vjp is None:
        if out.desc is not None:
            raise NotImplementedError(
                f"{prim.name}: no derivative through series (DA tensors) yet; detach the "
                "inputs that require grad or compute without them"
            )
        raise RuntimeError(f"{prim.name} has no derivative; detach its inputs or use no_grad()")
    edges = tuple([edge(a) if isinstance(a, Tensor) and a._rg else None for a in args])
    versions = []  # flat (which, version) pairs: ints and strings, which the collector skips
    keep_out = False
    for i in prim.saves:
        if type(i) is tuple:  # (i, j): read only by the VJP of argument j
            i, j = i
            if edges[j] is None:
                continue
        if i == "out":
            keep_out = True
            versions += (i, out._version)
        elif isinstance(args[i], Tensor):
            versions += (i, args[i]._version)
            args[i]._counter()  # the node keeps the counter, not the tensor
    n = len(args)
    node = out.grad_fn = Node(prim, vjp, kw, n, tuple(versions))
    if n > 2 or prim.view:
        node.more = args + edges
    else:
        node.a0, node.d0, node.c0 = _kept(args[0])
        node.e0 = edges[0]
        if n == 2:
            node.a1, node.d1, node.c1 = _kept(args[1])
            node.e1 = edges[1]
    if keep_out:
        node.out, node.odesc, node.ovc = out._data, out.desc, out._counter()
    if prim.view and out._base is not None:
        node.view_version = out._version
    out._rg = True


def fit(g: Tensor, a) -> Tensor:
    """Make a gradient match its input: undo broadcasting (sum), match the dtype."""
    shape = a.shape if isinstance(a, Tensor) else np.shape(a)
    if g.shape != shape:
        g = S.sum_to(g, shape)
    dt = a.dtype if isinstance(a, Tensor) else None
    if dt is not None and g.dtype != dt and dt.kind == "f":
        g = S.to_dtype(g, dt)
    return g
