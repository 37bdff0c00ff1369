"""Issue 20: when the grader itself fails in a check, the check scores 0 and says so; the traceback is kept hidden in
results.json, counted in extra_data, and the batch summary names every student it happened to.

The positive control is a real grading in which one check is forced to crash. That no check of the corpus ends in an
internal error is asserted wherever the suite grades the corpus (conftest.assert_no_internal_error).
"""
import json
import time

import jsonschema

from grader.batch import Entry
from grader.classreport import write_outputs
from grader.grade import grade
from grader.results import make_failure_results

from conftest import ROOT, internal_errors, write_submission

SECTION1 = (ROOT / "reference" / "s1_srn.py").read_text()


def _crash(evidence, section, fn):
    raise ZeroDivisionError("a bug of the grader's own, forced by the test")


def _graded_with_a_crashing_check(tmp_path, monkeypatch):
    from hw8core.checks import srn
    monkeypatch.setattr(srn, "check_homework", _crash)  # check 1.1 (and 2.1) call it
    path = write_submission(tmp_path / "sub", SECTION1)
    results, _ = grade(path, seed=5, sections={1})
    return results


def test_a_check_that_crashes_scores_zero_says_so_and_its_traceback_is_hidden(tmp_path, monkeypatch, schema):
    results = _graded_with_a_crashing_check(tmp_path, monkeypatch)
    jsonschema.validate(results, schema)
    tests = {t["number"]: t for t in results["tests"]}
    assert tests["1.1"]["score"] == 0 and tests["1.1"]["status"] == "failed"
    assert tests["1.1"]["output"].startswith("The grader could not finish this check (an internal error; please tell "
                                             "the course staff).")
    assert "ZeroDivisionError" in tests["1.1"]["output"] and "Traceback" not in tests["1.1"]["output"]
    # only the crashing check is lost: 1.1's weight 3 of section 1's 10 (hw8core/checks/test_s1.py)
    assert results["extra_data"]["sections"] == {"1": 7.0}
    assert results["extra_data"]["internal_errors"] == 1 and results["extra_data"]["internal_error_checks"] == ["1.1"]
    hidden = tests["0.3"]
    assert hidden["visibility"] == "hidden" and hidden["max_score"] == 0
    assert "Check 1.1:" in hidden["output"] and "in _crash" in hidden["output"] and "ZeroDivisionError" in hidden["output"]
    assert "/_pytest/" not in hidden["output"]
    assert set(internal_errors(results)) == {"1.1", "extra_data"}


def test_the_batch_summary_names_every_student_who_hit_one(tmp_path, monkeypatch):
    crashed = _graded_with_a_crashing_check(tmp_path, monkeypatch)
    monkeypatch.undo()
    clean, _ = grade(write_submission(tmp_path / "clean", SECTION1), seed=5, sections={1})
    failed = make_failure_results("Traceback (most recent call last):\nRuntimeError: simulated", 5, time.monotonic())
    entries = [Entry("sub_1", {}, [{"name": "Li Lei", "sid": "2023001", "email": "l@example.edu"}]),
               Entry("sub_2", {}, [{"name": "Han Meimei", "sid": "2023002", "email": "h@example.edu"}]),
               Entry("sub_3", {}, [{"name": "Wang Fang", "sid": "2023003", "email": "w@example.edu"}])]
    out = tmp_path / "out"
    out.mkdir()
    # a resumed batch may hold results.json written before the count existed: the failed grading still shows
    old = json.loads(json.dumps(failed))
    del old["extra_data"]["internal_errors"], old["extra_data"]["internal_error_checks"]
    rows = write_outputs(out, entries, {"sub_1": crashed, "sub_2": clean, "sub_3": old})
    summary = (out / "summary.md").read_text()
    section = summary.split("## Internal errors of the grader", 1)[1]
    assert "| sub_1 (Li Lei) | 1.1 |" in section and "| sub_3 (Wang Fang) | 0.0 |" in section
    assert "sub_2" not in section and "2 submissions hit an internal error" in section
    by_id = {r["submission"]: r for r in rows}
    assert by_id["sub_1"]["status"] == "graded" and "check(s) 1.1" in by_id["sub_1"]["error"]
    assert by_id["sub_2"]["error"] == "" and by_id["sub_3"]["status"] == "grader error"

    write_outputs(out, entries[1:2], {"sub_2": clean})
    assert "None: every check of every submission ran to its verdict." in (out / "summary.md").read_text()
