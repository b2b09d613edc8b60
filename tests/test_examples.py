"""The examples run, print, and compute what closed forms say they should."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def test_five_minute_page_runs_and_prints_what_it_says(tmp_path, monkeypatch):
    """Run every ``python`` block of the page in order; check one-line outputs
    against the ``# comment`` on the same line (text before any 3-space gap)."""
    page = (DOCS / "da-in-five-minutes.md").read_text(encoding="utf-8")
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
        expected = re.split(r"\s{3,}", src.split("  # ", 1)[1].strip())[0]
        assert " ".join(text.split()) == " ".join(expected.split()), (lineno, src)
        checked += 1
    assert checked >= 20, checked
