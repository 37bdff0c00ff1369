"""The package installed the ordinary way: a wheel, not an editable install, and pyproject.toml's truth."""
import ast
import json
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

# Top-level imports of grader/, hw8core/ and reference/ -> the distribution that provides them.
DISTRIBUTION = {"numpy": "numpy", "torch": "torch", "nbformat": "nbformat", "gradescope_utils": "gradescope-utils",
                "pytest": "pytest", "rich": "rich", "IPython": "ipython", "psutil": "psutil", "tomli": "tomli",
                "yaml": "pyyaml", "matplotlib": "matplotlib", "distributed": "dask[distributed]",
                "pyseccomp": "pyseccomp", "tqdm": "tqdm"}


def _sources():
    """The installed packages' modules: the grader, the core it shares with the student kit, the reference."""
    return list((ROOT / "grader").rglob("*.py")) + list((ROOT / "hw8core").rglob("*.py")) + \
        list((ROOT / "reference").glob("*.py"))


def _imported_modules():
    found = set()
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"grader", "hw8core", "reference"}


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement):
    return re.split(r"[<>=;\[ ]", requirement)[0].lower()


def test_pyproject_declares_every_third_party_import():
    project = _project()["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for extra in project["optional-dependencies"].values() for r in extra}
    imported = _imported_modules()
    unknown = imported - set(DISTRIBUTION)
    assert not unknown, f"add these imports to DISTRIBUTION and pyproject.toml: {unknown}"
    missing = {DISTRIBUTION[m] for m in imported if re.split(r"[\[]", DISTRIBUTION[m])[0].lower() not in declared}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_setup_py_is_only_a_shim_and_pyproject_has_the_build_system():
    """The course's instructions name setup.py, so it stays, but every setting is in pyproject.toml (PEP 517/621):
    two sources of metadata would drift apart."""
    body = [n for n in ast.parse((ROOT / "setup.py").read_text()).body
            if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]  # docstrings
    assert [ast.dump(n) for n in body] == [ast.dump(n) for n in ast.parse("from setuptools import setup\nsetup()").body]
    config = _project()
    assert config["build-system"]["build-backend"] == "setuptools.build_meta"
    assert any(_name(r) == "setuptools" for r in config["build-system"]["requires"])
    assert config["project"]["name"] == "rnn-hw8-grader"
    assert config["project"]["scripts"] == {"hw8-grade": "grader.cli:main"}


def test_code_parses_on_the_oldest_python_declared():
    """requires-python says 3.9: nothing may need a newer grammar (`match`, `X | None` evaluated at runtime)."""
    assert _project()["project"]["requires-python"] == ">=3.9"
    for path in _sources():
        text = path.read_text()
        ast.parse(text, feature_version=(3, 9))
        if re.search(r":\s*\w+ \| None", text):
            assert "from __future__ import annotations" in text, f"{path} uses `X | None` without postponed annotations"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel, built from a copy of what a clone holds (so that no two builds share ROOT/build)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("grader", "hw8core", "reference"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(src)], check=True, cwd=out)
    return next(out.glob("rnn_hw8_grader-*.whl"))


def test_wheel_holds_every_module_and_the_package_data(wheel):
    """The data files the grader reads at run time (points, schema, timings, tolerances, budgets, pytest.ini)."""
    import grader
    assert wheel.name == f"rnn_hw8_grader-{grader.__version__}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"hw8core/checks/pytest.ini", "grader/points.toml", "grader/results.schema.json", "grader/timings.json",
                "hw8core/tolerances.json", "grader/TOLERANCES.md", "reference/budgets.json", "reference/BUDGETS.md"}
    for folder, patterns in (("grader", ("*.py", "*.toml", "*.json", "*.md")), ("grader/plans", ("*.py",)),
                             ("hw8core", ("*.py", "*.json")), ("hw8core/checks", ("*.py", "*.ini")),
                             ("reference", ("*.py", "*.json", "*.md"))):
        expected |= {f"{folder}/{p.name}" for pattern in patterns for p in (ROOT / folder).glob(pattern)}
    assert not expected - names, sorted(expected - names)
    packaged = {n for n in names if ".dist-info/" not in n}
    assert packaged == expected, sorted(packaged - expected)  # nothing else: no tests, scripts or student kit
    info = f"rnn_hw8_grader-{grader.__version__}.dist-info"
    assert "hw8-grade = grader.cli:main" in zipfile.ZipFile(wheel).read(f"{info}/entry_points.txt").decode()
    metadata = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert "Requires-Python: >=3.9" in metadata and "Requires-Dist: torch>=1.12" in metadata


def _this_environments_site_packages():
    """Where the environment under test keeps its packages (a venv's own, or the interpreter's)."""
    paths = list(site.getsitepackages()) + [p for p in sys.path if p.rstrip("/").endswith(("site-packages",
                                                                                             "dist-packages"))]
    return list(dict.fromkeys(p for p in paths if os.path.isdir(p)))


def test_wheel_installed_not_editable_grades_the_example(wheel, tmp_path):
    """A venv with the wheel in it, and numpy, torch and the rest (700 MB) from the environment under test
    (a .pth file names its site-packages), not a second copy. Not --system-site-packages: inside a venv that
    gives the base interpreter's packages, not the venv's."""
    import numpy
    import torch
    venv = tmp_path / "venv"
    # --without-pip: a venv's own setuptools (ensurepip's) would shadow the environment's; pip comes from the latter.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    own = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True,
                         text=True, check=True).stdout.strip()
    (venv / own / "zz-hw8-environment-under-test.pth").write_text("\n".join(_this_environments_site_packages()) + "\n")
    # --no-index: every dependency must come from the environment under test, none from an index.
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-index", str(wheel)],
                   check=True, cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # nothing of the checkout on the venv's path
    where = subprocess.run([python, "-c", "import grader, numpy, torch; print(grader.__file__); print(numpy.__file__); "
                                          "print(torch.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path, env=env).stdout.split()
    assert where[0].startswith(str(venv)), where  # the grader from the wheel, not the checkout
    assert where[1:] == [numpy.__file__, torch.__file__], where  # the packages from the environment under test
    out = tmp_path / "results.json"
    run = subprocess.run([str(venv / "bin" / "hw8-grade"), "grade", str(ROOT / "examples" / "reference"), "-o",
                          str(out), "--seed", "3"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["score"] == 100, [t for t in results["tests"] if t["status"] == "failed"]
