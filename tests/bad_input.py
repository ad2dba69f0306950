"""The bad-input sweep: one vocabulary for every part's `tests/test_bad_input_<part>.py`.

The standard is torch's own (`torch.optim`, `torch.distributions` with validation on): a
public function given an invalid argument raises a `ValueError` or `TypeError` whose message
names the argument, shows its value and says what is expected; a non-finite input that cannot
be meaningful is refused; nothing loops without bound.

Each part's test file holds

    CASES = [Case("papers_lib.flows.matching.cfm_loss", lambda: cfm_loss(...),
                  ValueError, r"t must be .*, got nan"), ...]
    EXEMPT = {"papers_lib.flows.matching.SomeResult": "a result record: no arguments to check"}

and `test_bad_input_coverage.py` fails when a public function or class of `papers_lib` (a
name in its module's `__all__`, defined in that module) has neither a case nor an exemption
with its reason. `python -m tests.bad_input` prints the count per module.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass
from typing import Callable, Union

import pytest

ErrorTypes = Union[type[BaseException], tuple[type[BaseException], ...]]


@dataclass(frozen=True)
class Case:
    """One bad call of one public name: `call()` must raise `error` with a message
    matching the regex `match` (which should contain the argument's name)."""
    target: str
    call: Callable[[], object]
    error: ErrorTypes
    match: str
    label: str = ""

    def __post_init__(self):
        if not self.target.startswith("papers_lib."):
            raise ValueError(f"target must be a dotted papers_lib name, got {self.target!r}")
        re.compile(self.match)

    @property
    def id(self) -> str:
        return f"{self.target.removeprefix('papers_lib.')}:{self.label or self.match}"


def check(case: Case) -> None:
    """Run one case: the call raises the expected error with the expected message."""
    with pytest.raises(case.error, match=case.match):
        case.call()


def parametrize(cases: list[Case]):
    """`@parametrize(CASES)` over `test_bad_input(case)`, with readable ids."""
    return pytest.mark.parametrize("case", cases, ids=[c.id for c in cases])


def public_names() -> dict[str, list[str]]:
    """Module -> the public functions and classes it defines (names in its `__all__`
    whose `__module__` is that module): what the sweep must cover."""
    import papers_lib
    out: dict[str, list[str]] = {}
    for info in pkgutil.walk_packages(papers_lib.__path__, "papers_lib."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        mod = importlib.import_module(info.name)
        names = [n for n in getattr(mod, "__all__", [])
                 if (inspect.isfunction(getattr(mod, n, None))
                     or inspect.isclass(getattr(mod, n, None)))
                 and getattr(getattr(mod, n), "__module__", None) == info.name]
        if names:
            out[info.name] = sorted(names)
    return out


def collected() -> tuple[list[Case], dict[str, str]]:
    """All cases and exemptions of the test files `tests/test_bad_input_*.py`."""
    import tests
    cases: list[Case] = []
    exempt: dict[str, str] = {}
    for info in pkgutil.iter_modules(tests.__path__):
        if info.name.startswith("test_bad_input_") and info.name != "test_bad_input_coverage":
            mod = importlib.import_module(f"tests.{info.name}")
            cases += getattr(mod, "CASES", [])
            for name, why in getattr(mod, "EXEMPT", {}).items():
                if name in exempt:
                    raise ValueError(f"{name} is exempted twice")
                exempt[name] = why
    return cases, exempt


def report() -> str:
    """Per module: public names, names with a bad-input case, names exempted."""
    cases, exempt = collected()
    covered = {c.target for c in cases}
    lines, tot = [], [0, 0, 0, 0]
    for mod, names in public_names().items():
        full = [f"{mod}.{n}" for n in names]
        k = sum(f in covered for f in full)
        e = sum(f in exempt and f not in covered for f in full)
        n_cases = sum(c.target in full for c in cases)
        tot = [tot[0] + len(full), tot[1] + k, tot[2] + e, tot[3] + n_cases]
        lines.append(f"{mod:42s} {len(full):4d} {k:8d} {e:7d} {n_cases:6d}")
    head = f"{'module':42s} {'public':>4s} {'covered':>8s} {'exempt':>7s} {'cases':>6s}"
    total = f"{'total':42s} {tot[0]:4d} {tot[1]:8d} {tot[2]:7d} {tot[3]:6d}"
    return "\n".join([head, *lines, total])


if __name__ == "__main__":
    print(report())
