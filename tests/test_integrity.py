"""Attacks on the grader itself, in the TA's default mode (no --user): tests/integrity/README.md.

Each attack is graded with every confinement layer, and where a layer is what stops it, once more with that
layer switched off: the positive control, which shows the attack is real and the test would catch it. The
same attacks run as root with the sandbox user in tests/test_autograder_zip.py.
"""
import ctypes
import dataclasses
import json
import os
import random
import re
import socket
import stat
import threading
import time

import jsonschema
import pytest

from grader import confine
from hw8core import wire
from grader.grade import grade
from grader.leftovers import ipc_objects, lock_run_folder, new_entries, remove_ipc, remove_stale_runs, shared_entries
from hw8core.supervisor import Limits, Supervisor

from conftest import ROOT, section_scores
from test_hostile import BASE, LIMITS

# The machinery around a grade, not its fairness: the graded trainings at other seeds are left out in this process
# (conftest.without_other_seed_trainings says where they are graded for real, and why).
pytestmark = pytest.mark.usefixtures("without_other_seed_trainings")

ATTACKS = ROOT / "tests" / "integrity"
SECRET = ROOT / "reference" / "s1_srn.py"  # the solutions: what a leak would carry
ABI, WHY = confine.landlock_abi()
needs_landlock = pytest.mark.skipif(ABI == 0, reason=f"Landlock is unavailable here: {WHY}")
UNCONFINED = ("rlimits",)  # the positive controls: resource limits only, as before this issue


def attack_source(name, **fill):
    text = (ATTACKS / f"{name}.py").read_text()
    text = text.replace("# FORGE", (ATTACKS / "forge.py").read_text())
    for key, value in fill.items():
        text = re.sub(rf"\b{key}\b", lambda _m: repr(value) if isinstance(value, str) else str(value), text)
    return text


def expectation(name):
    header = re.match(r"# expect: (\{.*?\}) message: \"(.*)\"", (ATTACKS / f"{name}.py").read_text().splitlines()[0])
    return json.loads(header.group(1)), header.group(2)


def grade_attack(tmp_path, name, layers=None, sections=(1, 2, 3), scale=None, **fill):
    """`scale`: the time limits' scale instead of LIMITS' 0.2, for an attack that never hangs: at 0.2 section 3's first
    call (building an nn.RNNCell: torch's first use, 0.53 s quiet) has 2 s, and ran out once in a full test run."""
    sub = tmp_path / "submission"
    sub.mkdir(exist_ok=True)
    (sub / "hw8.py").write_text(BASE + "\n\n" + attack_source(name, **fill))
    limits = dataclasses.replace(LIMITS, layers=layers, **({} if scale is None else {"timeout_scale": scale}))
    results, evidence = grade(sub, seed=5, limits=limits, sections=sections)
    return results, evidence


def _text(results):
    return json.dumps(results, ensure_ascii=False)


def _arrays(value):
    import numpy as np
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _arrays(v)


def leaked(evidence, secret):
    """Whether any answer the grader read back holds the secret's bytes."""
    head = secret[:64]
    for answer in evidence.report.answers.values():
        for arr in _arrays(answer.value):
            if arr.dtype.itemsize == 1 and bytes(arr.astype("u1").tobytes()[:64]) == head:
                return True
    return False


# ---- the answer files: read without following links, without blocking, to a bound -------------------------

@pytest.mark.parametrize("name, target", [("answer_is_a_link", str(SECRET)), ("answer_is_dev_zero", None),
                                          ("answer_is_a_fifo", None)])
def test_answer_files_are_read_as_untrusted_input(name, target, tmp_path, schema):
    fill = {"TARGET": target, "SIZE": SECRET.stat().st_size} if target else {}
    results, evidence = grade_attack(tmp_path, name, sections=(1, 2), **fill)  # returning at all: no hang
    jsonschema.validate(results, schema)
    expect, message = expectation(name)
    scores = section_scores(results)
    assert {str(k): v for k, v in scores.items() if k in (1, 2)} == {k: v for k, v in expect.items() if k != "3"}
    assert message in _text(results)
    assert not leaked(evidence, SECRET.read_bytes())


