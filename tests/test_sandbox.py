"""The sandbox: cells and probes survive hangs, exits, crashes, memory hogs and floods."""
import os
import time

import numpy as np
import psutil

from hw8core.wire import Probe
from grader.sandbox import Sandbox
from hw8core.supervisor import Limits

from conftest import own_sleeps, sleepers

FAST = Limits(cell_timeout=8.0, startup_timeout=30.0, total_timeout=120.0, memory_bytes=2 * 2 ** 30)


def run(cells, probes=(), limits=FAST):
    return Sandbox(cells, list(probes), ["f", "g"], limits).run()


def P(pid, fn, *args, timeout=5.0, **kwargs):
    return Probe(pid, 1, fn, list(args), kwargs, timeout=timeout)


def _no_leftovers(token_free_before):
    from grader.prepared import zygote_pid
    time.sleep(0.2)
    me = psutil.Process()
    return [c for c in me.children(recursive=True) if c.pid not in token_free_before and c.pid != zygote_pid()]


def test_each_cell_runs_after_a_failing_one():
    report = run(["x = 1", "raise ValueError('boom')", "import sys; sys.exit(3)", "def f(a):\n    return a * x"],
                 [P("p", "f", np.arange(3.0))])
    assert [report.cells[i].status for i in range(4)] == ["ok", "error", "error", "ok"]
    assert "ValueError: boom" in report.cells[1].error["message"]
    assert report.cells[2].error["type"] == "SystemExit"
    assert report.answers["p"].status == "ok" and report.answers["p"].value.tolist() == [0.0, 1.0, 2.0]


def test_a_hanging_cell_is_cut_off_and_later_cells_still_count():
    report = run(["def f():\n    return 1", "import time\ntime.sleep(10**6)", "def g():\n    return 2"],
                 [P("a", "f"), P("b", "g")], Limits(cell_timeout=2.0, total_timeout=60.0))
    assert report.cells[1].status == "timeout"
    assert report.answers["a"].value == 1 and report.answers["b"].value == 2
    assert report.restarts == 1  # cut at its own limit and skipped once, not waited out to the run's limit


def test_os_exit_in_a_cell_or_a_probe_loses_only_that():
    report = run(["import os\ndef f():\n    os._exit(0)", "def g():\n    return 5", "os._exit(1)"],
                 [P("a", "f"), P("b", "g")])
    assert report.cells[2].status == "crashed"
    assert report.answers["a"].status == "crashed" and "exited with status 0" in report.answers["a"].message
    assert report.answers["b"].value == 5


def test_infinite_loop_ignoring_sigterm_times_out():
    cells = ["import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
             "def f():\n    while True:\n        pass\ndef g():\n    return 'after'"]
    report = run(cells, [P("a", "f", timeout=2.0), P("b", "g")])
    assert report.answers["a"].status == "timeout"
    assert report.answers["b"].value == "after"


def test_memory_hog_fails_its_probe_only():
    cells = ["import numpy as np\ndef f():\n    return np.ones(6 * 2**30 // 8).sum()\ndef g():\n    return 7"]
    report = run(cells, [P("a", "f"), P("b", "g")])
    assert report.answers["a"].status == "error" and "MemoryError" in report.answers["a"].message
    assert report.answers["b"].value == 7


def test_processes_left_behind_are_killed():
    before = {c.pid for c in psutil.Process().children(recursive=True)}
    spawn, durations = own_sleeps("import subprocess\nsubprocess.Popen(['sleep', '600'])\n"
                                  "subprocess.Popen(['setsid', 'sleep', '601'])")
    assert len(durations) == 2
    cells = [spawn, "import os\nif os.fork() == 0:\n    os.setsid()\n    import time\n    time.sleep(600)"]
    report = run(cells)
    assert report.stray_processes_killed >= 1
    assert _no_leftovers(before) == []
    assert sleepers(durations) == []


