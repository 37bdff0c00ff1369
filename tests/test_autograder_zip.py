"""The Gradescope zip, exercised: build it, unpack it into a temporary AUTOGRADER_ROOT, run
setup.sh (into a test venv) and run_autograder on several submissions, validate each results.json.

Needs root (to create the sandbox user and run children as that user), useradd, and a system
python3 with venv outside /root; each missing piece skips with the reason.
"""
import contextlib
import fcntl
import json
import re
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT, orphans, own_sleeps, reference_module_source, sleepers
from pythons import find_build, portable_python

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


def unpack_zip(tmp_path_factory):
    zpath = tmp_path_factory.mktemp("dist") / "a.zip"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_autograder.py"), str(zpath)], check=True, cwd=ROOT)
    root = Path(tempfile.mkdtemp(prefix="hw8-ag-", dir="/tmp"))
    os.chmod(root, 0o755)
    with zipfile.ZipFile(zpath) as z:
        z.extractall(root / "source")
        names = z.namelist()
    assert "setup.sh" in names and "run_autograder" in names and "reference/s1_srn.py" in names
    for name in ("setup.sh", "run_autograder"):
        os.chmod(root / "source" / name, 0o755)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    return root


# The test venvs (/opt/hw8-venv-test-*) are shared by the test workers, and each worker's module fixture runs
# setup.sh into the same one: `python -m venv` and pip over a venv another worker is grading with made that grade
# fail now and then ("the autograder failed", all sections 0, in the full suite only). A setup takes the lock
# alone; grades share it.
VENV_LOCK = Path(tempfile.gettempdir()) / "hw8-test-venvs.lock"


@contextlib.contextmanager
def venvs_locked(exclusive):
    with open(VENV_LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run_setup(root, venv, python=None, memory_gib=None):
    """setup.sh as Gradescope runs it, but with pip's own index (the CPU index is out of reach here)."""
    env = dict(os.environ, HW8_VENV=str(venv), HW8_TORCH_INDEX="", HW8_SANDBOX_USER=USER,
               PATH="/usr/bin:/bin:/usr/sbin:/sbin")
    env.pop("HW8_MEMORY_GIB", None)
    if memory_gib:
        env["HW8_MEMORY_GIB"] = str(memory_gib)
    if python:
        env["HW8_SYSTEM_PYTHON"] = str(python)
    with venvs_locked(exclusive=True):
        return subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    root = unpack_zip(tmp_path_factory)
    setup = run_setup(root, VENV)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert "image verified" in setup.stdout, setup.stdout[-2000:]
    yield root
    shutil.rmtree(root, ignore_errors=True)


def run_autograder(root, files, extra="", venv=VENV, memory_gib=None, seed=7):
    sub = root / "submission"
    shutil.rmtree(sub, ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    sub.mkdir()
    for name, text in files.items():
        (sub / name).write_text(text)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), HW8_VENV=str(venv), HW8_SANDBOX_USER=USER,
               HW8_EXTRA_ARGS=(f"--seed {seed} " if seed is not None else "") + extra)
    if memory_gib:
        env["HW8_MEMORY_GIB"] = str(memory_gib)
    with venvs_locked(exclusive=False):
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
        for rel in ("reference/s1_srn.py", "grader/oracle.py", "hw8core/checks/common.py"):
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


# ---------------------------------------------------------------- the zip on Gradescope's Python
# Gradescope's Ubuntu 22.04 has python3 3.10 (24.04: 3.12). pyenv's builds stand in for them, copied
# where the sandbox user can run them (tests/pythons.py). On these Pythons pip's torch==2.13.0 is the
# CUDA build (Gradescope's setup.sh takes the CPU build from PyTorch's index, unreachable here), and
# that build's `import torch` alone maps 3.2 GB of address space (measured: VmPeak 3,203,832 kB), so
# the child's cap is raised for it. The 0.8 GiB cap with the CPU build is tested above and in make bench.
CUDA_BUILD_MEMORY_GIB = 5
ZIP_PYTHONS = os.environ.get("HW8_ZIP_PYTHONS", "3.10 3.12").split()
DAEMON = """

def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):
    import os
    if os.fork() == 0:  # a daemon with no token, no session and no ancestor in common, holding the pipe
        os.setsid()
        if os.fork() == 0:
            os.execve("/bin/sleep", ["sleep", "604"], {})
        os._exit(0)
    os._exit(3)
"""