def _naive_read(folder, name, cap, owner=None):
    """What the grader did before: follow links, block on a FIFO, read it all."""
    fd = os.open(name, os.O_RDONLY, dir_fd=folder) if isinstance(folder, int) else os.open(os.path.join(folder, name),
                                                                                           os.O_RDONLY)
    with os.fdopen(fd, "rb") as f:
        return f.read()


def test_positive_control_a_reader_that_follows_links_leaks_the_secret(tmp_path, monkeypatch):
    monkeypatch.setattr(wire, "read_child_file", _naive_read)
    _results, evidence = grade_attack(tmp_path, "answer_is_a_link", sections=(2,), TARGET=str(SECRET),
                                      SIZE=SECRET.stat().st_size)
    assert leaked(evidence, SECRET.read_bytes())


def test_read_child_file_refuses_what_is_not_a_plain_file_of_the_run(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "ok.json").write_bytes(b"{}")
    os.symlink(SECRET, folder / "link.json")
    os.mkfifo(folder / "fifo.json")
    os.link(folder / "ok.json", folder / "twin.json")
    (folder / "big.json").write_bytes(b"x" * 101)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert wire.read_child_file(fd, "big.json", 101) == b"x" * 101
        for name, why in [("link.json", "symbolic link"), ("fifo.json", "not a regular file"),
                          ("ok.json", "2 names"), ("big.json", "larger than 100 bytes"), ("gone.json", "missing")]:
            with pytest.raises(wire.Unreadable, match=why):
                wire.read_child_file(fd, name, 100)
        with pytest.raises(wire.Unreadable, match="not written by this run"):
            os.unlink(folder / "twin.json")
            wire.read_child_file(fd, "ok.json", 100, owner=os.geteuid() + 1)
    finally:
        os.close(fd)
    # The positive control: the plain reader follows the link and would block on the FIFO.
    assert _naive_read(folder, "link.json", 100) == SECRET.read_bytes()
    done = threading.Event()
    threading.Thread(target=lambda: (_naive_read(folder, "fifo.json", 100), done.set()), daemon=True).start()
    assert not done.wait(1.0), "a plain open of a FIFO blocks until someone writes it"
    with open(folder / "fifo.json", "wb"):
        pass  # unblock the thread


# ---- the control channel: limits are kept by the grader's clock -----------------------------------------

def test_resent_probe_start_events_do_not_extend_a_limit(tmp_path, schema):
    # The limit of srn_forward here is 10 s x 0.2 (LIMITS.timeout_scale) = 2 s; the call takes 20 s.
    results, evidence = grade_attack(tmp_path, "resends_probe_start", sections=(1,), HANG=20)
    jsonschema.validate(results, schema)
    assert section_scores(results)[1] == 0
    assert expectation("resends_probe_start")[1] in _text(results)
    statuses = {a.status for pid, a in evidence.report.answers.items() if pid.startswith("s1")}
    assert "timeout" in statuses and "ok" not in statuses, statuses


class _Replay(Supervisor):
    """The state machine alone, fed event lines by hand."""

    def _read_answer(self, probe_id):
        return wire.Answer("ok", value=1)


