"""A small regression problem shared by the optimizer tests: the same network, data and loss,
so that every optimizer is compared with its reference on identical iterates, and the
checks that several optimizer tests make in the same way."""
import copy

import pytest
import torch


def small_net() -> torch.nn.Module:
    """A seeded 4-8-2 tanh MLP."""
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(),
                               torch.nn.Linear(8, 2))


_gen = torch.Generator().manual_seed(1)
X, Y = torch.randn(32, 4, generator=_gen), torch.randn(32, 2, generator=_gen)


def mse_loss(net: torch.nn.Module) -> torch.Tensor:
    """Mean squared error of `net` on (X, Y)."""
    return ((net(X) - Y) ** 2).mean()


def flat_params(net: torch.nn.Module) -> torch.Tensor:
    """All parameters of `net`, detached, as one vector."""
    return torch.cat([p.detach().flatten() for p in net.parameters()])


MIXED = [((3, 4), torch.float32), ((5,), torch.float64), ((2, 2), torch.complex64)]


def both_paths(make_opt, steps: int = 6, specs=MIXED, seed: int = 0):
    """Run `make_opt(params, foreach=...)` on two identical copies of mixed-dtype
    parameters (float32, float64, complex64 by default), the per-tensor path on one and
    the multi-tensor path on the other, with the same random gradients for `steps` steps.
    Returns the two parameter lists, their optimizers and the starting values."""
    gen = torch.Generator().manual_seed(seed)
    p1 = [torch.randn(s, dtype=d, generator=gen).requires_grad_() for s, d in specs]
    p2 = [p.detach().clone().requires_grad_() for p in p1]
    start = [p.detach().clone() for p in p1]
    o1, o2 = make_opt(p1, foreach=False), make_opt(p2, foreach=True)
    for _ in range(steps):
        grads = [torch.randn(p.shape, dtype=p.dtype, generator=gen) for p in p1]
        for a, b, g in zip(p1, p2, grads):
            a.grad, b.grad = g.clone(), g.clone()
        o1.step()
        o2.step()
    return p1, p2, o1, o2, start


def assert_paths_equal(make_opt, keys, steps: int = 6, specs=MIXED, seed: int = 0):
    """`both_paths`, then: the parameters and the state tensors under `keys` are
    identical on the two paths, and every parameter moved. Returns the two optimizers."""
    p1, p2, o1, o2, start = both_paths(make_opt, steps, specs, seed)
    for a, b, s in zip(p1, p2, start):
        assert torch.equal(a, b)
        assert not torch.equal(a, s)
        for key in keys:
            assert torch.equal(o1.state[a][key], o2.state[b][key]), key
    return o1, o2


def train(make_opt, steps: int = 20, net=None):
    """`steps` steps of `make_opt(params)` on `mse_loss` of `net` (default a fresh
    `small_net()`); returns the network and the optimizer."""
    net = small_net() if net is None else net
    opt = make_opt(net.parameters())
    for _ in range(steps):
        opt.zero_grad()
        mse_loss(net).backward()
        opt.step()
    return net, opt


def assert_resumes_exactly(make_opt, make_fresh, steps: int, at: int):
    """Train two copies of `small_net` with `make_opt`; at step `at` save the second one
    (network and optimizer state), rebuild it from scratch with `make_fresh(params)` and
    load the saved state. The two runs must end identical; returns the resumed optimizer
    (its hyperparameters come from the checkpoint)."""
    net_a, net_b = small_net(), small_net()
    opt_a, opt_b = make_opt(net_a.parameters()), make_opt(net_b.parameters())
    for k in range(steps):
        if k == at:
            saved_net = copy.deepcopy(net_b.state_dict())
            saved_opt = copy.deepcopy(opt_b.state_dict())
            net_b = small_net()
            net_b.load_state_dict(saved_net)
            opt_b = make_fresh(net_b.parameters())
            opt_b.load_state_dict(saved_opt)
        for net, opt in ((net_a, opt_a), (net_b, opt_b)):
            opt.zero_grad()
            mse_loss(net).backward()
            opt.step()
    assert torch.equal(flat_params(net_a), flat_params(net_b))
    return opt_b


def assert_maximize_is_minimize_of_negative(cls, steps: int = 10, **kw):
    """`cls(..., maximize=True)` on -f takes the steps of `cls(...)` on f = ||x||^2."""
    x1 = torch.tensor([1.0, -1.0], requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    o1, o2 = cls([x1], maximize=True, **kw), cls([x2], **kw)
    for _ in range(steps):
        o1.zero_grad()
        o2.zero_grad()
        (-(x1 ** 2).sum()).backward()
        (x2 ** 2).sum().backward()
        o1.step()
        o2.step()
    assert torch.equal(x1, x2)


def assert_refused(cls, kw: dict, match: str, exc=ValueError):
    """`cls` refuses the hyperparameters `kw` with `exc`, its message matching
    `match`."""
    with pytest.raises(exc, match=match):
        cls([torch.zeros(2, requires_grad=True)], **kw)


def assert_group_refused(opt, kw: dict, match: str, exc=ValueError):
    """`opt.add_param_group` refuses a group with the hyperparameters `kw` (with `exc`,
    its message matching `match`) and adds nothing."""
    n = len(opt.param_groups)
    with pytest.raises(exc, match=match):
        opt.add_param_group({"params": [torch.zeros(2, requires_grad=True)], **kw})
    assert len(opt.param_groups) == n
