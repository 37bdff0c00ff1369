"""The README's two commands, `make grade-example` and `make test`, from a clean clone, as a newcomer runs them.

The Makefile puts the grading environment in the active venv or conda environment, else in its own .venv/
(made by `python3`), so that an externally-managed system Python (PEP 668: Debian 12, Ubuntu 23.04 and
later) is never pip-installed into. test_makefile_picks_the_environment checks the choice for every kind of
Python cheaply (`make -n`); test_readme_commands_with_an_externally_managed_python runs the real thing.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SYSTEM_PYTHON = Path("/usr/bin/python3")
# What an outer make or a TA's shell may set that must not reach the newcomer's make: an active environment,
# pyenv's choice, and make's own variables (an outer `make test TESTS=...` passes TESTS down through MAKEFLAGS).
NOT_A_NEWCOMERS = ("VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "PYTHONPATH", "PYTHONHOME", "PYENV_VERSION",
                   "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "TESTS", "PYTHON", "BASE_PYTHON", "VENV")


def _newcomer_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in NOT_A_NEWCOMERS}
    env["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin"  # python3 is the system's, not pyenv's
    env.update(extra)
    return env


def _clean_clone(dest):
    """What a clone of this checkout holds: the files git tracks, plus new ones not ignored, as they are now
    (so that uncommitted work is what is tested); no .venv, no install stamp, no out/."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def _dry_run(clone, env, *args):
    # -B: the commands of an install from scratch, even where that environment is installed already (under `make
    # test` the running interpreter's is: CI failed on "Nothing to be done for 'install'" without it)
    proc = subprocess.run(["make", "-n", "-B", "install", *args], cwd=clone, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.skipif(not shutil.which("make") or not shutil.which("git"), reason="needs make and git")
def test_makefile_picks_the_environment(tmp_path):
    """No environment active: make's own .venv, made by python3. A venv or conda environment active: that one,
    never .venv. PYTHON=... on the command line: that interpreter's own environment."""
    clone = _clean_clone(tmp_path / "clone")
    fake = {}
    for kind in ("venv", "conda"):  # an environment's layout: bin/python (this interpreter stands in)
        (tmp_path / kind / "bin").mkdir(parents=True)
        os.symlink(sys.executable, tmp_path / kind / "bin" / "python")
        fake[kind] = tmp_path / kind
    lock = f"requirements/lock-py{sys.version_info[0]}.{sys.version_info[1]}.txt"

    plain = _dry_run(clone, _newcomer_env(PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin"))
    assert "python3 -m venv .venv" in plain and ".venv/bin/python -m pip install" in plain, plain
    assert lock in plain or not (ROOT / lock).exists(), plain
    in_venv = _dry_run(clone, _newcomer_env(VIRTUAL_ENV=str(fake["venv"])))
    in_conda = _dry_run(clone, _newcomer_env(CONDA_PREFIX=str(fake["conda"])))
    for out, env_dir in ((in_venv, fake["venv"]), (in_conda, fake["conda"])):
        assert f"{env_dir}/bin/python -m pip install -q -r {lock}" in out, out
        assert ".venv" not in out and "-m venv" not in out, out
        assert f"touch {env_dir}/.rnn-hw8-grader-installed" in out, out
    given = _dry_run(clone, _newcomer_env(), f"PYTHON={sys.executable}")
    # ("-m venv", not ".venv": under `make test` this interpreter is the .venv's own)
    assert f"{sys.executable} -m pip install" in given and "-m venv" not in given, given
    assert f"touch {sys.prefix}/.rnn-hw8-grader-installed" in given, given


def _why_not_system():
    if not SYSTEM_PYTHON.exists():
        return f"needs {SYSTEM_PYTHON}"
    if not shutil.which("make") or not shutil.which("git"):
        return "needs make and git"
    stdlib = subprocess.run([str(SYSTEM_PYTHON), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                            capture_output=True, text=True).stdout.strip()
    if not (Path(stdlib) / "EXTERNALLY-MANAGED").exists():
        return f"{SYSTEM_PYTHON} is not externally managed (PEP 668)"
    if subprocess.run([str(SYSTEM_PYTHON), "-c", "import venv, ensurepip"], capture_output=True).returncode:
        return f"{SYSTEM_PYTHON} cannot make a venv (apt install python3-venv)"
    return None


@pytest.mark.skipif(_why_not_system() is not None, reason=str(_why_not_system()))
def test_readme_commands_with_an_externally_managed_python(tmp_path):
    """A clean clone, `python3` the machine's externally-managed system Python, no environment active:
    `make grade-example` makes .venv/ from it, installs the pinned environment there (torch 2.13.0) and
    grades the example 100/100; `.venv/bin/hw8-grade` works, as the README says; the system Python is left
    as it was. Then `make test`, on one small test (TESTS=...): the same environment, no second install.
    Not the whole suite: it holds this test (make test would run it again, recursively), and it costs about
    6 minutes on 2 cores on top of the run that contains it; one test shows what the README command adds to
    pytest: that make finds the environment already installed and runs the tests in it."""
    clone = _clean_clone(tmp_path / "clone")
    env = _newcomer_env()
    assert shutil.which("python3", path=env["PATH"]) == str(SYSTEM_PYTHON)
    system_before = subprocess.run([str(SYSTEM_PYTHON), "-c", "import pkgutil; print(sorted(m.name for m in "
                                    "pkgutil.iter_modules()))"], capture_output=True, text=True, check=True).stdout
    try:
        run = subprocess.run(["make", "grade-example"], cwd=clone, env=env, capture_output=True, text=True,
                             timeout=1800)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        results = json.loads((clone / "out" / "example-results.json").read_text())
        assert results["score"] == 100 == results["extra_data"]["max_score"], \
            [t for t in results["tests"] if t["status"] == "failed"]
        assert "make: the grading environment is .venv" in run.stdout, run.stdout[-2000:]
        assert f"home = {SYSTEM_PYTHON.parent}" in (clone / ".venv" / "pyvenv.cfg").read_text()
        venv_python = clone / ".venv" / "bin" / "python"
        where = subprocess.run([str(venv_python), "-c", "import grader, torch, sys; print(grader.__file__); "
                                "print(torch.__version__); print(sys.prefix)"],
                               cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
        assert where[0] == str(clone / "grader" / "__init__.py"), where  # the clone's grader, editable
        assert where[1].split("+")[0] == "2.13.0" and where[2] == str(clone / ".venv"), where
        import grader
        version = subprocess.run([str(clone / ".venv" / "bin" / "hw8-grade"), "--version"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True)
        assert version.returncode == 0 and version.stdout.strip() == f"hw8-grade {grader.__version__}", version
        system_after = subprocess.run([str(SYSTEM_PYTHON), "-c", "import pkgutil; print(sorted(m.name for m in "
                                       "pkgutil.iter_modules()))"], capture_output=True, text=True, check=True).stdout
        assert system_after == system_before  # nothing installed into the system Python

        test = subprocess.run(["make", "test", "TESTS=tests/test_cli.py::test_version_prints_the_packages_version"],
                              cwd=clone, env=env, capture_output=True, text=True, timeout=600)
        assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
        assert "1 passed" in test.stdout and "pip install" not in test.stdout, test.stdout[-2000:]
        assert f"{clone / '.venv' / 'bin' / 'python'} -m pytest" in test.stdout or ".venv/bin/python -m pytest" in \
            test.stdout, test.stdout[-2000:]
    finally:
        shutil.rmtree(clone, ignore_errors=True)  # 1 GB of venv: not left in pytest's kept temporary folders