def test_supervisor_accepts_only_forward_steps(tmp_path):
    from hw8core.wire import Probe
    probes = [Probe("p1", 1, "f", timeout=2.0), Probe("p2", 1, "f", timeout=2.0)]
    sup = _Replay(["x = 1"], probes, ["f"], Limits(), workdir=tmp_path)
    ev = lambda **e: json.dumps(e).encode()  # noqa: E731
    phase = ("start", None, time.monotonic())
    phase, _ = sup._on_event(ev(event="cell_start", cell=0), phase)
    phase, _ = sup._on_event(ev(event="cell_done", cell=0), phase)
    phase, _ = sup._on_event(ev(event="namespace", names={}), phase)
    phase, _ = sup._on_event(ev(event="probe_start", probe="p1"), phase)
    assert phase[:2] == ("probe", "p1")
    started = phase[2] - 100  # as if p1 had started 100 s ago
    phase = ("probe", "p1", started)
    for forged in (ev(event="probe_start", probe="p1"), ev(event="probe_start", probe="p2"),
                   ev(event="cell_start", cell=0), ev(event="namespace", names={}), ev(event="all_done"), b"[1]"):
        new, result = sup._on_event(forged, phase)
        assert new == phase and result is None, forged  # ignored: the clock of p1 still says 100 s
    assert sup._phase_limit(phase) < time.monotonic()  # so p1 is past its 2 s limit
    phase, _ = sup._on_event(ev(event="probe_done", probe="p1"), phase)
    phase, _ = sup._on_event(ev(event="probe_start", probe="p1"), phase)  # backwards: ignored
    assert phase[0] == "between"


# ---- the network, the grader's files, the shared folders ---------------------------------------------------

def _listeners():
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(5)
    tcp.settimeout(0.1)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.1)
    return tcp, udp


def _heard(tcp, udp):
    got = []
    try:
        tcp.accept()[0].close()
        got.append("tcp")
    except OSError:
        pass
    try:
        udp.recvfrom(16)
        got.append("udp")
    except OSError:
        pass
    return got


NO_SECCOMP = ("rlimits", "uid", "no_new_privs", "landlock")
NO_LANDLOCK = ("rlimits", "uid", "no_new_privs", "seccomp")


@needs_landlock
@pytest.mark.parametrize("layers", [None, UNCONFINED, NO_SECCOMP, NO_LANDLOCK],
                         ids=["confined", "positive-control", "without-seccomp", "without-landlock"])
def test_no_network_and_no_writes_outside_the_run(layers, tmp_path):
    """Each layer's own share: Landlock (ABI 4+) refuses TCP and writes, seccomp refuses every INET socket (UDP
    included); with both off, all three get through."""
    tcp, udp = _listeners()
    plant = tmp_path / "checks" / "test_planted.py"  # stands for the grader's checks, a classmate's results
    plant.parent.mkdir()
    # The installed grader's own checks, where a planted module would run in every later grade (150/100 before):
    # tried only when confined, so that a failing defence cannot disturb the other tests for long.
    real = ROOT / "hw8core" / "checks" / f"test_s9_planted_{os.getpid()}.py"
    plants = [str(plant)] + ([str(real)] if layers is None else [])
    try:
        results, evidence = grade_attack(tmp_path, "reaches_out", layers=layers, sections=(1,),
                                         TCP_PORT=tcp.getsockname()[1], UDP_PORT=udp.getsockname()[1],
                                         PLANTS=plants)
        heard = _heard(tcp, udp)
    finally:
        tcp.close()
        udp.close()
    assert section_scores(results)[1] == 10
    if layers is None:
        planted = real.exists()
        real.unlink(missing_ok=True)
        assert heard == [] and not plant.exists() and not planted
        assert {k: v["applied"] for k, v in results["extra_data"]["confinement"].items()} == {
            "rlimits": True, "uid": False, "no_new_privs": True, "landlock": True, "seccomp": True}
    elif layers == UNCONFINED:
        assert heard == ["tcp", "udp"] and plant.exists()
        assert "not confined" in results["tests"][0]["output"]
    elif layers == NO_SECCOMP:
        assert heard == ["udp"] and not plant.exists()
    else:
        assert heard == [] and plant.exists()


@pytest.mark.parametrize("layers", [None, NO_LANDLOCK], ids=["confined", "positive-control"])
def test_the_child_cannot_signal_the_grader(layers, tmp_path):
    """Landlock's signal scope (ABI 6): in default mode the child shares the grader's uid, and could stop it."""
    if ABI < 6:
        pytest.skip(f"Landlock ABI {ABI} has no signal scope (6 and newer)")
    results, _ = grade_attack(tmp_path, "signals_the_grader", layers=layers, sections=(1,))
    loading = results["tests"][0]["output"]
    if layers is None:
        assert "signal to the grader: refused" in loading, loading
    else:
        assert "signal to the grader: allowed" in loading, loading