def test_output_is_capped():
    report = run(["print('x' * 50_000_000)", "def f():\n    return 1"], [P("a", "f")],
                 Limits(cell_timeout=30.0, total_timeout=120.0, output_bytes=1000))
    assert len(report.output) <= 1000 and report.output_dropped >= 49_000_000
    assert report.answers["a"].value == 1


def test_lying_objects_are_reported_by_class_name_only():
    cells = ["import numpy as np\n"
             "class Liar(np.ndarray):\n    def __eq__(self, o):\n        return True\n"
             "class Fake:\n    def __array__(self, *a, **k):\n        raise SystemExit\n    def __float__(self):\n        return 1.0\n"
             "def f():\n    return Fake(), np.zeros(2).view(Liar), 2.5"]
    report = run(cells, [P("a", "f")])
    fake, liar, num = report.answers["a"].value
    assert type(fake).__name__ == "ForeignValue" and fake.cls.endswith("Fake")
    assert type(liar).__name__ == "ForeignValue" and liar.cls.endswith("Liar")
    assert num == 2.5


def test_files_beside_the_submission_do_not_shadow_modules(tmp_path):
    report = run(["import numpy, os\ndef f():\n    return [numpy.__file__.startswith(os.getcwd()), os.listdir('.')]"],
                 [P("a", "f")])
    shadowed, listing = report.answers["a"].value
    assert shadowed is False and listing == []


def test_the_child_does_not_inherit_the_parents_environment():
    os.environ["HW8_SECRET_FOR_TEST"] = "x"
    try:
        report = run(["import os\ndef f():\n    return 'HW8_SECRET_FOR_TEST' in os.environ"], [P("a", "f")])
    finally:
        del os.environ["HW8_SECRET_FOR_TEST"]
    assert report.answers["a"].value is False



def test_the_sandbox_users_leftover_files_are_removed(tmp_path):
    """After a --user run, what the sandbox uid left in the shared temporary folders goes; nothing else does."""
    import pwd

    import pytest

    from grader.leftovers import remove_files_of
    if os.geteuid() != 0:
        pytest.skip("needs root to give files to another user")
    try:
        uid = pwd.getpwnam("hw8student").pw_uid
    except KeyError:
        pytest.skip("needs the sandbox user hw8student")
    root = tmp_path / "shared"
    root.mkdir()
    (root / "theirs").mkdir()
    (root / "theirs" / "x").write_text("1")
    (root / "their-file").write_text("1")
    (root / "mine").write_text("1")
    for p in (root / "theirs", root / "theirs" / "x", root / "their-file"):
        os.chown(p, uid, -1)
    remove_files_of(uid, roots=(str(root),))
    assert sorted(p.name for p in root.iterdir()) == ["mine"]


def test_the_leftover_scan_finds_its_own_sleepers_and_no_one_elses():
    """Positive control for the leftover scans above and in test_hostile: a live sleeper is found by its own token."""
    import subprocess
    mine, durations = own_sleeps("sleep 600")
    _, others = own_sleeps("sleep 600")
    proc = subprocess.Popen(mine.split())
    try:
        time.sleep(0.2)
        assert sleepers(durations) == [proc.pid]
        assert sleepers(others) == []
    finally:
        proc.kill()
        proc.wait()
    assert sleepers(durations) == []


PRINTS_ITS_ARGUMENT = "def f(a):\n    print('call', a)\n    return a\n"


def _segments_of_a_lagging_grader(monkeypatch, acks):
    """A serial run of ten fast probes that print, its grader made to lag (each chunk of events taken in 50 ms late,
    as on a loaded machine): {probe id: what its output segment holds}."""
    original = Sandbox._follow

    def late(self, buf, phase):
        time.sleep(0.05)
        return original(self, buf, phase)

    monkeypatch.setattr(Sandbox, "_follow", late)
    monkeypatch.setattr(Sandbox, "acks", acks)
    report = run([PRINTS_ITS_ARGUMENT], [P(f"p{i}", "f", i) for i in range(10)])
    assert [report.answers[f"p{i}"].value for i in range(10)] == list(range(10))
    return {key[1]: report.output_raw[start:end].decode() for key, start, end in report.output_segments
            if key[0] == "probe"}


