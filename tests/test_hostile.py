"""The hostile corpus, graded end to end (tests/hostile/README.md).

For every case: grading ends within its bound, no process is left behind, results.json is valid,
the score is what honest checks give, and the student sees a clear message.
"""
import json
import re
import time

import jsonschema
import nbformat
import pytest

from grader.grade import grade_to_file
from hw8core.supervisor import Limits

from conftest import ROOT, assert_no_internal_error, orphans, own_sleeps, section_scores, sleepers

# The machinery around a grade, not its fairness: the graded trainings at other seeds are left out in this process
# (conftest.without_other_seed_trainings says where they are graded for real, and why).
pytestmark = pytest.mark.usefixtures("without_other_seed_trainings")

HOSTILE = ROOT / "tests" / "hostile"
BASE = "\n\n".join((ROOT / "reference" / f"{m}.py").read_text() for m in ("s1_srn", "s2_srn_tanh", "s3_torch_rnn"))
# Small limits keep the corpus fast; the hostile tricks are the same at Gradescope's sizes.
# The longest statement of a correct submission takes 0.9-1.0 s here (the torch import; report.cells[i].seconds of
# the example and corpus.homework_code): 10 s leaves 10x room on a busy machine, and a hang costs only that.
LIMITS = Limits(cell_timeout=10.0, startup_timeout=30.0, total_timeout=150.0, timeout_scale=0.2,
                memory_bytes=2 * 2 ** 30, output_bytes=16 * 1024)

BESIDE = {
    "conftest.py": "import pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
                   "    out = yield\n    out.get_result().outcome = 'passed'\n",
    # MARKER: a path of the test's own (tmp_path), so no other test or earlier run can leave it behind
    "sitecustomize.py": "import builtins\nbuiltins.HACKED = True\nopen(MARKER, 'w').write('x')\n",
    "numpy.py": "raise ImportError('this numpy.py must never be imported')\n",
}


def grade_case(tmp_path, files, schema, durations=()):
    sub = tmp_path / "submission"
    sub.mkdir()
    for name, content in files.items():
        (sub / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "results" / "results.json"
    grade_to_file(sub, out, seed=5, limits=LIMITS)  # that it returns at all is the bound; its time is `make bench`'s
    text = out.read_text()
    assert len(text.encode()) <= 2 ** 20
    results = json.loads(text)
    jsonschema.validate(results, schema)
    assert_no_internal_error(results)
    time.sleep(0.3)
    assert sleepers(durations) == [], "processes were left behind"
    assert orphans() == [], "sandbox processes outlived their run"
    return results


def _all_text(results):
    return "\n".join([results["output"]] + [t["output"] for t in results["tests"]])


CASES = sorted(p.stem for p in HOSTILE.glob("*.py"))


@pytest.mark.parametrize("case", CASES)
def test_hostile_module(case, tmp_path, schema, monkeypatch):
    snippet = (HOSTILE / f"{case}.py").read_text()
    header = re.match(r"# expect: (\{.*?\}) message: \"(.*)\"", snippet.splitlines()[0])
    expect, message = json.loads(header.group(1)), header.group(2)
    snippet, durations = own_sleeps(snippet)
    forged_target = tmp_path / "results" / "results.json"
    monkeypatch.setenv("HW8_TEST_RESULTS", str(forged_target))
    files = {"hw8.py": BASE + "\n\n" + snippet.replace("os.environ.get(\"HW8_TEST_RESULTS\", \"/nonexistent/x\")",
                                                       repr(str(forged_target)))}
    marker = tmp_path / "sitecustomize-ran"
    if case == "files_beside_the_notebook":
        files.update({name: text.replace("MARKER", repr(str(marker))) for name, text in BESIDE.items()})
    results = grade_case(tmp_path, files, schema, durations)
    if case in ("leaves_processes", "daemon_holds_the_pipe"):
        assert len(durations) == {"leaves_processes": 3, "daemon_holds_the_pipe": 1}[case]  # the scan looked for them
    scores = section_scores(results)
    assert {str(k): v for k, v in scores.items() if k in (1, 2, 3)} == expect, _all_text(results)[:3000]
    assert scores[4] == scores[5] == scores[7] == 0
    assert results["score"] == sum(expect.values())
    assert message in _all_text(results), _all_text(results)[:3000]
    if case == "files_beside_the_notebook":
        assert not marker.exists()


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb)


NOTEBOOKS = {
    # case: (files, expected sections 1-3, message)
    "invalid_json": ({"hw8.ipynb": '{"cells": [{"cell_type": "code", "source": "x = 1"'}, {"1": 0, "2": 0, "3": 0},
                     "not valid notebook JSON"),
    "empty_notebook": ({"hw8.ipynb": _notebook()}, {"1": 0, "2": 0, "3": 0}, "no code cells"),
    "syntax_error_in_one_cell": ({"hw8.ipynb": _notebook("import numpy as np\nimport torch",
                                                         (ROOT / "reference" / "s1_srn.py").read_text(),
                                                         "def srn_forward_tanh(:\n    pass",
                                                         (ROOT / "reference" / "s3_torch_rnn.py").read_text())},
                                 {"1": 10, "2": 0, "3": 15}, "SyntaxError"),
    "not_utf8": ({"hw8.py": b"x = '\xff\xfe\x80\x81\xff'\n"}, {"1": 0, "2": 0, "3": 0}, "not UTF-8"),
    "two_notebooks": ({"a.ipynb": _notebook(BASE), "b.ipynb": _notebook(BASE)}, {"1": 0, "2": 0, "3": 0},
                      "several .ipynb files"),
}


@pytest.mark.parametrize("case", sorted(NOTEBOOKS))
def test_broken_files(case, tmp_path, schema):
    files, expect, message = NOTEBOOKS[case]
    results = grade_case(tmp_path, files, schema)
    scores = section_scores(results)
    assert {str(k): v for k, v in scores.items() if k in (1, 2, 3)} == expect, _all_text(results)[:3000]
    assert message in _all_text(results), _all_text(results)[:2000]
    assert results["extra_data"]["max_score"] == 100
