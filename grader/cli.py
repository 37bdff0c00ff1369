"""hw8-grade: one small module per verb, under a thin argparse layer.

    hw8-grade grade SUBMISSION -o results.json [--seed N] [--lang zh|en]
    hw8-grade check SUBMISSION [--lang zh|en] [--section N ...]
    hw8-grade batch DIR -o OUTDIR [-j N]
"""
import argparse
import sys

from .homework import SECTIONS
from .supervisor import Limits


def _limits(args):
    return Limits(cell_timeout=args.cell_timeout, total_timeout=args.total_timeout,
                  memory_bytes=int(args.memory_gib * 2 ** 30), user=getattr(args, "user", None),
                  timeout_scale=args.timeout_scale)


def _common(p):
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the feedback (default en)")
    p.add_argument("--cell-timeout", type=float, default=60.0, help="seconds one notebook cell may run (default 60)")
    p.add_argument("--total-timeout", type=float, default=540.0, help="seconds the whole run may take (default 540)")
    p.add_argument("--timeout-scale", type=float, default=1.0,
                   help="multiply every call's time limit, e.g. 2 on a slow machine (default 1)")
    p.add_argument("--user", default=None, help="run the submission as this unprivileged user (needs root)")
    p.add_argument("--memory-gib", type=float, default=3.0, help="memory cap of the submission's process, GiB (default 3)")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="hw8-grade", description="Autograder for Homework 8 (RNN).")
    sub = parser.add_subparsers(dest="verb", required=True)

    g = sub.add_parser("grade", help="grade a submission and write Gradescope's results.json")
    g.add_argument("submission", help="hw8.ipynb, hw8.py, or a folder holding one")
    g.add_argument("-o", "--output", default="results.json", help="where to write results.json")
    g.add_argument("--seed", type=int, default=None, help="seed of the randomized probes (default: random)")
    _common(g)

    c = sub.add_parser("check", help="run the visible checks and print a report")
    c.add_argument("submission")
    c.add_argument("--seed", type=int, default=0, help="seed of the training probes (default 0)")
    c.add_argument("--section", type=int, action="append", choices=SECTIONS, default=None,
                   help="check only this section (repeatable; default: every section), as hw8-check does")
    _common(c)

    b = sub.add_parser("batch", help="grade a folder of submissions: gradebook, feedback and plots")
    b.add_argument("directory")
    b.add_argument("-o", "--output", required=True, help="output folder")
    b.add_argument("-j", "--jobs", type=int, default=None, help="submissions graded in parallel")
    b.add_argument("--seed", type=int, default=None, help="seed of the randomized probes, the same for everyone")
    b.add_argument("--force", action="store_true", help="regrade submissions already graded")
    b.add_argument("--executor", choices=["local", "dask"], default="local")
    b.add_argument("--scheduler", default=None, help="address of a Dask scheduler (with --executor dask)")
    b.add_argument("--student-timeout", type=float, default=None,
                   help="seconds one student's grading may take; past it the row is a grader error saying so "
                        "(default: --total-timeout plus 300)")
    b.add_argument("--retry-errors", action="store_true",
                   help="on resume, grade again the students whose row is a grader error (a timeout included)")
    b.add_argument("--unconfined", action="store_true",
                   help="grade even where no sandbox layer (Landlock, seccomp, or --user as root) can confine the "
                        "submissions: each student's code could then read the solutions and overwrite classmates' "
                        "results and the gradebook")
    _common(b)

    args = parser.parse_args(argv)
    if args.verb == "grade":
        from .grade import grade_to_file
        results = grade_to_file(args.submission, args.output, seed=args.seed, lang=args.lang, limits=_limits(args))
        print(results["output"])
        # For whoever ran the grader (not in the students' output): the whole grade, hidden checks included.
        print(f"Total, after_published checks included: {results['score']:g} / {results['extra_data']['max_score']:g}")
        return 0
    if args.verb == "check":
        from .check_cli import main as check_main
        return check_main(args.submission, lang=args.lang, seed=args.seed, limits=_limits(args), sections=args.section)
    if args.verb == "batch":
        from .batch import main as batch_main
        return batch_main(args.directory, args.output, jobs=args.jobs, seed=args.seed, force=args.force, lang=args.lang,
                          executor=args.executor, scheduler=args.scheduler, limits=_limits(args),
                          student_timeout=args.student_timeout, retry_errors=args.retry_errors,
                          unconfined=args.unconfined)
    return 2


if __name__ == "__main__":
    sys.exit(main())
