"""Running the tape backwards: ``backward`` and ``grad``.

Nodes are visited in reverse topological order of the recorded graph (an
iterative depth-first search, so deep graphs need no recursion); each node's
incoming gradients are summed before its VJPs run.  With
``create_graph=True`` the VJPs themselves are recorded (they are written
with primitives), which gives derivatives of derivatives.
"""

from __future__ import annotations

import weakref

import numpy as np

from ..tensor import Tensor
from .grad_mode import set_grad_enabled
from .graph import AccumulateGrad, accumulator, edge


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` takes the hook off again."""

    def __init__(self, hooks: list, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def register_hook(t: Tensor, hook) -> RemovableHandle:
    if not t._rg:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    node = edge(t)
    if node.hooks is None:
        node.hooks = []
    node.hooks.append(hook)
    return RemovableHandle(node.hooks, hook)


def retain_grad(t: Tensor) -> None:
    if not t._rg:
        raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
    if t.grad_fn is None:
        return  # leaves keep their grad anyway
    t.grad_fn.retained = weakref.ref(t)
    t._retain = True


def _order(roots, targets=None):
    """Nodes reachable from ``roots`` in reverse topological order.

    With ``targets`` only nodes on a path to a target are kept (``grad``
    needs nothing else, and must not fail on freed parts beyond them).
    """
    post, state = [], {}
    reaches = {}
    for root in roots:
        if root in state:
            continue
        stack = [(root, iter(root.edges))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            for e in it:
                if e is not None and e not in state:
                    state[e] = 1
                    stack.append((e, iter(e.edges)))
                    break
            else:
                stack.pop()
                post.append(node)
                if targets is not None:
                    reaches[node] = node in targets or any(
                        e is not None and reaches.get(e, False) for e in node.edges
                    )
    post.reverse()
    if targets is not None:
        post = [n for n in post if reaches[n]]
    return post


def _accumulate(holder: Tensor, g: Tensor, create_graph: bool):
    """``holder.grad += g``; a fresh buffer the first time (``g`` may be shared)."""
    if create_graph:
        holder.grad = g if holder.grad is None else holder.grad + g
    elif holder.grad is None:  # a series' gradient is a series of adjoints (same descriptor)
        holder.grad = Tensor(np.array(g._data, dtype=holder.dtype, copy=True), g.desc)
    elif holder.grad._rg:
        holder.grad = Tensor(holder.grad._data + g._data, g.desc)
    else:
        holder.grad._data += g._data
        holder.grad._bump()


def _run(roots, root_grads, retain_graph, create_graph, targets=None, accumulate=True):
    order = _order(roots, targets)
    buf = {}
    for node, g in zip(roots, root_grads, strict=True):
        buf[node] = buf[node] + g if node in buf else g
    captured = {}
    with set_grad_enabled(create_graph):
        for node in order:
            g = buf.pop(node, None)
            if g is None:
                continue
            if node.hooks:
                for hook in list(node.hooks):
                    r = hook(g)
                    if r is not None:
                        g = r
            if targets is not None and node in targets:
                captured[node] = g
            if node.retained is not None:
                t = node.retained()
                if t is not None:
                    _accumulate(t, g, create_graph)
            if type(node) is AccumulateGrad:
                if accumulate and (targets is None or node in targets):
                    leaf = node.leaf()
                    if leaf is not None:
                        _accumulate(leaf, g, create_graph)
                continue
            grads = node.vjps(g)
            if not retain_graph:
                node.release()
            for e, gi in zip(node.edges, grads, strict=True):
                if e is not None and gi is not None:
                    prev = buf.get(e)
                    buf[e] = gi if prev is None else prev + gi
    return captured


def _root_grads(outputs, grads, who):
    out = []
    for i, (t, g) in enumerate(zip(outputs, grads, strict=True)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: outputs must be tensors, got {type(t).__name__}")
        if not t._rg:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if t.desc is not None:
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs; output {i} "
                    f"is a series ({t.desc.ncoef} coefficients per element): make a real scalar "
                    "of its coefficients with dg.coefficients(t) (on the tape; t.coeff(...) is a "
                    "plain float), or pass gradient= (one adjoint per coefficient, a series "
                    "tensor of the same shape)"
                )
            if t.numel() != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; output {i} has "
                    f"shape {t.shape}: pass gradient= (grad_outputs=) of that shape"
                )
            g = Tensor(np.ones(t._data.shape, dtype=t.dtype))
        else:
            if not isinstance(g, Tensor):
                g = Tensor(np.asarray(g, dtype=t.dtype))
            if g.shape != t.shape:
                raise RuntimeError(
                    f"{who}: mismatch in shape: gradient has shape {g.shape} "
                    f"and output {i} has shape {t.shape}"
                )
            if g.desc is not t.desc:
                raise RuntimeError(
                    f"{who}: the gradient of output {i} must live in its algebra "
                    f"({t.desc!r}), got {g.desc!r}"
                )
        out.append(g)
    return out


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves.

    >>> import diffalg as dg
    >>> x = dg.tensor([1.0, 2.0], requires_grad=True)
    >>> dg.autograd.backward((x ** 3).sum()); x.grad
    tensor([ 3., 12.])
    """
    outs = _as_list(tensors)
    gs = _as_list(grad_tensors) if grad_tensors is not None else [None] * len(outs)
    if len(gs) != len(outs):
        raise RuntimeError(f"backward: {len(outs)} tensors but {len(gs)} gradients")
    gs = _root_grads(outs, gs, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    targets = None
    inputs = _as_list(inputs) if inputs is not None else []
    for t in inputs:
        if not t._rg:
            raise RuntimeError("backward: every tensor in inputs= must require grad")
    if inputs:
        targets = {edge(t) for t in inputs}
    captured = _run([edge(t) for t in outs], gs, retain_graph, create_graph, targets)
    for t in inputs:  # a non-leaf among inputs= gets its .grad too (leaves already have it)
        g = captured.get(t.grad_fn) if t.grad_fn is not None else None
        if g is not None and not t._retain:
            _accumulate(t, g, create_graph)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    allow_unused=None,
    materialize_grads=False,
):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    >>> import diffalg as dg
    >>> x = dg.tensor(2.0, requires_grad=True)
    >>> y = 2 * x ** 3 + 5 * x ** 2 + 8
    >>> dy, = dg.autograd.grad(y, x, create_graph=True)
    >>> d2y, = dg.autograd.grad(dy, x)
    >>> float(dy), float(d2y)
    (44.0, 34.0)
    """
    outs, ins = _as_list(outputs), _as_list(inputs)
    gs = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outs)
    if len(gs) != len(outs):
        raise RuntimeError(f"grad: {len(outs)} outputs but {len(gs)} grad_outputs")
    gs = _root_grads(outs, gs, "grad")
    for t in ins:
        if not isinstance(t, Tensor) or not t._rg:
            raise RuntimeError("grad: one of the differentiated tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    nodes = [edge(t) for t in ins]
    captured = _run(
        [edge(t) for t in outs], gs, retain_graph, create_graph, set(nodes), accumulate=False
    )
    result = []
    for t, n in zip(ins, nodes, strict=True):
        g = captured.get(n)
        if g is None:
            if materialize_grads:
                g = Tensor(np.zeros(t._data.shape, dtype=t.dtype))
            elif not allow_unused:
                raise RuntimeError(
                    "grad: one of the differentiated tensors appears to not have been used in "
                    "the graph; set allow_unused=True if this is the desired behavior"
                )
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


__all__ = ["backward", "grad", "register_hook", "retain_grad", "accumulator"]