@needs_landlock
@pytest.mark.parametrize("layers", [None, UNCONFINED], ids=["confined", "positive-control"])
def test_nothing_is_left_in_shared_folders(layers, tmp_path, capfd):
    token = random.SystemRandom().randrange(10 ** 8, 10 ** 9)
    names = [f"{folder}/hw8-leak-{token}" for folder in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
             if os.access(folder, os.W_OK)]
    try:
        results, _ = grade_attack(tmp_path, "leaves_files", layers=layers, sections=(1,), TOKEN=token)
        left = [n for n in names if os.path.lexists(n)]
        shm = token in _shm_keys()
    finally:
        for n in names:
            if os.path.lexists(n):
                os.unlink(n)
        remove_ipc({("shm", int(line.split()[1])) for line in _shm_rows() if int(line.split()[0]) == token})
    assert section_scores(results)[1] == 10
    if layers is None:  # Landlock and seccomp: nothing could be made
        assert left == [] and not shm
    else:  # the attack is real; the grader names what appeared, and leaves it (it may be the TA's)
        assert left == names and shm
        log = capfd.readouterr().err
        assert all(n in log for n in names) and "System V shm" in log


def _shm_rows():
    try:
        with open("/proc/sysvipc/shm") as f:
            f.readline()
            return f.readlines()
    except OSError:
        return []


def _shm_keys():
    try:
        with open("/proc/sysvipc/shm") as f:
            f.readline()
            return [int(line.split()[0]) for line in f]
    except OSError:
        return []


def test_new_entries_are_named_and_ipc_removed(tmp_path):
    root = tmp_path / "shared"
    root.mkdir()
    (root / "old").write_text("kept")
    before = shared_entries([str(root)])
    (root / "new").write_text("left")
    (root / "hw8-run-x").mkdir()  # a grader's own run folder: remove_stale_runs' to judge
    os.symlink("/etc/passwd", root / "link")
    assert sorted(os.path.basename(p) for p in new_entries(before, os.geteuid())) == ["link", "new"]
    assert new_entries(before, os.geteuid() + 1) == []  # another uid's
    libc = ctypes.CDLL(None, use_errno=True)
    key = random.SystemRandom().randrange(10 ** 8, 10 ** 9)
    ipc_before = ipc_objects(os.geteuid())
    assert libc.shmget(key, 4096, 0o1000 | 0o600) >= 0
    new_ipc = ipc_objects(os.geteuid()) - ipc_before
    assert len(new_ipc) == 1 and key in _shm_keys()
    assert remove_ipc(new_ipc) == 1 and key not in _shm_keys()


def test_stale_run_folders_are_removed_and_live_ones_kept(tmp_path):
    stale, live = tmp_path / "hw8-run-stale", tmp_path / "hw8-run-live"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "job.json").write_text('{"cells": ["a student\'s code"]}')
    (tmp_path / "hw8-run-link").symlink_to(stale)
    fd = lock_run_folder(live)
    try:
        removed = remove_stale_runs(tmp_path, min_age=0)
    finally:
        os.close(fd)
    assert removed == [str(stale)] and live.exists() and not stale.exists()
    assert remove_stale_runs(tmp_path, min_age=0) == [str(live)]  # its grader is gone: now it goes too


def test_a_run_folder_is_private_to_its_run(tmp_path):
    from grader.sandbox import Sandbox
    from hw8core.wire import Probe
    sandbox = Sandbox(["x = 1"], [Probe("p", 1, "f")], ["f"], Limits())
    try:
        sandbox._prepare()
        sandbox._write_job(set(), 0)
        assert stat.S_IMODE(os.stat(sandbox.workdir).st_mode) == 0o700
        for name in ("job.json", "inputs.npz", "child.py"):
            assert stat.S_IMODE(os.stat(sandbox.workdir / name).st_mode) == 0o600, name
    finally:
        sandbox._cleanup()
    assert not sandbox.workdir.exists()


