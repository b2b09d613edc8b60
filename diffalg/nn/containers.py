"""Containers of modules: ``Sequential``, ``ModuleList`` and ``ModuleDict``.

Sub-modules are registered under their position (``"0"``, ``"1"``...) or key,
so their parameters are found by ``parameters()`` and named ``"0.weight"``
in ``state_dict`` — the names PyTorch gives the same container.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Mapping

from .module import Module, _addindent


def _absolute(idx, size: int) -> int:
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range for a container of {size} modules")
    return idx % size


class _Indexed(Module):
    """Modules registered under ``"0"``, ``"1"``, ...: indexing, ``len``, iteration, editing."""

    def _renumber(self):
        self.__dict__["_modules"] = OrderedDict(
            (str(i), m) for i, m in enumerate(self._modules.values())
        )

    def _key(self, idx) -> str:
        return list(self._modules)[_absolute(idx, len(self._modules))]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __setitem__(self, idx, module: Module) -> None:
        self.add_module(self._key(idx), module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules)
        for key in keys[idx] if isinstance(idx, slice) else [self._key(idx)]:
            del self._modules[key]
        self._renumber()

    def append(self, module: Module):
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Add every module of an iterable at the end."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        items = list(self._modules.values())
        items.insert(operator.index(index), module)  # list.insert's meaning, negatives included
        self.__dict__["_modules"] = OrderedDict((str(i), m) for i, m in enumerate(items))

    def pop(self, idx=-1) -> Module:
        module = self[idx]
        del self[idx]
        return module

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]


class Sequential(_Indexed):
    """Modules applied one after the other: ``Sequential(a, b, c)(x) = c(b(a(x)))``.

    Also built from an ``OrderedDict`` of named modules.  Indexing gives a
    module, slicing a ``Sequential`` of those modules (their names kept).

    >>> import diffalg as dg
    >>> from diffalg import nn
    >>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    >>> model
    Sequential(
      (0): Linear(in_features=4, out_features=3, bias=True)
      (1): ReLU()
    )
    >>> _ = model.append(nn.Linear(3, 1))
    >>> len(model), model[-1].out_features
    (3, 1)
    >>> model(dg.randn(5, 4)).shape
    (5, 1)
    >>> list(model.state_dict())
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._key(idx)]

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_Indexed):
    """A list of modules whose parameters the parent registers (it has no ``forward``).

    >>> from diffalg import nn
    >>> blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    >>> len(list(blocks.parameters())), len(blocks)
    (6, 3)
    >>> blocks
    ModuleList(
      (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)
    )
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[self._key(idx)]

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return type(self)(list(self) + list(other))

    def __repr__(self):
        """Runs of equal modules are shown once, as PyTorch does: ``(0-2): 3 x Linear(...)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []  # [start, end, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [
            _addindent(f"({s}): {r}" if s == e else f"({s}-{e}): {e - s + 1} x {r}", 2)
            for s, e, r in runs
        ]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules (string keys, insertion order) whose parameters the parent registers.

    >>> from diffalg import nn
    >>> heads = nn.ModuleDict({"cls": nn.Linear(8, 10), "box": nn.Linear(8, 4)})
    >>> list(heads), heads["box"].out_features, "cls" in heads
    (['cls', 'box'], 4, True)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def update(self, modules) -> None:
        """Add modules from a mapping or an iterable of ``(key, module)`` pairs."""
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = list(modules.items())
        else:
            pairs = [tuple(p) for p in modules]
            for j, p in enumerate(pairs):
                if len(p) != 2:
                    raise ValueError(
                        f"ModuleDict update sequence element #{j} has length {len(p)}; "
                        "2 is required"
                    )
        for key, module in pairs:
            self[key] = module


__all__ = ["ModuleDict", "ModuleList", "Sequential"]
