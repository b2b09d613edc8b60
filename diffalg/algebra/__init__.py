"""Descriptors: monomial orderings and the index tables the kernels use."""

from .descriptor import Descriptor

__all__ = ["Descriptor"]
