"""Test set-up shared by the tests and the doctests.

The GPU tests and examples run on numba's CUDA simulator where the machine
has no NVIDIA GPU, and on the GPU where it has one.  numba reads
``NUMBA_ENABLE_CUDASIM`` when ``numba.cuda`` is first imported, so the choice
is made here, before any test module imports it; a value set by the caller
wins (``NUMBA_ENABLE_CUDASIM=0`` on a GPU machine, ``=1`` to simulate there).
"""

import os
import shutil
import sys


def _has_nvidia_gpu() -> bool:
    return os.path.exists("/dev/nvidiactl") or shutil.which("nvidia-smi") is not None


if "NUMBA_ENABLE_CUDASIM" not in os.environ and not _has_nvidia_gpu():
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    if "numba" in sys.modules:  # numba's settings were read at its import: read them again
        sys.modules["numba"].core.config.reload_config()
