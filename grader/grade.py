"""Grade one submission: load it, run it sandboxed, run the checks, build results.json."""
import secrets
import sys
import time
import traceback
from pathlib import Path

from reference import API_NAMES

from . import results as gradescope
from .catalog import catalog
from .evidence import Evidence
from hw8core.i18n import set_lang
from hw8core.loader import load_for_grading
from hw8core.parallel import degree, run_groups, sections_of
from .probes import plan
from .processes import sandbox_user_count
from .sandbox import Sandbox
from hw8core.supervisor import Limits
from .timeouts import TRAINERS, calibrate, reference_seconds


def new_seed():
    return secrets.randbelow(2 ** 31)


def probe_cost(probe):
    """What a probe costs, for sharing the sections among children: a training's reference time, else next to nothing."""
    return reference_seconds(probe.fn, probe.kwargs) if probe.fn in TRAINERS else 0.01


def jobs_for(probes, limits):
    """How many children run side by side (hw8core/parallel.py): limits.jobs, None for as many as this machine allows."""
    if limits.jobs == 1:
        return 1
    slots = sandbox_user_count(limits.user) if limits.user else None  # one sandbox user per child
    n, why = degree(len(sections_of(probes)), limits.memory_bytes, jobs=limits.jobs, slots=slots)
    print(f"hw8-grade: {n} {'child' if n == 1 else 'children'} side by side ({why})", file=sys.stderr)
    return n


def run_sandboxed(submission, probes, limits=None):
    """The submission's statements run in sandboxed children, then its answers to probes (time limits set here):
    one child, or one per group of sections side by side (limits.jobs)."""
    limits = limits or Limits()
    calibrate(probes)
    cells, labels = [c.source for c in submission.cells], [c.label for c in submission.cells]

    def make(group, group_limits):
        return Sandbox(cells, group, API_NAMES, group_limits, labels=labels)

    n = jobs_for(probes, limits)
    if n == 1:
        return make(probes, limits).run()
    return run_groups(make, probes, limits, n, probe_cost)


def grade(path, *, seed=None, visible_only=False, limits=None, points=None, sections=None):
    """Return (results dict, Evidence). Never raises for a bad submission: that is in the results.

    `sections` (an iterable of section numbers) grades only those: their probes (the same as in a whole run
    at this seed, plan's `through`) and their checks, as `hw8-grade check --section N` and `hw8-check` do."""
    started = time.monotonic()
    seed = new_seed() if seed is None else int(seed)
    sections = None if sections is None else sorted(set(sections))
    probes = plan(seed, visible_only=visible_only, through=None if sections is None else max(sections))
    if sections is not None:
        probes = [p for p in probes if p.section in sections]
    report = None
    submission, load_error = load_for_grading(path)
    if load_error is None:
        report = run_sandboxed(submission, probes, limits)
    evidence = Evidence(probes, report, load_error, visible_only, seed)
    outcomes = gradescope.run_checks(evidence, visible_only, sections=sections)
    checks = [c for c in catalog(points) if (not visible_only or c.visibility == "visible")
              and (sections is None or c.section in sections)]
    extra = [gradescope.make_loading_report(submission, report, load_error)]
    if report is not None:
        extra.append(gradescope.make_output_entry(report))
    results = gradescope.make_results(checks, outcomes, extra, seed, started)
    if report is not None:  # which sandbox layers confined the submission (grader.confine), for the TA
        results["extra_data"]["confinement"] = report.confinement
    return results, evidence


def grade_to_file(path, out, *, seed=None, lang="en", limits=None, points=None):
    """Grade and write results.json exactly once, in a finally, whatever happens."""
    started = time.monotonic()
    seed = new_seed() if seed is None else int(seed)
    results = None
    try:
        set_lang(lang)
        results, _ = grade(path, seed=seed, limits=limits, points=points)
    except BaseException:  # the grader's own failure still ends in a valid results.json
        results = gradescope.make_failure_results(traceback.format_exc(), seed, started, points)
        raise
    finally:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        text = gradescope.dumps(results if results is not None else gradescope.make_failure_results("no results", seed, started, points))
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    return results
