"""Lossless save/load of tensors (real or series) in numpy ``.npz``; never pickle.

The file holds one array per tensor and a JSON header naming the format,
its version, and for each tensor its descriptor (variables, parameters,
orders) or ``null`` for reals.  Loading checks every part and names what is
wrong with a corrupted or foreign file.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np

from .algebra import Descriptor
from .tensor import Tensor

FORMAT, VERSION = "diffalg-tensors", 1


def save(obj, path) -> None:
    """Save a tensor, or a dict of named tensors, to ``path`` (``.npz``).

    >>> import diffalg as dg, tempfile, os
    >>> x, = dg.Descriptor(nv=1, order=4).vars([0.5])
    >>> p = os.path.join(tempfile.mkdtemp(), "f.npz"); dg.save(dg.exp(x), p)
    >>> bool((dg.load(p).coeffs == dg.exp(x).coeffs).all())
    True
    """
    single = isinstance(obj, Tensor)
    items = {"": obj} if single else dict(obj)
    header = {"format": FORMAT, "version": VERSION, "single": single, "tensors": {}}
    arrays = {}
    for n, (name, t) in enumerate(items.items()):
        if not isinstance(t, Tensor):
            raise TypeError(f"save: {name!r} is a {type(t).__name__}, not a Tensor")
        d = t.desc
        header["tensors"][str(name)] = {
            "array": f"a{n}",
            "descriptor": None
            if d is None
            else {
                "variables": list(d.variables),
                "params": list(d.params),
                "order": d.order,
                "param_order": d.param_order,
            },
        }
        arrays[f"a{n}"] = t._data
    np.savez(path, __header__=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **arrays)


def load(path):
    """Load what :func:`save` wrote; a clear ``ValueError`` for anything else."""
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError("a single array, not an archive")
        with z:
            files = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ValueError(f"{path}: not a diffalg file (not a readable npz archive)") from None
    try:
        header = json.loads(files.pop("__header__").tobytes().decode())
    except (KeyError, UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{path}: not a diffalg file (no readable header)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise ValueError(f"{path}: foreign file (format {found!r}, expected {FORMAT!r})")
    if header.get("version") != VERSION:
        raise ValueError(f"{path}: unsupported version {header.get('version')!r}")
    out = {}
    try:
        for name, entry in header["tensors"].items():
            data = files[entry["array"]]
            spec = entry["descriptor"]
            desc = (
                None
                if spec is None
                else Descriptor(
                    variables=spec["variables"],
                    params=spec["params"] or None,
                    order=spec["order"],
                    param_order=spec["param_order"] or None,
                )
            )
            if desc is not None:
                if data.dtype != np.float64 or data.shape[-1:] != (desc.ncoef,):
                    raise ValueError(
                        f"tensor {name!r}: coefficient array {data.shape} "
                        f"does not fit {desc!r} ({desc.ncoef} coefficients)"
                    )
                if not np.all(np.isfinite(data)):
                    raise ValueError(f"tensor {name!r}: non-finite coefficients")
            out[name] = Tensor(data, desc)
        if header.get("single"):
            return out[""]
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"{path}: corrupted diffalg file (missing or malformed {e})") from None
    except ValueError as e:
        raise ValueError(f"{path}: corrupted diffalg file: {e}") from None
    return out
