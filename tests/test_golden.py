"""Goldens: canned submissions graded end to end; results.json must equal the checked-in file.

Regenerate after an intended change of checks or messages with
    HW8_UPDATE_GOLDENS=1 python -m pytest tests/test_golden.py
and review the diff like code.
"""
import json
import os
import re

import pytest

from grader.grade import grade_to_file
from hw8core.supervisor import Limits

from conftest import ROOT, mutate, write_submission

GOLDEN = ROOT / "tests" / "golden"
BASE = "\n\n".join((ROOT / "reference" / f"{m}.py").read_text() for m in ("s1_srn", "s2_srn_tanh", "s3_torch_rnn"))
CASES = {
    # sections 1-3 only, one bug in section 2 that only randomized probes see, and a NaN in section 3
    "sections_1_to_3_with_bugs": mutate(mutate(BASE, "h = np.tanh(W_xh @ inputs[t] + W_hh @ h)",
                                               "h = np.tanh(W_xh @ inputs[t] + W_hh.T @ h)"),
                                        "return rnn, linear\n", "linear.bias.data[:] = float('nan')\n    return rnn, linear\n"),
    "syntax_error_everywhere": "def srn_forward(:\n",
}


def normalise(results):
    # Which confinement layers apply is the machine's (its kernel, root or not): tests/test_integrity.py checks them.
    assert set(results["extra_data"].pop("confinement")) == {"rlimits", "uid", "no_new_privs", "landlock", "seccomp"}
    text = json.dumps(results, sort_keys=True, indent=1, ensure_ascii=False)
    return re.sub(r'"execution_time": [0-9.e-]+', '"execution_time": 0', text) + "\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_results_match_golden(case, tmp_path):
    sub = write_submission(tmp_path / "s", CASES[case])
    results = grade_to_file(sub, tmp_path / "r.json", seed=2024, limits=Limits(timeout_scale=0.3))
    got = normalise(results)
    path = GOLDEN / f"{case}.json"
    if os.environ.get("HW8_UPDATE_GOLDENS"):
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"no golden for {case}: run with HW8_UPDATE_GOLDENS=1"
    assert got == path.read_text(encoding="utf-8")