@pytest.fixture(scope="module", params=ZIP_PYTHONS)
def autograder_on(request, tmp_path_factory):
    minor = int(request.param.split(".")[1])
    python, why = portable_python(minor)
    if python is None:
        pytest.skip(f"Python {request.param}: {why}")
    venv = Path(f"/opt/hw8-venv-test-py{request.param}")
    # 3.10 is Gradescope's and always runs. 3.12 is the extra mile: its CUDA venv takes 4.9 GB, and a
    # nearly full disk should skip it (saying so) rather than fail every other test's landing.
    if request.param != "3.10" and not venv.exists() and shutil.disk_usage("/opt").free < 15 * 2 ** 30:
        pytest.skip(f"Python {request.param}: less than 15 GiB free under /opt for a 4.9 GB venv")
    root = unpack_zip(tmp_path_factory)
    setup = run_setup(root, venv, python, memory_gib=CUDA_BUILD_MEMORY_GIB)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert f"runs Python {request.param}." in setup.stdout, setup.stdout[-2000:]
    assert "image verified" in setup.stdout and "closed to hw8student" in setup.stdout, setup.stdout[-2000:]
    yield root, venv
    shutil.rmtree(root, ignore_errors=True)


def test_zip_grades_the_example_notebook_in_full(autograder_on):
    root, venv = autograder_on
    nb = (ROOT / "examples" / "reference" / "hw8.ipynb").read_text()
    results = run_autograder(root, {"hw8.ipynb": nb}, venv=venv, memory_gib=CUDA_BUILD_MEMORY_GIB, seed=None)
    assert results["score"] == 100, [t for t in results["tests"] if t["status"] == "failed"]
    # graded at the assignment's seed, fixed in the zip
    assert results["extra_data"]["seed"] == int((root / "source" / "seed.txt").read_text())


def test_zip_leaves_no_process_of_the_sandbox_user(autograder_on):
    root, venv = autograder_on
    daemon, durations = own_sleeps(DAEMON)
    assert len(durations) == 1
    # Sections 1 and 2 only: the daemon is what is tested here, and the zip's full marks are tested above.
    source = (ROOT / "reference" / "s1_srn.py").read_text() + "\n\n" + daemon
    results = run_autograder(root, {"hw8.py": source}, venv=venv, memory_gib=CUDA_BUILD_MEMORY_GIB)
    sections = results["extra_data"]["sections"]
    assert sections["1"] == 10 and sections["2"] == 0 and results["score"] == 10, json.dumps(results)[:6000]
    assert "ended the whole Python process" in next(t["output"] for t in results["tests"] if t["number"] == "2.1")
    # Scanned by this test's own marks, not by the shared user: the other worker may be grading with it right now.
    assert sleepers(durations) == [], "the daemon outlived its run"
    assert orphans() == [], "sandbox processes outlived their run"


def test_setup_fails_loudly_when_the_sandbox_user_cannot_run_python(tmp_path_factory):
    """An interpreter under root's private home: the image must not build, and must say why."""
    build = find_build(10)
    if build is None or not str(build).startswith("/root/"):
        pytest.skip("needs pyenv's Python 3.10 under /root, a directory the sandbox user cannot enter")
    root = unpack_zip(tmp_path_factory)
    try:
        setup = run_setup(root, Path("/opt/hw8-venv-test-private"), build / "bin" / "python3.10")
        assert setup.returncode != 0
        assert "hw8student cannot execute /opt/hw8-venv-test-private/bin/python" in setup.stderr, setup.stderr[-2000:]
        assert "lives under a private directory (/root, mode 0700" in setup.stderr, setup.stderr[-2000:]
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree("/opt/hw8-venv-test-private", ignore_errors=True)


