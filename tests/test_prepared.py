"""Prepared children (grader/zygote.py, grader/prepared.py): a child forked from a zygote that has imported numpy and
torch is the child a fresh start gives, its run's processes are found by the same token, no child can reach the
zygote, and a zygote that is gone, silent or unwanted costs only speed."""
import dataclasses
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import prepared
from grader.prepared import ZYGOTE_OF_THIS_PROCESS, zygote_pid
from grader.sandbox import Sandbox
from hw8core.supervisor import Limits
from hw8core.wire import Probe

ROOT = Path(__file__).resolve().parent.parent
LIMITS = Limits(cell_timeout=30.0, startup_timeout=60.0, total_timeout=180.0, memory_bytes=2 * 2 ** 30)
# The positive control: neither Landlock nor seccomp. The uid layer stays: run by root without --user, it is the child
# as uid 0 with every capability dropped, as a TA's child is the TA's uid without capabilities.
NO_CONFINEMENT = ("rlimits", "uid", "no_new_privs")

OBSERVE = r'''
import os, sys
TORCH_BEFORE = "torch" in sys.modules  # before any import of the submission's: only a prepared child has it

def f():
    def area(name):
        with open(f"/proc/self/{name}", "rb") as fh:
            return [a.decode() for a in fh.read().split(b"\0") if a]
    with open("/proc/self/status") as fh:
        status = dict(line.split(":", 1) for line in fh.read().splitlines() if ":" in line)
    fds = sorted(int(n) for n in os.listdir("/proc/self/fd"))
    return {"argv": sys.argv, "path": sys.path, "cwd": os.getcwd(), "env": dict(os.environ),
            "cmdline": area("cmdline"), "environ": area("environ"), "fds": fds, "ppid": os.getppid(),
            "session_leader": os.getsid(0) == os.getpid(), "flags": [sys.flags.isolated, sys.flags.no_site],
            "status": {k: status[k].strip() for k in ("NoNewPrivs", "Seccomp", "Uid", "CapEff")},
            "torch_before": TORCH_BEFORE}
'''


def observe(tmp_path, prepared_child, limits=LIMITS):
    limits = dataclasses.replace(limits, prepared=prepared_child)
    sandbox = Sandbox([OBSERVE], [Probe("p", 1, "f", timeout=30.0)], ["f"], limits, workdir=tmp_path / "run")
    report = sandbox.run()
    answer = report.answers["p"]
    assert answer.status == "ok", answer.message
    return answer.value, str(tmp_path / "run")


def observe_forked(tmp_path):
    """observe() in a child forked from the zygote. The zygote starts when a child is asked for after another ended,
    and serves once ready (before that, children start fresh): at most three runs."""
    for attempt in range(3):
        seen, run = observe(tmp_path / f"try{attempt}", True)
        if seen["torch_before"]:
            return seen, run
        ZYGOTE_OF_THIS_PROCESS.wait_ready(120.0)
    raise AssertionError("no child came from a zygote")


def _normal(seen, run):
    """What must not differ between two runs: the run's folder and token, and the numbers of the inherited fds,
    named by their place in the arguments (a fresh child keeps the grader's numbers, a forked one gets 3 and 4)."""
    token = seen["env"]["HW8_SANDBOX_TOKEN"]
    control, ack = seen["cmdline"][5:7]  # python -I -S child.py WORKDIR CONTROL ACK
    names = {control: "<control>", ack: "<ack>"}

    def clean(v):
        if isinstance(v, str):
            return names.get(v, v.replace(run, "<run>").replace(token, "<token>"))
        if isinstance(v, list):
            return [clean(x) for x in v]
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        return v
    out = clean({k: v for k, v in seen.items() if k not in ("fds", "torch_before")})
    out["fds"] = sorted(names.get(str(fd), "other") for fd in seen["fds"] if fd > 2)  # "other": listdir's own
    return out


