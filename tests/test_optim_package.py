"""papers_lib.optim as a package: it exposes every optimizer of the part, and its
re-exports never hide one of its modules."""
import importlib
import inspect
import pkgutil
import types

import torch

import papers_lib.optim as optim


def _modules():
    for info in pkgutil.iter_modules(optim.__path__):
        yield info.name, importlib.import_module(f"papers_lib.optim.{info.name}")


def test_every_exported_name_resolves():
    for name in optim.__all__:
        assert hasattr(optim, name), name


def test_every_public_optimizer_is_reexported():
    found = set()
    for modname, mod in _modules():
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if (inspect.isclass(obj) and issubclass(obj, torch.optim.Optimizer)
                    and modname != "base"):  # the plumbing, not an optimizer
                found.add(name)
                assert name in optim.__all__, f"{modname}.{name} is not in papers_lib.optim"
    assert {"AMSGrad", "Lion", "DiffGrad", "AdEMAMix", "Grams", "OptimisticAMSGrad",
            "DoG", "ExactGaussNewton", "MKOR"} <= found


def test_no_reexport_shadows_a_submodule():
    for modname, mod in _modules():
        assert isinstance(getattr(optim, modname), types.ModuleType), modname
