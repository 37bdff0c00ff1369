"""The equivalence harness (issue 17, item 2): meaning-preserving rewrites of the correct example
(tests/rewrites.py) each score 100, the same at every seed tried.

The other direction, how many wrong solutions the grader catches, is tests/test_mutation.py. Seeds share one
sandboxed run (tests/multiseed.py), so three seeds cost about one grade.
"""
import pytest

from hw8core.supervisor import Limits

from conftest import SEED, section_scores
from corpus import write
from multiseed import grade_at_seeds
from rewrites import REWRITES

SEEDS = [0, 7, SEED]  # the issue: three seeds; those tests/test_fairness.py grades its correct submissions at
# As tests/test_fairness.py: the longest statement of a correct submission takes about 1 s, so 10 s is 10x room.
LIMITS = Limits(cell_timeout=10.0, total_timeout=600.0, memory_bytes=3 * 2 ** 30)


def _definitions_as_in_the_example(folder):
    """Whether every function and class the submission in folder defines at top level (the last definition of each
    name, as Run All leaves it) is the example's, source for source, among the statements the loader runs. Its
    trainings at other seeds then compute exactly what the example's do (tests/test_grading.py grades those): the
    training functions call the others (the adder's forward and gradients, CharRNN, Seq2Seq, make_data)."""
    import ast
    from hw8core.loader import load
    from rewrites import EXAMPLE

    def definitions(path):
        found = {}
        for source in (c.source for c in load(path).cells):
            try:
                body = ast.parse(source).body
            except SyntaxError:
                continue
            for node in body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    found[node.name] = ast.get_source_segment(source, node)
        return found
    return definitions(folder) == definitions(EXAMPLE.parent)


@pytest.mark.parametrize("name", sorted(REWRITES))
def test_a_meaning_preserving_rewrite_keeps_full_marks_at_every_seed(name, tmp_path, request):
    folder = write(REWRITES[name](), tmp_path / name)
    if _definitions_as_in_the_example(folder):  # CI's time: the trainings at other seeds would repeat the example's
        request.getfixturevalue("without_other_seed_trainings")
    results = grade_at_seeds(folder, SEEDS, limits=LIMITS)
    scores = {seed: section_scores(r) for seed, r in results.items()}
    assert len({tuple(sorted(s.items())) for s in scores.values()}) == 1, scores  # same code, same grade
    for seed, r in results.items():
        failed = {t["number"]: t["output"][:400] for t in r["tests"] if t["status"] == "failed"}
        assert r["score"] == 100, (name, seed, failed)


def test_the_rewrites_change_the_submission():
    """Each rewrite is a different file from the example, so a pass is not the example passing again."""
    import nbformat
    from rewrites import EXAMPLE
    original = nbformat.writes(nbformat.read(EXAMPLE, as_version=4))
    texts = {name: next(iter(make().values())) for name, make in REWRITES.items()}
    assert all(text != original for text in texts.values())
    assert len(set(texts.values())) == len(texts)


def test_only_rewrites_that_keep_every_definition_leave_out_the_other_seed_trainings(tmp_path):
    """The shortcut above holds only where the code is the example's: a vectorised rewrite of its functions is not."""
    from corpus import CORRECT
    from rewrites import EXAMPLE
    assert _definitions_as_in_the_example(EXAMPLE.parent)
    assert not _definitions_as_in_the_example(write(CORRECT["vectorised"](), tmp_path / "vectorised"))
    assert not _definitions_as_in_the_example(write(REWRITES["tqdm_progress_bars"](), tmp_path / "tqdm"))