def test_a_prepared_child_is_the_child_a_fresh_start_gives(tmp_path):
    fresh, run_a = observe(tmp_path / "a", False)
    forked_, run_b = observe_forked(tmp_path / "b")
    forked = forked_
    assert forked["torch_before"] and not fresh["torch_before"]  # the positive control: this one was forked
    assert _normal(forked, run_b) == _normal(fresh, run_a)
    assert forked["ppid"] == os.getpid() and forked["session_leader"]  # re-parented to the grader, its own session
    assert forked["status"]["NoNewPrivs"] == "1"
    # /proc/PID/environ carries the child's own environment, token included (processes.carries_token reads it),
    # and /proc/PID/cmdline its own arguments; the zygote's carries neither: the child wrote them there.
    assert f"HW8_SANDBOX_TOKEN={forked['env']['HW8_SANDBOX_TOKEN']}" in forked["environ"]
    assert sorted(forked["environ"]) == sorted(f"{k}={v}" for k, v in forked["env"].items())
    assert forked["cmdline"][1:5] == ["-I", "-S", f"{run_b}/child.py", run_b]
    if os.geteuid() == 0:  # the zygote is undumpable: only root reads its /proc/PID/environ
        with open(f"/proc/{zygote_pid()}/environ", "rb") as fh:
            zygote_env = fh.read()
        assert b"HW8_SANDBOX_TOKEN" not in zygote_env and prepared.PAD_NAME.encode() in zygote_env


REACH = r'''
import os, signal
def f():
    seen = {}
    for name in ("environ", "mem", "cmdline"):
        try:
            with open(f"/proc/ZPID/{name}", "rb") as fh:
                fh.read(1)
            seen[name] = "read"
        except OSError as exc:
            seen[name] = exc.errno
    try:
        os.kill(ZPID, signal.SIGKILL)
        seen["kill"] = "sent"
    except OSError as exc:
        seen["kill"] = exc.errno
    return seen
'''


@pytest.mark.parametrize("layers", [None, NO_CONFINEMENT], ids=["confined", "positive-control-unconfined"])
def test_a_child_cannot_reach_the_zygote(layers, tmp_path):
    observe_forked(tmp_path / "warm")  # a zygote is running
    zpid = zygote_pid()
    assert zpid is not None
    limits = dataclasses.replace(LIMITS, layers=layers)
    report = Sandbox([REACH.replace("ZPID", str(zpid))], [Probe("p", 1, "f", timeout=30.0)], ["f"], limits,
                     workdir=tmp_path / "run").run()
    seen = report.answers["p"].value
    # Undumpable: its memory is closed even to an unconfined child of the same uid (without CAP_SYS_PTRACE).
    assert seen["mem"] in (errno.EACCES, errno.EPERM)
    if layers is None:
        assert seen["kill"] == errno.EPERM and seen["environ"] in (errno.EACCES, errno.EPERM), seen
        assert zygote_pid() == zpid  # it survived, and the next child comes from it
    else:
        assert seen["kill"] == "sent", seen  # without Landlock's signal scope, a child of the same uid kills it
        deadline = time.monotonic() + 10.0  # SIGKILL is delivered, not waited for: the zygote may still be dying
        while zygote_pid() == zpid and time.monotonic() < deadline:
            time.sleep(0.05)
        assert zygote_pid() != zpid
    observe_forked(tmp_path / "after")  # either way, later runs are forked again


def test_a_zygote_that_is_gone_or_silent_costs_only_speed(tmp_path, monkeypatch):
    observe_forked(tmp_path / "warm")
    monkeypatch.setattr(ZYGOTE_OF_THIS_PROCESS, "failures", 0)
    zpid = zygote_pid()
    os.kill(zpid, signal.SIGKILL)  # gone: this child starts fresh, later ones come from a new zygote
    seen, _ = observe(tmp_path / "gone", True)  # (found dead at once, or its socket fails: a failure)
    assert not seen["torch_before"]
    observe_forked(tmp_path / "again")
    assert zygote_pid() not in (None, zpid)
    monkeypatch.setattr(prepared, "SPAWN_SECONDS", 1.0)
    zpid = zygote_pid()
    failures = ZYGOTE_OF_THIS_PROCESS.failures
    os.kill(zpid, signal.SIGSTOP)  # silent: after SPAWN_SECONDS this child starts fresh
    seen, _ = observe(tmp_path / "silent", True)
    assert not seen["torch_before"] and ZYGOTE_OF_THIS_PROCESS.failures == failures + 1
    observe_forked(tmp_path / "again2")
    assert zygote_pid() not in (None, zpid)
    monkeypatch.setattr(ZYGOTE_OF_THIS_PROCESS, "failures", prepared.MAX_FAILURES)  # after so many, always fresh
    seen, _ = observe(tmp_path / "fresh", True)
    assert not seen["torch_before"]


