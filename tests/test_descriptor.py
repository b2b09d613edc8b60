"""Descriptor: monomial counts and ordering, interning, and every index table by brute force."""

import itertools
import math
import pickle

import numpy as np
import pytest
import truth

import diffalg as dg

SHAPES = [(1, 0), (1, 1), (1, 7), (2, 0), (2, 3), (2, 10), (3, 4), (4, 2), (6, 4), (5, 5)]


@pytest.mark.parametrize("nv,order", SHAPES)
def test_monomial_count_is_binomial(nv, order):
    d = dg.Descriptor(nv=nv, order=order)
    assert d.ncoef == math.comb(nv + order, order)
    assert d.monomials.shape == (d.ncoef, nv)
    assert d.nv == nv and d.nn == nv and d.np == 0 and d.order == order


@pytest.mark.parametrize("nv,order", SHAPES)
def test_graded_descending_lex_order(nv, order):
    d = dg.Descriptor(nv=nv, order=order)
    want = truth.monomials(nv, order)
    assert [tuple(int(v) for v in m) for m in d.monomials] == want
    assert d.degrees.tolist() == [sum(e) for e in want]
    # ord_off delimits the degree blocks
    for k in range(order + 1):
        block = d.monomials[d.ord_off[k] : d.ord_off[k + 1]]
        assert len(block) == math.comb(nv - 1 + k, k)
        assert np.all(block.sum(axis=1) == k)


def test_documented_order_for_two_variables():
    d = dg.Descriptor(nv=2, order=2)
    assert d.monomials.tolist() == [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]


@pytest.mark.parametrize("nv,order", [(1, 5), (2, 6), (3, 4), (6, 3)])
def test_index_monomials_round_trip(nv, order):
    d = dg.Descriptor(nv=nv, order=order)
    for i, m in enumerate(d.monomials):
        assert d.index(tuple(m)) == i
        assert d.index(list(m)) == i
    # and every tuple of degree <= order is found at its position in the pure-Python list
    for i, e in enumerate(truth.monomials(nv, order)):
        assert d.index(e) == i


def test_interning_same_arguments_same_object():
    a = dg.Descriptor(nv=2, order=5)
    assert a is dg.Descriptor(nv=2, order=5)
    assert a is dg.Descriptor(2, 5)
    assert a is dg.Descriptor(variables=["x1", "x2"], order=5)
    assert a is dg.Descriptor(nv=np.int64(2), order=np.int64(5))
    assert a is not dg.Descriptor(nv=2, order=4)
    assert a is not dg.Descriptor(nv=3, order=5)
    b = dg.Descriptor(variables=["x", "y"], order=5)
    assert b is dg.Descriptor(variables=("x", "y"), order=5)
    assert b is not a
    assert b is not dg.Descriptor(variables=["y", "x"], order=5)
    p = dg.Descriptor(variables=["x"], params=["k"], order=4, param_order=2)
    assert p is dg.Descriptor(variables=["x"], params=["k"], order=4, param_order=2)
    assert p is not dg.Descriptor(variables=["x"], params=["k"], order=4, param_order=1)
    # param_order defaults to the order
    assert dg.Descriptor(variables=["x"], params=["k"], order=4) is dg.Descriptor(
        variables=["x"], params=["k"], order=4, param_order=4
    )


def test_pickle_and_copy_keep_identity():
    import copy

    d = dg.Descriptor(variables=["x"], params=["k"], order=3, param_order=1)
    assert pickle.loads(pickle.dumps(d)) is d
    assert copy.deepcopy(d) is d


def test_names_and_repr():
    d = dg.Descriptor(variables=["x", "y"], params=["k"], order=3, param_order=1)
    assert d.names == ("x", "y", "k")
    assert d.nv == 2 and d.np == 1 and d.nn == 3
    assert d.var_index("k") == 2 and d.var_index("y") == 1 and d.var_index(0) == 0
    assert "params=['k']" in repr(d) and "param_order=1" in repr(d)


@pytest.mark.parametrize(
    "nv,npar,order,param_order",
    [(1, 1, 4, 1), (2, 1, 5, 2), (2, 2, 4, 1), (3, 2, 4, 3), (1, 3, 3, 3)],
)
def test_params_monomials_by_brute_force(nv, npar, order, param_order):
    d = dg.Descriptor(
        variables=[f"v{i}" for i in range(nv)],
        params=[f"p{i}" for i in range(npar)],
        order=order,
        param_order=param_order,
    )
    count = sum(
        1
        for e in itertools.product(range(order + 1), repeat=nv + npar)
        if sum(e) <= order and sum(e[nv:]) <= param_order
    )
    assert d.ncoef == count
    want = truth.monomials(nv, order, npar, param_order)
    assert [tuple(int(v) for v in m) for m in d.monomials] == want
    for i, e in enumerate(want):
        assert d.index(e) == i


