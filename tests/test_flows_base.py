"""papers_lib.flows.base: the flows toolkit's time and batch checks, mixture
log-weights and the constant field."""
import pytest
import torch

from papers_lib.flows.base import (ConstantField, as_time, check_batch,
                                   check_same_shape, check_time, log_weights)


def test_as_time_shapes_and_range():
    x = torch.zeros(3, 2, 4)
    assert as_time(0.25, x).shape == ()
    t = torch.tensor([0.0, 0.5, 1.0])
    assert torch.equal(as_time(t, x), t.reshape(3, 1, 1))
    assert as_time(t, x).dtype == x.dtype
    assert torch.equal(check_time(t), t)
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        as_time(-1e-6, x)
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        check_time(torch.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match="t must be a scalar or have shape"):
        as_time(torch.rand(2), x)


def test_batch_checks():
    a, b = torch.zeros(4, 2), torch.ones(4, 2)
    assert check_batch(x0=a, x1=b) == 4
    assert check_batch(x0=a, x1=b, z=a) == 4
    assert check_same_shape(x=torch.zeros(2), x1=torch.ones(2)) == (2,)
    with pytest.raises(ValueError,
                       match=r"x0 and x1 must have the same shape \(n, \.\.\.\)"):
        check_batch(x0=a, x1=torch.zeros(5, 2))
    with pytest.raises(ValueError, match=r"x0, x1 and z must have the same shape"):
        check_batch(x0=a, x1=b, z=torch.zeros(4))
    with pytest.raises(ValueError, match="same shape"):
        check_batch(x0=torch.zeros(4), x1=torch.zeros(4))      # not a batch (n, ...)
    with pytest.raises(TypeError, match="x1 must be a torch.Tensor"):
        check_batch(x0=a, x1=[[0.0, 0.0]])
    with pytest.raises(ValueError, match="x and x1 must have the same shape"):
        check_same_shape(x=a, x1=torch.zeros(4, 3))


def test_log_weights():
    lw = log_weights(torch.tensor([1.0, 1.0, 2.0]), 3, torch.float64)
    ref = torch.tensor([0.25, 0.25, 0.5], dtype=torch.float64)
    assert torch.allclose(lw.exp(), ref)
    assert torch.allclose(log_weights(None, 4, torch.float64).exp().sum(),
                          torch.tensor(1.0, dtype=torch.float64))
    with pytest.raises(ValueError, match="weights must be 3 positive numbers"):
        log_weights(torch.tensor([1.0, 0.0, 1.0]), 3, torch.float64)
    with pytest.raises(ValueError, match="weights must be 3 positive numbers"):
        log_weights(torch.ones(2), 3, torch.float64)


def test_constant_field():
    v = ConstantField(3)
    x = torch.randn(5, 3)
    assert torch.equal(v(torch.rand(5), x), torch.zeros(5, 3))
    v.b.data.fill_(2.0)
    out = v(0.5, x)
    assert torch.equal(out, torch.full((5, 3), 2.0))
    out.sum().backward()
    assert torch.equal(v.b.grad, torch.full((3,), 5.0))     # d/db of sum over 5 rows
    with pytest.raises(ValueError, match="d must be an int >= 1"):
        ConstantField(0)


@pytest.mark.parametrize("t", [float("nan"), torch.tensor([0.5, float("nan")])])
def test_a_nan_time_is_refused(t):
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        as_time(t, torch.zeros(2, 3))