def test_a_layer_that_cannot_apply_says_why(tmp_path, monkeypatch):
    """An old kernel (no Landlock) and a machine without libseccomp: the grade goes on, each layer says why it is
    missing, and with no confining layer at all the loading report says the run was not confined."""
    monkeypatch.setattr(confine, "landlock_abi", lambda: (0, "the kernel has no Landlock (older than 5.13, or built "
                                                            "without it)"))
    monkeypatch.setattr(confine.Confinement, "_build_filter", lambda self: setattr(
        self, "_seccomp_why", "libseccomp is unavailable: stand-in") or None)
    results, _ = grade_attack(tmp_path, "reaches_out", sections=(1,), TCP_PORT=9, UDP_PORT=9, PLANTS=[])
    layers = results["extra_data"]["confinement"]
    assert layers["landlock"] == {"applied": False, "detail": "the kernel has no Landlock (older than 5.13, or built "
                                                              "without it)"}
    assert layers["seccomp"] == {"applied": False, "detail": "libseccomp is unavailable: stand-in"}
    assert layers["rlimits"]["applied"] and section_scores(results)[1] == 10
    if os.geteuid() == 0:
        assert "runs as uid 0" in layers["uid"]["detail"]
    assert "not confined" in results["tests"][0]["output"]


@needs_landlock
@pytest.mark.parametrize("layers", [None, NO_SECCOMP, NO_LANDLOCK], ids=["confined", "without-seccomp",
                                                                          "without-landlock"])
def test_what_landlock_does_not_cover(layers, tmp_path):
    """A file's mode, the grader's limits and a Unix socket by its path are seccomp's to refuse; /etc/shadow is
    Landlock's (as root the child could read it). Each positive control shows its share."""
    target = tmp_path / "victim"
    target.write_text("x")
    os.chmod(target, 0o600)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "sock"))
    listener.listen(1)
    try:
        results, _ = grade_attack(tmp_path, "overreaches", layers=layers, sections=(1,), TARGET=str(target),
                                  SOCKET=str(tmp_path / "sock"))
    finally:
        listener.close()
    loading = results["tests"][0]["output"]
    got = dict(part.split(" ") for part in re.search(r"overreach: ([^\n]*?)(?:;? it was skipped|$)", loading)
               .group(1).rstrip(";").split("; "))
    mode = stat.S_IMODE(os.stat(target).st_mode)
    shadow = "allowed" if os.geteuid() == 0 and os.path.exists("/etc/shadow") else "refused"
    if layers is None:
        assert got == {"chmod": "refused", "prlimit": "refused", "shadow": "refused", "unix": "refused"}, loading
        assert mode == 0o600
    elif layers == NO_SECCOMP:
        assert got == {"chmod": "allowed", "prlimit": "allowed", "shadow": "refused", "unix": "allowed"}, loading
        assert mode == 0o777
    else:
        assert got["shadow"] == shadow and got["chmod"] == "refused", loading


def test_a_recursion_bomb_is_junk_not_a_crash(tmp_path, schema):
    results, evidence = grade_attack(tmp_path, "recursion_bomb", sections=(1, 2))
    jsonschema.validate(results, schema)
    expect, message = expectation("recursion_bomb")
    assert {str(k): v for k, v in section_scores(results).items() if k in (1, 2)} == {"1": 10, "2": 0}
    assert message in _text(results)


