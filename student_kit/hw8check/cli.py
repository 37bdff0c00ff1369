"""hw8-check: the homework's visible checks on a notebook or module, from a terminal.

    hw8-check hw8.ipynb [--lang zh] [--section 4]

Exit status 0 when every visible check passes, 1 when some fail, 2 when the file cannot be read.
"""
import argparse
import sys

from . import __version__

try:  # numpy is the one thing the kit needs from the student's Python; say so plainly when it is missing
    import numpy  # noqa: F401
except ImportError:  # pragma: no cover - exercised by hand: a Python without numpy
    numpy = None
else:
    from hw8core.feedback import make_loading_report
    from hw8core.i18n import Msg, set_lang
    from .kit import load_kit
    from hw8core.loader import load_for_grading
    from hw8core.parallel import degree, run_groups, sections_of
    from hw8core.evidence import Evidence
    from .runner import PortableRun, linux_features, machine_memory, say_portable_once
    from hw8core.selfcheck import SECTIONS, print_section, run_checks
    from hw8core.supervisor import Limits, SandboxError

# Looser than the graded run's: a self-check must never fail correct but slow code on a busy laptop.
# The cost is only a longer wait when something hangs. Time limits are the grader's, measured on the
# reference (grader/timeouts.py), times KIT_SLACK.
KIT_SLACK = 3.0


def kit_limits(kit):
    memory = machine_memory() or 8 * 2 ** 30
    return Limits(cell_timeout=kit.limits["cell_timeout"] * KIT_SLACK, startup_timeout=120.0,
                  total_timeout=kit.limits["total_timeout"] * KIT_SLACK, memory_bytes=max(memory, 4 * 2 ** 30),
                  output_bytes=64 * 1024, timeout_scale=KIT_SLACK)


def grade_visible(path, sections=None, limits=None, linux=None, jobs=1):
    """(outcomes {number: Outcome}, the loading report's text, load_error) for the visible checks of sections.
    jobs: children side by side, one per group of sections (None: as many as this machine allows)."""
    kit = load_kit()
    sections = sections or SECTIONS
    probes = [p for p in kit.probes if p.section in sections]
    report = None
    submission, load_error = load_for_grading(path, follow_links=True)  # the student's own machine and files
    if load_error is None:  # the run makes and removes its own work folder, ignoring a file Windows still holds
        limits = limits or kit_limits(kit)

        def make(group, group_limits):
            return PortableRun([c.source for c in submission.cells], group, kit.api_names, group_limits,
                               labels=[c.label for c in submission.cells], linux=linux)
        n = 1 if jobs == 1 else degree(len(sections_of(probes)), limits.memory_bytes, jobs=jobs, split_cap=True)[0]
        try:
            report = run_groups(make, probes, limits, n, kit.cost, split_cap=True)
        except SandboxError as exc:  # Python itself could not start the child: say why, do not crash
            load_error = Msg(f"your code could not be started in a child process ({str(exc)[:800]}).",
                             f"无法在子进程中启动你的代码（{str(exc)[:800]}）。")
    evidence = Evidence(probes, report, load_error, visible_only=True, seed=0, oracle=kit.oracle())
    loading = make_loading_report(submission, report, load_error, where=("on this machine", "本机"))["output"]
    return run_checks(evidence, sections), loading, load_error


def main(argv=None):
    if numpy is None:
        print("hw8-check needs numpy, which this Python lacks: pip install numpy / hw8-check 需要 numpy：pip install numpy")
        return 2
    parser = argparse.ArgumentParser(prog="hw8-check", description="Homework 8 (RNN): the visible checks, on your "
                                     "own machine / 作业 8（RNN）：在你自己的电脑上运行可见检查")
    parser.add_argument("submission", help="hw8.ipynb or hw8.py")
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    parser.add_argument("--section", type=int, action="append", choices=SECTIONS,
                        help="check only this section (repeatable)")
    parser.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                        help="run the sections in up to N child processes side by side (default: as many as your CPUs "
                             "and memory allow; 1: one after another)")
    parser.add_argument("--version", action="version", version=f"hw8check {__version__}")
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # a Windows pipe or file may not encode ✔ or Chinese: never crash on it
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    set_lang(args.lang)
    sections = tuple(sorted(set(args.section))) if args.section else SECTIONS
    if not linux_features():
        say_portable_once()
    print(str(Msg("Running your submission… (the training sections take a few seconds each)",
                "正在运行你的代码……（训练相关的小节各需几秒钟）")), flush=True)
    outcomes, loading, load_error = grade_visible(args.submission, sections, jobs=args.jobs)
    print("0.1 " + str(Msg("Loading report", "加载报告")))
    print("    " + loading.replace("\n", "\n    "))
    if load_error is not None:
        return 2
    all_ok = True
    for section in sections:
        print()
        all_ok &= print_section(section, outcomes)
    passed = sum(o.passed for o in outcomes.values())
    print()
    print(str(Msg(f"{passed}/{len(outcomes)} visible checks pass.", f"可见检查通过 {passed}/{len(outcomes)} 项。")) + " "
          + str(Msg("The graded run adds checks on randomized inputs.", "正式评分还会加入随机输入的检查。")))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
