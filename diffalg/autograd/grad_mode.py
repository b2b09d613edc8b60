"""Switching the tape on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``."""

from __future__ import annotations

import functools

from ..ops.registry import Tape


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are recorded."""
    return Tape.enabled


def _decorate(mode: bool, fn):
    """``fn`` run with recording set to ``mode`` (and restored after)."""

    @functools.wraps(fn)
    def wrapper(*a, **k):
        prev = Tape.enabled
        Tape.enabled = mode
        try:
            return fn(*a, **k)
        finally:
            Tape.enabled = prev

    return wrapper


class set_grad_enabled:
    """Set recording on or off: as a call, a context manager or a decorator.

    >>> import diffalg as dg
    >>> x = dg.tensor([1.0], requires_grad=True)
    >>> with dg.set_grad_enabled(False):
    ...     (x * 2).requires_grad
    False
    """

    def __init__(self, mode: bool):
        self.prev = Tape.enabled
        self.mode = bool(mode)
        Tape.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        Tape.enabled = self.prev

    def __call__(self, fn):
        Tape.enabled = self.prev  # as a decorator it must not switch anything now
        return _decorate(self.mode, fn)


class _Mode:
    """A context manager / decorator that sets recording to ``mode`` inside."""

    mode = True

    def __new__(cls, fn=None):
        if fn is not None:  # used bare, ``@no_grad`` without the call, as PyTorch allows
            return cls()(fn)
        return super().__new__(cls)

    def __enter__(self):
        self.prev = Tape.enabled
        Tape.enabled = self.mode
        return self

    def __exit__(self, *exc):
        Tape.enabled = self.prev

    def __call__(self, fn):
        return _decorate(self.mode, fn)


class no_grad(_Mode):
    """Record nothing inside (evaluation, optimiser updates).

    >>> import diffalg as dg
    >>> w = dg.tensor([1.0], requires_grad=True)
    >>> with dg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    mode = False


class enable_grad(_Mode):
    """Record again inside a ``no_grad`` region."""

    mode = True


inference_mode = no_grad
