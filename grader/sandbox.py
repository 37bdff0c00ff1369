"""Run a submission in child processes and bring back only plain data.

The child (grader/_child.py, copied into a fresh work folder) executes the notebook's cells one
by one, then answers the probes in order. This process watches it through a control pipe:

- a cell or probe that runs past its time limit, or that kills the child (sys.exit is caught in
  the child; os._exit and crashes are not), is recorded, the whole process tree is killed, and
  a fresh child starts again, skipping the bad cell or continuing after the bad probe;
- every child runs in its own session, under a memory cap (RLIMIT_AS), a file-size cap and,
  when this process is root and a user is given, as that unprivileged user;
- at most `output_bytes` of what the submission prints is kept;
- answers are read with json and numpy.frombuffer on plain numeric dtypes: never a pickle;
- the OS side (limits, the uid switch, killing what a run leaves) is grader/processes.py.
"""
from __future__ import annotations

import json
import os
import pwd
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .processes import (preexec, set_subreaper, acquire_user, children_now, kill_adopted, kill_tree, kill_uid,
                        remove_files_of)
from .values import ForeignValue, ModuleValue, TensorValue, probe_spec

CHILD = Path(__file__).with_name("_child.py")
MAX_ANSWER_BYTES = 64 * 2 ** 20


class SandboxError(RuntimeError):
    """The child could not start at all: the grader's fault, never the submission's."""


@dataclass
class Limits:
    cell_timeout: float = 60.0  # seconds for one notebook cell
    startup_timeout: float = 60.0  # seconds for the child to start, and between cells and probes
    total_timeout: float = 540.0  # seconds for the whole run, restarts included
    memory_bytes: int = 3 * 2 ** 30  # address space of one child
    output_bytes: int = 32 * 1024  # what is kept of the submission's stdout and stderr
    file_bytes: int = 256 * 2 ** 20  # largest file the child may write
    max_restarts: int = 12
    timeout_scale: float = 1.0  # multiplies every probe's own time limit (tests use small ones)
    user: str | None = None  # run children as this user (needs root)


@dataclass
class Answer:
    status: str  # ok | error | timeout | crashed | not_run
    value: object = None
    args_after: list = None
    kwargs_after: dict = None
    error: dict = None
    seconds: float = 0.0
    message: str = ""


@dataclass
class CellReport:
    index: int
    status: str  # ok | error | timeout | crashed
    error: dict = None
    seconds: float = 0.0


@dataclass
class RunReport:
    cells: dict = field(default_factory=dict)  # index -> CellReport
    namespace: dict = field(default_factory=dict)  # API name -> {kind, signature}
    answers: dict = field(default_factory=dict)  # probe id -> Answer
    output: str = ""
    output_dropped: int = 0
    restarts: int = 0
    seconds: float = 0.0
    stray_processes_killed: int = 0
    early_exit: str = None  # how the child died outside any cell or probe
    child_vm_peak_kb: int = None  # peak address space of the child that finished the run (Linux)


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


