"""Tests of papers_lib.optim.clipping (chapter nbs/optimizers/13_rnn_clipping.ipynb)."""
import math

import pytest
import torch

from papers_lib.optim.clipping import TanhRNN, vanishing_gradient_regularizer


def _paper_clip(grads, threshold):
    """Algorithm 1 of Pascanu et al. (2013), transcribed."""
    norm = torch.sqrt(sum((g**2).sum() for g in grads))
    return [g * threshold / norm for g in grads] if norm >= threshold else grads


def _copy_to_rnn(model, m):
    """torch.nn.RNN and nn.Linear with the weights of member m of `model`."""
    rnn = torch.nn.RNN(model.input_size, model.hidden_size, batch_first=True)
    lin = torch.nn.Linear(model.hidden_size, model.weight_out.shape[1])
    rnn, lin = rnn.to(model.weight_hh.dtype), lin.to(model.weight_hh.dtype)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(model.weight_ih[m])
        rnn.weight_hh_l0.copy_(model.weight_hh[m])
        rnn.bias_ih_l0.copy_(model.bias_ih[m])
        rnn.bias_hh_l0.copy_(model.bias_hh[m])
        lin.weight.copy_(model.weight_out[m])
        lin.bias.copy_(model.bias_out[m])
    return rnn, lin


def _by_hand(model, x, y):
    """Omega (sum over k, mean over the batch) for a one-member tanh RNN whose loss is
    the MSE of its output: delta by the backward recursion, the terms by the formula."""
    with torch.no_grad():
        out, hs = model(x)
        W, wo = model.weight_hh[0], model.weight_out[0, 0]
        h = [s[0] for s in hs]
        T, n = x.shape[1], x.shape[0]
        delta = [None] * (T + 1)
        delta[T] = (2 * (out[0, :, 0] - y) / n)[:, None] * wo
        for k in range(T - 1, 0, -1):
            delta[k] = (delta[k + 1] * (1 - h[k + 1] ** 2)) @ W
        total = 0.0
        for k in range(T):
            num = ((delta[k + 1] * (1 - h[k + 1] ** 2)) @ W).norm(dim=1)
            total = total + ((num / delta[k + 1].norm(dim=1) - 1) ** 2).mean()
    return total


@pytest.mark.parametrize("threshold", [1e-3, 0.7, 5.0, 1e4])
def test_paper_clipping_rule_is_torch_clip_grad_norm(threshold):
    torch.manual_seed(0)
    net = torch.nn.RNN(3, 6, batch_first=True)
    out, _ = net(torch.randn(5, 9, 3))
    out.pow(2).sum().mul(3).backward()
    ours = _paper_clip([p.grad.clone() for p in net.parameters()], threshold)
    before = torch.nn.utils.clip_grad_norm_(net.parameters(), threshold)
    full = torch.sqrt(sum((g**2).sum() for g in ours))
    for a, p in zip(ours, net.parameters()):
        torch.testing.assert_close(a, p.grad, rtol=1e-5, atol=0)
    expected = min(threshold, before.item())
    assert full.item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("members", [1, 3])
def test_members_match_torch_rnn(members):
    torch.manual_seed(1)
    model = TanhRNN(2, 5, 2, members=members).double()
    x = torch.randn(4, 7, 2, dtype=torch.float64)
    y, states = model(x)
    assert len(states) == 8 and y.shape == (members, 4, 2)
    for m in range(members):
        rnn, lin = _copy_to_rnn(model, m)
        out, hT = rnn(x)
        torch.testing.assert_close(torch.stack(states[1:], 2)[m], out)
        torch.testing.assert_close(y[m], lin(hT[0]))


def test_members_are_independent():
    torch.manual_seed(2)
    model = TanhRNN(2, 4, 1, members=3)
    y, _ = model(torch.randn(3, 4, 6, 2))           # one input per member
    y[1].sum().backward()
    for p in model.parameters():
        assert p.grad[0].abs().sum() == 0 and p.grad[2].abs().sum() == 0
        assert p.grad[1].abs().sum() > 0


