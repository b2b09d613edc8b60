"""save/load: exact round trips, and clear errors for corrupted or foreign files."""

import json
import os
import zipfile

import numpy as np
import pytest

import diffalg as dg

D = dg.Descriptor(variables=["x", "y"], order=5)
DP = dg.Descriptor(variables=["q"], params=["k1", "k2"], order=4, param_order=2)


def _header(**over):
    h = {"format": "diffalg-tensors", "version": 1, "single": True, "tensors": {}}
    h.update(over)
    return np.frombuffer(json.dumps(h).encode(), dtype=np.uint8)


def _same(a, b):
    assert type(b) is dg.Tensor
    assert a.desc is b.desc
    assert a.shape == b.shape
    assert a._data.dtype == b._data.dtype
    np.testing.assert_array_equal(a._data, b._data)


# ---------------------------------------------------------------- round trips


def test_round_trip_single_series(tmp_path):
    rng = np.random.default_rng(1)
    x, y = D.vars([0.3, -1.2])
    f = dg.exp(x) * dg.sin(y) + rng.uniform(-1, 1)  # coefficients with full mantissas
    p = tmp_path / "f.npz"
    dg.save(f, p)
    g = dg.load(p)
    _same(f, g)
    assert g.desc.names == ("x", "y") and g.desc.order == 5


def test_round_trip_awkward_values(tmp_path):
    rng = np.random.default_rng(2)
    c = rng.standard_normal((3, 2, D.ncoef)) * 10.0 ** rng.integers(-300, 300, size=(3, 2, D.ncoef))
    c[0, 0, :3] = [5e-324, -0.0, np.finfo(float).max]
    t = D.from_coeffs(c)
    p = tmp_path / "t.npz"
    dg.save(t, str(p))
    u = dg.load(str(p))
    _same(t, u)
    assert np.signbit(u._data[0, 0, 1])  # -0.0 survives bit for bit


def test_round_trip_params_descriptor_and_reals(tmp_path):
    rng = np.random.default_rng(3)
    s = DP.from_coeffs(rng.uniform(-1, 1, size=(4, DP.ncoef)))
    r = dg.tensor(rng.uniform(-1, 1, size=(2, 3)))
    i = dg.tensor(np.arange(5))
    p = tmp_path / "m.npz"
    dg.save({"s": s, "r": r, "ints": i}, p)
    out = dg.load(p)
    assert set(out) == {"s", "r", "ints"}
    _same(s, out["s"])
    assert out["s"].desc.param_order == 2 and out["s"].desc.params == ("k1", "k2")
    assert out["r"].desc is None and out["ints"].desc is None
    np.testing.assert_array_equal(out["r"].numpy(), r.numpy())
    np.testing.assert_array_equal(out["ints"].numpy(), np.arange(5))
    assert out["ints"].dtype == i.dtype


def test_round_trip_dict_of_descriptors(tmp_path):
    x, y = D.vars([1.0, 2.0])
    (q,) = DP.vars([0.5])
    k1, k2 = DP.params_at([1.0, -1.0])
    items = {"f": x * y, "g": q * k1 * k2, "h": dg.stack([x, y]), "0": D.zeros((0,))}
    p = tmp_path / "d.npz"
    dg.save(items, p)
    out = dg.load(p)
    assert list(out) == list(items)
    for k in items:
        _same(items[k], out[k])
    # a loaded series computes like the original
    np.testing.assert_array_equal((out["f"] * out["f"]).coeffs, (x * y * x * y).coeffs)


def test_save_refuses_non_tensors(tmp_path):
    with pytest.raises(TypeError, match="'a' is a list, not a Tensor"):
        dg.save({"a": [1, 2]}, tmp_path / "x.npz")


def test_file_is_plain_npz_without_pickles(tmp_path):
    (x, _) = D.vars([1.0, 2.0])
    p = tmp_path / "f.npz"
    dg.save(x, p)
    with np.load(p, allow_pickle=False) as z:
        header = json.loads(z["__header__"].tobytes().decode())
    assert header["format"] == "diffalg-tensors" and header["version"] == 1


# ------------------------------------------------------------ corrupted files


def test_random_bytes(tmp_path):
    rng = np.random.default_rng(4)
    p = tmp_path / "r.npz"
    for n in (0, 7, 300):
        p.write_bytes(rng.integers(0, 256, size=n, dtype=np.uint8).tobytes())
        with pytest.raises(ValueError, match="not a diffalg file"):
            dg.load(p)


