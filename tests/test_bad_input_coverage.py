"""Every public function and class of papers_lib has a bad-input case or a stated exemption."""
from tests.bad_input import collected, public_names


def test_every_public_name_has_a_case_or_an_exemption():
    cases, exempt = collected()
    public = {f"{mod}.{n}" for mod, names in public_names().items() for n in names}
    covered = {c.target for c in cases}
    missing = sorted(public - covered - set(exempt))
    assert not missing, (f"{len(missing)} public names have no bad-input case in "
                         f"tests/test_bad_input_*.py and no exemption: {missing}")


def test_cases_and_exemptions_name_public_names():
    cases, exempt = collected()
    public = {f"{mod}.{n}" for mod, names in public_names().items() for n in names}
    stale = sorted(({c.target for c in cases} | set(exempt)) - public)
    assert not stale, f"not a public name of papers_lib (renamed or removed?): {stale}"
    both = sorted({c.target for c in cases} & set(exempt))
    assert not both, f"both covered and exempted: {both}"
    assert all(why.strip() for why in exempt.values()), "an exemption needs its reason"
