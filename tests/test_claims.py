"""papers_lib.claims: seeds with a global offset, claim lines, verdicts, parsing."""
import pytest
import torch

from papers_lib.claims import (SEED_OFFSET_ENV, Claim, ClaimFailed, claim, not_tested,
                               parse_line, seed, seed_offset, seeds)


def test_seeds_move_with_the_offset(monkeypatch):
    monkeypatch.delenv(SEED_OFFSET_ENV, raising=False)
    assert seed_offset() == 0 and seed(4) == 4 and seeds(3, start=2) == [2, 3, 4]
    monkeypatch.setenv(SEED_OFFSET_ENV, "1000")
    assert seed_offset() == 1000 and seed(4) == 1004 and seeds(2) == [1000, 1001]


@pytest.mark.parametrize("raw", ["-1", "abc", "1.5"])
def test_bad_offset_is_refused(monkeypatch, raw):
    monkeypatch.setenv(SEED_OFFSET_ENV, raw)
    with pytest.raises(ValueError, match="must be an int >= 0"):
        seed_offset()


@pytest.mark.parametrize("call, err, match", [
    (lambda: seed(-1), ValueError, "seed number k must be an int >= 0, got -1"),
    (lambda: seed(1.5), TypeError, "seed number k must be an int, got 1.5"),
    (lambda: seeds(0), ValueError, "n must be an int >= 1, got 0"),
    (lambda: seeds(True), TypeError, "n must be an int, got True")])
def test_bad_seed_arguments(call, err, match):
    with pytest.raises(err, match=match):
        call()


def _c(**kw):
    base = dict(id="c", statement="s", values=[1.0, 2.0, 3.0], op="<", threshold=2.5,
                source="paper: Fig. 1")
    return Claim(**(base | kw))


def test_rules():
    assert _c().met == (True, True, False)
    assert _c().holds is False                       # all: one seed misses
    assert _c(rule="majority").holds is True         # 2 of 3
    assert _c(rule="mean").holds is True             # mean 2 < 2.5
    assert _c(values=[1, 3, 3], rule="majority").holds is False
    assert _c(op=">=", threshold=1.0).holds is True
    assert _c(op=None, threshold=None, verdict="not reproduced").holds is None


def test_mean_and_sample_std():
    c = _c(values=[1.0, 2.0, 4.0])
    assert c.mean == pytest.approx(7 / 3)
    assert c.std == pytest.approx(torch.tensor([1.0, 2.0, 4.0]).std().item())


def test_values_accept_tensors_and_scalars():
    x = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)
    assert _c(values=x * 2).values == pytest.approx((0.2, 0.4, 0.6))
    assert _c(values=torch.tensor(0.5), deterministic=True).values == (0.5,)
    assert _c(values=3, deterministic=True).values == (3.0,)


@pytest.mark.parametrize("kw, match", [
    (dict(values=[1.0, 2.0]), "at least 3 seeds"),
    (dict(values=[1.0, 2.0], deterministic=True), "takes one value"),
    (dict(values=[1.0, float("nan"), 2.0]), "not NaN"),
    (dict(source="read off the numbers above"), "source must begin"),
    (dict(source=""), "source must begin"),
    (dict(verdict="mostly"), "verdict must be one of"),
    (dict(rule="any"), "rule must be one of"),
    (dict(op="=="), "op must be one of"),
    (dict(op=None), "op and threshold together"),
    (dict(op=None, threshold=None), "needs op and threshold"),
    (dict(id="Bad Id"), "must be a slug"),
    (dict(statement="a | b"), "without '\\|'"),
    (dict(statement="two\nlines"), "one line"),
    (dict(digits=0), "digits must be an int >= 1, got 0")])
def test_bad_claims_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        _c(**kw)


def test_line_format_and_rounding():
    line = _c(values=[0.123456, -0.0000001, 2.0], threshold=2.5, digits=2).line
    assert line == ("Claim c [reproduced]: s | measured 0.12, -1e-07, 2 (3 seeds) | "
                    "< 2.5 on 3/3 seeds | paper: Fig. 1")
    assert "measured mean 2 ± 1 over 3 seeds (1, 2, 3) | mean < 2.5: met" in \
        _c(rule="mean").line
    assert "measured 0.5 (exact) | < 2.5: met" in _c(values=0.5, deterministic=True).line
    assert "(majority rule)" in _c(rule="majority").line
    assert "measured 0, 0, 1 (3 seeds)" in _c(values=[-0.0, 0.0, 1.0]).line  # no "-0"


def test_claim_prints_and_enforces(capsys):
    claim("ok", "holds", [1.0, 2.0, 2.4], op="<", threshold=2.5, source="theorem: x")
    assert capsys.readouterr().out.startswith("Claim ok [reproduced]: holds |")
    with pytest.raises(ClaimFailed, match="marked 'reproduced'"):
        claim("bad", "fails", [1.0, 2.0, 3.0], op="<", threshold=2.5, source="theorem: x")
    assert capsys.readouterr().out.startswith("Claim bad [reproduced]")  # printed first
    with pytest.raises(ClaimFailed, match="marked 'partly'"):
        claim("p", "fails", [3.0, 3.0, 3.0], op="<", threshold=2.5, source="theorem: x",
              verdict="partly")
    claim("nr", "fails", [3.0, 3.0, 3.0], op="<", threshold=2.5, source="theorem: x",
          verdict="not reproduced")  # records, asserts nothing
    assert "on 0/3 seeds" in capsys.readouterr().out


def test_parse_line_inverts_the_line(capsys):
    c = _c(rule="mean", statement="the loss falls below the paper's 2.5")
    f = parse_line(c.line)
    assert f == {"id": "c", "verdict": "reproduced", "statement": c.statement,
                 "measured": "measured mean 2 ± 1 over 3 seeds (1, 2, 3)",
                 "test": "mean < 2.5: met", "source": "paper: Fig. 1"}
    not_tested("speed", "twice as fast", "timings vary")
    assert parse_line(capsys.readouterr().out) == {
        "id": "speed", "statement": "twice as fast", "reason": "timings vary",
        "verdict": "not tested"}
    assert parse_line("Claim: prose") is None and parse_line("") is None


@pytest.mark.parametrize("args, match", [
    (("Bad id", "s", "r"), "must be a slug"), (("x", "", "r"), "statement"),
    (("x", "s", "a | b"), "reason")])
def test_not_tested_refuses_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        not_tested(*args)
