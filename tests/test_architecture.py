"""The architecture contract (.importlinter, run by import-linter's `lint-imports`): the core shared by the grader and
the student kit (hw8core/) never imports the reference, the sandbox or process control, nor anything of the grader,
and no package has an import cycle among its modules. The contract is run on this tree, and on copies of it with a
violation planted (positive controls: it must break, naming the planted import)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGES = ("grader", "hw8core", "reference")


def lint_imports(cwd):
    exe = Path(sys.executable).with_name("lint-imports")  # the environment's own: make installs it (requirements-test)
    if not exe.exists():
        exe = shutil.which("lint-imports")
    assert exe, "lint-imports is missing: pip install -r requirements-test.txt"
    return subprocess.run([str(exe), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_contract_holds():
    proc = lint_imports(ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 kept, 0 broken" in proc.stdout, proc.stdout


PLANTS = {  # module -> (line added at its end, contract that must break, what the report must name)
    "reference": ("hw8core/evidence.py", "import reference", "never imports the reference",
                  "hw8core.evidence -> reference"),
    "sandbox": ("hw8core/checks/common.py", "from grader import sandbox", "never imports the reference",
                "hw8core.checks.common -> grader.sandbox"),
    "grader": ("hw8core/selfcheck.py", "from grader import oracle", "imports nothing of the grader",
               "hw8core.selfcheck -> grader.oracle"),
    "cycle": ("hw8core/wire.py", "from . import selfcheck", "No import cycles", ".wire -> .selfcheck"),
}


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_planted_violation_breaks_the_contract(plant, tmp_path):
    path, line, contract, named = PLANTS[plant]
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    assert lint_imports(tmp_path).returncode == 0  # the copy as it is: kept, so what breaks below is the plant
    with open(tmp_path / path, "a", encoding="utf-8") as f:
        f.write(f"\n{line}  # planted\n")
    proc = lint_imports(tmp_path)
    assert proc.returncode != 0, proc.stdout
    broken = proc.stdout[proc.stdout.index("Broken contracts"):]
    assert contract in broken and named in broken, proc.stdout
