"""Collect check outcomes with a small pytest plugin, and turn them into Gradescope's results.json.

The plugin is registered only for a grading run. Pure make_* functions build plain dicts; the
CLI writes the file once, in a finally.
"""
import json
import re
import time

import pytest

from hw8core.evidence import CheckFailed
from hw8core.feedback import (OUTPUT_CAP, _cap, internal_error, internal_error_trace, make_info_test,
                              make_loading_report, make_output_entry)
from hw8core.i18n import Msg, get_lang

from .catalog import CHECKS_DIR, Outcome, catalog, info_of

FILE_CAP = 2 ** 20  # bytes of results.json
_PYTEST_VERSION = tuple(int(part) for part in re.match(r"(\d+)\.(\d+)", pytest.__version__).groups())


class CollectPlugin:
    """Provides the `evidence` fixture to the checks and records each check's outcome."""

    def __init__(self, evidence, visible_only=False):
        self._evidence = evidence
        self.visible_only = visible_only
        self.outcomes = {}

    def pytest_configure(self, config):
        config.option.tbstyle = "native"  # the terminal plugin, which owns --tb, is off; its reports are unused

    @pytest.fixture(name="evidence")
    def evidence_fixture(self):
        return self._evidence

    def pytest_collection_modifyitems(self, session, config, items):
        if self.visible_only:
            keep = [i for i in items if getattr(i.function, "__visibility__", "visible") == "visible"]
            config.hook.pytest_deselected(items=[i for i in items if i not in keep])
            items[:] = keep

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        rep = outcome.get_result()
        if rep.when == "call" or (rep.when == "setup" and rep.failed):
            info = info_of(item.function)
            if rep.passed:
                self.outcomes[info.number] = Outcome(info, True, "")
            else:
                exc = call.excinfo.value if call.excinfo else None
                if isinstance(exc, CheckFailed):
                    self.outcomes[info.number] = Outcome(info, False, exc.feedback)
                else:
                    self.outcomes[info.number] = Outcome(info, False, internal_error(exc), internal_error_trace(exc))


