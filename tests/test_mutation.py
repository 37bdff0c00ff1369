"""The mutation harness in CI (issue 17): a fixed, stratified sample of the mechanical mutants (tests/mutation.py,
tests/mutation_sample.txt) graded at five probe seeds on their own section.

Each sampled mutant must lose points at every seed, and the same points at every seed (same code, same grade), unless
the sample marks it equivalent: then it must keep full marks and the differential check (tests/differential.py)
must find it equal to the reference. `make mutation` grades every mutant, not only these.
"""
import pytest

import reference

from conftest import reference_module_source
from mutation import OPERATORS, SEEDS, Mutant, grade_mutant, mutants, outcome, sample_ids
import differential

SAMPLE = sample_ids()
BY_ID = {m.id: m for m in mutants()}


def test_the_sample_is_fixed_stratified_and_current():
    assert len(SAMPLE) >= 40  # the floor for the CI sample
    gone = [mid for mid in SAMPLE if mid not in BY_ID]
    assert not gone, f"the reference changed: regenerate tests/mutation_sample.txt (python tests/mutation.py --sample): {gone}"
    assert {BY_ID[mid].operator for mid in SAMPLE} == set(OPERATORS)
    assert {BY_ID[mid].section for mid in SAMPLE} == set(reference.API)
    assert set(SAMPLE.values()) <= {"killed", "equivalent"}


def test_every_mutant_is_a_different_program_that_parses():
    import ast
    ref = reference_module_source()
    sources = [m.source() for m in BY_ID.values()]
    assert all(s != ref and ast.parse(s) for s in sources)
    assert len(set(sources)) == len(sources)


def test_outcomes():
    full = 10.0  # section 1's points (grader/points.toml)
    assert outcome([0, 0, 0, 0, 0], full) == "killed"
    assert outcome([3, 10, 3, 3, 3], full) == "lottery"
    assert outcome([10] * 5, full) == "survived"


def test_the_differential_check_tells_a_mutant_from_the_reference():
    assert differential.check(reference_module_source(), 1)["equivalent"]
    mutant = BY_ID[next(mid for mid in BY_ID if mid.startswith("swap:s1_srn:srn_forward:") and "h @ W_hh" in mid)]
    verdict = differential.check(mutant.source(), 1)
    assert not verdict["equivalent"] and "values differ" in verdict["difference"], verdict


def test_an_unmutated_copy_survives(tmp_path):
    """The outcome is not killed by construction: the reference itself, through the same grading, keeps every point."""
    m = Mutant("none", "none", "s1_srn", 1, "srn_forward", 1, "", "", 0, 0)  # a no-op "mutant": the same text
    assert m.source() == reference_module_source()
    row = grade_mutant(m, tmp_path)
    assert row["outcome"] == "survived" and row["scores"] == [row["full"]] * len(SEEDS), row


@pytest.mark.parametrize("mid", sorted(SAMPLE))
def test_a_sampled_mutant_loses_the_same_points_at_every_seed(mid, tmp_path):
    m = BY_ID[mid]
    row = grade_mutant(m, tmp_path)
    assert len(set(row["scores"])) == 1, f"{mid}: a different grade at different seeds {row['scores']} {row['failed']}"
    if SAMPLE[mid] == "equivalent":
        assert row["outcome"] == "survived", row
        verdict = differential.check(m.source(), m.section)
        assert verdict["equivalent"], verdict
    else:
        assert row["outcome"] == "killed", f"{mid} {row['outcome']}: {row['scores']} (+ {m.new!r} for {m.old!r})"
