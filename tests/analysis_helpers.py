"""Pieces shared by the tests of the theory part (`papers_lib.analysis` and its chapters):
float64 as the default dtype, seeded generators, and a tiny seeded classifier with its data."""
import pytest
import torch
from torch import nn

F64 = torch.float64


@pytest.fixture(autouse=True)
def float64_default():
    """Run each test of a module that imports this fixture with float64 as the default."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(F64)
    yield
    torch.set_default_dtype(old)


def gen(seed: int = 0) -> torch.Generator:
    """A CPU generator seeded with `seed`."""
    return torch.Generator().manual_seed(seed)


def tiny_classifier(hidden: int, n: int, seed: int = 0
                    ) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A seeded float64 MLP 4 -> `hidden` -> 3 with tanh, and `n` random inputs with
    labels in {0, 1, 2} drawn from `gen(seed)`."""
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Linear(4, hidden, dtype=F64), nn.Tanh(),
                      nn.Linear(hidden, 3, dtype=F64))
    x = torch.randn(n, 4, dtype=F64, generator=gen(seed))
    y = torch.randint(0, 3, (n,), generator=gen(seed))
    return m, x, y
