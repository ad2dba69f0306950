"""papers_lib.checks: the library's one vocabulary of argument checks."""
import math

import numpy as np
import pytest
import torch

from papers_lib.checks import (check_choice, check_int, check_nonnegative, check_open01,
                               check_positive, check_real, check_same_batch, check_tensor)


@pytest.mark.parametrize("value, kw, ok", [
    (0.0, dict(low=0.0), True), (0.0, dict(low=0.0, low_open=True), False),
    (1.0, dict(high=1.0), True), (1.0, dict(high=1.0, high_open=True), False),
    (math.inf, {}, True), (-math.inf, dict(low=0.0), False), (float("nan"), {}, False),
    (np.float32(0.5), dict(low=0.0, high=1.0), True),
])
def test_check_real_interval(value, kw, ok):
    if ok:
        assert check_real(value, "x", **kw) == float(value)
    else:
        with pytest.raises(ValueError, match=r"^x must be a real number.*, got "):
            check_real(value, "x", **kw)


@pytest.mark.parametrize("value", [True, "1", torch.tensor(1.0), None, 1j])
def test_check_real_refuses_what_is_not_a_real_number(value):
    with pytest.raises(TypeError, match=r"^x must be a real number, got "):
        check_real(value, "x")


def test_named_intervals():
    assert check_positive(1e-12, "s") == 1e-12 and check_nonnegative(0, "lr") == 0.0
    assert check_open01(0.999, "beta") == 0.999
    with pytest.raises(ValueError, match="s must be a real number > 0, got 0"):
        check_positive(0, "s")
    with pytest.raises(ValueError, match="lr must be a real number >= 0, got -1"):
        check_nonnegative(-1, "lr")
    for bad in (0.0, 1.0):
        with pytest.raises(ValueError, match="beta must be a real number > 0, < 1"):
            check_open01(bad, "beta")


@pytest.mark.parametrize("check, value, want", [
    (check_positive, math.inf, "a finite real number > 0"),
    (check_nonnegative, math.inf, "a finite real number >= 0"),
    (check_real, -math.inf, "a finite real number"),
])
def test_finite_refuses_an_infinity_with_the_same_wording(check, value, want):
    assert check(value, "x") == value  # without finite=True an infinity is in range
    assert check(2.0, "x", finite=True) == 2.0
    with pytest.raises(ValueError, match=rf"^x must be {want}, got -?inf$"):
        check(value, "x", finite=True)
    with pytest.raises(ValueError, match=r"^x must be a real number > 0, got 0$"):
        check_positive(0, "x", finite=True)


def test_the_library_spells_finite_one_way():
    """A finite bound is `finite=True`, not an open infinite end spelled out by hand."""
    import pathlib
    import re
    spelled = re.compile(r"check_real\([^)]*math\.inf[^)]*high_open=True", re.S)
    root = pathlib.Path(__file__).parents[1] / "papers_lib"
    hits = [str(p.relative_to(root)) for p in sorted(root.rglob("*.py"))
            if p.name != "checks.py" and spelled.search(p.read_text())]
    assert hits == []


def test_check_int():
    assert check_int(np.int64(4), "k") == 4 and type(check_int(2.0, "k")) is int
    assert check_int(-3, "k", low=-3) == -3
    for bad in (2.5, True, math.inf, float("nan"), "3"):
        with pytest.raises(TypeError, match=r"^k must be an int, got "):
            check_int(bad, "k")
    with pytest.raises(ValueError, match=r"^k must be an int >= 1, got 0$"):
        check_int(0, "k")
    with pytest.raises(ValueError, match=r"^k must be an int >= 2, <= 3, got 4$"):
        check_int(4, "k", 2, 3)


def test_check_choice():
    assert check_choice("a", "kind", "ab") == "a"
    with pytest.raises(ValueError, match=r"^kind must be one of 'a', 'b', got 'c'$"):
        check_choice("c", "kind", ["a", "b"])


def test_tensor_checks():
    x = torch.zeros(3, 2)
    assert check_tensor(x, "x", ndim=2, min_ndim=1, floating=True) is x
    assert check_tensor(torch.zeros(2, dtype=torch.complex64), "z", floating=True).ndim == 1
    with pytest.raises(TypeError, match="^x must be a torch.Tensor, got ndarray$"):
        check_tensor(np.zeros(2), "x")
    with pytest.raises(ValueError, match=r"must have at least 3 dimensions, got shape \(3, 2\)"):
        check_tensor(x, "x", min_ndim=3)
    with pytest.raises(TypeError, match="must be a floating-point tensor, got torch.int64"):
        check_tensor(x.long(), "x", floating=True)
    assert check_same_batch(a=x, b=torch.zeros(3), c=torch.zeros(3, 1, 1)) == 3
    with pytest.raises(ValueError, match="a and b must have the same leading size, got a: 3, b: 2"):
        check_same_batch(a=x, b=torch.zeros(2))
    with pytest.raises(ValueError, match="b must have at least 1 dimensions"):
        check_same_batch(a=x, b=torch.tensor(1.0))
