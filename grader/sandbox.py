"""Run a submission in child processes on the grading machine (Linux), and bring back only plain data.

The state machine (which cell or probe runs, what a timeout or a crash costs, restarts) is
grader/supervisor.py's. This subclass starts each child with `python -I -S`, in its own session,
confined by grader/confine.py (rlimits, with root a sandbox uid, no_new_privs, Landlock, seccomp); it
follows the child's events on a control pipe, keeps at most `output_bytes` of what the submission prints,
reads answers without following links (grader/wire.py), and kills and removes whatever a run leaves
behind (grader/processes.py). Everything the child touched is read to a bound, in time and in bytes.
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

from .confine import Confinement, summary
from .leftovers import (MAX_RUN_ENTRIES, clear_folder, disk_use, ipc_objects, lock_run_folder, new_entries,
                        remove_files_of, remove_ipc, remove_stale_runs, shared_entries)
from .prepared import SPAWN_SECONDS, ZYGOTE_BYTES, ZYGOTE_OF_THIS_PROCESS, Forked
from .processes import (set_subreaper, acquire_user, children_now, kill_adopted, kill_tree, kill_uid, live_child,
                        reap_zombies, run_processes)
from hw8core.supervisor import Supervisor, remove_tree
from hw8core.wire import probe_spec, read_answer

from hw8core import CHILD  # the child file (hw8core/child.py), copied into each run folder


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
WRITABLE = ("cwd", "out", "tmp", "mpl")  # the run folder's folders the child may write (Landlock allows no others)
# How often a running child's disk use is measured (Sandbox._over_disk). One look costs about 7 ms here, nearly all of
# it finding the run's processes among the machine's 74 (processes.run_processes; the folders of the example's run,
# 529 entries, about 1 ms): 1.4% of one core while a child runs.
DISK_POLL_SECONDS = 0.5


class Sandbox(Supervisor):
    output_marks = True  # _sync_output reads the child's output pipe up to each event
    acks = True  # the child waits for the ack of each probe_start (_acknowledge); False only for the test's control

    def __init__(self, *args, secrets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._run_lock = lock_run_folder(self.workdir)  # at once: remove_stale_runs skips a locked folder
        self._user_lock, self._uid, self._gid = None, None, None
        self._children_before = set()
        self._secrets = [*_solution_folders(), *secrets]
        self._out_fd = None
        self._stdout_fd = None  # the running child's output pipe (_sync_output)
        self._ack_fd = None  # the write end of the running child's ack pipe (_acknowledge)
        self._shared_before, self._ipc_before = None, set()
        self._fonts, self._disk_next, self._disk_stopped = [], 0.0, False

    def _prepare(self):
        set_subreaper()
        remove_stale_runs(self.workdir.parent)
        self._children_before = children_now()
        uid = gid = None
        if self.limits.user:
            user, self._user_lock = acquire_user(self.limits.user)
            pw = pwd.getpwnam(user)
            uid, gid = pw.pw_uid, pw.pw_gid
            kill_uid(uid)  # anything a crashed earlier grader left running as this user
            remove_files_of(uid)
            remove_ipc(ipc_objects(uid))
        else:
            self._shared_before, self._ipc_before = shared_entries(), ipc_objects(os.geteuid())
        self._gid = gid
        for sub in WRITABLE:
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        cache = matplotlib_cache()
        self._fonts = list(Path(cache).glob("fontlist-*.json")) if cache else []
        for f in self._fonts:
            shutil.copyfile(f, self.workdir / "mpl" / f.name)
        shutil.copyfile(CHILD, self.workdir / "child.py")
        arrays = {}
        specs = [probe_spec(p, arrays) for p in self.probes]
        np.savez(self.workdir / "inputs.npz", **arrays)
        self._uid = uid
        for name in ("child.py", "inputs.npz"):
            self._share(self.workdir / name)
        self._specs = specs
        self._site_packages = _site_packages()
        os.chmod(self.workdir, 0o711 if uid is not None else 0o700)
        if uid is not None:
            # Other runs' users may pass through the work folder but not list it; the child's own folders
            # and the job (which holds the submission's code) are its user's alone.
            for sub in WRITABLE:
                os.chown(self.workdir / sub, uid, gid)
                os.chmod(self.workdir / sub, 0o700)
            for f in (self.workdir / "mpl").iterdir():
                os.chown(f, uid, gid)
        # Answers are read through this fd: renaming or replacing out/ cannot redirect the reads.
        self._out_fd = os.open(self.workdir / "out", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        self._confinement = Confinement(
            memory_bytes=self.limits.memory_bytes, file_bytes=self.limits.file_bytes,
            read=[str(self.workdir), *_python_folders(), *self._site_packages],
            write=[str(self.workdir / sub) for sub in WRITABLE],
            secrets=self._secrets, uid=uid, gid=gid, **({"layers": tuple(self.limits.layers)} if self.limits.layers is not None else {}))

    def _read_answer(self, probe_id):
        return read_answer(self._out_fd, probe_id, owner=self._uid if self._uid is not None else os.geteuid())

    def _share(self, path):
        """A file the child reads: its own user's alone when sandboxed as a user, else this uid's alone."""
        if self._uid is not None:
            os.chown(path, self._uid, self._gid)
        os.chmod(path, 0o400 if self._uid is not None else 0o600)

    def _cleanup(self):
        if self._out_fd is not None:
            os.close(self._out_fd)
            self._out_fd = None
        if self._uid is not None:
            self.report.stray_processes_killed += kill_uid(self._uid)
            remove_files_of(self._uid)
            remove_ipc(ipc_objects(self._uid))
        elif self._shared_before is not None and not self.report.confinement.get("landlock", {}).get("applied"):
            # Without Landlock the child, as this uid, could write the shared folders. What appeared there is only
            # maybe the run's (the TA's other programs write there too): named in the log, never removed.
            left = [f"System V {kind} {ident}" for kind, ident in ipc_objects(os.geteuid()) - self._ipc_before]
            left += new_entries(self._shared_before, os.geteuid())
            if left:
                print("hw8-grade: unconfined run: these appeared in shared folders during it, maybe the "
                      "submission's (not removed): " + ", ".join(left[:100]), file=sys.stderr)
        self.report.stray_processes_killed += kill_adopted(self._children_before)
        reap_zombies(self._children_before)
        if self._user_lock is not None:
            self._user_lock.close()  # frees this sandbox user for the next run
        if self._own_workdir:
            remove_tree(self.workdir)  # any depth (a RecursionError here would keep the run's lock)
        os.close(self._run_lock)

    def _run_once(self, deadline):
        uid = self._uid
        rfd, wfd = os.pipe()
        # The acks of probe_start (_acknowledge): the child waits for one before it runs the probe, so that what it
        # prints is read after the event's mark, never before (hw8core/parallel.py puts the output back in order by
        # those marks). Non-blocking here: a child that does not read them can never stall the grader.
        ack_r, ack_w = os.pipe()
        os.set_blocking(ack_w, False)
        status_r, status_w = os.pipe()  # the confinement's report: closed by exec, before any student code
        token = uuid.uuid4().hex
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.workdir / "cwd"),
               "TMPDIR": str(self.workdir / "tmp"), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
               "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "HW8_SANDBOX_TOKEN": token, "MPLBACKEND": "Agg",
               "MPLCONFIGDIR": str(self.workdir / "mpl")}
        for keep in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if keep in os.environ:
                env[keep] = os.environ[keep]
        # live_child: while another sandbox of this process (hw8core/parallel.py) cleans up, this child is not a
        # leftover of its run: never killed nor reaped by it (processes.kill_adopted, reap_zombies).
        proc = layers = None
        with live_child() as register:
            try:
                proc, layers = self._spawn_prepared(env, wfd, ack_r)
                if proc is None:
                    proc = subprocess.Popen(
                        [sys.executable, "-I", "-S", str(self.workdir / "child.py"), str(self.workdir), str(wfd),
                         *([str(ack_r)] if self.acks else [])],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        pass_fds=(wfd, ack_r) if self.acks else (wfd,),
                        start_new_session=True, preexec_fn=lambda: self._confinement.preexec(status_w), env=env,
                        cwd=str(self.workdir / "cwd"))
                register(proc.pid)
            except BaseException:
                os.close(rfd)
                os.close(ack_w)
                raise
            finally:
                os.close(wfd)
                os.close(ack_r)
                os.close(status_w)
                self._note_layers(layers if layers is not None else self._confinement.read_report(status_r))
                os.close(status_r)
        phase = ("start", None, time.monotonic())
        buf = b""
        outfd = proc.stdout.fileno()
        self._stdout_fd, self._ack_fd = outfd, ack_w
        open_fds = {rfd, outfd}
        result = None
        try:
            while result is None:
                result = self._time_up(phase, proc.pid, deadline)
                if result is not None or not open_fds:
                    break
                wait = min(self._phase_limit(phase), deadline) - time.monotonic()
                ready, _, _ = select.select(list(open_fds), [], [], min(wait, 0.25) if wait > 0 else 0.25)
                for fd in ready:
                    try:
                        chunk = os.read(fd, 65536)
                    except BlockingIOError:  # the output pipe, already read up to an event (_sync_output)
                        continue
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
                if result is None:
                    over = self._over_disk(proc.pid, token)
                    if over:
                        result = self._stopped(phase, over)
                        self._disk_stopped = True
        finally:
            self.report.stray_processes_killed += kill_tree(proc.pid, token)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            live_child.done(proc.pid)
            ZYGOTE_OF_THIS_PROCESS.child_ended()
            self.report.stray_processes_killed += kill_adopted(self._children_before)
            if uid is not None:
                self.report.stray_processes_killed += kill_uid(uid)
            self._drain(outfd)
            self._stdout_fd, self._ack_fd = None, None
            proc.stdout.close()
            os.close(rfd)
            os.close(ack_w)
            if self._disk_stopped:  # the next child starts from clean folders, or it would be stopped in turn at once
                self._clear_writable()
                self._disk_stopped = False
        return result or ("done", None)

    def _spawn_prepared(self, env, wfd, ack_r):
        """(the child forked from this process's zygote (grader/zygote.py), its confinement report), or (None, None):
        then it starts fresh. A forked child that died before its confinement's report (it could not become the
        run's child) is a failure of the zygote's, not the submission's: this child starts fresh too."""
        if not self.limits.prepared or not _room_for_zygote(self.limits.memory_bytes):
            return None, None
        out_r, out_w = os.pipe()
        report_r, report_w = os.pipe()  # its own: the fresh child's pipe stays unused if this one fails
        argv = [str(self.workdir / "child.py"), str(self.workdir), "3", *(["4"] if self.acks else [])]
        request = {"argv": argv, "env": env, "cwd": str(self.workdir / "cwd")}
        constant = {k: v for k, v in env.items() if k not in PER_RUN_ENV}
        try:
            pid = ZYGOTE_OF_THIS_PROCESS.spawn(constant, self._site_packages, self._confinement, request,
                                               [out_w, wfd, report_w, *([ack_r] if self.acks else [])])
        finally:
            os.close(out_w)
            os.close(report_w)
        if pid is None:
            os.close(out_r)
            os.close(report_r)
            return None, None
        forked = Forked(pid, out_r)
        # complete when the child closes it, after its confinement (a fresh child's when it execs)
        layers = self._confinement.read_report(report_r, wait=SPAWN_SECONDS)
        os.close(report_r)
        if all(layer.detail == "not reported" for layer in layers.values()):
            kill_tree(pid, env["HW8_SANDBOX_TOKEN"])
            try:
                forked.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            forked.stdout.close()
            ZYGOTE_OF_THIS_PROCESS.failed()
            return None, None
        return forked, layers

    def _over_disk(self, pid, token):
        """Why the run must stop for what it holds on disk (Limits.disk_bytes, leftovers.MAX_RUN_ENTRIES), or None.
        Measured at most every DISK_POLL_SECONDS: between two looks a child may write at disk speed, so a run holds
        at most the limit plus about that much, and never fills the disk that the grader, and in batch the
        class, share."""
        now = time.monotonic()
        if self.limits.disk_bytes is None or now < self._disk_next:
            return None
        self._disk_next = now + DISK_POLL_SECONDS
        used, entries, unreadable = disk_use([self.workdir / sub for sub in WRITABLE], run_processes(pid, token),
                                             max_entries=MAX_RUN_ENTRIES)
        if entries > MAX_RUN_ENTRIES:
            return f"made more than {MAX_RUN_ENTRIES} files and folders in its run folder"
        if used > self.limits.disk_bytes:
            return (f"held {used >> 20} MiB on disk, more than the {self.limits.disk_bytes >> 20} MiB a run may write "
                    f"(its files were removed)")
        if unreadable is not None:
            return f"made a folder the grader cannot list ({os.path.relpath(unreadable, self.workdir)})"
        return None

    def _clear_writable(self):
        """Empty the child's writable folders, as they were before its first cell (mpl keeps the font list)."""
        for sub in WRITABLE:
            keep = {f.name for f in self._fonts} if sub == "mpl" else ()
            clear_folder(self.workdir / sub, keep)

    def _acknowledge(self):
        if self._ack_fd is not None:
            try:
                os.write(self._ack_fd, b".")
            except OSError:  # full (a child that never reads them) or closed: it only waits less
                pass

    def _sync_output(self):
        if self._stdout_fd is not None:
            self._drain(self._stdout_fd)

    def _note_layers(self, layers):
        """The layers of the first child go into the report and the grader's log; a later child that got fewer
        is reported too (the same layers are asked for every child)."""
        found = {name: layer.as_dict() for name, layer in layers.items()}
        if found != self.report.confinement:
            if self.report.confinement:
                found = {name: {**v, "applied": v["applied"] and self.report.confinement.get(name, {}).get("applied")}
                         for name, v in found.items()}
            self.report.confinement = found
            print("hw8-grade: confinement: " + summary(layers), file=sys.stderr)

    def _drain_events(self, rfd, buf, phase):
        for line in (buf + _read_available(rfd, 2 ** 20)).split(b"\n"):
            phase, result = self._on_event(line, phase)
            if result is not None:
                return phase, result
        return phase, None

    def _drain(self, fd):
        self._keep_output(_read_available(fd, self.limits.output_bytes + 65536))


# The environment that differs from run to run; the rest is the zygote's own, so that numpy and torch read the same
# thread settings when the zygote imports them as a fresh child would.
PER_RUN_ENV = ("HOME", "TMPDIR", "HW8_SANDBOX_TOKEN", "MPLCONFIGDIR")


def _room_for_zygote(memory_cap):
    """A zygote beside the children only where memory is plenty: free memory for two children's whole caps and the
    zygote (Gradescope's 768 MB image runs none; the children are then started fresh)."""
    from hw8core.parallel import memory_available
    free = memory_available()
    return free is None or free >= 2 * memory_cap + ZYGOTE_BYTES


def _read_available(fd, cap):
    """What can be read from fd now, without waiting and at most cap bytes (a daemon may hold its other end
    open and keep writing)."""
    data = b""
    try:
        os.set_blocking(fd, False)
        while len(data) < cap:
            chunk = os.read(fd, min(65536, cap - len(data)))
            if not chunk:
                break
            data += chunk
    except (BlockingIOError, OSError):
        pass
    return data


def _python_folders():
    """The Python installation the child runs: its prefixes and the folder of its real executable."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
               os.path.dirname(os.path.realpath(sys.executable))}
    return sorted(f for f in folders if f)


def _solution_folders():
    """The folders that hold the solutions and the grader's own code: never readable by a child, even where
    they lie inside an allowed folder (a wheel installed into the grading environment's site-packages)."""
    import importlib.util
    found = []
    for name in ("reference", "grader", "hw8core"):  # hw8core: the checks; the child never imports it
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found += list(spec.submodule_search_locations)
    return found
