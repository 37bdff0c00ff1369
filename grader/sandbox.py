"""Run a submission in child processes on the grading machine (Linux), and bring back only plain data.

The state machine (which cell or probe runs, what a timeout or a crash costs, restarts) is
grader/supervisor.py's. This subclass starts each child with `python -I -S`, in its own session,
under a memory cap (RLIMIT_AS), a file-size cap and, when this process is root and a user is
given, as that unprivileged user; it follows the child's events on a control pipe, keeps at most
`output_bytes` of what the submission prints, and kills whatever a run leaves behind. The OS side
(limits, the uid switch, killing) is grader/processes.py.
"""
from __future__ import annotations

import os
import pwd
import select
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from .processes import (preexec, set_subreaper, acquire_user, children_now, kill_adopted, kill_tree, kill_uid,
                        remove_files_of)
from .supervisor import Supervisor
from .wire import probe_spec

CHILD = Path(__file__).with_name("child.py")


def _site_packages():
    """Where numpy and torch live for this interpreter (a venv's, when run from one)."""
    import site
    paths = list(site.getsitepackages())
    # A venv made with --system-site-packages reaches the base's through sys.path only.
    paths += [p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")]
    return [p for p in dict.fromkeys(paths) if os.path.isdir(p)]


def matplotlib_cache():
    """A folder holding matplotlib's font list for this environment, built once per machine and user.

    A fresh MPLCONFIGDIR makes `import matplotlib.pyplot` scan every system font: 127 MiB more peak
    address space and a second of time in each child (measured here), which Gradescope's memory cap
    cannot spare. Each child gets a copy of the prebuilt list instead. None without matplotlib.
    """
    global _MPL_CACHE
    if _MPL_CACHE is None:
        import importlib.util
        _MPL_CACHE = ""
        if importlib.util.find_spec("matplotlib") is not None:
            cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hw8-grader" / "matplotlib"
            try:
                cache.mkdir(parents=True, exist_ok=True)
                if not list(cache.glob("fontlist-*.json")):
                    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], timeout=300,
                                   env={**os.environ, "MPLCONFIGDIR": str(cache)}, capture_output=True)
                if list(cache.glob("fontlist-*.json")):
                    _MPL_CACHE = str(cache)
            except (OSError, subprocess.SubprocessError):
                pass
    return _MPL_CACHE or None


_MPL_CACHE = None


class Sandbox(Supervisor):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._user_lock, self._uid, self._gid = None, None, None
        self._children_before = set()

    def _prepare(self):
        set_subreaper()
        self._children_before = children_now()
        uid = gid = None
        if self.limits.user:
            user, self._user_lock = acquire_user(self.limits.user)
            pw = pwd.getpwnam(user)
            uid, gid = pw.pw_uid, pw.pw_gid
            kill_uid(uid)  # anything a crashed earlier grader left running as this user
        self._gid = gid
        for sub in ("cwd", "out", "tmp", "mpl"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        cache = matplotlib_cache()
        for f in Path(cache).glob("fontlist-*.json") if cache else []:
            shutil.copyfile(f, self.workdir / "mpl" / f.name)
        shutil.copyfile(CHILD, self.workdir / "child.py")
        arrays = {}
        specs = [probe_spec(p, arrays) for p in self.probes]
        np.savez(self.workdir / "inputs.npz", **arrays)
        for name in ("child.py", "inputs.npz"):
            self._share(self.workdir / name)
        self._specs = specs
        self._site_packages = _site_packages()
        self._uid = uid
        if uid is not None:
            # Other runs' users may pass through the work folder but not list it; the child's own folders
            # and the job (which holds the submission's code) are its user's alone.
            os.chmod(self.workdir, 0o711)
            for sub in ("cwd", "out", "tmp", "mpl"):
                os.chown(self.workdir / sub, uid, gid)
                os.chmod(self.workdir / sub, 0o700)
            for f in (self.workdir / "mpl").iterdir():
                os.chown(f, uid, gid)

    def _share(self, path):
        """A file the child reads: its user's group only when sandboxed as a user, else everyone."""
        if self._gid is not None:
            os.chown(path, 0, self._gid)
            os.chmod(path, 0o640)
        else:
            os.chmod(path, 0o644)

    def _cleanup(self):
        if self._uid is not None:
            self.report.stray_processes_killed += kill_uid(self._uid)
            remove_files_of(self._uid)
        if self._user_lock is not None:
            self._user_lock.close()  # frees this sandbox user for the next run

    def _run_once(self, deadline):
        uid, gid = self._uid, self._gid
        rfd, wfd = os.pipe()
        token = uuid.uuid4().hex
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.workdir / "cwd"),
               "TMPDIR": str(self.workdir / "tmp"), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
               "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "HW8_SANDBOX_TOKEN": token, "MPLBACKEND": "Agg",
               "MPLCONFIGDIR": str(self.workdir / "mpl")}
        for keep in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if keep in os.environ:
                env[keep] = os.environ[keep]
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(self.workdir / "child.py"), str(self.workdir), str(wfd)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(wfd,),
            start_new_session=True, preexec_fn=preexec(self.limits, uid, gid), env=env,
            cwd=str(self.workdir / "cwd"))
        os.close(wfd)
        phase = ("start", None, time.monotonic())
        buf = b""
        outfd = proc.stdout.fileno()
        open_fds = {rfd, outfd}
        result = None
        try:
            while result is None:
                limit = self._phase_limit(phase)
                wait = min(limit, deadline) - time.monotonic()
                if wait <= 0:
                    result = self._timed_out(phase, deadline)
                    break
                if not open_fds:
                    break
                ready, _, _ = select.select(list(open_fds), [], [], min(wait, 0.25))
                for fd in ready:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        open_fds.discard(fd)
                        continue
                    if fd == outfd:
                        self._keep_output(chunk)
                        continue
                    buf, phase, result = self._follow(buf + chunk, phase)
                    if result is not None:
                        break
                if result is None and (rfd not in open_fds or proc.poll() is not None):
                    # Dead, though a daemon it started may hold the pipe open: read what is left, then stop.
                    phase, result = self._drain_events(rfd, buf, phase)
                    if result is None:
                        result = self._died(phase, proc)
        finally:
            self.report.stray_processes_killed += kill_tree(proc.pid, token)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.report.stray_processes_killed += kill_adopted(self._children_before)
            if uid is not None:
                self.report.stray_processes_killed += kill_uid(uid)
            self._drain(outfd)
            proc.stdout.close()
            os.close(rfd)
        return result or ("done", None)

    def _drain_events(self, rfd, buf, phase):
        for line in (buf + _read_available(rfd)).split(b"\n"):
            phase, result = self._on_event(line, phase)
            if result is not None:
                return phase, result
        return phase, None

    def _drain(self, fd):
        self._keep_output(_read_available(fd))


def _read_available(fd):
    """Whatever can be read from fd now, without waiting (a daemon may hold its other end open)."""
    data = b""
    try:
        os.set_blocking(fd, False)
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    except (BlockingIOError, OSError):
        pass
    return data
