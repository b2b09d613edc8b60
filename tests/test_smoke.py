"""The dual-number example: f(x) = (1 + sqrt(x)) / x at x = 2."""

import math

import diffalg as dg


def test_dual_number_slide_example():
    (x,) = dg.Descriptor(nv=1, order=1).vars([2.0])
    f = (1 + dg.sqrt(x)) / x
    assert math.isclose(f.const, (1 + math.sqrt(2)) / 2, rel_tol=1e-15)
    assert math.isclose(f.derivative((1,)), -(1 + math.sqrt(2) / 2) / 4, rel_tol=1e-15)
