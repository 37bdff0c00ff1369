"""Each single-bug mutant (corpus.MUTANTS), graded once at 21 probe seeds, in both directions of a grade.

At the grading seed every section is graded: the bug costs points in its own section and no other, and it is
caught the way it is labelled (by the homework's own numbers, or only by the randomized probes). At 20 more
seeds its own section is graded: the seed changes nothing. At seed 0 the student kit, run on the same file,
says what the grader's visible checks say, word for word in both languages.

All of this shares one sandboxed run per mutant (tests/multiseed.py): the training, whose seed and budget
are fixed, runs once.
"""
import jsonschema
import pytest

from grader.catalog import catalog

from conftest import (SEED, assert_no_internal_error, failed, full_marks, mutate, outputs, reference_module_source, verdicts,
                      write_submission)
from corpus import MUTANTS
from multiseed import SeedRuns, section_scores

# The machinery around a grade, not its fairness: the graded trainings at other seeds are left out in this process
# (conftest.without_other_seed_trainings says where they are graded for real, and why).
pytestmark = pytest.mark.usefixtures("without_other_seed_trainings")

VISIBLE = {c.number for c in catalog() if c.visibility == "visible"}
SEEDS = list(range(20))


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_a_single_bug_costs_its_own_section_at_every_seed_and_the_kit_says_so(mutant, tmp_path, schema, hw8check):
    section, caught_by, old, new = MUTANTS[mutant]
    path = write_submission(tmp_path, mutate(reference_module_source(), old, new))
    runs = SeedRuns(path, [SEED] + SEEDS, sections={section}, whole_at={SEED})

    # At the grading seed: its own section only, caught as labelled.
    results = runs.results(SEED)
    jsonschema.validate(results, schema)
    assert_no_internal_error(results, f"{mutant} at seed {SEED}")
    scores, full = section_scores(results), full_marks()
    assert scores[section] < full[section], f"{mutant} was not caught: {outputs(results, str(section))}"
    assert {n: s for n, s in scores.items() if n != section} == {n: p for n, p in full.items() if n != section}, \
        f"{mutant} cost points outside section {section}: {scores}"
    failing = [n for n in failed(results) if n.split(".")[0] == str(section)]
    if caught_by == "visible":
        assert set(failing) & VISIBLE, f"{mutant} should be caught by the homework's numbers"
    else:
        # the homework-number checks pass (the anti-hard-coding rule withholds them only from constants);
        # only the randomized probes see the bug
        assert [n for n in failing if n not in VISIBLE], failing
        assert not [n for n in failing if n in VISIBLE], {n: outputs(results)[n] for n in failing}

    # At 20 more seeds: the same section score.
    at_seeds = {}
    for seed in SEEDS:
        r = runs.results(seed)
        assert_no_internal_error(r, f"{mutant} at seed {seed}")
        at_seeds[seed] = section_scores(r)[section]
    assert set(at_seeds.values()) == {scores[section]}, at_seeds

    # The student kit, on the same file: the grader's visible verdicts, messages and numbers, at seed 0.
    kit_outcomes, _loading, load_error = hw8check.cli.grade_visible(path, (section,))
    assert load_error is None
    grader_outcomes = runs.visible_outcomes(0, (section,))
    assert set(kit_outcomes) == set(grader_outcomes) == {n for n in VISIBLE if n.split(".")[0] == str(section)}
    assert verdicts(kit_outcomes) == verdicts(grader_outcomes)
    assert any(not o.passed for o in kit_outcomes.values()) == (caught_by == "visible")