def test_the_zip_fixes_one_seed_per_assignment(tmp_path):
    env = dict(os.environ, HW8_SEED="424242")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_autograder.py"), str(tmp_path / "a.zip")], check=True,
                   env=env, cwd=ROOT)
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        assert z.read("seed.txt").decode().strip() == "424242"


NEIGHBOUR = """
import glob, os, signal, time
time.sleep(5)  # both runs' children are alive from here on
seen = []
mine = os.path.dirname(os.getcwd())  # this run's own work folder
# Only this test's two runs (their work folders are made in RUNS_DIR), never another grade's /tmp/hw8-run-* folder.
try:  # Landlock refuses to list a folder outside the run: then there is nothing to try, which the test accepts
    names, listed = os.listdir(RUNS_DIR), True
except OSError:
    names, listed = [], False
others = [os.path.join(RUNS_DIR, n) for n in names if n.startswith('hw8-run-') and os.path.join(RUNS_DIR, n) != mine]
for path in [os.path.join(d, name) for d in others for name in ('job.json', 'inputs.npz')]:
    try:
        open(path, 'rb').read(1)
        seen.append(path)
    except OSError:
        pass
os.kill(-1, signal.SIGKILL)  # every process this uid may signal, except this one
time.sleep(3)


def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):
    raise RuntimeError(f"in the test's folder: {os.path.dirname(mine) == RUNS_DIR}; listed: {listed}; "
                       f"other runs: {len(others)}; "
                       f"other runs' files read: {len(seen)}")
"""


def test_concurrent_user_runs_cannot_touch_each_other(autograder, tmp_path):
    """Two grades at once with --user: each holds its own sandbox uid, so kill(-1) and reading the
    other's job (which holds its code) fail. With one shared uid, each would kill the other's child.
    The two runs make their work folders in a folder of this test's own (TMPDIR), and each looks only
    there: folders left in /tmp by other grades (killed ones keep theirs) are not this test's business."""
    with venvs_locked(exclusive=False):  # VENV's python, as run_autograder uses it
        from grader.processes import ensure_sandbox_users
        ensure_sandbox_users(USER, 2)
        runs = tempfile.mkdtemp(prefix="hw8-concurrent-", dir="/tmp")
        os.chmod(runs, 0o755)  # as /tmp: the sandbox users list it and enter their own work folder
        source = (ROOT / "reference" / "s1_srn.py").read_text() + f"\nRUNS_DIR = {runs!r}\n" + NEIGHBOUR
        procs = []
        try:
            for k in range(2):
                sub = tmp_path / f"s{k}"
                sub.mkdir()
                (sub / "hw8.py").write_text(source)
                procs.append(subprocess.Popen([str(VENV / "bin" / "python"), "-m", "grader", "grade", str(sub), "-o",
                                               str(tmp_path / f"r{k}.json"), "--seed", "1", "--user", USER],
                                              cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=runs),
                                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            for p in procs:
                assert p.wait(timeout=600) == 0, p.stderr.read()[-2000:]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            shutil.rmtree(runs, ignore_errors=True)
        for k in range(2):
            results = json.loads((tmp_path / f"r{k}.json").read_text())
            out = {t["number"]: t["output"] for t in results["tests"]}
            assert results["extra_data"]["sections"]["1"] == 10, out
            # "other runs: 1": the other run was there to be looked at (the check is not vacuous). Where Landlock
            # applied, the child may not even list the folder: two layers, each enough.
            assert "in the test's folder: True" in out["2.1"] and "other runs' files read: 0" in out["2.1"], out["2.1"]
            if results["extra_data"]["confinement"]["landlock"]["applied"]:
                assert "listed: False; other runs: 0" in out["2.1"], out["2.1"]
            else:
                assert "listed: True; other runs: 1" in out["2.1"], out["2.1"]
            assert "ended the Python process" not in out["0.1"] and "did not finish" not in out["0.1"], out["0.1"]


def test_setup_refuses_an_image_whose_torch_cannot_start_under_the_cap(autograder_on):
    """The CUDA build maps about 3.2 GB at import: under Gradescope's 0.8 GiB cap every child would die before its
    first cell, so the image must not verify. The positive control is the fixture's own setup: the same image
    verified under CUDA_BUILD_MEMORY_GIB."""
    root, venv = autograder_on
    check = subprocess.run([SYSTEM_PYTHON, str(root / "source" / "verify_image.py"), "full", str(venv), USER,
                            str(root / "source"), "0.8"], capture_output=True, text=True)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "under the grading memory cap of 819 MiB" in check.stderr and "the import alone needs" in check.stderr
    need = int(re.search(r"needs (\d+) MiB", check.stderr).group(1))
    assert need > 819, check.stderr


# ---- issue 16's attacks (tests/integrity/), as Gradescope runs them: root grading, the sandbox user's child ----
def _integrity_case(autograder, name, tmp_path):
    import random
    import socket
    sys.path.insert(0, str(ROOT / "tests"))
    from test_integrity import attack_source, expectation
    from test_hostile import BASE
    secret = autograder / "source" / "reference" / "s1_srn.py"
    token = random.SystemRandom().randrange(10 ** 8, 10 ** 9)
    tcp, udp = socket.socket(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (tcp, udp):
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.1)
    tcp.listen(5)
    plant = tmp_path / "open" / "planted.py"
    plant.parent.mkdir()
    os.chmod(plant.parent, 0o777)  # world-writable: only the confinement stands between the child and it
    for folder in (tmp_path, tmp_path.parent, tmp_path.parent.parent):
        os.chmod(folder, os.stat(folder).st_mode | 0o711)  # the sandbox user may reach what is in it
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(plant.parent / "sock"))
    os.chmod(plant.parent / "sock", 0o777)
    unix.listen(1)
    fill = {"TARGET": str(secret), "SIZE": secret.stat().st_size, "HANG": 40, "TOKEN": token,
            "TCP_PORT": tcp.getsockname()[1], "UDP_PORT": udp.getsockname()[1], "SOCKET": str(plant.parent / "sock"),
            "PLANTS": [str(plant), str(autograder / "source" / "hw8core" / "checks" / "test_s9_planted.py"),
                       str(autograder / "results" / "results.json")],
            "MODE": "unlinked", "TOTAL": 1152, "COUNT": 0}  # fills_the_disk: 1.1 GiB, past the 1 GiB a run may write
    try:
        results = run_autograder(autograder, {"hw8.py": BASE + "\n\n" + attack_source(name, **fill)})
        heard = []
        for s, how in ((tcp, lambda: tcp.accept()[0].close()), (udp, lambda: udp.recvfrom(16))):
            try:
                how()
                heard.append(s.type)
            except OSError:
                pass
    finally:
        tcp.close()
        udp.close()
        unix.close()
    return results, expectation(name), heard, plant, token, secret