def run_checks(evidence, visible_only=False, sections=None):
    """Run the check modules (of `sections`, else all) in this process against `evidence`; return {number: Outcome}."""
    plugin = CollectPlugin(evidence, visible_only)
    targets = [str(CHECKS_DIR)] if sections is None else [str(CHECKS_DIR / f"test_s{n}.py") for n in sorted(sections)]
    args = [*targets, "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR),
            "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:warnings", "--noconftest", "-p", "no:randomly",
            # Nothing of the submission runs in this process, and messages come from the exceptions themselves, not
            # pytest's reports: so no unraisable-exception hook (its cleanup runs gc.collect five times per session,
            # 0.42 s of a 0.53 s session in the test suite's large heap) and plain tracebacks (pytest_configure).
            "-p", "no:unraisableexception", "-p", "no:threadexception"]
    if _PYTEST_VERSION >= (8, 4):
        # No third-party plugin of this machine's (randomly, rerunfailures, timeout, xdist...) may reorder, rerun or
        # time the checks; the grader's own plugin is passed in. It also halves a session's cost (0.11 -> 0.06 s).
        args.append("--disable-plugin-autoload")
    code = pytest.main(args, plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the checks did not run (pytest exit code {code!r})")
    return plugin.outcomes


def make_test(info, outcome, include_numbers=True):
    passed = outcome is not None and outcome.passed
    if outcome is None:
        message = Msg("Not run.", "未运行。")
    elif passed:
        message = Msg("Passed.", "通过。")
    else:
        message = outcome.message
    return {"name": f"{info.number} {info.title}" if include_numbers else info.title,
            "number": info.number, "score": info.max_score if passed else 0.0, "max_score": info.max_score,
            "status": "passed" if passed else "failed", "output": _cap(message), "visibility": info.visibility,
            "tags": list(info.tags)}


def visible_summary(score, total, seen, unseen_max):
    """The top-level output, which students see at once: only what the visible checks show.

    Gradescope shows a test marked after_published only once the grades are published, so a total or a section
    score that counted those checks would tell a student, before then, how the hidden checks went. The totals
    here count the visible checks alone and say how many points are still to be shown; results.json's "score"
    is the whole grade, which Gradescope releases with the published grades."""
    if unseen_max <= 0:
        lines = [str(Msg(f"Score: {score:g} / {total:g}", f"得分：{score:g} / {total:g}"))]
        for n, (got, mx) in sorted(seen.items()):
            lines.append(str(Msg(f"  Section {n}: {got:g} / {mx:g}", f"  第 {n} 节：{got:g} / {mx:g}")))
        return lines
    got_seen, max_seen = sum(g for g, _ in seen.values()), sum(mx for _, mx in seen.values())
    lines = [str(Msg(f"Visible checks: {got_seen:g} / {max_seen:g}", f"可见检查：{got_seen:g} / {max_seen:g}"))]
    for n, (got, mx) in sorted(seen.items()):
        lines.append(str(Msg(f"  Section {n}: {got:g} / {mx:g}", f"  第 {n} 节：{got:g} / {mx:g}")))
    lines.append(str(Msg(f"The other {unseen_max:g} points come from checks marked after_published, on randomized "
                         f"inputs; they, and your total, are shown once grades are published.",
                         f"其余 {unseen_max:g} 分来自标记为 after_published 的检查（随机输入）；这些检查及你的总分将在成绩"
                         f"发布后显示。")))
    return lines


TRACE_CAP = 3000  # characters of one internal error's traceback: its end, where the error is


def make_internal_errors_test(errors):
    """The checks that ended in an internal error, each with its traceback: hidden, for the course staff."""
    parts = []
    for number, trace in errors.items():
        trace = trace if len(trace) <= TRACE_CAP else "…" + trace[-TRACE_CAP:]
        parts.append(f"Check {number}:\n{trace}")
    test = make_info_test("0.3", str(Msg("Internal errors of the grader (for the course staff)", "评分器内部错误（供助教查看）")),
                          "\n\n".join(parts), visibility="hidden")
    test["output"] = _cap(test["output"], 4 * TRACE_CAP)
    test["status"] = "failed"
    return test


def make_results(checks, outcomes, extra_tests, seed, started):
    """results.json of these checks' outcomes. Checks that ended in an internal error are counted in
    extra_data.internal_errors and named in extra_data.internal_error_checks; their tracebacks are in test 0.3, hidden."""
    check_tests = [make_test(info, outcomes.get(info.number)) for info in checks]
    errors = {info.number: outcomes[info.number].trace for info in checks
              if outcomes.get(info.number) is not None and outcomes[info.number].trace}
    tests = list(extra_tests) + check_tests + ([make_internal_errors_test(errors)] if errors else [])
    score = round(sum(t["score"] for t in tests), 4)
    total = round(sum(t["max_score"] for t in tests), 4)
    by_section, seen = {}, {}
    for info, test in zip(checks, check_tests):
        s = by_section.setdefault(info.section, [0.0, 0.0])
        s[0] += test["score"]
        s[1] += info.max_score
        if info.visibility == "visible":
            v = seen.setdefault(info.section, [0.0, 0.0])
            v[0] += test["score"]
            v[1] += info.max_score
    lines = visible_summary(score, total, seen, total - sum(mx for _, mx in seen.values()))
    return {"score": score, "execution_time": round(time.monotonic() - started, 2), "output": "\n".join(lines),
            "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
            "extra_data": {"seed": seed, "lang": get_lang(), "max_score": total,
                           "sections": {str(n): round(v[0], 4) for n, v in sorted(by_section.items())},
                           "internal_errors": len(errors), "internal_error_checks": list(errors)},
            "tests": tests}


def make_failure_results(exc_text, seed, started, points=None):
    """The grader itself failed: a visible failure entry, the traceback hidden, every check at 0."""
    try:
        checks = catalog(points)
    except Exception:  # even the catalog failed: keep the file valid
        checks = []
    tests = [{"name": "0.0 " + str(Msg("Autograder failed", "评分程序出错")), "number": "0.0", "score": 0.0,
              "max_score": 0.0, "status": "failed", "visibility": "visible",
              "output": str(Msg("The autograder failed while grading this submission. This is not your fault: "
                              "please tell the course staff.", "评分程序在评分时出错，这不是你的问题，请告知助教。"))},
             {"name": "0.0 traceback", "number": "0.0", "score": 0.0, "max_score": 0.0, "status": "failed",
              "visibility": "hidden", "output": _cap(exc_text, 8000)}]
    outcomes = {c.number: Outcome(c, False, Msg("Not graded: the autograder failed.", "未评分：评分程序出错。")) for c in checks}
    results = make_results(checks, outcomes, tests, seed, started)
    results["extra_data"].update(internal_errors=1, internal_error_checks=["0.0"])  # its traceback: test "0.0 traceback"
    return results


def dumps(results):
    """Serialise with allow_nan=False, shrinking outputs until the file fits FILE_CAP."""
    text = json.dumps(results, allow_nan=False, ensure_ascii=False, indent=1)
    cap = OUTPUT_CAP
    while len(text.encode()) > FILE_CAP and cap > 64:
        cap //= 2
        for t in results["tests"]:
            t["output"] = _cap(t["output"], cap)
        text = json.dumps(results, allow_nan=False, ensure_ascii=False, indent=1)
    return text


__all__ = ["CollectPlugin", "dumps", "make_failure_results", "make_info_test", "make_loading_report", "make_output_entry",
           "make_results", "make_test", "run_checks", "Msg"]
