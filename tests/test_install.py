"""The package installed the ordinary way: a wheel, not an editable install, and setup.py's truth."""
import ast
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

# Top-level imports of grader/ and reference/ -> the distribution that provides them.
DISTRIBUTION = {"numpy": "numpy", "torch": "torch", "nbformat": "nbformat", "gradescope_utils": "gradescope-utils",
                "pytest": "pytest", "rich": "rich", "IPython": "ipython", "psutil": "psutil", "tomli": "tomli",
                "yaml": "pyyaml", "matplotlib": "matplotlib", "distributed": "dask[distributed]"}


def _imported_modules():
    found = set()
    for path in list((ROOT / "grader").rglob("*.py")) + list((ROOT / "reference").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"grader", "reference"}


def _setup_kwargs():
    tree = ast.parse((ROOT / "setup.py").read_text())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setup")
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords}


def test_setup_declares_every_third_party_import():
    kwargs = _setup_kwargs()
    declared = {re.split(r"[<>=;\[ ]", r)[0].lower() for r in kwargs["install_requires"]}
    declared |= {re.split(r"[<>=;\[ ]", r)[0].lower() for extra in kwargs["extras_require"].values() for r in extra}
    imported = _imported_modules()
    unknown = imported - set(DISTRIBUTION)
    assert not unknown, f"add these imports to DISTRIBUTION and setup.py: {unknown}"
    missing = {DISTRIBUTION[m] for m in imported if re.split(r"[\[]", DISTRIBUTION[m])[0].lower() not in declared}
    assert not missing, f"imported but not declared in setup.py: {missing}"


def test_code_parses_on_the_oldest_python_declared():
    """python_requires says 3.9: nothing may need a newer grammar (`match`, `X | None` evaluated at runtime)."""
    assert _setup_kwargs()["python_requires"] == ">=3.9"
    for path in list((ROOT / "grader").rglob("*.py")) + list((ROOT / "reference").glob("*.py")):
        text = path.read_text()
        ast.parse(text, feature_version=(3, 9))
        if re.search(r":\s*\w+ \| None", text):
            assert "from __future__ import annotations" in text, f"{path} uses `X | None` without postponed annotations"


@pytest.mark.skipif(not os.environ.get("VIRTUAL_ENV") and sys.prefix == sys.base_prefix and os.geteuid() != 0
                    and not os.access(sys.prefix, os.W_OK), reason="needs to create a venv")
def test_wheel_installed_not_editable_grades_the_example(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(ROOT)], check=True, cwd=tmp_path)
    wheel = next(wheels.glob("rnn_hw8_grader-*.whl"))
    # --system-site-packages: numpy and torch (700 MB) come from the test environment rather than a
    # second copy; the grader itself is installed into the venv from the wheel and wins over any other.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, cwd=tmp_path)
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import grader, reference; print(grader.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path).stdout.strip()
    assert where.startswith(str(venv)), where
    out = tmp_path / "results.json"
    run = subprocess.run([str(venv / "bin" / "hw8-grade"), "grade", str(ROOT / "examples" / "reference"), "-o",
                          str(out), "--seed", "3"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["score"] == 100, [t for t in results["tests"] if t["status"] == "failed"]
