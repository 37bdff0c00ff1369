"""What a student reads besides the checks: the loading report (test 0.1) and the submission's output (0.2).

Shared by results.json (grader/results.py) and the student kit, which prints the same report.
"""
import traceback

from .i18n import Msg

OUTPUT_CAP = 4096  # characters of one test's output


def _cap(text, cap=OUTPUT_CAP):
    text = str(text)
    return text if len(text) <= cap else text[:cap - 40] + "\n… [truncated / 已截断]"


def make_info_test(number, name, output, visibility="visible"):
    return {"name": f"{number} {name}", "number": number, "score": 0.0, "max_score": 0.0, "status": "passed",
            "output": _cap(output), "visibility": visibility}


GRADING = ("for grading", "评分环境中")  # where a missing module is missing: the student kit says "on this machine"


def make_loading_report(submission, report, load_error, where=GRADING):
    """Test 0.1: what was loaded, which cells failed, and how long it took."""
    lines = []
    if load_error is not None:
        lines.append(str(Msg("Your submission could not be loaded: ", "无法加载你的提交：") + load_error))
        return make_info_test("0.1", str(Msg("Loading report", "加载报告")), "\n".join(lines))
    unit = "code cells" if submission.kind == "ipynb" else "top-level statements"
    unit_zh = "个代码单元格" if submission.kind == "ipynb" else "条顶层语句"
    lines.append(str(Msg(f"Graded {submission.path.name}: {submission.code_cells} {unit}.",
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
            lines.append(str(Msg(f"• {label} did not finish within the time limit; it was stopped and skipped "
                               f"(the statements before it were kept, those after it still ran).",
                               f"• {label} 超时未结束，已被中止并跳过（之前的语句保留，之后的语句照常运行）。")))
        elif cell.status == "crashed":
            msg = (cell.error or {}).get("message", "")
            lines.append(str(Msg(f"• {label} ended the Python process ({msg}); it was skipped.",
                               f"• {label} 结束了 Python 进程（{msg}），已跳过。")))
        else:
            err = cell.error or {}
            msg = err.get("message", "")[:500]
            if err.get("type") == "ModuleNotFoundError":
                lines.append(str(Msg(f"• {label} was skipped: {msg.split(': ', 1)[-1]}: it is not installed {where[0]}. "
                                   f"The statements after it still ran.",
                                   f"• {label} 已跳过：{msg.split(': ', 1)[-1]}：{where[1]}没有安装该模块。其后的语句照常运行。")))
            else:
                lines.append(str(Msg(f"• {label} raised {msg}; it was skipped, the statements after it still ran.",
                                   f"• {label} 抛出异常 {msg}；已跳过，其后的语句照常运行。")))
    if report.early_exit:
        lines.append(str(Msg(f"• The Python process {report.early_exit} outside any cell.", f"• Python 进程在单元格之外{report.early_exit}。")))
    if report.stray_processes_killed:
        lines.append(str(Msg(f"• {report.stray_processes_killed} leftover processes started by the submission were stopped.",
                           f"• 已结束提交代码遗留的 {report.stray_processes_killed} 个进程。")))
    if report.confinement and not any(report.confinement.get(name, {}).get("applied")
                                      for name in ("uid", "landlock", "seccomp")):
        lines.append(str(Msg("• This run was not confined: no sandbox layer (a separate user, Landlock, seccomp) could "
                           "be applied on the grading machine, only resource limits.",
                           "• 本次运行未被隔离：评分机器上无法启用任何沙箱层（独立用户、Landlock、seccomp），只有资源限制。")))
    if len(lines) == 1:
        lines.append(str(Msg("Every cell ran without errors.", "所有单元格均运行无误。")))
    return make_info_test("0.1", str(Msg("Loading report", "加载报告")), "\n".join(lines))


def make_output_entry(report):
    text = report.output
    if report.output_dropped:  # said first, so that the output cap cannot cut it off
        text = str(Msg(f"[The first {len(report.output.encode())} bytes are kept; {report.output_dropped} more bytes, not kept.]\n",
                     f"[只保留了前 {len(report.output.encode())} 字节；另有 {report.output_dropped} 字节未保留。]\n")) + text
    return make_info_test("0.2", str(Msg("What your submission printed while loading and grading",
                                       "你的代码在加载和评分时打印的内容")),
                          text or str(Msg("(nothing)", "（无）")), visibility="visible")


INTERNAL_ERROR = Msg("The grader could not finish this check (an internal error; please tell the course staff).",
                     "评分器无法完成此项检查（内部错误，请告知助教）。")  # tests/conftest.py looks for both


def internal_error(exc):
    """A check that raised something other than CheckFailed: a bug in the check must not look like the student's fault.

    The student reads that, and the exception's type and first line; the traceback (which may quote the grader's and
    the reference's source) is for the course staff: internal_error_trace, kept hidden in results.json."""
    first = (str(exc).strip().splitlines() or [""])[0][:200] if exc is not None else ""
    what = f"\n({type(exc).__name__}{': ' + first if first else ''})" if exc is not None else ""
    return INTERNAL_ERROR + what


def internal_error_trace(exc):
    """The traceback of a check's own failure, without pytest's and pluggy's frames (the check's are the story)."""
    if exc is None:
        return "(no exception)"
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    te.stack = traceback.StackSummary.from_list(
        [f for f in te.stack if not any(part in f.filename for part in ("/_pytest/", "/pluggy/"))])
    return "".join(te.format())
