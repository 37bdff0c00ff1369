"""Grade one submission at many probe seeds for the price of one sandboxed run.

The probes of every seed go to one child (renamed `<id>@<seed>`), except the training probes,
whose seeds and budgets are fixed and so the same at every probe seed: they run once and every
seed reads the same answer. Each seed is then scored by the real checks (run_checks) into real
results (make_results), exactly as `grade` would score a run at that seed.
"""
import dataclasses
import time

from grader.catalog import catalog
from grader.evidence import Evidence
from grader.grade import run_sandboxed
from hw8core.loader import load
from grader.probes import plan
from grader.results import make_results, run_checks
from hw8core.supervisor import RunReport


def _shared(probe):
    return "train" in probe.id  # the training probes, and the probes that use their results


class SeedRuns:
    """One sandboxed run answering the probes of several seeds: of `sections` (every section if None), and of
    every section at the seeds in `whole_at`."""

    def __init__(self, path, seeds, sections=None, limits=None, whole_at=()):
        submission = load(path)
        self.sections = {seed: None if sections is None or seed in whole_at else set(sections) for seed in seeds}
        self.per_seed, combined, seen = {}, [], set()
        for seed, wanted in self.sections.items():
            probes = [p for p in plan(seed, through=None if wanted is None else max(wanted))
                      if wanted is None or p.section in wanted]
            self.per_seed[seed] = probes
            for p in probes:
                if _shared(p):
                    if p.id not in seen:
                        seen.add(p.id)
                        combined.append(p)
                else:
                    combined.append(dataclasses.replace(p, id=f"{p.id}@{seed}"))
        self.report = run_sandboxed(submission, combined, limits)

    def evidence(self, seed, visible_only=False):
        """What the checks would see had this seed's probes (only the visible ones if visible_only) run alone."""
        probes = [p for p in self.per_seed[seed] if not (visible_only and p.hidden)]
        answers = {p.id: self.report.answers.get(p.id if _shared(p) else f"{p.id}@{seed}") for p in probes}
        view = RunReport(cells=self.report.cells, namespace=self.report.namespace,
                         answers={k: v for k, v in answers.items() if v is not None})
        return Evidence(probes, view, None, visible_only, seed)

    def results(self, seed):
        """results.json of this seed's sections, as `grade` builds it."""
        sections = self.sections[seed]
        outcomes = run_checks(self.evidence(seed), sections=sections)
        checks = [c for c in catalog() if sections is None or c.section in sections]
        return make_results(checks, outcomes, [], seed, time.monotonic())

    def visible_outcomes(self, seed, sections):
        """{number: Outcome} of the visible checks of sections, as a visible-only run (hw8-grade check) has them."""
        return run_checks(self.evidence(seed, visible_only=True), visible_only=True, sections=sections)


def grade_at_seeds(path, seeds, sections=None, limits=None):
    """{seed: results dict} for the submission at path, optionally only the probes of `sections`."""
    runs = SeedRuns(path, seeds, sections, limits)
    return {seed: runs.results(seed) for seed in seeds}


def section_scores(results):
    return {int(k): v for k, v in results["extra_data"]["sections"].items()}
