"""Utilities around training: datasets and mini-batch loading (:mod:`.data`)."""

from . import data

__all__ = ["data"]
