"""The examples run, print, and compute what closed forms say they should."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import truth

from diffalg.maps import linear_normal_form

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


_load = truth.load_example


@pytest.fixture(scope="module")
def dual_numbers():
    return _load("dual_numbers")


@pytest.fixture(scope="module")
def taylor_tour():
    return _load("taylor_tour")


def _f_derivative(k, x):
    """``d^k/dx^k (x^-1 + x^-1/2)``, written out independently of the example."""
    a = (-1) ** k * math.factorial(k) * x ** (-1 - k)
    b = math.prod(-0.5 - j for j in range(k)) * x ** (-0.5 - k)
    return a + b


def test_dual_numbers_sign_and_derivatives(dual_numbers, capsys):
    r = dual_numbers.main(order=6, plot=False)
    text = capsys.readouterr().out
    slope = -(1 + math.sqrt(2) / 2) / 4
    assert slope < 0  # the slide's +0.42677 lost this sign
    assert math.isclose(r["slope"], slope, rel_tol=1e-15)
    assert math.isclose(r["value"], (1 + math.sqrt(2)) / 2, rel_tol=1e-15)
    assert len(r["derivatives"]) == 7
    for k, (ours, ref) in enumerate(zip(r["derivatives"], r["reference"], strict=True)):
        exact = _f_derivative(k, 2.0)
        assert math.isclose(ours, exact, rel_tol=1e-13), k
        assert math.isclose(ref, exact, rel_tol=1e-13), k
    assert "-0.42677669529663687" in text
    assert "Order 6" in text and "COEFFICIENT" in text


def test_dual_numbers_two_variables(dual_numbers, capsys):
    r = dual_numbers.main(order=3, plot=False)
    capsys.readouterr()
    f0, f1, f2 = (_f_derivative(k, 2.0) for k in range(3))
    s, c = math.sin(0.5), math.cos(0.5)
    np.testing.assert_allclose(r["gradient"], [f1 * s, f0 * c], rtol=1e-14)
    np.testing.assert_allclose(r["hessian"], [[f2 * s, f1 * c], [f1 * c, -f0 * s]], rtol=1e-14)


def test_dual_numbers_order_ten_matches_mpmath(dual_numbers, capsys):
    ours, ref = dual_numbers.derivative_table(10)
    capsys.readouterr()
    assert len(ours) == 11
    np.testing.assert_allclose(ours, ref, rtol=1e-13)
    np.testing.assert_allclose(ours, [_f_derivative(k, 2.0) for k in range(11)], rtol=1e-13)


def test_dual_numbers_plot(dual_numbers, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    r = dual_numbers.main(order=4, plot=True, out_dir=tmp_path)
    capsys.readouterr()
    assert r["plot"] == tmp_path / "dual_numbers.png"
    assert r["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_taylor_tour(taylor_tour, capsys):
    r = taylor_tour.main()
    text = capsys.readouterr().out
    assert math.isclose(r["H"], 0.1**2 / 2 + 2 * (1 - math.cos(0.3)), rel_tol=1e-14)
    assert math.isclose(r["xdot"], 0.1, rel_tol=1e-14)
    assert math.isclose(r["pxdot"], -2 * math.sin(0.3), rel_tol=1e-14)
    assert r["integ_error"] < 1e-15
    assert r["compose_error"] < 1e-14
    # order-10 Taylor remainder of e^t at |t| <= 1/2: below 0.5^11 e^0.5 / 11!
    assert r["eval_error"] < 0.5**11 * math.exp(0.5) / math.factorial(11)
    assert r["roundtrip"]
    np.testing.assert_allclose(r["batch_d3"], -np.cos(r["grid"]), rtol=1e-14, atol=1e-15)
    c, s = math.cos(0.4), math.sin(0.4)
    np.testing.assert_allclose(r["dRv_dtheta"], [-s - 2 * c, c - 2 * s], rtol=1e-14)
    for n in range(1, 10):
        assert f"== {n}. " in text


DOCS = EXAMPLES.parent / "docs"


@pytest.mark.parametrize(
    "page,least",
    [
        ("da-in-five-minutes.md", 20),
        ("tensors.md", 25),
        ("autograd.md", 12),
        ("nn.md", 10),
        ("maps.md", 8),
        ("batched.md", 5),
        ("one_engine.md", 6),
    ],
)
def test_docs_page_runs_and_prints_what_it_says(page, least, tmp_path, monkeypatch):
    """Run every ``python`` block of the page in order; check one-line outputs
    against the ``# comment`` on the same line (text before any 3-space gap;
    a comment ending in ``...`` gives the leading digits only)."""
    page = (DOCS / page).read_text(encoding="utf-8")
    code = "\n".join(re.findall(r"```python\n(.*?)```", page, re.S))
    lines = code.splitlines()
    printed = []

    def record(*args, **kw):
        frame = sys._getframe(1)
        if frame.f_code.co_filename == "<page>":
            printed.append((frame.f_lineno, " ".join(str(a) for a in args)))

    monkeypatch.chdir(tmp_path)
    exec(compile(code, "<page>", "exec"), {"print": record, "__name__": "page"})
    checked = 0
    for lineno, text in printed:
        src = lines[lineno - 1]
        if "\n" in text or "  # " not in src or not src.lstrip().startswith("print("):
            continue
        expected = " ".join(re.split(r"\s{3,}", src.split("  # ", 1)[1].strip())[0].split())
        text = " ".join(text.split())
        if expected.endswith("..."):  # digits past the dots depend on summation order
            text, expected = text[: len(expected) - 3], expected[:-3]
        assert text == expected, (lineno, src)
        checked += 1
    assert checked >= least, checked


# ------------------------------------------------------------ tape and nn examples
@pytest.fixture(scope="module")
def autograd_tour():
    return _load("autograd_tour")


def test_autograd_tour_closed_forms(autograd_tour, capsys):
    r = autograd_tour.main()
    capsys.readouterr()
    np.testing.assert_allclose(r["sum_sq"], [2, 4, 6, 8, 10])
    chain, grads = r["tanh"]
    assert chain == ["TanhBackward0", "AddBackward0", "AccumulateGrad"]
    np.testing.assert_allclose(grads, 1 - np.tanh(np.array([0.5, -1.0]) + 1) ** 2, rtol=1e-6)
    f, g1, g2 = r["f"]
    assert math.isclose(f, math.log(2) + 10 - math.sin(5), rel_tol=1e-6)
    assert math.isclose(g1, 1 / 2 + 5, rel_tol=1e-6)
    assert math.isclose(g2, 2 - math.cos(5), rel_tol=1e-6)
    assert r["neuron"] == (1.0, 2.0, -3.0, 1.0)  # relu(-3*2 + 7) = 1: slope 1, so (x, w, 1)
    assert r["poly"] == (44.0, 44.0, 34.0)
    qa, qb = r["Q"]
    assert qa == [36.0, 81.0] and qb == [-12.0, -8.0]
    d, da, dw = r["branches"]
    w1, w2, w3, w4, a = 2.0, -1.0, 0.5, 0.25, 0.5
    fp = 1 - math.tanh(d) ** 2
    assert math.isclose(d, (w3 * w1 + w4 * w2) * a, rel_tol=1e-7)
    assert math.isclose(da, fp * (w3 * w1 + w4 * w2), rel_tol=1e-6)
    np.testing.assert_allclose(dw, [fp * w3 * a, fp * w4 * a, fp * w1 * a, fp * w2 * a], rtol=1e-6)


def test_autograd_tour_matches_torch(autograd_tour, capsys):
    torch = pytest.importorskip("torch")
    r = autograd_tour.main()
    capsys.readouterr()
    a = torch.tensor(0.5, requires_grad=True)
    w = [torch.tensor(v, requires_grad=True) for v in (2.0, -1.0, 0.5, 0.25)]
    torch.tanh(w[2] * (w[0] * a) + w[3] * (w[1] * a)).backward()
    d, da, dw = r["branches"]
    assert math.isclose(da, a.grad.item(), rel_tol=1e-6)
    np.testing.assert_allclose(dw, [t.grad.item() for t in w], rtol=1e-6)


@pytest.fixture(scope="module")
def toy_model():
    return _load("toy_model")


def test_toy_model_four_ways_agree_and_match_torch(toy_model, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    r = toy_model.main(steps=8, n_samples=256, batch_size=32, hidden=16, plot=True,
                       out_dir=tmp_path)  # fmt: skip
    capsys.readouterr()
    assert r["max_rel_diff"] < 1e-12
    assert r["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the same training in PyTorch from the same weights and batches
    w = {k: torch.from_numpy(v.copy()) for k, v in r["weights"].items()}
    model = torch.nn.Sequential(
        torch.nn.Linear(100, 16, dtype=torch.float64), torch.nn.ReLU(),
        torch.nn.Linear(16, 1, dtype=torch.float64),
    )  # fmt: skip
    model.load_state_dict({"0.weight": w["W1"], "0.bias": w["b1"], "2.weight": w["W2"],
                           "2.bias": w["b2"]})  # fmt: skip
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x, y = torch.from_numpy(r["x"]), torch.from_numpy(r["y"])
    losses = []
    for idx in r["order"]:
        i = torch.from_numpy(idx)
        loss = torch.nn.functional.mse_loss(model(x[i]), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    for name, ours in r["losses"].items():
        np.testing.assert_allclose(ours, losses, rtol=1e-12, err_msg=name)
    assert losses[-1] < losses[0]


def test_digits_reach_95_percent_and_reload(tmp_path, capsys):
    pytest.importorskip("sklearn")
    digits = _load("digits")
    r = digits.main(progress=False, out_dir=tmp_path)  # the full run takes seconds
    capsys.readouterr()
    for name in ("MLP", "CNN"):
        assert r[name]["accuracy"] >= 0.95, (name, r[name]["accuracy"])
        assert r[name]["reloaded"] == r[name]["accuracy"]
        assert r[name]["losses"][-1] < 0.5 * r[name]["losses"][0]
        assert r[name]["path"].exists()


def test_fodo_map_example(tmp_path, capsys):
    fodo = _load("fodo_map")
    r = fodo.main(order=4, orders=(2, 3), turns=20, plot=True, out_dir=tmp_path)
    capsys.readouterr()
    for o, slope in r["slopes"].items():
        assert abs(slope - (o + 1)) < 0.3, (o, slope)  # truncation error ∝ amplitude^(order+1)
    assert r["map"].symplectic_error() < 1e-12
    assert 0 < r["tunes"][0] < 1 and 0 < r["tunes"][1] < 1
    for png in r["plots"]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ode_flows_example(capsys):
    ode = _load("ode_flows")
    r = ode.main(order=3, starts=4, scale=1e-4)
    capsys.readouterr()
    for name, res in r.items():
        assert res["error"] < 1e-11, name  # |δ|^4 ~ 1e-16: only the solver's tolerance is left
        assert res["symplectic"] < 1e-12, name


def test_track_particles_example(tmp_path, capsys):
    tp = _load("track_particles")
    r = tp.main(n_particles=2000, orders=(2, 3), turns=2, plot=True, out_dir=tmp_path)
    capsys.readouterr()
    for o, row in r["orders"].items():
        assert abs(row["slope"] - (o + 1)) < 0.35, (o, row["slope"])  # error ∝ amplitude^(o+1)
        assert row["clean"].sum() >= 5
    # one more order: the map agrees with element tracking at least 10x better
    assert r["orders"][3]["median"] < r["orders"][2]["median"] / 10
    assert r["orders"][3]["max"] < 1e-3
    # the matched beam comes from a symplectic normal form of the one-turn matrix
    R = tp.ring_with_rf().map(order=1).linear()
    A, tunes = linear_normal_form(R)
    S = np.kron(np.eye(3), [[0.0, 1.0], [-1.0, 0.0]])
    np.testing.assert_allclose(A.T @ S @ A, S, atol=1e-9)
    B = np.linalg.solve(A, R @ A)
    for k, q in enumerate(tunes):
        c, s = math.cos(2 * math.pi * q), math.sin(2 * math.pi * q)
        np.testing.assert_allclose(B[2 * k : 2 * k + 2, 2 * k : 2 * k + 2], [[c, s], [-s, c]],
                                   atol=1e-9)  # fmt: skip
    # a weak cavity barely moves the transverse tunes of the ring without it
    np.testing.assert_allclose(tunes[:2], _load("fodo_map").ring().tunes(), atol=1e-4)
    assert r["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_batched_series_example(capsys):
    # the GPU part runs in the CUDA tests and the docs page (the simulator is slow)
    r = _load("batched_series").main(n=300, order=5, loop_points=40, gpu=False)
    capsys.readouterr()
    assert r["error"] < 1e-14  # every coefficient at every point against its closed form
    assert r["loop_error"] < 1e-14  # the batch equals the points one at a time


def test_pinn_example_trains_on_series_coefficients(tmp_path, capsys):
    r = _load("pinn").main(
        points=24, width=16, adam_steps=200, lbfgs_steps=150, make_plot=True, out_dir=tmp_path
    )
    capsys.readouterr()
    assert r["gradient_rel"] < 1e-7  # the tape's loss gradient against central differences
    assert r["agreement"] < 1e-12  # u, u', u'' from the series = nested reverse mode
    assert r["history"][-1] < 1e-3 * r["history"][0]
    assert r["error"] < 0.05  # against cos t, at this small size and few steps
    assert r["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
