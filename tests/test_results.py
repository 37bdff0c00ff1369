"""The report plugin, run on a fixture check file through pytester, and the make_* functions."""
import json
import time

import jsonschema
import pytest

from grader.results import CollectPlugin, dumps, make_failure_results, make_info_test, make_results
from grader.evidence import Evidence

from conftest import assert_no_internal_error, internal_errors

pytest_plugins = ["pytester"]

CHECKS = '''
from gradescope_utils.autograder_utils.decorators import number, visibility, weight
from grader.evidence import fail

@weight(1)
@number("1.1")
@visibility("visible")
def test_passes(evidence):
    """a visible check that passes
    通过的可见检查"""

@weight(2)
@number("1.2")
@visibility("after_published")
def test_fails_for_the_student(evidence):
    """a hidden check the student fails"""
    fail("states[0] should be 1 but is 2.", "states[0] 应为 1，实际为 2。")

@weight(1)
@number("1.3")
@visibility("visible")
def test_grader_bug(evidence):
    """a check with a bug of its own"""
    {}["missing"]
'''


def _run_fixture(pytester, visible_only):
    pytester.makepyfile(test_fixture_checks=CHECKS)
    plugin = CollectPlugin(Evidence([], report=None), visible_only=visible_only)
    pytester.inline_run("-p", "no:cacheprovider", plugins=[plugin])
    return plugin.outcomes


def test_outcomes_and_messages(pytester):
    outcomes = _run_fixture(pytester, visible_only=False)
    assert sorted(outcomes) == ["1.1", "1.2", "1.3"]
    assert outcomes["1.1"].passed and not outcomes["1.2"].passed
    assert str(outcomes["1.2"].message) == "states[0] should be 1 but is 2."
    assert outcomes["1.1"].trace is None and outcomes["1.2"].trace is None  # a student's failure is no internal error
    # The check with a bug of its own: the student reads that it is the grader's, and the exception's type; the
    # traceback (the grader's source, maybe the reference's) is kept for the staff.
    assert "internal error" in str(outcomes["1.3"].message) and "KeyError" in str(outcomes["1.3"].message)
    assert "Traceback" not in str(outcomes["1.3"].message) and 'File "' not in str(outcomes["1.3"].message)
    assert "Traceback" in outcomes["1.3"].trace and "{}[\"missing\"]" in outcomes["1.3"].trace


def test_internal_errors_are_counted_and_their_tracebacks_hidden(pytester, schema):
    """A check forced to crash (1.3 of the fixture) scores 0, says so, is counted in extra_data and its traceback
    is in a hidden test; a run without one counts 0. The corpus's assertion (conftest) tells the two apart."""
    outcomes = _run_fixture(pytester, visible_only=False)
    checks = [o.info for o in outcomes.values()]
    for c in checks:
        c.max_score = c.weight
    results = make_results(checks, outcomes, [], seed=1, started=time.monotonic())
    jsonschema.validate(results, schema)
    assert results["extra_data"]["internal_errors"] == 1 and results["extra_data"]["internal_error_checks"] == ["1.3"]
    by_number = {t["number"]: t for t in results["tests"]}
    assert by_number["1.3"]["score"] == 0 and by_number["1.3"]["status"] == "failed"
    assert "please tell the course staff" in by_number["1.3"]["output"]
    assert by_number["0.3"]["visibility"] == "hidden" and "Check 1.3:" in by_number["0.3"]["output"]
    assert "Traceback" in by_number["0.3"]["output"] and "KeyError" in by_number["0.3"]["output"]
    assert not any("Traceback" in t["output"] for t in results["tests"] if t["visibility"] != "hidden")
    assert set(internal_errors(results)) == {"1.3", "extra_data"}
    with pytest.raises(AssertionError, match="internal errors of the grader"):
        assert_no_internal_error(results)

    clean = make_results(checks[:2], outcomes, [], seed=1, started=time.monotonic())
    jsonschema.validate(clean, schema)
    assert clean["extra_data"]["internal_errors"] == 0 and clean["extra_data"]["internal_error_checks"] == []
    assert "0.3" not in {t["number"] for t in clean["tests"]}
    assert_no_internal_error(clean)
    del clean["extra_data"]["internal_errors"]
    assert internal_errors(clean), "results.json without the count must not pass as clean"


def test_a_failed_grading_counts_as_an_internal_error(schema):
    results = make_failure_results("Traceback (most recent call last):\nRuntimeError: simulated", seed=3,
                                   started=time.monotonic())
    jsonschema.validate(results, schema)
    assert results["extra_data"]["internal_errors"] == 1 and results["extra_data"]["internal_error_checks"] == ["0.0"]
    assert "RuntimeError: simulated" in next(t["output"] for t in results["tests"] if t["name"] == "0.0 traceback")


def test_visible_only_deselects_hidden_checks(pytester):
    outcomes = _run_fixture(pytester, visible_only=True)
    assert sorted(outcomes) == ["1.1", "1.3"]


def test_dumps_refuses_nan_and_caps_the_file():
    results = {"score": 0.0, "tests": [make_info_test(f"0.{i}", "big", "x" * 10000) for i in range(400)]}
    text = dumps(results)
    assert len(text.encode()) <= 2 ** 20 and json.loads(text)["tests"][0]["output"].startswith("xxx")
    with pytest.raises(ValueError):
        dumps({"score": float("nan"), "tests": []})


def test_the_visible_output_counts_only_visible_checks():
    """Before publication a student sees the top-level output and the visible checks: totals that counted the
    after_published checks would reveal how those went (issue 16, item 6)."""
    from grader.catalog import Outcome, catalog
    from grader.results import make_results
    checks = catalog()
    hidden = [c for c in checks if c.visibility != "visible"]
    assert hidden, "the catalog has after_published checks"
    outcomes = {c.number: Outcome(c, c.visibility == "visible", "") for c in checks}  # visible pass, hidden fail
    results = make_results(checks, outcomes, [], seed=1, started=0.0)
    visible_max = sum(c.max_score for c in checks if c.visibility == "visible")
    assert results["output"].splitlines()[0] == f"Visible checks: {visible_max:g} / {visible_max:g}"
    assert f"{100 - visible_max:g} points come from checks marked after_published" in results["output"]
    assert results["score"] == visible_max and results["extra_data"]["max_score"] == 100
    for n in {c.section for c in checks}:
        seen = sum(c.max_score for c in checks if c.section == n and c.visibility == "visible")
        assert f"Section {n}: {seen:g} / {seen:g}" in results["output"]
    # The positive control: all checks passing changes nothing a student sees before publication.
    passing = {c.number: Outcome(c, True, "") for c in checks}
    assert make_results(checks, passing, [], seed=1, started=0.0)["output"] == results["output"]
