"""hw8-grade: one small module per verb, under a thin argparse layer.

    hw8-grade grade SUBMISSION -o results.json [--seed N] [--lang zh|en]
    hw8-grade check SUBMISSION [--lang zh|en] [--section N ...]
    hw8-grade batch DIR -o OUTDIR [-j N]
"""
import argparse
import os
import pwd
import shutil
import sys

from . import __version__
from hw8core.homework import SECTIONS
from hw8core.i18n import Msg
from hw8core.supervisor import Limits

USER_HELP = ("run the submission's code as this existing unprivileged user, so that it cannot read the reference "
             "or touch the grader (hw8-grade must run as root)")
BATCH_USER_HELP = ("run the submissions' code as unprivileged users: NAME for the first concurrent job, NAME-2 ... "
                   "NAME-N for the others (-j N); hw8-grade must run as root and creates those that do not exist "
                   "(useradd). With --scheduler, the users are the Dask workers' concern")


def _limits(args):
    # grade and check: --jobs children side by side, default as many as the machine allows (None); batch: its
    # workers share the cores (grader/batch.py sets each student's share)
    return Limits(cell_timeout=args.cell_timeout, total_timeout=args.total_timeout,
                  memory_bytes=int(args.memory_gib * 2 ** 30), user=getattr(args, "user", None),
                  timeout_scale=args.timeout_scale, jobs=getattr(args, "jobs", None) if args.verb != "batch" else None)


JOBS_HELP = ("run the sections in up to N sandboxed children side by side (default: as many as the CPUs, the memory "
             "and the memory cap split among them allow; 1: one child, section after section)")


def _common(p, user_help=USER_HELP):
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the feedback (default en)")
    p.add_argument("--cell-timeout", type=float, default=60.0, help="seconds one notebook cell may run (default 60)")
    p.add_argument("--total-timeout", type=float, default=540.0, help="seconds the whole run may take (default 540)")
    p.add_argument("--timeout-scale", type=float, default=1.0,
                   help="multiply every call's time limit, e.g. 2 on a slow machine (default 1)")
    p.add_argument("--user", default=None, metavar="NAME", help=user_help)
    p.add_argument("--memory-gib", type=float, default=3.0, help="memory cap of the submission's process, GiB (default 3)")


def build_parser():
    """The whole command line: (parser, {verb: its subparser})."""
    parser = argparse.ArgumentParser(prog="hw8-grade", description="Autograder for Homework 8 (RNN).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the grader's version and exit")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB", help="what to do (each has its own --help)")

    g = sub.add_parser("grade", help="grade a submission and write Gradescope's results.json")
    g.add_argument("submission", help="hw8.ipynb, hw8.py, or a folder holding one")
    g.add_argument("-o", "--output", default="results.json", help="where to write results.json (default results.json)")
    g.add_argument("--seed", type=int, default=None,
                   help="seed of the randomized (hidden) probes, to reproduce a run (default: random; "
                        "results.json's extra_data.seed shows it)")
    g.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help=JOBS_HELP)
    _common(g)

    # No --seed: a visible-only run has no randomized probes, and the training probes' seeds are fixed
    # (grader/probes.py, TRAIN_SEED and OTHER_SEED); tests/test_cli.py checks that the seed changes nothing.
    c = sub.add_parser("check", help="run the visible checks and print a report")
    c.add_argument("submission", help="hw8.ipynb, hw8.py, or a folder holding one")
    c.add_argument("--section", type=int, action="append", choices=SECTIONS, default=None,
                   help="check only this section (repeatable; default: every section), as hw8-check does")
    c.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help=JOBS_HELP)
    _common(c)

    b = sub.add_parser("batch", help="grade a folder of submissions: gradebook, feedback and plots")
    b.add_argument("directory", help="one file or folder per student, or Gradescope's \"Export Submissions\" folder")
    b.add_argument("-o", "--output", required=True,
                   help="output folder: gradebook.csv, summary.md, plots, students/ID/results.json and feedback.md")
    b.add_argument("-j", "--jobs", type=int, default=None,
                   help="submissions graded in parallel (default: the CPUs available, fewer if memory is short)")
    b.add_argument("--seed", type=int, default=None,
                   help="seed of the randomized probes, the same for everyone (default: the one in OUTPUT/seed.txt, "
                        "else random)")
    b.add_argument("--force", action="store_true", help="regrade submissions already graded")
    b.add_argument("--executor", choices=["local", "dask"], default="local",
                   help="local: worker processes on this machine (default); dask: a Dask cluster (see --scheduler)")
    b.add_argument("--scheduler", default=None,
                   help="address of a Dask scheduler, e.g. tcp://HOST:8786 (with --executor dask; default: a local "
                        "cluster)")
    _common(b, BATCH_USER_HELP)
    return parser, {"grade": g, "check": c, "batch": b}


def user_problem(name, *, may_create=False):
    """Why `--user name` cannot work here, or None. Checked before grading starts: a missing user would
    otherwise leave the sandbox waiting for a free one (grader.processes.acquire_user) for an hour."""
    if os.geteuid() != 0:
        return (f"--user {name}: running the submission as another user needs root, and hw8-grade runs as uid "
                f"{os.geteuid()}. Run it as root (e.g. with sudo), or leave out --user.")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if may_create:
            return None if shutil.which("useradd") else f"--user {name}: no such user, and no useradd to create it."
        return (f"--user {name}: no such user on this machine. Create it first, e.g. "
                f"useradd --system --no-create-home --shell /usr/sbin/nologin {name}")
    if entry.pw_uid == 0:
        return f"--user {name}: that is root (uid 0); the submission must run as an unprivileged user."
    return None


def main(argv=None):
    parser, verbs = build_parser()
    args = parser.parse_args(argv)
    if args.user and not (args.verb == "batch" and args.scheduler):  # a Dask cluster's workers grade elsewhere
        problem = user_problem(args.user, may_create=args.verb == "batch")
        if problem:
            verbs[args.verb].error(problem)  # exit code 2, usage and the message, no traceback
    if args.verb == "grade":
        from .grade import grade_to_file
        results = grade_to_file(args.submission, args.output, seed=args.seed, lang=args.lang, limits=_limits(args))
        print(results["output"])
        # For whoever ran the grader (not in the students' output): the whole grade, hidden checks included.
        score, total = results["score"], results["extra_data"]["max_score"]
        print(str(Msg(f"Total, after_published checks included: {score:g} / {total:g}",
                      f"得分（含 after_published 检查）：{score:g} / {total:g}")))
        return 0
    if args.verb == "check":
        from .check_cli import main as check_main
        return check_main(args.submission, lang=args.lang, limits=_limits(args), sections=args.section)
    if args.verb == "batch":
        from .batch import main as batch_main
        return batch_main(args.directory, args.output, jobs=args.jobs, seed=args.seed, force=args.force, lang=args.lang,
                          executor=args.executor, scheduler=args.scheduler, limits=_limits(args),
                          student_timeout=args.student_timeout, retry_errors=args.retry_errors,
                          unconfined=args.unconfined)
    return 2


if __name__ == "__main__":
    sys.exit(main())