def test_one_unit_gradient_matches_closed_form():
    """h_t = tanh(w h_{t-1} + b), no input: dh_T/dw = sum_k prod_{i>k} J_i (1-h_k^2) h_{k-1}."""
    T, h0 = 30, 0.5
    for w_val, b_val in [(0.5, 0.1), (1.3, -0.2), (1.49, -0.2), (2.5, 0.3)]:
        model = TanhRNN(1, 1, 1).double()
        with torch.no_grad():
            model.weight_hh.fill_(w_val)
            model.bias_hh.fill_(b_val)
            model.weight_ih.zero_()
            model.bias_ih.zero_()
        h_init = torch.full((1, 1, 1), h0, dtype=torch.float64)
        _, states = model(torch.zeros(1, T, 1, dtype=torch.float64), h0=h_init)
        grad, = torch.autograd.grad(states[-1].sum(), model.weight_hh)
        hs = [h0] + [s.item() for s in states[1:]]
        total, carry = 0.0, 1.0
        for k in range(T, 0, -1):
            total += carry * (1 - hs[k] ** 2) * hs[k - 1]
            carry *= w_val * (1 - hs[k] ** 2)
        assert grad.item() == pytest.approx(total, rel=1e-9, abs=1e-12)


def _omega_problem(seed, batch, T):
    """A seeded float64 TanhRNN(2, 3, 1) on random data: model, x, y, states, the
    squared loss and Omega summed over the steps."""
    torch.manual_seed(seed)
    model = TanhRNN(2, 3, 1).double()
    x = torch.randn(batch, T, 2, dtype=torch.float64)
    y = torch.randn(batch, dtype=torch.float64)
    out, states = model(x)
    loss = ((out[0, :, 0] - y) ** 2).mean()
    omega = vanishing_gradient_regularizer(loss, states, model.cell, x[None],
                                           reduction="sum")
    return model, x, y, states, loss, omega


def test_omega_against_hand_computation():
    model, x, y, states, loss, omega = _omega_problem(3, 5, 6)
    torch.testing.assert_close(omega, _by_hand(model, x, y))
    terms = vanishing_gradient_regularizer(loss, states, model.cell, x[None],
                                           reduction="none")
    assert terms.shape == (1, 5, 6)
    mean = vanishing_gradient_regularizer(loss, states, model.cell, x[None])
    torch.testing.assert_close(mean, terms.mean())
    torch.testing.assert_close(omega, terms.sum(-1).mean())


def test_omega_gradient_treats_delta_and_states_as_constants():
    """d Omega / d W_hh equals the gradient of the hand formula with delta_{k+1} and the
    previous states h_k detached (the immediate derivative of the paper)."""
    model, x, y, states, loss, omega = _omega_problem(4, 4, 5)
    g_ours, = torch.autograd.grad(omega, model.weight_hh)
    deltas = torch.autograd.grad(loss, states[1:])
    ref = 0.0
    for k in range(5):
        h_next = model.cell(x[None, :, k], states[k].detach())[0]     # recomputed step
        d = deltas[k].detach()[0]
        num = ((d * (1 - h_next**2)) @ model.weight_hh[0]).norm(dim=1)
        ref = ref + ((num / d.norm(dim=1) - 1) ** 2).mean()
    g_ref, = torch.autograd.grad(ref, model.weight_hh)
    torch.testing.assert_close(omega, ref)
    torch.testing.assert_close(g_ours, g_ref)
    assert g_ours.abs().sum() > 0