@needs_landlock
@pytest.mark.parametrize("layers", [None, NO_LANDLOCK], ids=["confined", "positive-control-without-landlock"])
def test_the_child_cannot_read_the_solutions_the_grader_or_the_checks(layers, tmp_path):
    """Landlock cuts the solutions, the grader and hw8core (the checks) out of every folder the child may read, by
    path as well as by import; without Landlock the same reads get through (the files are the TA's, readable)."""
    targets = {"reference": str(SECRET), "grader": str(ROOT / "grader" / "probes.py"),
               "hw8core": str(ROOT / "hw8core" / "checks" / "common.py")}
    results, _ = grade_attack(tmp_path, "reads_the_grader", layers=layers, sections=(1,), TARGETS=targets)
    loading = results["tests"][0]["output"]
    got = dict(part.split(" ") for part in re.search(r"grader files: ([^\n]*?)(?:;? it was skipped|$)", loading)
               .group(1).rstrip(";").split("; "))
    want = "refused" if layers is None else "allowed"
    assert got == {"reference": want, "grader": want, "hw8core": want}, loading


def test_the_checks_package_is_a_secret_wherever_it_is_installed():
    """Here hw8core lies outside every folder a child may read (the repository), so the test above passes without
    this; installed into site-packages (the Gradescope image), only its place among the secrets cuts it out of the
    readable site-packages, as for reference and grader: tests/test_autograder_zip.py's snoop tries all three there."""
    import hw8core
    from grader.sandbox import _solution_folders
    folders = {os.path.realpath(f) for f in _solution_folders()}
    assert {os.path.realpath(p) for p in hw8core.__path__} <= folders
    assert {str(ROOT / "reference"), str(ROOT / "grader")} <= folders


def test_malformed_events_and_answers_are_junk_not_a_crash(tmp_path, schema):
    # Each of the attack's forgeries raised out of the grader before (checked by grading this file with the grader
    # of 2283244: the grade raised); now each is the child's junk, costing only the forger's own checks.
    results, evidence = grade_attack(tmp_path, "malformed_events", sections=(1, 2, 3), scale=1.0)
    jsonschema.validate(results, schema)
    expect, message = expectation("malformed_events")
    lost = {pid: (a.status, a.message[:200], round(a.seconds, 2)) for pid, a in evidence.report.answers.items()
            if a.status != "ok" and not pid.startswith("s2")}
    assert {str(k): v for k, v in section_scores(results).items() if k in (1, 2, 3)} == expect, lost
    assert message in _text(results)
    s2 = [a.message for pid, a in evidence.report.answers.items() if pid.startswith("s2")]
    assert s2 and all("could not be" in m for m in s2), s2
    forged = [c for c in evidence.report.cells.values() if c.error and c.error["message"] == "[1, 2]"]
    assert len(forged) == 1 and set(forged[0].error) == {"type", "message", "where", "traceback"}


