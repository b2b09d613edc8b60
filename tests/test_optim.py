"""Optimizers and schedulers against torch.optim on identical parameters and gradients."""

import numpy as np
import pytest
import torch

import diffalg as dg
import diffalg.optim as optim
from diffalg.optim import lr_scheduler

SHAPES = [(3, 4), (4,), ()]
TOL = {np.float64: dict(rtol=1e-13, atol=1e-15), np.float32: dict(rtol=2e-6, atol=1e-7)}


def start(dtype, shapes=SHAPES, seed=0):
    """The same initial values as diffalg and torch parameters."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(rng.normal(size=s), dtype=dtype) for s in shapes]
    ours = [dg.from_numpy(a.copy()).requires_grad_() for a in arrays]
    theirs = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    return ours, theirs


def gradients(dtype, steps, shapes=SHAPES, seed=1):
    """Random gradients whose scale changes from step to step (so amsgrad's max matters)."""
    rng = np.random.default_rng(seed)
    scales = [1.0, 3.0, 0.1, 0.5, 2.0, 0.05, 1.5]
    return [
        [np.asarray(scales[k % len(scales)] * rng.normal(size=s), dtype=dtype) for s in shapes]
        for k in range(steps)
    ]


def assign(params, grads, lib):
    for p, g in zip(params, grads, strict=True):
        p.grad = None if g is None else lib.from_numpy(g.copy())


def assert_same(ours, theirs, dtype):
    for p, q in zip(ours, theirs, strict=True):
        assert p.dtype == np.dtype(dtype)
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), **TOL[dtype])


def compare(name, kwargs, dtype, steps=5, groups=None):
    """Step both libraries on the same gradients, comparing parameters after every step."""
    ours, theirs = start(dtype)
    if groups is None:
        a, b = ours, theirs
    else:  # split the params into groups with their own options
        a = [{"params": [ours[i] for i in g["idx"]], **g["opts"]} for g in groups]
        b = [{"params": [theirs[i] for i in g["idx"]], **g["opts"]} for g in groups]
    opt = getattr(optim, name)(a, **kwargs)
    ref = getattr(torch.optim, name)(b, **kwargs)
    for grads in gradients(dtype, steps):
        assign(ours, grads, dg)
        assign(theirs, grads, torch)
        opt.step()
        ref.step()
        assert_same(ours, theirs, dtype)
    return opt, ref


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.05, weight_decay=0.1),
    dict(lr=0.1, momentum=0.8, dampening=0.3),
    dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
    dict(lr=0.1, momentum=0.5, dampening=0.5, weight_decay=0.2, maximize=True),
    dict(),
]
ADAM_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True),
    dict(lr=0.05, betas=(0.3, 0.8), eps=1e-3),  # 1 - beta1 > 0.5: lerp from the far end
    dict(lr=0.05, betas=(0.0, 0.0)),
    dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    dict(),
]
ADAMW_CASES = [dict(), dict(lr=0.01), dict(lr=0.01, weight_decay=0.3, amsgrad=True)]
CASES = (
    [("SGD", c) for c in SGD_CASES]
    + [("Adam", c) for c in ADAM_CASES]
    + [("AdamW", c) for c in ADAMW_CASES]
)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=lambda v: str(v))
def test_matches_torch(name, kwargs, dtype):
    compare(name, kwargs, dtype, steps=6)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_param_groups_with_their_own_options(name):
    groups = [
        dict(idx=[0], opts=dict(lr=0.3)),
        dict(idx=[1, 2], opts=dict(lr=0.02, weight_decay=0.1)),
    ]
    kwargs = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.01)
    opt, ref = compare(name, kwargs, np.float64, groups=groups)
    assert [g["lr"] for g in opt.param_groups] == [0.3, 0.02]
    for ours, theirs in zip(opt.param_groups, ref.param_groups, strict=True):
        for k, v in ours.items():
            if k != "params":
                assert theirs[k] == v, k


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_params_without_grad_are_skipped(name):
    """A parameter with no grad is left alone (Adam's per-parameter step count too)."""
    dtype = np.float64
    ours, theirs = start(dtype)
    kwargs = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.1)
    opt, ref = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    before = ours[0].detach().numpy().copy()
    for k, grads in enumerate(gradients(dtype, 5)):
        grads = [g if (k + i) % 2 else None for i, g in enumerate(grads)]
        assign(ours, grads, dg)
        assign(theirs, grads, torch)
        opt.step()
        ref.step()
        assert_same(ours, theirs, dtype)
        if k == 0:
            np.testing.assert_array_equal(ours[0].detach().numpy(), before)
    if name == "Adam":
        assert [opt.state[p]["step"] for p in ours] == [2, 3, 2]