class Sandbox:
    def __init__(self, cells, probes, api_names, limits=None, workdir=None, labels=None):
        self.cells = list(cells)
        self.labels = list(labels) if labels else [f"cell {i + 1}" for i in range(len(self.cells))]
        self.probes = list(probes)
        self._index = {p.id: i for i, p in enumerate(self.probes)}
        self.api_names = list(api_names)
        self.limits = limits or Limits()
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="hw8-run-"))
        self.report = RunReport()
        self._out = bytearray()
        self._done_probes = set()
        self._skip_probes = set()
        self._seen_cell = False
        self._user_lock, self._gid = None, None
        self._children_before = set()
        self._hung = {}  # function name -> "timeout" | "crashed": stubbed in later children

    # ----------------------------------------------------------------- setup
    def _prepare(self):
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
        shutil.copyfile(CHILD, self.workdir / "_child.py")
        arrays = {}
        specs = [probe_spec(p, arrays) for p in self.probes]
        np.savez(self.workdir / "inputs.npz", **arrays)
        for name in ("_child.py", "inputs.npz"):
            self._share(self.workdir / name)
        self._specs = specs
        self._site_packages = _site_packages()
        if uid is not None:
            # Other runs' users may pass through the work folder but not list it; the child's own folders
            # and the job (which holds the submission's code) are its user's alone.
            os.chmod(self.workdir, 0o711)
            for sub in ("cwd", "out", "tmp", "mpl"):
                os.chown(self.workdir / sub, uid, gid)
                os.chmod(self.workdir / sub, 0o700)
            for f in (self.workdir / "mpl").iterdir():
                os.chown(f, uid, gid)
        return uid, gid

    def _share(self, path):
        """A file the child reads: its user's group only when sandboxed as a user, else everyone."""
        if self._gid is not None:
            os.chown(path, 0, self._gid)
            os.chmod(path, 0o640)
        else:
            os.chmod(path, 0o644)

    def _write_job(self, skip, start):
        job = {"cells": self.cells, "labels": self.labels, "api": self.api_names, "probes": self._specs,
               "skip_cells": sorted(skip), "start_probe": start, "skip_probes": sorted(self._skip_probes),
               "hung": self._hung,
               "site_packages": self._site_packages}
        (self.workdir / "job.json").write_text(json.dumps(job))
        self._share(self.workdir / "job.json")

    # ------------------------------------------------------------------- run
    def run(self):
        t0 = time.monotonic()
        deadline = t0 + self.limits.total_timeout
        set_subreaper()
        self._children_before = children_now()
        uid = None
        try:
            uid, gid = self._prepare()
            skip, start = set(), 0
            while True:
                self._write_job(skip, start)
                outcome = self._run_once(uid, gid, deadline)
                kind, what = outcome
                if kind == "done":
                    break
                if kind == "cell":
                    skip.add(what)
                elif kind == "probe":
                    start = self._probe_index(what) + 1
                    self._skip_same_function(what)
                elif kind == "deadline":
                    break
                elif kind == "early":  # died outside any cell or probe
                    if not self._seen_cell:
                        raise SandboxError("the sandboxed child died before running any cell: "
                                           f"{self.report.early_exit}\n{self._out.decode('utf-8', 'replace')[-2000:]}")
                    break
                if start >= len(self.probes) and kind == "probe":
                    break
                if self.report.restarts >= self.limits.max_restarts:
                    break
                self.report.restarts += 1
            self._collect()
        finally:
            if uid is not None:
                self.report.stray_processes_killed += kill_uid(uid)
                remove_files_of(uid)
            if self._user_lock is not None:
                self._user_lock.close()  # frees this sandbox user for the next run
            self.report.seconds = time.monotonic() - t0
            text = self._out.decode("utf-8", errors="replace")
            self.report.output = text
            if self._own_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
        return self.report

    @staticmethod
    def _fn_key(probe):
        return probe.fn if probe.fn != "@call" else f"{getattr(probe.args[0], 'cls', '?')}.forward"

    def _skip_same_function(self, probe_id):
        """After a call hangs or kills the process, the same function's later probes are not tried:
        each would cost a full time limit or a restart, and the answer would be the same."""
        index = self._probe_index(probe_id)
        key, how = self._fn_key(self.probes[index]), self.report.answers[probe_id].status
        verb = {"timeout": "timed out", "crashed": "ended the process"}.get(how, how)
        for p in self.probes[index + 1:]:
            if self._fn_key(p) == key and p.id not in self.report.answers:
                self._skip_probes.add(p.id)
                self.report.answers[p.id] = Answer(how, message=f"not tried: an earlier call of {key} {verb}")
        # Other functions that call it would wait out their own (longer) limits for the same hang:
        # the next child replaces it with a stub that fails at once, naming the hang.
        self._hung[key] = verb

    def _probe_index(self, probe_id):
        return self._index[probe_id]

    def _probe_limit(self, probe_id):
        return self.probes[self._index[probe_id]].timeout * self.limits.timeout_scale

    def _run_once(self, uid, gid, deadline):
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
            [sys.executable, "-I", "-S", str(self.workdir / "_child.py"), str(self.workdir), str(wfd)],
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
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        phase, result = self._on_event(line, phase)
                        if result is not None:
                            break
                    if len(buf) > 2 ** 20:  # junk written to the control pipe
                        buf = b""
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

    def _phase_limit(self, phase):
        kind, what, started = phase
        if kind == "probe":
            return started + self._probe_limit(what)
        if kind == "cell":
            return started + self.limits.cell_timeout
        return started + self.limits.startup_timeout

    def _on_event(self, line, phase):
        try:
            ev = json.loads(line)
            kind = ev["event"]
        except (ValueError, KeyError, TypeError):
            return phase, None  # not ours: ignore
        now = time.monotonic()
        if kind == "cell_start" and isinstance(ev.get("cell"), int):
            self._seen_cell = True
            return ("cell", ev["cell"], now), None
        if kind == "cell_done" and phase[0] == "cell" and ev.get("cell") == phase[1]:
            err = ev.get("error")
            status = "ok" if not err else "error"
            self.report.cells.setdefault(phase[1], CellReport(phase[1], status, err, ev.get("seconds", 0.0)))
            return ("between", None, now), None
        if kind == "namespace" and isinstance(ev.get("names"), dict):
            self.report.namespace = ev["names"]
            return ("between", None, now), None
        if kind == "probe_start" and any(p.id == ev.get("probe") for p in self.probes):
            return ("probe", ev["probe"], now), None
        if kind == "probe_done" and phase[0] == "probe" and ev.get("probe") == phase[1]:
            self._done_probes.add(phase[1])
            return ("between", None, now), None
        if kind == "all_done":
            if isinstance(ev.get("vm_peak_kb"), int):
                self.report.child_vm_peak_kb = ev["vm_peak_kb"]
            return phase, ("done", None)
        return phase, None

    def _timed_out(self, phase, deadline):
        kind, what, started = phase
        if time.monotonic() >= deadline:
            self._mark(phase, "timeout", "the whole run passed its time limit")
            return ("deadline", None)
        if kind == "cell":
            self.report.cells[what] = CellReport(what, "timeout", None, time.monotonic() - started)
            return ("cell", what)
        if kind == "probe":
            self.report.answers[what] = Answer("timeout", seconds=time.monotonic() - started,
                                               message=f"limit {self._probe_limit(what):.0f} s")
            return ("probe", what)
        return ("early", None)

    def _mark(self, phase, status, message):
        kind, what, started = phase
        if kind == "cell":
            self.report.cells[what] = CellReport(what, status, {"message": message}, time.monotonic() - started)
        elif kind == "probe":
            self.report.answers[what] = Answer(status, message=message, seconds=time.monotonic() - started)

    def _died(self, phase, proc):
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        how = (f"killed by signal {signal.Signals(-code).name}" if code is not None and code < 0
               else f"exited with status {code}")
        kind, what, started = phase
        if kind == "cell":
            self.report.cells[what] = CellReport(what, "crashed", {"message": f"the process {how}"},
                                                 time.monotonic() - started)
            return ("cell", what)
        if kind == "probe":
            self.report.answers[what] = Answer("crashed", message=f"the process {how}",
                                               seconds=time.monotonic() - started)
            return ("probe", what)
        self.report.early_exit = how
        return ("early", None)

    def _keep_output(self, chunk):
        room = self.limits.output_bytes - len(self._out)
        if room > 0:
            self._out += chunk[:room]
        self.report.output_dropped += max(0, len(chunk) - max(room, 0))

    def _drain(self, fd):
        self._keep_output(_read_available(fd))

    # -------------------------------------------------------------- answers
    def _collect(self):
        out = self.workdir / "out"
        for p in self.probes:
            if p.id in self.report.answers:
                continue  # timed out or crashed
            if p.id not in self._done_probes:
                self.report.answers[p.id] = Answer("not_run", message="not reached")
                continue
            self.report.answers[p.id] = read_answer(out, p.id)


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