def test_no_zygote_where_memory_is_short(tmp_path, monkeypatch):
    """Gradescope's image (768 MB, a child's cap 0.8 GiB): the zygote's 223 MiB does not fit beside the child."""
    import hw8core.parallel
    monkeypatch.setattr(hw8core.parallel, "memory_available", lambda: 700 * 2 ** 20)
    seen, _ = observe(tmp_path / "short", True, dataclasses.replace(LIMITS, memory_bytes=819 * 2 ** 20))
    assert not seen["torch_before"]
    monkeypatch.setattr(hw8core.parallel, "memory_available", lambda: 8 * 2 ** 30)
    observe_forked(tmp_path / "plenty")


def test_a_one_shot_run_starts_no_zygote(tmp_path):
    """A process whose children all start at once (one `hw8-grade grade`) would pay the zygote's imports and never
    use it: the zygote starts only when a child is asked for after another ended. Two runs in one fresh process: no
    zygote during the first, one started by the second's child."""
    code = ("import sys\nsys.path.insert(0, 'tests')\nfrom test_prepared import observe\n"
            "from grader.prepared import ZYGOTE_OF_THIS_PROCESS as Z\nfrom pathlib import Path\n"
            f"observe(Path({str(tmp_path)!r}) / 'one', True)\nprint(Z.proc is None)\n"
            f"observe(Path({str(tmp_path)!r}) / 'two', True)\nprint(Z.proc is not None)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.stdout.split() == ["True", "True"], proc.stdout + proc.stderr[-3000:]


def test_a_forked_child_that_cannot_become_the_runs_child_starts_fresh(tmp_path, monkeypatch):
    """A zygote whose first environment has no room for the run's (PAD_BYTES made tiny): its child exits before its
    confinement's report. That is the zygote's failure, not the submission's: the child starts fresh and the run
    grades. (Without the fallback, every restart would be forked and die the same way: the whole run lost.)"""
    monkeypatch.setattr(ZYGOTE_OF_THIS_PROCESS, "failures", 0)
    ZYGOTE_OF_THIS_PROCESS.failed()  # stops the zygote running now: the next one starts with the tiny room
    monkeypatch.setattr(prepared, "PAD_BYTES", 8)
    monkeypatch.setattr(ZYGOTE_OF_THIS_PROCESS, "failures", 0)
    try:
        for attempt in range(3):  # until a zygote with the tiny room is ready
            observe(tmp_path / f"start{attempt}", True)
            if ZYGOTE_OF_THIS_PROCESS.wait_ready(120.0):
                break
        assert ZYGOTE_OF_THIS_PROCESS.wait_ready(0.0)
        seen, _ = observe(tmp_path / "fallback", True)
        assert not seen["torch_before"] and ZYGOTE_OF_THIS_PROCESS.failures == 1
    finally:
        ZYGOTE_OF_THIS_PROCESS.failed()  # no zygote with the tiny room outlives this test


def test_no_forked_child_under_a_cap_the_zygote_would_crowd(tmp_path):
    """A forked child starts with the zygote's whole address space, which a fresh one reaches only once it imports
    torch (the CUDA build maps 3.2 GB). Under a cap less than twice that, children start fresh: a numpy-only
    submission keeps the room it had."""
    observe_forked(tmp_path / "ready")
    size = ZYGOTE_OF_THIS_PROCESS.vm_bytes
    assert 0 < size < 2 ** 40
    seen, _ = observe(tmp_path / "crowded", True, dataclasses.replace(LIMITS, memory_bytes=2 * size - 1))
    assert not seen["torch_before"]
    seen, _ = observe(tmp_path / "room", True, dataclasses.replace(LIMITS, memory_bytes=2 * size))
    assert seen["torch_before"]
