"""Grade one submission at many probe seeds for the price of one sandboxed run.

The probes of every seed go to one child (renamed `<id>@<seed>`), except the training probes,
whose seeds and budgets are fixed and so the same at every probe seed: they run once and every
seed reads the same answer. Each seed is then scored by the real checks (run_checks) into real
results (make_results), exactly as `grade` would score a run at that seed.
"""
import dataclasses
import time

from grader.catalog import catalog
from grader.grade import API_NAMES
from grader.loader import load
from grader.probes import plan
from grader.results import make_results, run_checks
from grader.evidence import Evidence
from grader.sandbox import Sandbox
from grader.supervisor import Limits, RunReport
from grader.timeouts import calibrate


def _shared(probe):
    return "train" in probe.id  # the training probes, and the probes that use their results


def grade_at_seeds(path, seeds, sections=None, limits=None):
    """{seed: results dict} for the submission at path, optionally only the probes of `sections`."""
    submission = load(path)
    per_seed, combined, seen = {}, [], set()
    for seed in seeds:
        probes = [p for p in plan(seed, through=None if sections is None else max(sections))
                  if sections is None or p.section in sections]
        per_seed[seed] = probes
        for p in probes:
            if _shared(p):
                if p.id not in seen:
                    seen.add(p.id)
                    combined.append(p)
            else:
                combined.append(dataclasses.replace(p, id=f"{p.id}@{seed}"))
    calibrate(combined)
    report = Sandbox([c.source for c in submission.cells], combined, API_NAMES, limits or Limits(),
                     labels=[c.label for c in submission.cells]).run()
    checks = [c for c in catalog() if sections is None or c.section in sections]
    results = {}
    for seed, probes in per_seed.items():
        answers = {p.id: report.answers.get(p.id if _shared(p) else f"{p.id}@{seed}") for p in probes}
        view = RunReport(cells=report.cells, namespace=report.namespace,
                         answers={k: v for k, v in answers.items() if v is not None})
        outcomes = run_checks(Evidence(probes, view, None, False, seed), sections=sections)
        results[seed] = make_results(checks, outcomes, [], seed, time.monotonic())
    return results


def section_scores(results):
    return {int(k): v for k, v in results["extra_data"]["sections"].items()}
