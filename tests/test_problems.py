"""papers_lib.optim.problems: known minima and closed forms, and bad input."""
import pytest
import torch

from papers_lib.optim.problems import (DigitsMLP, Quadratic, adding_problem, online_linear,
                                       rosenbrock, small_net)


def test_rosenbrock_minimum_and_gradient():
    assert rosenbrock(torch.ones(2, 7)).eq(0).all()
    x = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(rosenbrock, (x,))
    (g,) = torch.autograd.grad(rosenbrock(x), x)
    expected = torch.tensor([-400 * -1.2 * (1 - 1.44) - 2 * 2.2, 200 * (1 - 1.44)]).double()
    torch.testing.assert_close(g, expected)
    with pytest.raises(ValueError, match="d >= 2"):
        rosenbrock(torch.zeros(3, 1))


def test_quadratic_gradient_descent_rate_matches_theory():
    q = Quadratic(dim=8, condition=50.0, seed=3)
    x = torch.zeros(8, dtype=torch.float64)
    e0 = (x - q.x_star).norm()
    step, rate = 2 / (1 + 50.0), (50.0 - 1) / (50.0 + 1)
    for _ in range(30):
        x = x - step * (q.H @ (x - q.x_star))
    assert (x - q.x_star).norm() <= e0 * rate**30 * (1 + 1e-9)
    assert q.gap(q.x_star) == 0 and q.gap(x) > 0


def test_noisy_quadratic_is_unbiased():
    q, qn = Quadratic(4, 10.0, seed=0), Quadratic(4, 10.0, noise=1.0, seed=0)
    x = torch.ones(4, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(q(x), x)
    gs = torch.stack([torch.autograd.grad(qn(x), x)[0] for _ in range(5000)])
    assert (gs.mean(0) - g).abs().max() < 0.06
    assert (gs.std(0) - 1).abs().max() < 0.05


@pytest.mark.parametrize("kw, msg", [({"dim": 0}, "dim"), ({"condition": 0.5}, "condition"),
                                     ({"noise": -1.0}, "noise")])
def test_quadratic_bad_input(kw, msg):
    with pytest.raises(ValueError, match=msg):
        Quadratic(**kw)


def test_online_linear_average_is_minimised_at_minus_one():
    x = torch.tensor(1.0)
    avg = sum(online_linear(x, t) for t in range(1, 101 * 3 + 1)) / (101 * 3)
    assert avg > 0  # so the average loss C x grows with x: the optimum on [-1, 1] is -1
    with pytest.raises(ValueError, match="t must be an int >= 1"):
        online_linear(x, 0)


def test_adding_problem():
    x, y = adding_problem(1000, 20, seed=1)
    assert x.shape == (1000, 20, 2) and y.shape == (1000,)
    marks = x[..., 1]
    assert (marks[:, :10].sum(1) == 1).all() and (marks[:, 10:].sum(1) == 1).all()
    torch.testing.assert_close(y, (x[..., 0] * marks).sum(1))
    assert torch.equal(adding_problem(5, 20, seed=1)[0], adding_problem(5, 20, seed=1)[0])
    with pytest.raises(ValueError, match="T must be an int >= 2"):
        adding_problem(3, 1)


def test_digits_mlp_split_and_learning():
    task = DigitsMLP(hidden=16, seed=0)
    assert len(task.y_train) == 1497 and len(task.y_test) == 300
    opt = torch.optim.Adam(task.model.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        task.loss().backward()
        opt.step()
    assert task.accuracy() > 0.85
    with pytest.raises(ValueError, match="hidden must be an int >= 1"):
        DigitsMLP(hidden=0)


def test_small_net_is_seeded_and_equals_the_hand_written_network():
    a, b = small_net(3), small_net(3)
    torch.manual_seed(3)
    ref = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(),
                              torch.nn.Linear(16, 3))
    for p, q, r in zip(a.parameters(), b.parameters(), ref.parameters()):
        assert torch.equal(p, q) and torch.equal(p, r)
    assert not torch.equal(small_net(4)[0].weight, a[0].weight)
    assert a(torch.zeros(2, 5)).shape == (2, 3)
