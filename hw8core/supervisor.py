"""Supervise a submission's child processes, on any platform: the run's data types and its state machine.

The child (grader/child.py) executes the submission's cells one by one, then answers the probes in
order, and reports each step as a JSON event. The supervisor follows those events: a cell or probe
that runs past its time limit, or that kills the child, is recorded, and a fresh child starts again,
skipping the bad cell or continuing after the bad probe. How a child is started, watched and killed
is a subclass's: grader/sandbox.py on the grading machine (Linux: session, limits, uid), and the
student kit's portable runner on a student's laptop. Answers are read with json and
numpy.frombuffer on plain numeric dtypes, never a pickle (grader/wire.py).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


from .wire import Answer, called, child_error, read_answer


def write_new(path, data):
    """Replace path with data through a fresh file of this process's own: a name the child made (a link, a FIFO)
    is replaced, never written through."""
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0),
                 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.replace(tmp, path)


# The longest event the child sends is a cell's error (a 2,000-character message and 4,000 of traceback): 64 KiB.
MAX_EVENT_BYTES = 64 * 2 ** 10
# All of a run's answers together, as read (Answer.nbytes): each is capped at wire.MAX_ANSWER_BYTES, but a run keeps
# about a hundred. The example's 106 answers hold 6.2 MiB in all, the largest 0.35 MiB (s7.train; measured with a
# grade at seed 0 summing the answers' array bytes); 128 MiB is 20 times the whole and keeps the grader's own memory
# bounded on Gradescope's 768 MB. An answer past it is refused, that probe's check fails, the others stand.
MAX_RUN_ANSWER_BYTES = 128 * 2 ** 20


# A step's time limit counts the child's CPU time where the system shows it (Linux: /proc/PID/stat), so a correct
# call on a loaded machine, waiting for a core or for the disk, is not cut off for others' load. Measured: in a
# full test run (3 workers on 2 cores, beside CUDA-torch imports that saturate the disk) a correct train_char_lm,
# 1.3 s of CPU, passed its 30 s wall limit, and an `import torch` cell (about 1 s) its 10 s one. A step that does not
# compute (it sleeps, blocks, or leaves the work to processes it started) is stopped at WALL_FACTOR times its limit
# in wall time. No step is stopped before its limit in wall time, as before. Where CPU time cannot be read (the
# kit on Windows or macOS), the limit is wall time alone.
WALL_FACTOR = 3.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") and "SC_CLK_TCK" in getattr(os, "sysconf_names", {}) \
    else 100


def cpu_seconds(pid):
    """The CPU time process pid and the children it has waited for have used, in seconds; None where unknown.
    /proc/PID/stat is the kernel's, not the child's to write; its name field (in parentheses) is, so the numbers
    are read after its last ')'. One bounded read."""
    try:
        fd = os.open(f"/proc/{int(pid)}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)
    fields = data[data.rfind(b")") + 2:].split()
    try:  # after the name: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (man 5 proc)
        return sum(int(f) for f in fields[11:15]) / _CLOCK_TICKS
    except (ValueError, IndexError):
        return None


def remove_tree(path):
    """shutil.rmtree(path, ignore_errors=True) for a folder the child wrote in: as deep as it liked. rmtree recurses
    once per level, and before Python 3.13 a tree deeper than the recursion limit (a loop of os.makedirs or
    os.chdir into its own new folder) raises RecursionError, which ignore_errors does not catch. Then GNU rm, which
    walks any depth without following links, removes the rest (on a system without rm, what is left stays)."""
    try:
        shutil.rmtree(path, ignore_errors=True)
        return
    except RecursionError:
        pass
    rm = shutil.which("rm")
    if rm is not None:
        try:
            one_fs = ["--one-file-system"] if sys.platform.startswith("linux") else []  # GNU rm's; BSD rm lacks it
            subprocess.run([rm, "-rf", *one_fs, "--", str(path)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600, check=False)
        except (OSError, subprocess.SubprocessError):
            pass


STOPPED = "the process was stopped"  # how Supervisor._stopped's message begins: the grader ended it, past a limit


def what_happened(answer):
    """How a call that hung or ended its process is named in its function's later answers ("not tried: an earlier
    call of f ..."): timed out, ended the process, or was stopped by the grader (Supervisor._stopped)."""
    if answer.status == "crashed" and answer.message.startswith(STOPPED):
        return "was stopped by the grader"
    return {"timeout": "timed out", "crashed": "ended the process"}.get(answer.status, answer.status)


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
    # what a run's writable folders may hold on disk (the grader's Sandbox; grader/leftovers.py's disk_use): the
    # example's run folder peaks at 13.8 MiB, a notebook saving checkpoints or plots a few hundred more at most
    disk_bytes: int | None = 2 ** 30
    max_restarts: int = 12
    timeout_scale: float = 1.0  # multiplies every probe's own time limit (tests use small ones)
    user: str | None = None  # run children as this user (needs root)
    layers: tuple | None = None  # confinement layers to apply (grader.confine.LAYERS); None: all of them
    jobs: int | None = 1  # children side by side, one per group of sections (hw8core/parallel.py); None: auto
    # The grader's children forked from a process that has imported numpy and torch (grader/zygote.py), where memory
    # allows; False: each started fresh. The kit always starts them fresh.
    prepared: bool = True


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
    confinement: dict = field(default_factory=dict)  # layer -> {applied, detail} (grader.confine); empty: none asked
    # Where each part of `output` came from, as [key, start, end] byte offsets into the whole stream (kept or not):
    # key ["head", P] is a child's start (its cells), P the last probe started before it (None: none yet);
    # ["probe", id] a probe's prints. hw8core/parallel.py puts side-by-side runs' outputs back in the serial order.
    output_segments: list = field(default_factory=list)
    output_raw: bytes = b""  # `output` as the bytes kept, which the offsets count
    side_by_side: int = 1  # how many children ran the probes at once (hw8core/parallel.py merged their reports)


