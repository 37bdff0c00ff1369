"""Collect check outcomes with a small pytest plugin, and turn them into Gradescope's results.json.

The plugin is registered only for a grading run. Pure make_* functions build plain dicts; the
CLI writes the file once, in a finally.
"""
import json
import time
import traceback

import pytest

from .catalog import CHECKS_DIR, catalog, info_of
from .i18n import Msg, _, get_lang
from .run import CheckFailed

OUTPUT_CAP = 4096  # characters of one test's output
FILE_CAP = 2 ** 20  # bytes of results.json


class Outcome:
    def __init__(self, info, passed, message):
        self.info = info
        self.passed = passed
        self.message = message  # Msg or str


class CollectPlugin:
    """Provides the `run` fixture to the checks and records each check's outcome."""

    def __init__(self, run, visible_only=False):
        self._run = run
        self.visible_only = visible_only
        self.outcomes = {}

    @pytest.fixture(name="run")
    def run_fixture(self):
        return self._run

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
                    message = exc.feedback
                else:  # a bug in a check must not look like the student's fault
                    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-1500:] if exc else ""
                    message = _("The grader could not finish this check (an internal error; please tell the course staff).\n",
                                "评分器无法完成此项检查（内部错误，请告知助教）。\n") + tb
                self.outcomes[info.number] = Outcome(info, False, message)


