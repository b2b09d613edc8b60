"""The tape: reverse-mode differentiation of every primitive.

``backward`` and ``grad`` run the recorded graph backwards (:mod:`.engine`);
nodes live in :mod:`.graph`; ``no_grad`` and friends in :mod:`.grad_mode`;
``gradcheck`` compares with finite differences.
"""

from .. import tensor as _tensor
from ..ops import registry as _registry
from .engine import backward, grad, register_hook, retain_grad
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import AccumulateGrad, Node, record

_registry.Tape.record = staticmethod(record)
_tensor.autograd = __import__(__name__, fromlist=["*"])

__all__ = [
    "AccumulateGrad",
    "GradcheckError",
    "Node",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "register_hook",
    "retain_grad",
    "set_grad_enabled",
]
