"""The Gradescope zip, exercised: build it, unpack it into a temporary AUTOGRADER_ROOT, run
setup.sh (into a test venv) and run_autograder on several submissions, validate each results.json.

Needs root (to create the sandbox user and run children as that user), useradd, and a system
python3 with venv outside /root; each missing piece skips with the reason.
"""
import json
import re
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT, reference_module_source

VENV = Path("/opt/hw8-venv-test")
USER = "hw8student"
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")


def _why_not():
    if os.geteuid() != 0:
        return "needs root: run_autograder runs student code as an unprivileged user"
    if not shutil.which("useradd"):
        return "needs useradd to create the sandbox user"
    if not SYSTEM_PYTHON or subprocess.run([SYSTEM_PYTHON, "-c", "import ensurepip, venv"]).returncode != 0:
        return "needs a system python3 with venv (Gradescope's Ubuntu 22.04 has one)"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    subprocess.run(["python", str(ROOT / "scripts" / "build_autograder.py"), str(tmp_path_factory.mktemp("dist") / "a.zip")],
                   check=True, cwd=ROOT)
    zpath = next(tmp_path_factory.getbasetemp().glob("dist*/a.zip"))
    root = Path(tempfile.mkdtemp(prefix="hw8-ag-", dir="/tmp"))
    os.chmod(root, 0o755)
    with zipfile.ZipFile(zpath) as z:
        z.extractall(root / "source")
        names = z.namelist()
    assert "setup.sh" in names and "run_autograder" in names and "reference/s1_srn.py" in names
    for name in ("setup.sh", "run_autograder"):
        os.chmod(root / "source" / name, 0o755)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    if not (VENV / "bin" / "python").exists():
        env = dict(os.environ, HW8_VENV=str(VENV), HW8_TORCH_INDEX="", HW8_SANDBOX_USER=USER,
                   PATH="/usr/bin:/bin:/usr/sbin:/sbin")
        subprocess.run(["bash", str(root / "source" / "setup.sh")], check=True, env=env, capture_output=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def run_autograder(root, files, extra=""):
    sub = root / "submission"
    shutil.rmtree(sub, ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    sub.mkdir()
    for name, text in files.items():
        (sub / name).write_text(text)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), HW8_VENV=str(VENV), HW8_SANDBOX_USER=USER,
               HW8_EXTRA_ARGS=f"--seed 7 {extra}")
    subprocess.run([str(root / "run_autograder")], check=True, env=env, timeout=900)
    results = json.loads((root / "results" / "results.json").read_text())
    schema = json.loads((ROOT / "grader" / "results.schema.json").read_text())
    jsonschema.validate(results, schema)
    return results


def test_reference_submission_scores_full_marks(autograder):
    results = run_autograder(autograder, {"hw8.py": reference_module_source()})
    assert results["score"] == 100, [t for t in results["tests"] if t["status"] == "failed"]


SNOOP = '''
import os, sys


def _candidates():
    for root in ["/autograder", os.environ.get("HW8_AG_ROOT", ""), "..", "../..", "../../.."]:
        for here, dirs, files in os.walk(root):
            if here.count(os.sep) - root.count(os.sep) > 4:
                dirs[:] = []
            for name in files:
                if name in ("s1_srn.py", "test_s1.py"):
                    yield os.path.join(here, name)
    for entry in sys.path:  # an installed or editable copy of the grader
        for rel in ("reference/s1_srn.py", "grader/checks/test_s1.py"):
            yield os.path.join(entry, rel)


def srn_forward(inputs, W_xh, W_hh, W_hy, h0=None):
    found = []
    for path in _candidates():
        try:
            open(path).read(1)
            found.append(os.path.abspath(path))
        except OSError:
            pass
    try:
        open(os.path.join(os.environ.get("HW8_AG_ROOT", "/autograder"), "results", "results.json"), "w").write("{}")
        found.append("wrote results")
    except OSError:
        pass
    raise RuntimeError(f"found {len(found)}: {found}")
'''


def test_student_code_cannot_read_the_reference_or_write_results(autograder):
    snoop = SNOOP.replace('os.environ.get("HW8_AG_ROOT", "")', repr(str(autograder))).replace(
        'os.environ.get("HW8_AG_ROOT", "/autograder")', repr(str(autograder)))
    results = run_autograder(autograder, {"hw8.py": snoop})
    out = {t["number"]: t["output"] for t in results["tests"]}
    # Copies of this repository elsewhere on a developer's machine (a checkout, a CI clone) are
    # world-readable and not the grader's; the autograder's own copy and the venv must be out of reach.
    found = re.findall(r"'(/[^']+)'", out["1.1"])
    assert "found" in out["1.1"], out["1.1"]
    assert not [p for p in found if p.startswith((str(autograder), str(VENV), "/autograder"))], found
    assert "wrote results" not in out["1.1"]
    assert results["score"] == 0


def test_broken_notebook_still_gets_a_valid_file(autograder):
    results = run_autograder(autograder, {"hw8.ipynb": "{ not json"})
    assert results["score"] == 0 and results["extra_data"]["max_score"] == 100


def test_a_grader_that_cannot_start_still_leaves_results(autograder, tmp_path):
    env = dict(os.environ, AUTOGRADER_ROOT=str(autograder), HW8_PYTHON="/nonexistent/python")
    (autograder / "submission").mkdir(exist_ok=True)
    subprocess.run([str(autograder / "run_autograder")], check=True, env=env)
    results = json.loads((autograder / "results" / "results.json").read_text())
    assert results["tests"][0]["name"] == "0.0 Autograder failed"