def run_checks(run, visible_only=False, sections=None):
    """Run the check modules (of `sections`, else all) in this process against `run`; return {number: Outcome}."""
    plugin = CollectPlugin(run, visible_only)
    targets = [str(CHECKS_DIR)] if sections is None else [str(CHECKS_DIR / f"test_s{n}.py") for n in sorted(sections)]
    args = [*targets, "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR),
            "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:warnings", "--noconftest", "-p", "no:randomly"]
    code = pytest.main(args, plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the checks did not run (pytest exit code {code!r})")
    return plugin.outcomes


def _cap(text, cap=OUTPUT_CAP):
    text = str(text)
    return text if len(text) <= cap else text[:cap - 40] + "\n… [truncated / 已截断]"


def make_test(info, outcome, include_numbers=True):
    passed = outcome is not None and outcome.passed
    if outcome is None:
        message = _("Not run.", "未运行。")
    elif passed:
        message = _("Passed.", "通过。")
    else:
        message = outcome.message
    return {"name": f"{info.number} {info.title}" if include_numbers else info.title,
            "number": info.number, "score": info.max_score if passed else 0.0, "max_score": info.max_score,
            "status": "passed" if passed else "failed", "output": _cap(message), "visibility": info.visibility,
            "tags": list(info.tags)}


def make_info_test(number, name, output, visibility="visible"):
    return {"name": f"{number} {name}", "number": number, "score": 0.0, "max_score": 0.0, "status": "passed",
            "output": _cap(output), "visibility": visibility}


def make_loading_report(submission, report, load_error):
    """Test 0.1: what was loaded, which cells failed, and how long it took."""
    lines = []
    if load_error is not None:
        lines.append(str(_("Your submission could not be loaded: ", "无法加载你的提交：") + load_error))
        return make_info_test("0.1", str(_("Loading report", "加载报告")), "\n".join(lines))
    unit = "code cells" if submission.kind == "ipynb" else "top-level statements"
    unit_zh = "个代码单元格" if submission.kind == "ipynb" else "条顶层语句"
    lines.append(str(_(f"Graded {submission.path.name}: {submission.code_cells} {unit}.",
                       f"已评分 {submission.path.name}：{submission.code_cells} {unit_zh}。")))
    for note in submission.notes:
        lines.append("• " + str(note))
    for index in sorted(report.cells):
        cell = report.cells[index]
        if cell.status == "ok":
            continue
        unit = submission.cells[index] if index < len(submission.cells) else None
        label = unit.label if unit else f"cell {index + 1}"
        if unit is not None and unit.line is not None:
            label = f"{label}, line {unit.line}"
        if cell.status == "timeout":
            lines.append(str(_(f"• {label} did not finish within the time limit; it was stopped and skipped "
                               f"(the statements before it were kept, those after it still ran).",
                               f"• {label} 超时未结束，已被中止并跳过（之前的语句保留，之后的语句照常运行）。")))
        elif cell.status == "crashed":
            msg = (cell.error or {}).get("message", "")
            lines.append(str(_(f"• {label} ended the Python process ({msg}); it was skipped.",
                               f"• {label} 结束了 Python 进程（{msg}），已跳过。")))
        else:
            err = cell.error or {}
            msg = err.get("message", "")[:500]
            if err.get("type") == "ModuleNotFoundError":
                lines.append(str(_(f"• {label} was skipped: {msg.split(': ', 1)[-1]}: it is not installed for grading. "
                                   f"The statements after it still ran.",
                                   f"• {label} 已跳过：{msg.split(': ', 1)[-1]}：评分环境中没有安装该模块。其后的语句照常运行。")))
            else:
                lines.append(str(_(f"• {label} raised {msg}; it was skipped, the statements after it still ran.",
                                   f"• {label} 抛出异常 {msg}；已跳过，其后的语句照常运行。")))
    if report.early_exit:
        lines.append(str(_(f"• The Python process {report.early_exit} outside any cell.", f"• Python 进程在单元格之外{report.early_exit}。")))
    if report.stray_processes_killed:
        lines.append(str(_(f"• {report.stray_processes_killed} leftover processes started by the submission were stopped.",
                           f"• 已结束提交代码遗留的 {report.stray_processes_killed} 个进程。")))
    if len(lines) == 1:
        lines.append(str(_("Every cell ran without errors.", "所有单元格均运行无误。")))
    return make_info_test("0.1", str(_("Loading report", "加载报告")), "\n".join(lines))


def make_output_entry(report):
    text = report.output
    if report.output_dropped:  # said first, so that the output cap cannot cut it off
        text = str(_(f"[The first {len(report.output.encode())} bytes are kept; {report.output_dropped} more bytes, not kept.]\n",
                     f"[只保留了前 {len(report.output.encode())} 字节；另有 {report.output_dropped} 字节未保留。]\n")) + text
    return make_info_test("0.2", str(_("What your submission printed while loading and grading",
                                       "你的代码在加载和评分时打印的内容")),
                          text or str(_("(nothing)", "（无）")), visibility="visible")


def make_results(checks, outcomes, extra_tests, seed, started):
    check_tests = [make_test(info, outcomes.get(info.number)) for info in checks]
    tests = list(extra_tests) + check_tests
    score = round(sum(t["score"] for t in tests), 4)
    total = round(sum(t["max_score"] for t in tests), 4)
    by_section = {}
    for info, test in zip(checks, check_tests):
        s = by_section.setdefault(info.section, [0.0, 0.0])
        s[0] += test["score"]
        s[1] += info.max_score
    lines = [str(_(f"Score: {score:g} / {total:g}", f"得分：{score:g} / {total:g}"))]
    for n, (got, mx) in sorted(by_section.items()):
        lines.append(str(_(f"  Section {n}: {got:g} / {mx:g}", f"  第 {n} 节：{got:g} / {mx:g}")))
    lines.append(str(_("Checks marked after_published use randomized inputs; they are shown once grades are published.",
                       "after_published 的检查使用随机输入，成绩发布后可见。")))
    return {"score": score, "execution_time": round(time.monotonic() - started, 2), "output": "\n".join(lines),
            "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
            "extra_data": {"seed": seed, "lang": get_lang(), "max_score": total,
                           "sections": {str(n): round(v[0], 4) for n, v in sorted(by_section.items())}},
            "tests": tests}


def make_failure_results(exc_text, seed, started, points=None):
    """The grader itself failed: a visible failure entry, the traceback hidden, every check at 0."""
    try:
        checks = catalog(points)
    except Exception:  # even the catalog failed: keep the file valid
        checks = []
    tests = [{"name": "0.0 " + str(_("Autograder failed", "评分程序出错")), "number": "0.0", "score": 0.0,
              "max_score": 0.0, "status": "failed", "visibility": "visible",
              "output": str(_("The autograder failed while grading this submission. This is not your fault: "
                              "please tell the course staff.", "评分程序在评分时出错，这不是你的问题，请告知助教。"))},
             {"name": "0.0 traceback", "number": "0.0", "score": 0.0, "max_score": 0.0, "status": "failed",
              "visibility": "hidden", "output": _cap(exc_text, 8000)}]
    outcomes = {c.number: Outcome(c, False, _("Not graded: the autograder failed.", "未评分：评分程序出错。")) for c in checks}
    return make_results(checks, outcomes, tests, seed, started)


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
