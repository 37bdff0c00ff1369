"""Fair grades for the code real students write (issue 9), in both directions.

- Correct submissions written differently from the reference score 100 at every seed tried.
- Cheats lose exactly their points, at every seed tried.
- The homework's own code, wrapped in the API, is one of the correct submissions (corpus.homework_code); each group of
  the homework's lines that breaks the contract costs its own check only, with a message that says so.
- No check ends in an internal error, on any of these (nor on the mutants, tests/test_mutants.py, nor on the hostile
  corpus, tests/test_hostile.py): each grade asserts it, so the corpus needs no run of its own for it (issue 20).
The single-bug mutants, at 20 seeds, are in tests/test_mutants.py.
Seeds share one sandboxed run (tests/multiseed.py), so 3 seeds cost about one grade.
"""
import pytest

from hw8core.supervisor import Limits

from conftest import assert_no_internal_error, full_marks, reference_module_source, write_submission
from corpus import CHEATS, CORRECT, HOMEWORK_QUIRKS, write
from multiseed import grade_at_seeds, section_scores

SEEDS_CORRECT = [0, 7, 12345]
# The long top-level training costs one statement timeout; a short one keeps the suite quick.
# The longest statement of a correct submission takes 0.9-1.0 s here (the torch import; report.cells[i].seconds of
# the example and corpus.homework_code): 10 s leaves 10x room on a busy machine, and a hang costs only that.
LIMITS = Limits(cell_timeout=10.0, total_timeout=600.0, memory_bytes=3 * 2 ** 30)


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_but_different_scores_full_marks(name, tmp_path):
    folder = write(CORRECT[name](), tmp_path / name)
    results = grade_at_seeds(folder, SEEDS_CORRECT, limits=LIMITS)
    for seed, r in results.items():
        assert_no_internal_error(r, f"{name} at seed {seed}")
        failed = {t["number"]: t["output"][:400] for t in r["tests"] if t["status"] == "failed"}
        assert r["score"] == 100, (name, seed, failed)


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_cheats_lose_exactly_their_points(name, tmp_path):
    build, expect = CHEATS[name]
    folder = write(build(), tmp_path / name)
    results = grade_at_seeds(folder, SEEDS_CORRECT, limits=LIMITS)
    want = {**full_marks(), **expect}
    for seed, r in results.items():
        assert_no_internal_error(r, f"{name} at seed {seed}")
        assert section_scores(r) == want, (name, seed, {t["number"]: t["output"][:300] for t in r["tests"]
                                                       if t["status"] == "failed"})


@pytest.mark.parametrize("name", sorted(HOMEWORK_QUIRKS))
def test_a_homework_line_that_breaks_the_contract_costs_its_own_check(name, tmp_path):
    """Graded on its own section only: the others are the reference's, and full marks (test above)."""
    build, section, score, messages = HOMEWORK_QUIRKS[name]
    folder = write(build(), tmp_path / name)
    results = grade_at_seeds(folder, SEEDS_CORRECT, sections={section}, limits=LIMITS)
    for seed, r in results.items():
        assert_no_internal_error(r, f"{name} at seed {seed}")
        failed = {t["number"]: t["output"] for t in r["tests"] if t["status"] == "failed"}
        assert set(failed) == set(messages), (name, seed, failed)
        for number, words in messages.items():
            assert words in failed[number], (name, seed, number, failed[number])
        assert section_scores(r) == {section: score}, (name, seed, failed)


def test_the_random_build_probe_never_asks_for_the_homework_sizes(tmp_path):
    """Seeds 44, 67, 94 and 121 (1 in 100) once drew (2, 2, 2), the homework's own sizes, for the random build
    probe. The right answers then compared unequal (modules by identity), so a correct builder gave "the same
    answer whatever its inputs" and lost 3.1: measured, the example scored 98 at seed 44."""
    from hw8core.checks.common import _equal
    from grader.expected import to_numpy
    from grader.probes import plan
    import reference
    for seed in range(3):  # plan(through=3) draws sections 1 to 3 exactly as the whole plan does
        whole = [q for q in plan(seed) if q.section <= 3]
        assert [(q.id, repr(q.args)) for q in plan(seed, through=3)] == [(q.id, repr(q.args)) for q in whole]
    assert all({q.id: q for q in plan(seed, through=3)}["s3.build_cell.rand"].args != [2, 2, 2] for seed in range(400))
    assert _equal(to_numpy(reference.build_rnncell()), to_numpy(reference.build_rnncell()))
    assert not _equal(to_numpy(reference.build_rnncell()), to_numpy(reference.build_rnncell(3, 2, 2)))
    path = write_submission(tmp_path, reference_module_source())
    results = grade_at_seeds(path, [44, 67], sections={3})
    for r in results.values():
        assert_no_internal_error(r)
    assert {seed: section_scores(r)[3] for seed, r in results.items()} == {44: 15.0, 67: 15.0}
