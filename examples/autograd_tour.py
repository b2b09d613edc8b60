"""A tour of the tape: the classic autograd examples of the teaching material.

Each step is what one would type with PyTorch, with ``import diffalg as dg``
in place of ``import torch``; the printed gradients are the closed forms
written next to them.

1. ``L = sum(a*a)`` has gradient ``2a``.
2. ``c = tanh(a + 1)``: the ``grad_fn`` chain the tape recorded.
3. ``f(x1, x2) = ln(x1) + x1*x2 - sin(x2)`` at (2, 5): ∂f/∂x1 = 1/x1 + x2, ∂f/∂x2 = x1 - cos x2.
4. A neuron ``a = relu(w*x + b)``: its partials in w, x and b.
5. ``y = 2x³ + 5x² + 8``: y' = 6x² + 10x and y'' = 12x + 10 with ``create_graph``.
6. ``Q = 3a³ - b²`` for vectors, with an external gradient: ∂Q/∂a = 9a², ∂Q/∂b = -2b.
7. Branches: ``b = w1*a; c = w2*a; d = w3*b + w4*c; L = f(d)`` gives
   ∂L/∂a = f'(d) (w3 w1 + w4 w2) — the gradients of both paths add up.

Run it with ``python examples/autograd_tour.py``.
"""

from __future__ import annotations

import math

import diffalg as dg


def step1():
    a = dg.tensor([1.0, 2.0, 3.0, 4.0, 5.0], requires_grad=True)
    L = (a * a).sum()
    L.backward()
    print("1. L = sum(a*a) =", L.item(), " dL/da =", a.grad, " (2a)")
    return a.grad.tolist()


def step2():
    a = dg.tensor([0.5, -1.0], requires_grad=True)
    c = dg.tanh(a + 1)
    chain, node = [], c.grad_fn
    while node is not None:
        chain.append(node.name())
        nxt = [f for f, _ in node.next_functions if f is not None]
        node = nxt[0] if nxt else None
    print("2. c = tanh(a + 1) =", c)
    print("   grad_fn chain:", " -> ".join(chain))
    c.sum().backward()
    print("   dc/da =", a.grad, " (1 - tanh(a+1)^2)")
    return chain, a.grad.tolist()


def step3(x1=2.0, x2=5.0):
    a = dg.tensor(x1, requires_grad=True)
    b = dg.tensor(x2, requires_grad=True)
    f = dg.log(a) + a * b - dg.sin(b)
    f.backward()
    print(f"3. f = ln x1 + x1 x2 - sin x2 at ({x1}, {x2}) = {f.item():.6f}")
    print(f"   df/dx1 = {a.grad.item():.6f} (1/x1 + x2 = {1 / x1 + x2:.6f})")
    print(f"   df/dx2 = {b.grad.item():.6f} (x1 - cos x2 = {x1 - math.cos(x2):.6f})")
    return f.item(), a.grad.item(), b.grad.item()


def step4(w=-3.0, x=2.0, b=7.0):
    wt, xt, bt = (dg.tensor(v, requires_grad=True) for v in (w, x, b))
    a = dg.relu(wt * xt + bt)
    a.backward()
    print(f"4. a = relu(w*x + b) = {a.item()}  da/dw = {wt.grad.item()}  "
          f"da/dx = {xt.grad.item()}  da/db = {bt.grad.item()}")  # fmt: skip
    return a.item(), wt.grad.item(), xt.grad.item(), bt.grad.item()


def step5(x0=2.0):
    x = dg.tensor(x0, requires_grad=True)
    y = 2 * x**3 + 5 * x**2 + 8
    (dy,) = dg.autograd.grad(y, x, create_graph=True)
    (d2y,) = dg.autograd.grad(dy, x)
    print(f"5. y = 2x^3 + 5x^2 + 8 at x = {x0}: y = {y.item()}, y' = {dy.item()} "
          f"(6x^2 + 10x), y'' = {d2y.item()} (12x + 10)")  # fmt: skip
    return y.item(), dy.item(), d2y.item()


def step6():
    a = dg.tensor([2.0, 3.0], requires_grad=True)
    b = dg.tensor([6.0, 4.0], requires_grad=True)
    Q = 3 * a**3 - b**2
    Q.backward(gradient=dg.ones(2))  # Q is a vector: say which combination to differentiate
    print("6. Q = 3a^3 - b^2:  dQ/da =", a.grad, " (9a^2)  dQ/db =", b.grad, " (-2b)")
    return a.grad.tolist(), b.grad.tolist()


def step7(a0=0.5, w=(2.0, -1.0, 0.5, 0.25)):
    a = dg.tensor(a0, requires_grad=True)
    w1, w2, w3, w4 = (dg.tensor(v, requires_grad=True) for v in w)
    b = w1 * a
    c = w2 * a
    d = w3 * b + w4 * c
    L = dg.tanh(d)  # f = tanh
    L.backward()
    print(f"7. d = w3*w1*a + w4*w2*a = {d.item()}, L = tanh(d) = {L.item():.6f}")
    print(f"   dL/da = {a.grad.item():.6e}  dL/dw1 = {w1.grad.item():.6e}  "
          f"dL/dw4 = {w4.grad.item():.6e}")  # fmt: skip
    return d.item(), a.grad.item(), [t.grad.item() for t in (w1, w2, w3, w4)]


def main():
    return {
        "sum_sq": step1(),
        "tanh": step2(),
        "f": step3(),
        "neuron": step4(),
        "poly": step5(),
        "Q": step6(),
        "branches": step7(),
    }


if __name__ == "__main__":
    main()