def test_each_probes_prints_are_marked_as_its_own_however_late_the_grader_reads(monkeypatch):
    """hw8core/parallel.py puts a side-by-side run's output back in the serial order by these marks: the child waits
    for the grader's ack of each probe_start before it runs the probe, so what it prints falls after the mark."""
    segments = _segments_of_a_lagging_grader(monkeypatch, acks=True)
    assert segments == {f"p{i}": f"call {i}\n" for i in range(10)}, segments


def test_positive_control_without_the_acks_a_late_grader_marks_prints_as_an_earlier_probes(monkeypatch):
    segments = _segments_of_a_lagging_grader(monkeypatch, acks=False)
    assert segments != {f"p{i}": f"call {i}\n" for i in range(10)}, segments


# ---- time limits count computing (hw8core/supervisor.py WALL_FACTOR) -----------------------------------------

WAITS = "import time\ndef f(seconds):\n    time.sleep(seconds)\n    return 'done'\ndef g():\n    return 'after'"


def test_a_call_that_waits_past_its_limit_without_computing_is_not_cut_off(monkeypatch):
    """Waiting (for a core or the disk on a loaded machine; here, sleeping) is not computing: a 2 s limit lets a call
    that waits 3 s finish, up to WALL_FACTOR times the limit. Positive control: with CPU time unknown (Windows,
    macOS), the limit is wall time, and the same call times out."""
    report = run([WAITS], [P("a", "f", 3.0, timeout=2.0), P("b", "g")])
    assert report.answers["a"].status == "ok" and report.answers["a"].value == "done", report.answers["a"]
    import hw8core.supervisor as supervisor
    monkeypatch.setattr(supervisor, "cpu_seconds", lambda pid: None)
    report = run([WAITS], [P("a", "f", 3.0, timeout=2.0), P("b", "g")])
    assert report.answers["a"].status == "timeout" and report.answers["a"].message == "limit 2 s", report.answers["a"]
    assert report.answers["b"].value == "after"


def test_a_call_that_never_computes_is_stopped_at_wall_factor_times_its_limit():
    from hw8core.supervisor import WALL_FACTOR
    report = run([WAITS], [P("a", "f", 10 ** 6, timeout=1.0), P("b", "g")])
    a = report.answers["a"]
    assert a.status == "timeout" and a.message == f"limit 1 s of computing, {WALL_FACTOR:.0f} s in all", a
    assert a.seconds >= WALL_FACTOR * 1.0, a.seconds  # not cut at its 1 s: the wall limit is the backstop
    assert report.answers["b"].value == "after"


def test_cpu_seconds_reads_the_kernels_numbers_not_the_childs_name():
    """The process name in /proc/PID/stat is the child's to set (prctl PR_SET_NAME), and may hold ') R 1 2 ...':
    the numbers are read after the last ')'. Checked against psutil on a process that names itself so."""
    import subprocess
    import sys
    from hw8core.supervisor import cpu_seconds
    code = ("import ctypes, time\nctypes.CDLL(None).prctl(15, b'x) R 9 9 9 9 99999 99999 99999 99999')\n"
            "end = time.process_time() + 0.5\nwhile time.process_time() < end:\n    pass\nprint('ok', flush=True)\n"
            "time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ok"
        times = psutil.Process(proc.pid).cpu_times()
        assert abs(cpu_seconds(proc.pid) - (times.user + times.system + times.children_user + times.children_system)) \
            < 0.05
        assert 0.4 < cpu_seconds(proc.pid) < 10
    finally:
        proc.kill()
        proc.wait()
    assert cpu_seconds(proc.pid) is None  # gone: unknown, and the wall limit applies