def test_truncated_file(tmp_path):
    (x, _) = D.vars([1.0, 2.0])
    p = tmp_path / "t.npz"
    dg.save(dg.exp(x), p)
    raw = p.read_bytes()
    for n in (len(raw) // 4, len(raw) // 2, len(raw) - 10):
        p.write_bytes(raw[:n])
        with pytest.raises(ValueError, match="not a diffalg file"):
            dg.load(p)


def test_missing_file(tmp_path):
    with pytest.raises((ValueError, FileNotFoundError)):
        dg.load(tmp_path / "nope.npz")


def test_valid_npz_without_header(tmp_path):
    p = tmp_path / "n.npz"
    np.savez(p, a0=np.zeros(3))
    with pytest.raises(ValueError, match="no readable header"):
        dg.load(p)


def test_header_not_json(tmp_path):
    p = tmp_path / "n.npz"
    np.savez(p, __header__=np.frombuffer(b"\xff\xfe{not json", dtype=np.uint8))
    with pytest.raises(ValueError, match="no readable header"):
        dg.load(p)


def test_header_of_another_format(tmp_path):
    p = tmp_path / "n.npz"
    np.savez(p, __header__=_header(format="someone-else"), a0=np.zeros(3))
    with pytest.raises(ValueError, match="foreign file.*someone-else"):
        dg.load(p)
    np.savez(p, __header__=_header(version=99))
    with pytest.raises(ValueError, match="unsupported version 99"):
        dg.load(p)


def test_wrong_coefficient_count(tmp_path):
    (x, _) = D.vars([1.0, 2.0])
    p = tmp_path / "w.npz"
    dg.save({"f": x}, p)
    with np.load(p) as z:
        header = z["__header__"]
    np.savez(p, __header__=header, a0=np.zeros(D.ncoef - 1))
    with pytest.raises(ValueError, match=r"corrupted.*'f'.*21 coefficients"):
        dg.load(p)
    np.savez(p, __header__=header, a0=np.zeros(D.ncoef, dtype=np.float32))
    with pytest.raises(ValueError, match="corrupted"):
        dg.load(p)
    np.savez(p, __header__=header, a0=np.full(D.ncoef, np.nan))
    with pytest.raises(ValueError, match="non-finite"):
        dg.load(p)


def test_header_naming_missing_array_or_bad_descriptor(tmp_path):
    p = tmp_path / "m.npz"
    entry = {"array": "a7", "descriptor": None}
    np.savez(p, __header__=_header(tensors={"": entry}), a0=np.zeros(3))
    with pytest.raises(ValueError, match="corrupted"):
        dg.load(p)
    spec = {"variables": ["x"], "params": [], "order": -2, "param_order": 0}
    np.savez(
        p, __header__=_header(tensors={"": {"array": "a0", "descriptor": spec}}), a0=np.zeros(3)
    )
    with pytest.raises(ValueError, match="corrupted.*order"):
        dg.load(p)
    np.savez(p, __header__=_header(tensors={"": {"array": "a0"}}), a0=np.zeros(3))
    with pytest.raises(ValueError, match="corrupted"):
        dg.load(p)


def test_pickled_payload_is_refused(tmp_path):
    p = tmp_path / "p.npz"
    np.savez(p, __header__=_header(tensors={"": {"array": "a0", "descriptor": None}}),
             a0=np.array([{"evil": 1}], dtype=object))  # fmt: skip
    with pytest.raises(ValueError):
        dg.load(p)


def test_zip_with_foreign_member(tmp_path):
    p = tmp_path / "z.npz"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="not a diffalg file"):
        dg.load(p)


def test_plain_npy_file(tmp_path):
    p = tmp_path / "a.npy"
    np.save(p, np.zeros(3))
    with pytest.raises(ValueError, match="not a diffalg file"):
        dg.load(p)


def test_header_not_an_object(tmp_path):
    p = tmp_path / "l.npz"
    np.savez(p, __header__=np.frombuffer(b"[1, 2]", dtype=np.uint8))
    with pytest.raises(ValueError, match="not a diffalg file|foreign"):
        dg.load(p)


def test_malformed_tensor_table(tmp_path):
    p = tmp_path / "t.npz"
    np.savez(p, __header__=_header(tensors=[1]))
    with pytest.raises(ValueError, match="corrupted"):
        dg.load(p)
    np.savez(p, __header__=_header(tensors={}))
    with pytest.raises(ValueError, match="corrupted"):
        dg.load(p)


def test_directory_instead_of_file(tmp_path):
    d = tmp_path / "dir.npz"
    os.mkdir(d)
    with pytest.raises((ValueError, IsADirectoryError, PermissionError)):
        dg.load(d)
