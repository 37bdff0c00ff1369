"""Run a notebook or module in child processes on a student's machine: Linux, macOS or Windows.

The state machine (time limits, restarts after a hang or a crash) is supervisor.py's, shared with
the grader. The child reports its events in a file, which works everywhere. On Linux the child also
gets its own session (the whole tree is killed on a timeout), a memory cap (RLIMIT_AS, the machine's
RAM: a runaway allocation fails with MemoryError rather than freezing the laptop) and dies with
this process. Elsewhere, or with HW8_CHECK_PORTABLE=1, it is a plain subprocess with a time limit,
and the kit says so once.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np

from hw8core.i18n import Msg
from hw8core.supervisor import Supervisor, cpu_seconds
from hw8core.wire import probe_spec

from hw8core import CHILD  # the child file (hw8core/child.py), copied into each run folder
_said = False


def linux_features():
    """True where the child can get a session, rlimits and a parent-death signal (Linux, unless switched off)."""
    if os.environ.get("HW8_CHECK_PORTABLE") or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes  # noqa: F401
        import resource  # noqa: F401
    except ImportError:
        return False
    return True


def say_portable_once(out=print):
    global _said
    if not _said:
        _said = True
        out(str(Msg("Note: your code runs in a plain subprocess with a time limit (this system lacks Linux's process "
                  "controls, so there is no memory cap).",
                  "提示：你的代码在普通子进程中运行，只有时间限制（此系统没有 Linux 的进程控制，因此没有内存上限）。")))


def machine_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _linux_preexec(memory_bytes):
    def apply():
        import ctypes
        import resource
        os.setsid()
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the kit
        except (OSError, AttributeError):
            pass
    return apply


class PortableRun(Supervisor):
    workdir_prefix = "hw8-check-"  # not the grader's "hw8-run-": a grader cleaning stale runs must not take ours

    def __init__(self, *args, linux=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.linux = linux_features() if linux is None else linux

    def _cpu_seconds(self, pid):
        """Linux's /proc, unless switched off: on Windows and macOS a step's limit is wall time alone."""
        return cpu_seconds(pid) if self.linux else None

    def _prepare(self):
        for sub in ("cwd", "out", "tmp"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CHILD, self.workdir / "child.py")
        arrays = {}
        self._specs = [probe_spec(p, arrays) for p in self.probes]
        np.savez(self.workdir / "inputs.npz", **arrays)

    def _run_once(self, deadline):
        events = self.workdir / "events.jsonl"
        if events.exists():
            events.unlink()
        env = dict(os.environ, PYTHONHASHSEED="0", MPLBACKEND="Agg", PYTHONIOENCODING="utf-8",
                   OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TMPDIR=str(self.workdir / "tmp"))
        kwargs = {}
        if self.linux:
            kwargs["preexec_fn"] = _linux_preexec(self.limits.memory_bytes)
        with open(self.workdir / "output.txt", "wb") as output:
            proc = subprocess.Popen([sys.executable, str(self.workdir / "child.py"), str(self.workdir), "-"],
                                    stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                    cwd=str(self.workdir / "cwd"), env=env, **kwargs)
        phase, result, offset, buf = ("start", None, time.monotonic()), None, 0, b""
        try:
            while result is None:
                result = self._time_up(phase, proc.pid, deadline)
                if result is not None:
                    break
                dead = proc.poll() is not None  # read after the check: a dead child's last events are in the file
                chunk, offset = _read_from(events, offset)
                buf, phase, result = self._follow(buf + chunk, phase)
                if result is None and dead:
                    result = self._died(phase, proc)
                if result is None:
                    time.sleep(0.05)
        finally:
            self._kill(proc)
            try:
                self._keep_output((self.workdir / "output.txt").read_bytes())
            except OSError:
                pass  # the child's printed output is only for feedback
        return result or ("done", None)

    def _kill(self, proc):
        if proc.poll() is None:
            try:
                if self.linux:
                    os.killpg(proc.pid, signal.SIGKILL)  # the child's session: whatever it started too
                else:
                    proc.kill()
            except OSError:
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def _read_from(path, offset):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return b"", offset
    return data, offset + len(data)
