"""Sections side by side: a run's probes split by section into groups, one supervised child per group, at once.

Each section's probes depend only on each other (a trained model is used by its own section's later probes), so
the groups are whole sections (a section longer than an even share: its trainings, each with the probes that take
its result), filled longest first into the least loaded group, and each group keeps the plan's order. Each group is a full run of its own (grader/supervisor.py: a Sandbox on the grading
machine, the kit's PortableRun on a laptop), with every confinement layer, its own restarts, and its share of the
run's memory cap; the threads here only wait on their children. The reports are merged into the one report the
serial run would have made: the same answers, the cells and namespace of the group that runs the first probes,
and the output in the serial order (grader/sandbox.py marks where each probe's prints begin).

The degree: the cores this process may use (its CPU affinity, and a cgroup's cpu.max), the memory it may use
(a cgroup's memory.max, /proc/meminfo's MemAvailable) against what the children may take (see degree).
Gradescope's image (0.5 vCPU, 768 MB) runs serially.

What differs from a serial run, on purpose or by nature: each child runs the submission's cells again (their
output is shown once); a function that hangs or ends the process is stubbed only in its own group's later
children, so a caller in another section waits out its own limit instead of failing at once (both fail); code
whose answers depend on calls made in other sections (a global counter, unseeded random numbers) sees only its
own group's calls.
"""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import replace

from .supervisor import RunReport, what_happened
from .wire import Answer, ResultOf, called

GIB = 2 ** 30
# The address space one child needs: Python, numpy and torch map about 700 MiB under RLIMIT_AS, and the example
# peaks at 691 MiB (make bench); Gradescope's cap (0.8 GiB) is the smallest one a correct notebook is graded under.
CHILD_NEED_BYTES = int(0.8 * GIB)
# The physical memory one more child takes: its resident peak with torch and a training (make bench, per mode).
CHILD_RSS_BYTES = 450 * 2 ** 20


def _read(path):
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _cgroup_dirs():
    """This process's cgroup v2 folder and its ancestors, innermost first (where /sys/fs/cgroup is mounted)."""
    text = _read("/proc/self/cgroup") or ""
    for line in text.splitlines():
        if line.startswith("0::"):
            rel = line[3:].strip("/")
            parts = rel.split("/") if rel else []
            return [os.path.join("/sys/fs/cgroup", *parts[:k]) for k in range(len(parts), -1, -1)]
    return []


def cpu_quota():
    """The CPUs a cgroup allows (cpu.max, or cgroup v1's cfs quota), or None when unlimited or unknown."""
    quotas = []
    for d in _cgroup_dirs():
        fields = (_read(os.path.join(d, "cpu.max")) or "").split()
        if len(fields) == 2 and fields[0] != "max":
            try:
                quotas.append(int(fields[0]) / int(fields[1]))
            except (ValueError, ZeroDivisionError):
                pass
    for v1 in ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"):
        try:
            quota, period = int(_read(f"{v1}/cpu.cfs_quota_us")), int(_read(f"{v1}/cpu.cfs_period_us"))
            if quota > 0 and period > 0:
                quotas.append(quota / period)
        except (TypeError, ValueError):
            pass
    return min(quotas) if quotas else None


def cores():
    """The CPUs this process may run on, a cgroup quota included (0.5 on Gradescope's default)."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cpu_quota()
    return min(float(n), quota) if quota is not None else float(n)


def memory_available():
    """Bytes this process may still use: MemAvailable, and a cgroup's memory.max less its usage; None if unknown."""
    found = []
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemAvailable:"):
            found.append(int(line.split()[1]) * 1024)
    for d in _cgroup_dirs():
        limit, used = _read(os.path.join(d, "memory.max")), _read(os.path.join(d, "memory.current"))
        if limit and limit != "max" and used:
            try:
                found.append(max(0, int(limit) - int(used)))
            except ValueError:
                pass
    return min(found) if found else None