def test_training_a_small_network_matches_torch():
    """Backward and Adam together: a two-layer net trained the same way in both libraries."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 5)).astype(np.float32)
    y = np.sin(x.sum(1, keepdims=True)).astype(np.float32)
    ours, theirs = start(np.float32, shapes=[(5, 16), (16,), (16, 1), (1,)], seed=4)
    nets = []
    for lib, ps in ((dg, ours), (torch, theirs)):
        X, Y = lib.from_numpy(x), lib.from_numpy(y)
        opt = (optim if lib is dg else torch.optim).Adam(ps, lr=0.01, weight_decay=1e-3)
        nets.append((X, Y, ps, opt))
    for _ in range(10):
        for X, Y, (w1, b1, w2, b2), opt in nets:
            opt.zero_grad()
            loss = (((X @ w1 + b1).tanh() @ w2 + b2 - Y) ** 2).mean()
            loss.backward()
            opt.step()
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_state_buffers_match_torch():
    opt, ref = compare("Adam", dict(lr=0.01, amsgrad=True), np.float64)
    ours, theirs = opt.state_dict(), ref.state_dict()
    assert ours["param_groups"][0]["params"] == theirs["param_groups"][0]["params"]
    assert ours["state"].keys() == theirs["state"].keys()
    for k, s in ours["state"].items():
        assert s.keys() == theirs["state"][k].keys()
        assert s["step"] == int(theirs["state"][k]["step"])
        for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            np.testing.assert_allclose(
                s[name].numpy(), theirs["state"][k][name].numpy(), rtol=1e-13
            )
    opt, ref = compare("SGD", dict(lr=0.1, momentum=0.9), np.float64)
    for k, s in opt.state_dict()["state"].items():
        np.testing.assert_allclose(
            s["momentum_buffer"].numpy(), ref.state_dict()["state"][k]["momentum_buffer"].numpy()
        )


# ------------------------------------------------------------------- zero_grad
def test_zero_grad_sets_to_none_by_default():
    w = dg.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad()
    assert w.grad is None
    opt.zero_grad()  # nothing to clear is fine
    assert w.grad is None


def test_zero_grad_in_place_keeps_the_buffer_and_restarts_accumulation():
    w = dg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    g = w.grad
    version = g._version
    opt.zero_grad(set_to_none=False)
    assert w.grad is g and g._version > version
    np.testing.assert_array_equal(g.numpy(), 0.0)
    (w * w * w).sum().backward()  # 3 w^2, not added to the old 2 w
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 12.0, 27.0])


def test_zero_grad_of_a_gradient_on_the_tape():
    w = dg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w**3).sum().backward(create_graph=True)
    assert w.grad.requires_grad
    opt.zero_grad(set_to_none=False)
    assert not w.grad.requires_grad and w.grad.grad_fn is None
    np.testing.assert_array_equal(w.grad.numpy(), 0.0)


# ------------------------------------------------------------ step and tape
def test_step_bumps_the_version_so_saved_graphs_refuse_backward():
    w = dg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    y = (w * w).sum()
    w.grad = dg.ones(2)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_step_records_nothing_and_keeps_grad():
    w = dg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1, weight_decay=0.5, maximize=True)
    (w * w).sum().backward()
    opt.step()
    assert w.is_leaf and w.grad_fn is None and w.requires_grad
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])  # the gradient is not changed


def test_closure_runs_with_grad_enabled_and_its_loss_is_returned():
    w = dg.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = ((w - 1) ** 2).sum()
        loss.backward()
        return loss

    with dg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0
    assert w.item() == 2.0  # 3 - 0.25 * 2 * (3 - 1)
    assert opt.step() is None


def test_named_parameters():
    w, b = dg.zeros(2, requires_grad=True), dg.zeros(1, requires_grad=True)
    opt = optim.SGD([("w", w), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["params"][0] is w
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]
    with pytest.raises(ValueError, match="names"):
        optim.SGD([("w", w), b], lr=0.1)
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [dg.zeros(1, requires_grad=True)]})


def test_add_param_group_fills_defaults():
    w, b = dg.zeros(2, requires_grad=True), dg.zeros(1, requires_grad=True)
    opt = optim.Adam([w], lr=0.01, betas=(0.8, 0.9))
    opt.add_param_group({"params": b, "lr": 0.5})
    g = opt.param_groups[1]
    assert g["params"] == [b] and g["lr"] == 0.5 and g["betas"] == (0.8, 0.9)
    ref = torch.optim.Adam([torch.zeros(2, requires_grad=True)], lr=0.01, betas=(0.8, 0.9))
    ref.add_param_group({"params": torch.zeros(1, requires_grad=True), "lr": 0.5})
    for k in g:
        if k != "params":
            assert ref.param_groups[1][k] == g[k]


def test_repr_lists_the_groups():
    opt = optim.SGD([dg.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n") and text.endswith("\n)")
    assert "    lr: 0.1\n" in text and "    momentum: 0.9\n" in text


# ------------------------------------------------------------ state_dict
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
        ("Adam", dict(lr=0.01, amsgrad=True)),
        ("AdamW", dict(lr=0.01)),
    ],
)
def test_state_dict_round_trip_continues_the_same_run(name, kwargs):
    dtype = np.float64
    grads = gradients(dtype, 8)
    ours, _ = start(dtype)
    opt = getattr(optim, name)(ours, **kwargs)
    for g in grads[:4]:
        assign(ours, g, dg)
        opt.step()
    saved = opt.state_dict()
    snapshot = {k: {n: np.array(v) for n, v in s.items()} for k, s in saved["state"].items()}
    # a fresh optimizer on copies of the parameters, restored from the dict
    copies = [dg.from_numpy(p.detach().numpy().copy()).requires_grad_() for p in ours]
    restored = getattr(optim, name)(copies, lr=123.0)
    restored.load_state_dict(saved)
    assert restored.param_groups[0]["lr"] == kwargs["lr"]
    for g in grads[4:]:
        assign(ours, g, dg)
        assign(copies, g, dg)
        opt.step()
        restored.step()
    for p, q in zip(ours, copies, strict=True):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    # the saved dict was a copy: stepping on changed neither it nor through it
    for k, s in saved["state"].items():
        for n, v in s.items():
            np.testing.assert_array_equal(np.array(v), snapshot[k][n])


def test_state_dict_layout_is_torchs():
    ours, theirs = start(np.float64)
    groups = lambda ps: [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.5}]  # noqa: E731
    opt = optim.SGD(groups(ours), lr=0.1, momentum=0.9)
    ref = torch.optim.SGD(groups(theirs), lr=0.1, momentum=0.9)
    sd, tsd = opt.state_dict(), ref.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    assert sd["state"] == {}


def test_load_state_dict_accepts_arrays_and_casts_to_the_param_dtype():
    w = dg.zeros(3, requires_grad=True)  # float32
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    buf = np.array([1.0, 2.0, 3.0])  # float64
    opt.load_state_dict(
        {"state": {"0": {"momentum_buffer": buf}}, "param_groups": [{"lr": 0.1, "params": [0]}]}
    )
    got = opt.state[w]["momentum_buffer"]
    assert got.dtype == np.float32 and got.numpy() is not buf
    assert opt.param_groups[0]["momentum"] == 0.5  # options missing from the dict keep defaults
    w.grad = dg.ones(3)
    opt.step()  # b = 0.5 b + g
    np.testing.assert_allclose(w.detach().numpy(), -0.1 * np.array([1.5, 2.0, 2.5]), rtol=1e-6)


def test_adamw_stays_decoupled_after_loading():
    w = dg.zeros(2, requires_grad=True)
    opt = optim.AdamW([w])
    sd = opt.state_dict()
    sd["param_groups"][0]["decoupled_weight_decay"] = False
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


def test_amsgrad_switched_on_later():
    """Turning amsgrad on after some steps starts its maximum from the current average."""
    dtype = np.float64
    ours, theirs = start(dtype, shapes=[(5,)])
    opt, ref = optim.Adam(ours, lr=0.01), torch.optim.Adam(theirs, lr=0.01)
    for k, grads in enumerate(gradients(dtype, 5, shapes=[(5,)])):
        if k == 2:
            opt.param_groups[0]["amsgrad"] = True
            ref.param_groups[0]["amsgrad"] = True
            ref.state[theirs[0]]["max_exp_avg_sq"] = torch.zeros(5, dtype=torch.float64)
        assign(ours, grads, dg)
        assign(theirs, grads, torch)
        opt.step()
        ref.step()
        assert_same(ours, theirs, dtype)


# ------------------------------------------------------------------ errors
def p():
    return dg.zeros(2, requires_grad=True)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: optim.SGD([p()], lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
        (lambda: optim.SGD([p()], lr=0.1, momentum=-0.5), ValueError, "Invalid momentum value"),
        (lambda: optim.SGD([p()], weight_decay=-1), ValueError, "Invalid weight_decay value"),
        (lambda: optim.SGD([p()], nesterov=True), ValueError, "Nesterov momentum requires"),
        (
            lambda: optim.SGD([p()], momentum=0.9, dampening=0.1, nesterov=True),
            ValueError,
            "zero dampening",
        ),
        (lambda: optim.Adam([p()], lr=-1e-3), ValueError, "Invalid learning rate: -0.001"),
        (lambda: optim.Adam([p()], eps=-1e-8), ValueError, "Invalid epsilon value"),
        (lambda: optim.Adam([p()], betas=(1.0, 0.9)), ValueError, "beta parameter at index 0"),
        (lambda: optim.AdamW([p()], betas=(0.9, -0.1)), ValueError, "beta parameter at index 1"),
        (lambda: optim.Adam([p()], betas=(0.9,)), ValueError, "pair"),
        (lambda: optim.AdamW([p()], weight_decay=-0.1), ValueError, "Invalid weight_decay"),
        (lambda: optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
        (lambda: optim.SGD(iter([]), lr=0.1), ValueError, "empty parameter list"),
        (lambda: optim.SGD(p(), lr=0.1), TypeError, "iterable of Tensors or dicts"),
        (lambda: optim.SGD([np.zeros(2)], lr=0.1), TypeError, "only optimize Tensors"),
        (lambda: optim.SGD({p()}, lr=0.1), TypeError, "ordered collections"),
        (lambda: optim.SGD([{"params": {p()}}], lr=0.1), TypeError, "ordered collections"),
        (lambda: optim.SGD([{"lr": 0.1}], lr=0.1), ValueError, "'params'"),
        (lambda: optim.SGD([{"params": [p()], "lr": -2}]), ValueError, "Invalid learning rate"),
        (
            lambda: optim.SGD([dg.Descriptor(nv=1, order=2).vars([1.0])[0]]),
            TypeError,
            "real tensors",
        ),
    ],
)
def test_bad_options_and_params_raise(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_non_leaf_tensors_cannot_be_optimized():
    w = p()
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([{"params": [w]}, {"params": [w + 1]}])
    y = w * 2
    y.retain_grad()  # as in PyTorch, a non-leaf that retains its grad is allowed
    optim.SGD([y], lr=0.1)


def test_a_parameter_given_twice_raises():
    w, b = p(), p()
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([w, b, w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [b, w]}], lr=0.1)
    opt = optim.Adam([w, b])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [b]})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([p()])
    assert len(opt.param_groups) == 1


def test_required_option_missing_from_a_group():
    class Plain(optim.Optimizer):
        def __init__(self, params, lr=optim.required):
            super().__init__(params, dict(lr=lr))

    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Plain([p()])
    assert Plain([{"params": [p()], "lr": 0.1}]).param_groups[0]["lr"] == 0.1
    with pytest.raises(NotImplementedError):
        Plain([p()], lr=0.1).step()


def test_gradient_of_the_wrong_shape_raises():
    w = p()
    w.grad = dg.ones(3)
    for opt in (optim.SGD([w], lr=0.1), optim.Adam([w])):
        with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*shape \(2,\)"):
            opt.step()


def test_load_state_dict_errors():
    w, b = p(), p()
    opt = optim.SGD([{"params": [w]}, {"params": [b]}], lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([w, b], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([{"params": [w]}, {"params": [b, p()]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    bad = {"state": {0: {"momentum_buffer": np.zeros(5)}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match=r"shape \(5,\).*shape \(2,\)"):
        opt.load_state_dict(bad)
    bad = {"state": {7: {"momentum_buffer": np.zeros(2)}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match="no group holds"):
        opt.load_state_dict(bad)
    bad = {"state": {}, "param_groups": [dict(g, momentum=-1.0) for g in sd["param_groups"]]}
    with pytest.raises(ValueError, match="Invalid momentum"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["momentum"] == 0.9  # a failed load changes nothing


# -------------------------------------------------------------- schedulers
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("StepLR", dict(step_size=3, gamma=0.3)), ("ExponentialLR", dict(gamma=0.9))],
)
def test_schedulers_match_torch(name, kwargs):
    opt = optim.SGD([{"params": [p()]}, {"params": [p()], "lr": 0.5}], lr=0.1)
    tp = lambda: torch.zeros(2, requires_grad=True)  # noqa: E731
    ref = torch.optim.SGD([{"params": [tp()]}, {"params": [tp()], "lr": 0.5}], lr=0.1)
    s, t = (
        getattr(lr_scheduler, name)(opt, **kwargs),
        getattr(torch.optim.lr_scheduler, name)(ref, **kwargs),
    )
    for _ in range(10):
        assert s.get_last_lr() == t.get_last_lr()
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in ref.param_groups]
        opt.step()
        ref.step()
        s.step()
        t.step()
    assert s.last_epoch == t.last_epoch == 10
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.5]
    # resuming: a new scheduler from the saved state carries on the same schedule
    resumed = getattr(lr_scheduler, name)(opt, last_epoch=s.last_epoch - 1, **kwargs)
    resumed.load_state_dict(s.state_dict())
    resumed.step()
    t.step()
    assert resumed.get_last_lr() == t.get_last_lr()


def test_scheduler_errors():
    opt = optim.SGD([p()], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.ExponentialLR(opt, gamma=0.5, last_epoch=3)
    with pytest.raises(ValueError, match="step_size"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)


def test_constructing_a_scheduler_never_changes_the_lr():
    """Also when resuming at an epoch where the schedule would step (as torch's ExponentialLR)."""
    opt = optim.SGD([p()], lr=0.1)
    s = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(5):
        s.step()
    assert opt.param_groups[0]["lr"] == 0.1 * 0.5**2  # epoch 5
    resumed = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5, last_epoch=s.last_epoch)
    assert resumed.last_epoch == 6 and opt.param_groups[0]["lr"] == 0.1 * 0.5**2
    assert resumed.base_lrs == [0.1]