class Supervisor:
    """The platform-neutral half of a run: subclasses provide _prepare, _run_once and _cleanup."""
    _site_packages = []  # folders the child adds to sys.path (the sandbox starts it with -I -S)
    # The run folder's prefix. The grader's sandbox removes stale "hw8-run-" folders that no live grader
    # has locked (leftovers.remove_stale_runs); other runners (the student kit's) must use their own prefix,
    # or a grader started beside them deletes their live folder.
    workdir_prefix = "hw8-run-"
    # Whether the output's offsets at each event are exact (the subclass reads the child's output up to each event
    # before following it: _sync_output); hw8core/parallel.py otherwise joins side-by-side outputs in group order.
    output_marks = False

    def __init__(self, cells, probes, api_names, limits=None, workdir=None, labels=None):
        self.cells = list(cells)
        self.labels = list(labels) if labels else [f"cell {i + 1}" for i in range(len(self.cells))]
        self.probes = list(probes)
        self._index = {p.id: i for i, p in enumerate(self.probes)}
        self.api_names = list(api_names)
        self.limits = limits or Limits()
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=self.workdir_prefix))
        self.report = RunReport()
        self._out = bytearray()
        self._skip_probes = set()
        self._seen_cell = False
        self._hung = {}  # function name -> "timeout" | "crashed": stubbed in later children
        self._segments, self._last_started = [], None
        self.cancelled = False  # set from another thread (hw8core/parallel.py on Ctrl-C): the run stops
        self._cpu_phase, self._cpu_start = None, None  # the step whose CPU time counts, and its start (None: unknown)
        self._new_child()

    def _prepare(self):
        """Make the work folder: the child's copy, its inputs and the specs of the probes."""
        raise NotImplementedError

    def _run_once(self, deadline):
        """Start one child, follow its events until it finishes, dies or passes a limit; return what stopped it."""
        raise NotImplementedError

    def _cleanup(self):
        """After the last child: whatever the platform needs to leave nothing behind."""

    def _share(self, path):
        """Make a file the child reads readable to it."""

    def _write_job(self, skip, start):
        job = {"cells": self.cells, "labels": self.labels, "api": self.api_names, "probes": self._specs,
               "skip_cells": sorted(skip), "start_probe": start, "skip_probes": sorted(self._skip_probes),
               "hung": self._hung,
               "site_packages": self._site_packages}
        write_new(self.workdir / "job.json", json.dumps(job).encode("utf-8"))
        self._share(self.workdir / "job.json")

    def run(self):
        t0 = time.monotonic()
        deadline = t0 + self.limits.total_timeout
        try:
            self._prepare()
            skip, start = set(), 0
            while not self.cancelled:
                self._write_job(skip, start)
                self._new_child()
                self._segments.append((["head", self._last_started], self._out_pos()))
                kind, what = self._run_once(deadline)
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
                        raise SandboxError("the child died before running any cell: "
                                           f"{self.report.early_exit}\n{self._out.decode('utf-8', 'replace')[-2000:]}")
                    break
                if start >= len(self.probes) and kind == "probe":
                    break
                if self.report.restarts >= self.limits.max_restarts:
                    break
                self.report.restarts += 1
            self._collect()
        finally:
            self._cleanup()
            self.report.seconds = time.monotonic() - t0
            self.report.output = self._out.decode("utf-8", errors="replace")
            self.report.output_raw = bytes(self._out)
            ends = [start for _key, start in self._segments[1:]] + [self._out_pos()]
            self.report.output_segments = [[key, start, end] for (key, start), end in zip(self._segments, ends)]
            if self._own_workdir:
                remove_tree(self.workdir)
        return self.report

    @staticmethod
    def _fn_key(probe):
        return called(probe)

    def _skip_same_function(self, probe_id):
        """After a call hangs or kills the process, the same function's later probes are not tried:
        each would cost a full time limit or a restart, and the answer would be the same."""
        index = self._probe_index(probe_id)
        key, how = self._fn_key(self.probes[index]), self.report.answers[probe_id].status
        verb = what_happened(self.report.answers[probe_id])
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

    def _follow(self, buf, phase):
        """Follow each complete event line in buf, up to one that ends the child's run;
        return (what is left of buf, phase, that result or None)."""
        result, start = None, 0
        while result is None:  # by offsets: splitting off each line would copy the rest, quadratic in blank lines
            end = buf.find(b"\n", start)
            if end < 0:
                break
            phase, result = self._on_event(buf[start:end], phase)
            start = end + 1
        buf = buf[start:]
        if len(buf) > MAX_EVENT_BYTES:  # that much without a newline is junk written to the channel, not an event
            buf = b""
        return buf, phase, result

    def _time_up(self, phase, pid, deadline):
        """What ends the child's run when its step or the run is past its time limit (_spent), else None."""
        if not self._spent(phase, pid, deadline):
            return None
        return self._timed_out(phase, time.monotonic() if self.cancelled else deadline)

    def _spent(self, phase, pid, deadline):
        """Whether the step in `phase` is over its time limit, or the run over its own (see WALL_FACTOR): past its
        limit in wall time, and either past it in the child's CPU time or past WALL_FACTOR times it in wall time."""
        now = time.monotonic()
        if self.cancelled or now >= deadline:
            return True
        if phase != self._cpu_phase:  # a new step: its CPU time counts from here
            self._cpu_phase, self._cpu_start = phase, self._cpu_seconds(pid)
        end = self._phase_limit(phase)
        if now < end:
            return False
        limit = end - phase[2]
        if now - phase[2] >= WALL_FACTOR * limit:
            return True
        used = self._cpu_seconds(pid) if self._cpu_start is not None else None
        if used is None:
            return True  # CPU time unknown: wall time alone
        return used - self._cpu_start >= limit

    def _cpu_seconds(self, pid):
        return cpu_seconds(pid)

    def _limit_words(self, seconds):
        """A step's limit as its timeout message says it."""
        if self._cpu_start is not None:  # this step's CPU time was counted (_spent)
            return f"limit {seconds:.0f} s of computing, {WALL_FACTOR * seconds:.0f} s in all"
        return f"limit {seconds:.0f} s"

    def _phase_limit(self, phase):
        kind, what, started = phase
        if kind == "probe":
            return started + self._probe_limit(what)
        if kind == "cell":
            return started + self.limits.cell_timeout
        return started + self.limits.startup_timeout

    def _on_event(self, line, phase):
        """Follow one event line. The child's events are input: only a step forward in the order the child was
        given is accepted, and each step's clock starts when the previous step was accepted (the grader's own
        clock), so a repeated, forged or late event never extends a limit. An answer is read the moment its
        probe_done is accepted: one written after its probe's time is up is never read."""
        if len(line) > MAX_EVENT_BYTES:
            return phase, None  # no event of the child's is this long: junk
        try:
            ev = json.loads(line)
            kind = ev["event"]
        except Exception:  # ValueError, or RecursionError on "[[[[...": not ours, ignore
            return phase, None
        if not isinstance(ev, dict):
            return phase, None
        now = time.monotonic()
        waiting = phase[0] in ("start", "between")
        # The step after "start" is timed from now: no student code runs before the first cell starts.
        began = now if phase[0] == "start" else phase[2]
        if kind == "cell_start" and waiting and type(ev.get("cell")) is int and ev["cell"] > self._last_cell \
                and ev["cell"] < len(self.cells):
            self._seen_cell = True
            self._last_cell = ev["cell"]
            return ("cell", ev["cell"], began), None
        if kind == "cell_done" and phase[0] == "cell" and ev.get("cell") == phase[1]:
            err = child_error(ev["error"]) if ev.get("error") else None  # plain strings, whatever the child sent
            status = "ok" if not err else "error"
            seconds = ev.get("seconds") if type(ev.get("seconds")) in (int, float) else 0.0
            self.report.cells.setdefault(phase[1], CellReport(phase[1], status, err, seconds))
            return ("between", None, now), None
        if kind == "namespace" and waiting and isinstance(ev.get("names"), dict) and not self._seen_namespace:
            self._seen_namespace = True
            self.report.namespace = ev["names"]
            return ("between", None, now), None
        if kind == "probe_start" and waiting and self._seen_namespace and type(ev.get("probe")) is str \
                and ev["probe"] in self._index \
                and self._index[ev["probe"]] > self._last_probe and ev["probe"] not in self.report.answers:
            self._last_probe = self._index[ev["probe"]]
            self._last_started = ev["probe"]
            self._sync_output()  # what the child printed before this probe belongs to the step before
            self._segments.append((["probe", ev["probe"]], self._out_pos()))
            self._acknowledge()
            return ("probe", ev["probe"], began), None
        if kind == "probe_start":
            self._acknowledge()  # refused (a resent or forged event): the child must not wait on it all the same
        if kind == "probe_done" and phase[0] == "probe" and ev.get("probe") == phase[1]:
            self.report.answers[phase[1]] = self._within_budget(self._read_answer(phase[1]))
            return ("between", None, now), None
        if kind == "all_done" and waiting and self._seen_namespace:
            if type(ev.get("vm_peak_kb")) is int:
                self.report.child_vm_peak_kb = ev["vm_peak_kb"]
            return phase, ("done", None)
        return phase, None

    def _within_budget(self, answer):
        """The answer, unless the run's answers would then hold more than MAX_RUN_ANSWER_BYTES."""
        held = sum(a.nbytes for a in self.report.answers.values())
        if held + answer.nbytes <= MAX_RUN_ANSWER_BYTES:
            return answer
        return Answer("error", message=f"not kept: with it, this run's answers would hold {(held + answer.nbytes) >> 20} "
                                       f"MiB of arrays, more than the {MAX_RUN_ANSWER_BYTES >> 20} MiB a run may return")

    def _acknowledge(self):
        """Tell the child that its probe_start has been taken in (grader.sandbox's ack pipe; here, no channel)."""

    def _new_child(self):
        """A fresh child starts over: its cells, its namespace, then its probes, in order."""
        self._last_cell, self._last_probe, self._seen_namespace = -1, -1, False

    def _read_answer(self, probe_id):
        """The answer files of one probe, read now (grader.sandbox reads them without following links)."""
        return read_answer(self.workdir / "out", probe_id)

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
                                               message=self._limit_words(self._probe_limit(what)))
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

    def _stopped(self, phase, why):
        """The child was stopped by the grader for `why` (it passed a limit other than time): the step it was in is
        charged, as for a crash, and a new child goes on with the next one."""
        kind, what, _started = phase
        self._mark(phase, "crashed", f"{STOPPED}: it {why}")
        if kind in ("cell", "probe"):
            return (kind, what)
        self.report.early_exit = f"stopped: it {why}"
        return ("early", None)

    def _sync_output(self):
        """Read what the child printed before its latest event (the child flushes before sending it)."""

    def _out_pos(self):
        return len(self._out) + self.report.output_dropped

    def _keep_output(self, chunk):
        room = self.limits.output_bytes - len(self._out)
        if room > 0:
            self._out += chunk[:room]
        self.report.output_dropped += max(0, len(chunk) - max(room, 0))

    def _collect(self):
        for p in self.probes:
            if p.id not in self.report.answers:
                self.report.answers[p.id] = Answer("not_run", message="not reached")