@pytest.mark.parametrize("name", ["answer_is_a_link", "answer_is_a_fifo", "answer_is_dev_zero", "resends_probe_start",
                                  "reaches_out", "leaves_files", "signals_the_grader",
                                  "overreaches", "recursion_bomb", "fills_the_disk"])
def test_integrity_attacks_as_gradescope_runs_them(autograder, name, tmp_path):
    results, (expect, message), heard, plant, token, secret = _integrity_case(autograder, name, tmp_path)
    scores = {t["number"].split(".")[0]: 0 for t in results["tests"]}
    for t in results["tests"]:
        scores[t["number"].split(".")[0]] = scores.get(t["number"].split(".")[0], 0) + t["score"]
    assert {k: round(scores[k], 4) for k in expect} == expect, results["output"]
    text = json.dumps(results)
    assert message in text
    layers = results["extra_data"]["confinement"]
    assert all(layers[k]["applied"] for k in ("rlimits", "uid", "no_new_privs", "landlock", "seccomp")), layers
    assert secret.read_text()[:60] not in text
    assert stat.S_IMODE(secret.stat().st_mode) & 0o077 == 0  # overreaches' chmod of TARGET (the reference) failed
    assert heard == [] and not plant.exists()
    assert not (autograder / "source" / "hw8core" / "checks" / "test_s9_planted.py").exists()
    assert "planted" not in (autograder / "results" / "results.json").read_text()
    leftovers = [f"{d}/hw8-leak-{token}" for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")]
    assert [p for p in leftovers if os.path.lexists(p)] == []