def _deep_tree(root, depth):
    """root/d/d/.../d, depth levels, made by directory fds (deeper than a path may be long)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            new = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = new
    finally:
        os.close(fd)


def test_a_tree_deeper_than_the_recursion_limit_is_removed(tmp_path):
    import shutil
    import sys
    from hw8core.supervisor import remove_tree
    control, tree = tmp_path / "control", tmp_path / "tree"
    for root in (control, tree):
        root.mkdir()
        _deep_tree(root, 3000)  # 6000 characters of path: past PATH_MAX too
    if sys.version_info < (3, 13):  # the positive control: rmtree recurses once per level there
        with pytest.raises(RecursionError):
            shutil.rmtree(control, ignore_errors=True)
    remove_tree(tree)
    assert not tree.exists()
    remove_tree(control)  # what the control's rmtree left: pytest's own clean-up of tmp_path would trip on it
    assert not control.exists()


def test_the_token_is_looked_for_in_a_bounded_part_of_a_processes_environment(monkeypatch):
    import subprocess
    import psutil
    from grader import processes
    padding = {f"PAD{i}": "x" * 100_000 for i in range(8)}  # 800 kB: exec refuses one variable over 128 kB
    first = subprocess.Popen(["sleep", "30"], env={"HW8_SANDBOX_TOKEN": "tok", **padding})
    last = subprocess.Popen(["sleep", "30"], env={**padding, "HW8_SANDBOX_TOKEN": "tok"})
    try:
        time.sleep(0.3)
        # the positive control: psutil reads the whole environment, however large the process made it
        assert psutil.Process(last.pid).environ()["HW8_SANDBOX_TOKEN"] == "tok"
        read = []
        real_read = os.read
        monkeypatch.setattr(processes.os, "read", lambda fd, n: read.append(n) or real_read(fd, n))
        assert processes.carries_token(first.pid, "tok") and not processes.carries_token(first.pid, "to")
        read.clear()
        assert not processes.carries_token(last.pid, "tok")  # past the first 64 KiB: not read at all
        assert 0 < sum(read) <= processes.ENVIRON_BYTES
        monkeypatch.setattr(psutil.Process, "environ", lambda self: pytest.fail("environ() read in full"))
        processes._sandbox_processes(os.getpid(), "tok")  # the clean-up's scan of every process on the machine
    finally:
        first.kill()
        last.kill()
        first.wait()
        last.wait()


@pytest.mark.parametrize("budget", [None, 1024], ids=["default", "a-small-budget"])
def test_a_runs_answers_are_kept_within_a_budget(budget, tmp_path, monkeypatch):
    from hw8core import supervisor
    if budget is not None:  # section 1's five answers hold 2352 bytes (measured): 1024 keeps some, refuses the rest
        monkeypatch.setattr(supervisor, "MAX_RUN_ANSWER_BYTES", budget)
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "hw8.py").write_text(BASE)
    results, evidence = grade(sub, seed=5, limits=LIMITS, sections=(1,))
    answers = evidence.report.answers.values()
    refused = [a for a in answers if a.message.startswith("not kept")]
    kept = sum(a.nbytes for a in answers)
    if budget is None:  # the positive control: the same run, every answer kept, full marks
        assert section_scores(results)[1] == 10 and not refused and kept == 2352
    else:
        assert section_scores(results)[1] < 10 and refused and 0 < kept <= budget
        assert "MiB a run may return" in _text(results)


def test_a_submission_that_is_a_link_fifo_or_huge_is_refused_unread(tmp_path, monkeypatch):
    from pathlib import Path
    from hw8core import loader
    secret = tmp_path / "secret.py"
    secret.write_text(SECRET.read_text())
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "hw8.py").symlink_to(secret)
    # the positive control: reading the path as before (Path.read_bytes) follows the link to the secret
    assert (linked / "hw8.py").read_bytes() == secret.read_bytes()
    submission, error = loader.load_for_grading(linked)
    assert submission is None and "symbolic link" in str(error)
    submission, error = loader.load_for_grading(linked, follow_links=True)  # the kit, on the student's machine
    assert error is None and submission.cells
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "hw8.py")  # no writer: a blocking open or read would hang the grader
    for path in (fifo, fifo / "hw8.py"):  # in a folder it is not a file to grade; named, it is refused
        submission, error = loader.load_for_grading(path)
        assert submission is None and ("not a regular file" in str(error) or "holds: nothing" in str(error)), error
    big = tmp_path / "big"
    big.mkdir()
    (big / "hw8.py").write_text("x = 1\n")
    monkeypatch.setattr(loader, "MAX_SUBMISSION_BYTES", 4)
    submission, error = loader.load_for_grading(big)
    assert submission is None and "more than the" in str(error)


def test_batch_reads_a_students_folder_without_following_links(tmp_path):
    from grader.batch import _read_files
    secrets = tmp_path / "ta"
    secrets.mkdir()
    (secrets / "s1_srn.py").write_text(SECRET.read_text())
    student = tmp_path / "class" / "amy"
    student.mkdir(parents=True)
    (student / "hw8.py").write_text(BASE)
    (student / "notes.py").symlink_to(secrets / "s1_srn.py")
    (student / "grader").symlink_to(secrets, target_is_directory=True)
    os.mkfifo(student / "pipe.py")
    # the positive control: the old walk (rglob, is_file) takes the file link in, the TA's solution with it
    old = {str(p.relative_to(student)) for p in student.rglob("*") if p.is_file()}
    assert "notes.py" in old
    assert _read_files(student) == {"hw8.py": BASE.encode()}
    assert _read_files(student / "notes.py") == {}


@pytest.mark.parametrize("mode", ["files", "unlinked", "entries"])
def test_a_run_that_fills_the_disk_is_stopped_and_its_files_removed(mode, tmp_path, monkeypatch):
    """The first call of srn_forward_tanh writes 128 MiB (or 2500 files) in its run folder. With a 64 MiB limit (and
    2000 entries) it is stopped: that call fails, as a crash, with what it held, and as after a crash the function's
    later calls are not tried (section 2 at 0); the next child starts from emptied folders, so section 3 passes. The
    positive control: the same run without a disk limit passes every check, the files all written (the call returns
    only after writing them)."""
    from grader import sandbox
    monkeypatch.setattr(sandbox, "MAX_RUN_ENTRIES", 2000)  # as 20000, at a tenth of the files to make
    fill = {"MODE": mode, "TOTAL": 128, "COUNT": 2500}
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "hw8.py").write_text(BASE + "\n\n" + attack_source("fills_the_disk", **fill))
    limits = dataclasses.replace(LIMITS, timeout_scale=1.0)  # writing and waiting for a look take over 1 s
    unlimited, _ = grade(sub, seed=5, limits=dataclasses.replace(limits, disk_bytes=None), sections=(1, 2, 3))
    assert section_scores(unlimited) == {1: 10, 2: 10, 3: 15}, _text(unlimited)[:3000]
    results, evidence = grade(sub, seed=5, limits=dataclasses.replace(limits, disk_bytes=64 * 2 ** 20),
                              sections=(1, 2, 3))
    expect, message = expectation("fills_the_disk")
    assert {str(n): s for n, s in section_scores(results).items()} == expect, _text(results)[:3000]
    assert mode == "entries" or message in _text(results)
    stopped = [a for a in evidence.report.answers.values() if a.message.startswith("the process was stopped")]
    assert len(stopped) == 1 and stopped[0].status == "crashed", [a.message for a in stopped]
    why = "made more than 2000 files" if mode == "entries" else "MiB on disk, more than the 64 MiB a run may write"
    assert why in stopped[0].message and why in _text(results), stopped[0].message
    assert evidence.report.restarts == 1
    assert any(a.message == "not tried: an earlier call of srn_forward_tanh was stopped by the grader"
               for a in evidence.report.answers.values())


def test_disk_use_counts_blocks_in_folders_and_in_open_files_without_names(tmp_path):
    """grader.leftovers.disk_use: allocated blocks (a sparse file counts what it holds), entries up to the cap, a link
    never followed, and a file open in a process but no longer in any folder; the positive control for the last:
    the same file is not seen when that process is not looked at."""
    from grader.leftovers import disk_use
    (tmp_path / "a").write_bytes(b"x" * 2 ** 20)
    with open(tmp_path / "sparse", "wb") as f:
        f.truncate(2 ** 30)  # a 1 GiB file that holds no block
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"y" * 2 ** 20)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "big").write_bytes(b"z" * 4 * 2 ** 20)
    os.symlink(outside, tmp_path / "link")
    used, entries, unreadable = disk_use([tmp_path])
    assert 2 * 2 ** 20 <= used < 3 * 2 ** 20 and entries == 5 and unreadable is None
    assert disk_use([tmp_path], max_entries=2)[1] == 3  # counting stops past the cap
    hidden = open(tmp_path / "hidden", "wb")
    hidden.write(b"h" * 8 * 2 ** 20)
    hidden.flush()
    os.unlink(tmp_path / "hidden")
    try:
        assert disk_use([tmp_path])[0] < 3 * 2 ** 20  # the control: in no folder
        assert disk_use([tmp_path], pids=[os.getpid()])[0] >= 10 * 2 ** 20
    finally:
        hidden.close()
