"""A small regression problem shared by the optimizer tests: the same network, data and loss,
so that every optimizer is compared with its reference on identical iterates."""
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