def test_omega_is_zero_for_norm_preserving_steps():
    """A linear 'cell' with an orthogonal matrix preserves every norm: Omega = 0; scaling
    it by s makes each term (s - 1)^2."""
    torch.manual_seed(5)
    Q, _ = torch.linalg.qr(torch.randn(4, 4, dtype=torch.float64))
    for s in [1.0, 0.5, 2.0]:
        W = (s * Q).requires_grad_()
        cell = lambda x, h: h @ W.T + x          # noqa: E731
        x = torch.randn(3, 6, 4, dtype=torch.float64)
        states = [torch.zeros(3, 4, dtype=torch.float64)]
        for t in range(6):
            states.append(cell(x[:, t], states[-1]))
        loss = states[-1].pow(2).sum() + states[2].sum()
        terms = vanishing_gradient_regularizer(loss, states, cell, x, reduction="none")
        torch.testing.assert_close(terms, torch.full((3, 6), (s - 1) ** 2,
                                                     dtype=torch.float64))


def test_omega_leaves_out_zero_deltas():
    """States after the last one the loss depends on have delta = 0: no term, no NaN."""
    torch.manual_seed(6)
    model = TanhRNN(2, 3, 1).double()
    x = torch.randn(2, 5, 2, dtype=torch.float64)
    _, states = model(x)
    loss = states[2].pow(2).sum()                    # depends on h_1, h_2 only
    terms = vanishing_gradient_regularizer(loss, states, model.cell, x[None],
                                           reduction="none")
    assert torch.all(terms[..., 2:] == 0) and torch.all(terms[..., :2] > 0)
    omega = vanishing_gradient_regularizer(loss, states, model.cell, x[None])
    torch.testing.assert_close(omega, terms[..., :2].mean())
    g, = torch.autograd.grad(omega, model.weight_hh)
    assert g.isfinite().all()


def test_omega_float32_with_tiny_deltas():
    """Dividing by ||delta|| before the Jacobian product keeps float32 finite."""
    torch.manual_seed(7)
    model = TanhRNN(2, 8, 1)
    with torch.no_grad():
        model.weight_hh.mul_(0.05)                   # strongly vanishing
    x = torch.randn(4, 40, 2)
    out, states = model(x)
    loss = out.pow(2).mean() * 1e-20
    omega = vanishing_gradient_regularizer(loss, states, model.cell, x[None], bound=0.0)
    g, = torch.autograd.grad(omega, model.weight_hh)
    assert omega.isfinite() and g.isfinite().all() and omega > 0.5


def test_bad_input():
    model = TanhRNN(2, 3, 1)
    x = torch.randn(4, 5, 2)
    out, states = model(x)
    loss = out.pow(2).mean()
    with pytest.raises(ValueError, match="scalar"):
        vanishing_gradient_regularizer(out.pow(2), states, model.cell, x[None])
    with pytest.raises(ValueError, match="scalar"):
        vanishing_gradient_regularizer(loss.detach(), states, model.cell, x[None])
    with pytest.raises(ValueError, match="T \\+ 1 states"):
        vanishing_gradient_regularizer(loss, states[:-1], model.cell, x[None])
    with pytest.raises(ValueError, match="T \\+ 1 states"):
        vanishing_gradient_regularizer(loss, states, model.cell, torch.randn(5))
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum'"):
        vanishing_gradient_regularizer(loss, states, model.cell, x[None], reduction="max")
    with pytest.raises(ValueError, match="bound"):
        vanishing_gradient_regularizer(loss, states, model.cell, x[None], bound=-1.0)
    with pytest.raises(ValueError, match="bound"):
        vanishing_gradient_regularizer(loss, states, model.cell, x[None],
                                       bound=math.nan)
    for kw in [dict(input_size=0, hidden_size=3),
               dict(input_size=2, hidden_size=3, members=0)]:
        with pytest.raises(ValueError, match="must be an int >= 1"):
            TanhRNN(**kw)
    for kw in [dict(input_size=2, hidden_size=2.5),
               dict(input_size=2, hidden_size=3, output_size=True)]:
        with pytest.raises(TypeError, match="must be an int, got"):
            TanhRNN(**kw)
    with pytest.raises(ValueError, match="x must be"):
        model(torch.randn(4, 5, 3))
    with pytest.raises(ValueError, match="x must be"):
        TanhRNN(2, 3, members=2)(torch.randn(3, 4, 5, 2))
