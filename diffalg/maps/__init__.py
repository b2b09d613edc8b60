"""Taylor maps (:mod:`.taylor_map`): compose, invert, analyse and track."""

from .taylor_map import TaylorMap, identity

load = TaylorMap.load

__all__ = ["TaylorMap", "identity", "load"]
