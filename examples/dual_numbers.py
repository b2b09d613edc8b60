"""Dual numbers, and what DA adds to them.

A classic teaching example for forward-mode differentiation is

    f(x) = (1 + sqrt(x)) / x      at x = 2.

With a dual number ``x = 2 + ε`` (``ε² = 0``) one evaluation gives
``f(2) + f'(2) ε``.  The derivative is *negative*:

    f'(x) = -(1 + sqrt(x)/2) / x²,   f'(2) = -(1 + sqrt(2)/2) / 4 = -0.42677...

(a version of this example that circulates in lecture slides prints +0.42677:
the minus sign got lost).  A DA number of order 10 carries the whole Taylor
series to degree 10, so the same evaluation gives the first ten derivatives.
They are checked here against ``mpmath.diff`` at 50 significant digits.

The second part is the two-variable example of the README,
``(1 + sqrt(x)) / x * sin(y)`` at ``(2, 0.5)``: its gradient, Hessian and
coefficient table, and a plot of the Taylor polynomials of ``f(x)`` of orders
1, 2, 4 and 10 about ``x = 2`` (saved under ``examples/out/``).

Run it with ``python examples/dual_numbers.py``.
"""

from __future__ import annotations

import math
from pathlib import Path

import mpmath
import numpy as np

import diffalg as dg

X0, Y0 = 2.0, 0.5
SLIDE_VALUE = 0.42677669529663687  # the slide's f'(2): right digits, wrong sign
OUT_DIR = Path(__file__).resolve().parent / "out"


def f(x):
    """The function of the slides; works on floats, mpmath numbers and DA numbers."""
    if isinstance(x, dg.Tensor):
        return (1 + dg.sqrt(x)) / x
    return (1 + mpmath.sqrt(x)) / x if isinstance(x, mpmath.mpf) else (1 + math.sqrt(x)) / x


def f_prime(x: float) -> float:
    """Closed form of the first derivative: ``-(1 + sqrt(x)/2) / x²``."""
    return -(1 + math.sqrt(x) / 2) / x**2


def f_derivative(k: int, x: float) -> float:
    """Closed form of ``f^(k)(x)`` from ``f = x^(-1) + x^(-1/2)``.

    ``d^k x^a / dx^k = a (a-1) ... (a-k+1) x^(a-k)`` for ``a = -1`` and ``a = -1/2``.
    """
    return sum(math.prod(a - j for j in range(k)) * x ** (a - k) for a in (-1.0, -0.5))


def reference_derivatives(order: int, x0: float = X0, dps: int = 50) -> list[float]:
    """``f^(k)(x0)`` for ``k = 0..order`` by mpmath's numerical differentiation."""
    with mpmath.workdps(dps):
        return [float(mpmath.diff(f, mpmath.mpf(x0), k)) for k in range(order + 1)]


def dual_number_part() -> tuple[float, float]:
    """Order 1: a DA number is a dual number ``a + b ε``."""
    (x,) = dg.Descriptor(nv=1, order=1).vars([X0])
    fx = f(x)
    value, slope = fx.const, fx.derivative((1,))
    print("Dual numbers (order 1): x = 2 + ε")
    print(f"  f(2)  = {value:.17g}")
    print(f"  f'(2) = {slope:.17g}   (diffalg, order 1)")
    print(f"  f'(2) = {f_prime(X0):.17g}   closed form -(1 + sqrt(2)/2)/4")
    print(f"  slide: {SLIDE_VALUE:+.17g}   <- the minus sign was lost")
    return value, slope


def derivative_table(order: int) -> tuple[list[float], list[float]]:
    """Order ``order``: every derivative up to it from one evaluation, next to mpmath."""
    (x,) = dg.Descriptor(nv=1, order=order).vars([X0])
    fx = f(x)
    ours = [fx.derivative((k,)) for k in range(order + 1)]
    ref = reference_derivatives(order)
    print(f"\nOrder {order}: f^(k)(2) from one DA evaluation vs mpmath.diff (50 digits)")
    print(f"  {'k':>2}  {'diffalg':>24}  {'mpmath.diff':>24}  {'rel. diff':>9}")
    for k, (a, b) in enumerate(zip(ours, ref, strict=True)):
        rel = abs(a - b) / abs(b)
        print(f"  {k:>2}  {a:>24.16e}  {b:>24.16e}  {rel:>9.1e}")
    return ours, ref


def two_variables(order: int):
    """The README example in two named variables: gradient, Hessian, coefficients."""
    d = dg.Descriptor(variables=["x", "y"], order=max(order, 2))
    x, y = d.vars([X0, Y0])
    g = f(x) * dg.sin(y)
    fv, fx, fxx = (f_derivative(k, X0) for k in range(3))
    s, c = math.sin(Y0), math.cos(Y0)
    grad_ref = np.array([fx * s, fv * c])
    hess_ref = np.array([[fxx * s, fx * c], [fx * c, -fv * s]])
    print(f"\nTwo variables: g = (1 + sqrt(x))/x * sin(y) at (2, 0.5), order {d.order}")
    print(f"  g        = {g.const:.17g}")
    print(f"  gradient = {g.gradient()}   closed form {grad_ref}")
    print(f"  hessian  =\n{_indent(g.hessian())}\n  closed form\n{_indent(hess_ref)}")
    print("  Taylor coefficients up to order 3 (str(g.truncate(3))):")
    print(_indent(str(g.truncate(3))))
    return g


def _indent(obj, pad="    "):
    return "\n".join(pad + line for line in str(obj).splitlines())


def plot_taylor(order: int, out_dir: Path | str = OUT_DIR) -> Path:
    """Plot ``f`` and its Taylor polynomials about 2 (orders 1, 2, 4, 10 up to ``order``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (x,) = dg.Descriptor(nv=1, order=order).vars([X0])
    fx = f(x)
    xs = np.linspace(0.5, 4.0, 400)
    dx = (xs - X0)[:, None]  # eval takes displacements from the expansion point
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(xs, (1 + np.sqrt(xs)) / xs, "k", lw=2.5, label="f(x) = (1 + √x) / x")
    for k in (1, 2, 4, 10):
        if k <= order:
            ax.plot(xs, fx.truncate(k).eval(dx), lw=1.3, label=f"Taylor order {k}")
    ax.plot([X0], [fx.const], "ko")
    ax.set_ylim(0.0, 3.5)
    ax.set_xlabel("x")
    ax.set_title("Taylor polynomials of (1 + √x) / x about x = 2 (radius of convergence 2)")
    ax.legend()
    fig.tight_layout()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "dual_numbers.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"\nplot saved to {path}")
    return path


def main(order: int = 10, plot: bool = True, out_dir: Path | str = OUT_DIR) -> dict:
    """Run every part; return the numbers it printed (for tests)."""
    value, slope = dual_number_part()
    ours, ref = derivative_table(order)
    g = two_variables(order)
    path = plot_taylor(order, out_dir) if plot else None
    return {
        "value": value,
        "slope": slope,
        "derivatives": ours,
        "reference": ref,
        "gradient": g.gradient(),
        "hessian": g.hessian(),
        "plot": path,
    }


if __name__ == "__main__":
    main()