def test_param_order_equal_to_order_is_plain_algebra():
    d = dg.Descriptor(variables=["x", "y"], params=["k"], order=3)
    assert d.ncoef == math.comb(3 + 3, 3)


def test_factorials():
    d = dg.Descriptor(nv=3, order=5)
    for f, m in zip(d.factorials, d.monomials, strict=True):
        assert f == math.prod(math.factorial(int(k)) for k in m)


# ------------------------------------------------------------ product tables

TABLE_CASES = [
    dict(nv=2, order=4),
    dict(nv=3, order=3),
    dict(nv=1, order=6),
    dict(nv=4, order=5),
    dict(variables=["x", "y"], params=["k"], order=3, param_order=1),
    dict(variables=["x"], params=["k", "q"], order=5, param_order=2),
]


@pytest.mark.parametrize("kw", TABLE_CASES, ids=lambda kw: str(sorted(kw.items())))
def test_product_tables_by_brute_force(kw):
    d = dg.Descriptor(**kw)
    pair_off, tab = d.mul_tables
    mons = [tuple(int(v) for v in m) for m in d.monomials]
    pos = {e: i for i, e in enumerate(mons)}
    keep = truth.keeper(d)
    blocks = [[i for i, e in enumerate(mons) if sum(e) == k] for k in range(d.order + 1)]
    expected_size = 0
    for ob in range(1, d.order + 1):
        for oa in range(ob, d.order + 1 - ob):
            p = int(pair_off[ob, oa])
            assert p == expected_size, (ob, oa)
            for ii, i in enumerate(blocks[ob]):
                cols = blocks[oa][ii:] if ob == oa else blocks[oa]
                for j in cols:
                    e = tuple(a + b for a, b in zip(mons[i], mons[j], strict=True))
                    want = pos[e] if keep(e) else d.ncoef
                    assert int(tab[p]) == want, (ob, oa, mons[i], mons[j])
                    p += 1
            expected_size = p
    assert tab.size == expected_size


@pytest.mark.parametrize("kw", TABLE_CASES, ids=lambda kw: str(sorted(kw.items())))
def test_shift_tables_by_brute_force(kw):
    d = dg.Descriptor(**kw)
    down, up = d.shift_tables
    mons = [tuple(int(v) for v in m) for m in d.monomials]
    pos = {e: i for i, e in enumerate(mons)}
    keep = truth.keeper(d)
    for v in range(d.nn):
        for i, e in enumerate(mons):
            lower = tuple(k - (w == v) for w, k in enumerate(e))
            higher = tuple(k + (w == v) for w, k in enumerate(e))
            assert down[v, i] == (pos[lower] if e[v] > 0 else d.ncoef)
            assert up[v, i] == (pos[higher] if keep(higher) else d.ncoef)


@pytest.mark.parametrize(
    "kw", TABLE_CASES + [dict(nv=6, order=4)], ids=lambda kw: str(sorted(kw.items()))
)
def test_tree_parents(kw):
    d = dg.Descriptor(**kw)
    parent, var = d.tree
    assert parent[0] == -1
    for i in range(1, d.ncoef):
        assert 0 <= parent[i] < i  # parents precede children
        unit = np.zeros(d.nn, dtype=int)
        unit[var[i]] = 1
        assert np.array_equal(d.monomials[i], d.monomials[parent[i]] + unit)
        # the removed variable is the last one present
        assert var[i] == max(v for v in range(d.nn) if d.monomials[i][v] > 0)


@pytest.mark.parametrize("kw", TABLE_CASES, ids=lambda kw: str(sorted(kw.items())))
def test_tree_dfs_subtrees(kw):
    d = dg.Descriptor(**kw)
    parent, _ = d.tree
    order, end = d.tree_dfs
    assert sorted(order.tolist()) == list(range(d.ncoef))
    assert order[0] == 0 and end[0] == d.ncoef

    def ancestors(i):
        while i != -1:
            yield i
            i = parent[i]

    for p in range(d.ncoef):
        inside = set(order[p : end[p]].tolist())
        want = {i for i in range(d.ncoef) if order[p] in set(ancestors(i))}
        assert inside == want


def test_table_dtype_holds_missing_marker():
    d = dg.Descriptor(nv=3, order=6)
    _, tab = d.mul_tables
    assert np.iinfo(tab.dtype).max >= d.ncoef
    assert not tab.flags.writeable and not d.monomials.flags.writeable


def test_many_variables_beyond_keys_are_refused():
    # (order+1)**nn past int64 would make distinct monomials share a key: refuse, never alias
    with pytest.raises(ValueError, match="monomial keys"):
        dg.Descriptor(nv=33, order=3)
    d = dg.Descriptor(nv=31, order=3)  # 4**31 < 2**63 still works
    xs = d.vars()
    sq = xs[30] * xs[30]
    assert sq.const == 0.0 and sq.coeff((0,) * 30 + (2,)) == 1.0
