"""The optimizer base: parameter groups, per-parameter state, save and restore.

An optimizer holds ``param_groups`` — a list of dicts, each with its ``params``
and its own value of every option (``lr``, ``momentum``, ...) — and
``state``, a dict from each parameter to its buffers.  ``step()`` updates the
parameters in place from their ``.grad``.  The update is arithmetic on the
numpy buffers themselves: nothing is recorded on the tape, and each
parameter's version counter is bumped, so a graph that saved the old values
refuses to run backward through them.

``state_dict()`` names parameters by their position across the groups
(0, 1, ... in group order), as PyTorch does, and holds only numbers, tuples
and tensors; ``load_state_dict`` copies it back, cast to each parameter's
dtype.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..autograd import enable_grad
from ..tensor import Tensor

_UNORDERED = (
    "optimizer parameters need to be organized in ordered collections, but the ordering of "
    "tensors in sets changes between runs; use a list instead"
)


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()
"""Default of an option that every parameter group must give itself."""


class Optimizer:
    """Base class of the optimizers: holds ``param_groups``, ``state`` and ``defaults``.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of
    dicts each giving a group's ``params`` and any options that differ from
    ``defaults``.

    >>> import diffalg as dg
    >>> w, b = dg.zeros(3, requires_grad=True), dg.zeros(1, requires_grad=True)
    >>> opt = dg.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    >>> [g["lr"] for g in opt.param_groups]
    [0.1, 0.5]
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self._validate(self.defaults)
        self.state: defaultdict[Tensor, dict] = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got a Tensor"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(_UNORDERED)
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------- groups
    def _validate(self, options: dict) -> None:
        """Raise ``ValueError`` for an option value the update rule cannot use."""

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (unset ones take ``defaults``).

        >>> import diffalg as dg
        >>> opt = dg.optim.SGD([dg.zeros(2, requires_grad=True)], lr=0.1)
        >>> opt.add_param_group({"params": dg.zeros(3, requires_grad=True), "lr": 0.01})
        >>> len(opt.param_groups), opt.param_groups[1]["lr"], opt.param_groups[1]["momentum"]
        (2, 0.01, 0)
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(_UNORDERED)
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are missing"
                )
            group["param_names"] = names
            params = [p[1] for p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}"
                )
            if p.desc is not None:
                raise TypeError("optimizer can only optimize real tensors, not tensors of series")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            group.setdefault(name, default)
        self._validate(group)
        ids = {id(p) for p in params}
        if len(ids) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        for other in self.param_groups:
            if ("param_names" in other) != ("param_names" in group):
                raise ValueError(
                    "all optimizer param groups should be with/without names; cannot add a "
                    f"param group {'with' if names else 'without'} names to the optimizer"
                )
            if any(id(p) in ids for p in other["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # --------------------------------------------------------------- step
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad``: set it to ``None``, or fill it with zeros.

        >>> import diffalg as dg
        >>> w = dg.ones(2, requires_grad=True)
        >>> opt = dg.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.zero_grad(set_to_none=False); w.grad
        tensor([0., 0.])
        >>> opt.zero_grad(); print(w.grad)
        None
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif g._rg or g._data.base is not None or not g._data.flags.writeable:
                    # a gradient on the tape or sharing memory gets a buffer of its own
                    p.grad = Tensor(np.zeros_like(g._data))
                else:
                    g._data.fill(0)
                    g._bump()

    def step(self, closure=None):
        """Update the parameters once; ``closure`` re-evaluates and returns the loss."""
        raise NotImplementedError

    @staticmethod
    def _loss(closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    @staticmethod
    def _grad(p: Tensor) -> np.ndarray:
        g = p.grad._data
        if g.shape != p._data.shape:
            raise RuntimeError(
                f"the gradient has shape {g.shape} but its parameter has shape {p._data.shape}"
            )
        return g

    # --------------------------------------------------------- save/load
    def state_dict(self) -> dict:
        """The options and buffers, parameters named by index: ``{"state", "param_groups"}``.

        The buffers are copies, so stepping on does not change a saved dict.

        >>> import diffalg as dg
        >>> w = dg.ones(2, requires_grad=True)
        >>> opt = dg.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward(); opt.step()
        >>> sd = opt.state_dict()
        >>> sd["state"][0]["momentum_buffer"], sd["param_groups"][0]["params"]
        (tensor([2., 2.]), [0])
        """
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index[id(p)] = len(index)
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {
            index[id(p)]: {k: _copy(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` gave (arrays are copied and cast to the params' dtype).

        >>> import diffalg as dg
        >>> w = dg.ones(2, requires_grad=True)
        >>> opt = dg.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> sd = opt.state_dict(); sd["param_groups"][0]["lr"] = 0.2
        >>> opt.load_state_dict(sd); opt.param_groups[0]["lr"]
        0.2
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError("an optimizer state dict is a dict with 'state' and 'param_groups'")
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups: {len(saved)} "
                f"saved, {len(self.param_groups)} in the optimizer"
            )
        params = {}
        for group, s in zip(self.param_groups, saved, strict=True):
            if len(group["params"]) != len(s["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group ({len(s['params'])} saved, {len(group['params'])} here)"
                )
            params.update(zip(s["params"], group["params"], strict=True))
        state = defaultdict(dict)
        for key, buffers in state_dict["state"].items():
            k = int(key) if isinstance(key, str) and key.isdigit() else key
            if k not in params:
                raise ValueError(
                    f"loaded state dict has state for parameter {key!r}, which no group holds"
                )
            p = params[k]
            state[p] = {name: _cast(v, p, name, key) for name, v in buffers.items()}
        groups = []
        for group, s in zip(self.param_groups, saved, strict=True):
            new = {k: v for k, v in s.items() if k != "params"}
            for name, default in self.defaults.items():
                new.setdefault(name, group.get(name, default))
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
            new["params"] = group["params"]
            self._validate(new)
            groups.append(new)
        self.state, self.param_groups = state, groups

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _copy(v):
    if isinstance(v, Tensor):
        return Tensor(v._data.copy(), v.desc)
    if isinstance(v, np.ndarray):
        return v.copy()
    return v


def _cast(v, p: Tensor, name: str, key):
    """A loaded buffer as a fresh tensor of ``p``'s dtype and shape (``step`` as an int)."""
    if name == "step":
        return int(v)
    if isinstance(v, (Tensor, np.ndarray)):
        a = np.array(v._data if isinstance(v, Tensor) else v, dtype=p.dtype, copy=True)
        if a.shape != p._data.shape:
            raise ValueError(
                f"loaded state {name!r} of parameter {key!r} has shape {a.shape}, but the "
                f"parameter has shape {p._data.shape}"
            )
        return Tensor(a)
    return v