def read_answer(out, probe_id):
    meta, blob = out / f"{probe_id}.json", out / f"{probe_id}.bin"
    try:
        if meta.stat().st_size > MAX_ANSWER_BYTES or (blob.exists() and blob.stat().st_size > MAX_ANSWER_BYTES):
            return Answer("error", message="the answer was too large to read")
        data = json.loads(meta.read_text(encoding="utf-8"))
        loaded = _read_arrays(blob, data.get("arrays") or {}) if "error" not in data else {}
    except (OSError, ValueError, TypeError, KeyError) as exc:
        return Answer("error", message=f"the answer could not be read: {exc}")
    if "error" in data:
        return Answer("error", error=data["error"], seconds=data.get("seconds", 0.0),
                      message=str(data["error"].get("message", ""))[:2000])
    try:
        value = decode(data["result"], loaded)
        args_after = [decode(a, loaded) for a in data.get("args_after", [])]
        kwargs_after = {k: decode(v, loaded) for k, v in data.get("kwargs_after", {}).items()}
    except (KeyError, TypeError, ValueError) as exc:
        return Answer("error", message=f"the answer could not be decoded: {exc}")
    return Answer("ok", value=value, args_after=args_after, kwargs_after=kwargs_after,
                  seconds=data.get("seconds", 0.0))


def _read_arrays(blob, layout):
    """The child's arrays: raw bytes at the offsets its JSON gives, as plain numeric dtypes only."""
    raw = blob.read_bytes() if layout else b""
    arrays = {}
    for key, spec in layout.items():
        dtype = np.dtype(str(spec["dtype"]))
        if dtype.kind not in "biuf" or dtype.hasobject or dtype.fields is not None:
            raise ValueError(f"array of dtype {dtype} refused")
        shape = tuple(int(n) for n in spec["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        arrays[str(key)] = np.frombuffer(raw, dtype=dtype, count=count, offset=int(spec["offset"])).reshape(shape).copy()
    return arrays


def decode(spec, arrays):
    """Plain data back from the child's encoding; unknown classes become ForeignValue."""
    t = spec["t"]
    if t == "none":
        return None
    if t in ("bool", "int"):
        return (bool if t == "bool" else int)(spec["v"])
    if t == "float":
        return float.fromhex(spec["v"])
    if t == "str":
        return str(spec["v"])
    if t == "list":
        return [decode(s, arrays) for s in spec["items"]]
    if t == "tuple":
        return tuple(decode(s, arrays) for s in spec["items"])
    if t == "dict":
        return {str(k): decode(s, arrays) for k, s in spec["items"].items()}
    if t == "ndarray":
        return np.asarray(arrays[spec["ref"]])
    if t == "npscalar":
        return np.asarray(arrays[spec["ref"]])[()]
    if t == "tensor":
        return TensorValue(np.asarray(arrays[spec["ref"]]), str(spec["dtype"]), bool(spec.get("requires_grad")))
    if t == "module":
        return ModuleValue(str(spec["cls"]), spec.get("torch_cls"), dict(spec.get("config", {})),
                           {str(k): decode(s, arrays) for k, s in spec.get("state", {}).items()},
                           {str(k): decode(s, arrays) for k, s in spec.get("children", {}).items()})
    return ForeignValue(str(spec.get("cls", "?"))[:200])