def degree(groups, memory_cap, jobs=None, share=1, slots=None, split_cap=False):
    """(children side by side, why): at most `groups`; `jobs` (--jobs) or the cores over `share` (batch -j N:
    the students graded at once share the cores); at most `slots` (sandbox users).

    Memory, two ways. The grader (split_cap False) gives every child the run's whole memory cap, as the serial run
    has it, so whether a submission fits never depends on the degree: then n children must fit in the memory this
    machine has free (n x the cap), --jobs included; Gradescope's image (768 MB, cap 0.8 GiB) so runs one child. The
    kit (split_cap True), whose cap is only a net against freezing a laptop (the machine's RAM), splits it among the
    children, never below what a child needs to import torch, and asks the free memory for a child's usual size."""
    if jobs is not None:
        n, why = max(1, int(jobs)), f"--jobs {jobs}"
    else:
        n, why = max(1, int(cores() // max(1, share))), f"{cores():g} CPUs" + (f" shared by {share} runs" if share > 1 else "")
    free = memory_available()
    if split_cap:
        if jobs is None and free is not None and free // CHILD_RSS_BYTES < n:
            n, why = max(1, int(free // CHILD_RSS_BYTES)), f"{free >> 20} MiB of memory available"
        if memory_cap and memory_cap // CHILD_NEED_BYTES < n:
            n, why = max(1, int(memory_cap // CHILD_NEED_BYTES)), f"a memory cap of {memory_cap >> 20} MiB"
    elif free is not None and memory_cap and free // memory_cap < n:
        n, why = max(1, int(free // memory_cap)), f"{free >> 20} MiB of memory available for children of {memory_cap >> 20} MiB"
    if slots is not None and slots < n:
        n, why = max(1, slots), f"{slots} sandbox users"
    return max(1, min(n, groups)), why


def sections_of(probes):
    return list(dict.fromkeys(p.section for p in probes))


def _results_used(value):
    """The probe ids whose results an argument takes (ResultOf), however deeply nested."""
    if isinstance(value, ResultOf):
        return [value.probe]
    if isinstance(value, (list, tuple)):
        return [r for v in value for r in _results_used(v)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _results_used(v)]
    return []


def units(probes, cost, heavy=0.1):
    """The probes in units that must share a child: a costly probe (a training) with every probe that takes its
    result, and each section's other probes together. [[probe, ...], ...] in the plan's order."""
    parent = {}

    def root(key):
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    of = {}
    for p in probes:
        used = [of[r] for r in _results_used([p.args, p.kwargs]) if r in of]
        own = ("probe", p.id) if cost(p) >= heavy and not used else ("section", p.section)
        of[p.id] = used[0] if used else own
        for other in used[1:]:  # a probe that takes two results ties their units together
            parent[root(other)] = root(used[0])
    found = {}
    for p in probes:
        found.setdefault(root(of[p.id]), []).append(p)
    return list(found.values())


def split(probes, n, cost):
    """The probes in at most n groups, longest first into the least loaded group, each group in the plan's order,
    the group holding the plan's first probe first. The pieces are whole sections, except a section that alone
    costs more than an even share (the kit's adder, judged over all 128 x 128 sums after each training): its units."""
    by_section = {}
    for p in probes:
        by_section.setdefault(p.section, []).append(p)
    total = sum(cost(p) for p in probes)
    pieces = []
    for section_probes in by_section.values():
        if n > 1 and sum(cost(p) for p in section_probes) > total / n:
            pieces += units(section_probes, cost)
        else:
            pieces.append(section_probes)
    bins = [[0.0, set()] for _ in range(max(1, min(n, len(pieces))))]
    for piece in sorted(pieces, key=lambda u: -sum(cost(p) for p in u)):
        target = min(bins, key=lambda b: b[0])
        target[0] += sum(cost(p) for p in piece)
        target[1].update(p.id for p in piece)
    order = {p.id: i for i, p in enumerate(probes)}
    groups = [[p for p in probes if p.id in ids] for _, ids in bins]
    return sorted((g for g in groups if g), key=lambda g: order[g[0].id])


def run_groups(make, probes, limits, n, cost, split_cap=False):
    """Run the probes in n groups side by side: make(probes, limits) -> an unstarted Supervisor. The merged
    RunReport; a group's SandboxError (its child could not start) is raised, as a serial run raises it. Each child
    has the run's whole memory cap, or its share with split_cap (the kit's; see degree)."""
    groups = split(probes, n, cost)
    if len(groups) == 1:
        return make(probes, limits).run()
    share = replace(limits, memory_bytes=limits.memory_bytes // len(groups) if split_cap else limits.memory_bytes,
                    jobs=1)
    runs = [make(group, share) for group in groups]  # each locks its own run folder now
    reports, errors = [None] * len(runs), [None] * len(runs)

    def work(i):
        try:
            reports[i] = runs[i].run()
        except BaseException as exc:  # re-raised in the calling thread
            errors[i] = exc

    threads = [threading.Thread(target=work, args=(i,), name=f"hw8-group-{i}", daemon=True) for i in range(len(runs))]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except BaseException:  # Ctrl-C: every group stops its child and cleans up before this returns
        for r in runs:
            r.cancelled = True
        for t in threads:
            t.join()
        raise
    for exc in errors:
        if exc is not None:
            raise exc
    return merge(groups, reports, probes, limits.output_bytes, runs[0].output_marks)


def merge(groups, reports, probes, output_bytes, marks=True):
    """One RunReport from the groups' reports, as the serial run of `probes` would have made it."""
    lead = reports[0]
    merged = RunReport(cells=dict(lead.cells), namespace=dict(lead.namespace), early_exit=lead.early_exit,
                       confinement=_confinement(reports), side_by_side=len(reports))
    for index in sorted({i for r in reports for i in r.cells}):  # a cell only another group's child reached
        merged.cells.setdefault(index, next(r.cells[index] for r in reports if index in r.cells))
    for group, report in zip(groups, reports):
        for p in group:
            if p.id in report.answers:
                merged.answers[p.id] = report.answers[p.id]
        merged.restarts += report.restarts
        merged.stray_processes_killed += report.stray_processes_killed
        merged.seconds = max(merged.seconds, report.seconds)
        merged.early_exit = merged.early_exit or report.early_exit
        if report.child_vm_peak_kb is not None:
            merged.child_vm_peak_kb = max(merged.child_vm_peak_kb or 0, report.child_vm_peak_kb)
    merged.answers = {p.id: merged.answers[p.id] for p in probes if p.id in merged.answers}
    _not_tried_after_hang(merged.answers, probes)
    data, total = _serial_output(reports, probes) if marks else _joined_output(reports)
    kept = data[:output_bytes]
    merged.output, merged.output_dropped = kept.decode("utf-8", errors="replace"), total - len(kept)
    merged.output_raw = kept
    return merged


def _not_tried_after_hang(answers, probes):
    """As a serial run does (Supervisor._skip_same_function): once a call hangs or ends the process, the same
    function's later probes are not tried. Another group may have tried them: their answers become the serial's."""
    hung = {}
    for p in probes:
        key, a = called(p), answers.get(p.id)
        if key in hung:
            how, verb = hung[key]
            answers[p.id] = Answer(how, message=f"not tried: an earlier call of {key} {verb}")
        elif a is not None and a.status in ("timeout", "crashed") and not (a.message or "").startswith("not tried"):
            hung[key] = (a.status, what_happened(a))


def _confinement(reports):
    """The layers that confined every child: a layer counts as applied only where it applied in every group."""
    found = dict(reports[0].confinement)
    for r in reports[1:]:
        for name, v in r.confinement.items():
            if name in found:
                found[name] = {**found[name], "applied": bool(found[name].get("applied") and v.get("applied"))}
    return found


def _joined_output(reports):
    data = b"".join(r.output_raw for r in reports)
    return data, len(data) + sum(r.output_dropped for r in reports)


def _serial_output(reports, probes):
    """The bytes a serial run would have kept, and its whole output's length: the lead group's first child's cells,
    then each probe's prints in plan order, each followed by the start of the child that replaced a child it ended."""
    pieces = {}  # key -> [(report, start, end)]
    for r in reports:
        for key, start, end in r.output_segments:
            pieces.setdefault(tuple(key), []).append((r, start, end))
    order = [p for p in pieces.get(("head", None), []) if p[0] is reports[0]]
    for p in probes:
        order += pieces.get(("probe", p.id), []) + pieces.get(("head", p.id), [])
    data, total, complete = bytearray(), 0, True
    for r, start, end in order:
        total += end - start
        raw = r.output_raw  # the kept bytes of that group's whole stream
        if complete and end <= len(raw):
            data += raw[start:end]
        else:
            complete = False  # past what that group kept: a serial run's cap would have been reached before here
    return bytes(data), total
