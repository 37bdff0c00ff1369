"""The CLI verbs and the notebook self-check, as a student and a TA use them."""
import io
import json
import os
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from rich.console import Console

from grader.check_cli import main as check_main
from hw8core.loader import load

from conftest import ROOT, mutate, reference_module_source, write_submission


def test_check_exits_zero_only_when_all_visible_checks_pass(tmp_path):
    # Sections 1-3 (no training): the whole example's visible run is tested beside the kit, in test_student_kit.
    console = Console(file=io.StringIO(), width=120)
    assert check_main(ROOT / "examples" / "reference", console=console, sections=[1, 2, 3]) == 0
    text = console.file.getvalue()
    assert "5/5 visible checks pass" in text and "Section 3" in text and "Section 4" not in text
    bad = write_submission(tmp_path, mutate(reference_module_source(), "h = W_xh @ inputs[t] + W_hh @ h  # (hidden,)",
                                            "h = W_xh @ inputs[t] + h"))
    console = Console(file=io.StringIO(), width=120)
    assert check_main(bad, console=console, lang="zh", sections=[1]) == 1  # only section 1's probes and checks
    text = console.file.getvalue()
    assert "第 1 节" in text and "应为" in text and "第 2 节" not in text
    assert "可见检查通过 0/1 项" in text  # 1.1, the one visible check of section 1, fails


def test_check_takes_sections_on_the_command_line(tmp_path):
    sub = write_submission(tmp_path / "s", "import numpy as np\n" + (ROOT / "reference" / "s1_srn.py").read_text())
    proc = subprocess.run([sys.executable, "-m", "grader", "check", str(sub), "--section", "1"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1/1 visible checks pass" in proc.stdout and "Section 2" not in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "grader", "check", str(sub), "--section", "6"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "invalid choice: 6" in proc.stderr


def test_python_dash_m_grader_grade_writes_results(tmp_path):
    src = "import numpy as np\n" + (ROOT / "reference" / "s1_srn.py").read_text()
    sub = write_submission(tmp_path / "s", src)
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(sub), "-o", str(out), "--seed", "4", "--lang", "zh"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text())
    assert results["extra_data"]["sections"]["1"] == 10 and results["score"] == 10
    assert "得分" in proc.stdout and results["extra_data"]["lang"] == "zh"


def test_the_self_check_path_imports_no_process_control():
    """grader.check runs in the student's (or staff's) own kernel: it needs the checks and the wire format, never
    the sandbox's process control (setuid, rlimits, psutil), which may not even exist there."""
    code = ("import sys, grader\n"
            "ns = {'__name__': '__main__'}\n"
            f"exec(open({str(ROOT / 'reference' / 's1_srn.py')!r}).read(), ns)\n"
            "ns['grader'] = grader\n"
            "exec('ok = grader.check(1)', ns)\n"
            "assert ns['ok'] is True\n"
            "print(sorted(m for m in ('grader.sandbox', 'grader.processes', 'psutil') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout


def test_self_check_in_the_notebook_uses_the_live_functions(capsys):
    import grader
    ns = {"__name__": "__main__"}
    for cell in load(ROOT / "examples" / "reference").cells:
        if "hw8check" not in cell.source and "__main__" not in cell.source:
            exec(cell.source, ns)
    ns["grader"] = grader
    exec("ok = grader.check(1, lang='en')", ns)
    assert ns["ok"] is True
    assert "Section 1: all visible checks pass." in capsys.readouterr().out
    exec("import numpy as np\ndef srn_forward(inputs, W_xh, W_hh, W_hy, h0=None):\n"
         "    return np.zeros((3, 2)), np.zeros((3, 2))\nok = grader.check(1, lang='en')", ns)
    assert ns["ok"] is False
    out = capsys.readouterr().out
    assert "✘ 1.1" in out and "should be" in out


def test_template_self_check_cells_call_the_kit():
    nb = nbformat.read(ROOT / "student_template" / "hw8.ipynb", as_version=4)
    calls = [c.source for c in nb.cells if c.cell_type == "code" and "hw8check.check(" in c.source]
    assert len(calls) == 6 and all(c.startswith('if __name__ == "__main__":') for c in calls)


# ------------------------------------------------------------------ the command line itself: version, help, --user
def _cli_parsers():
    from grader.cli import build_parser
    parser, verbs = build_parser()
    return [("hw8-grade", parser)] + [(f"hw8-grade {name}", p) for name, p in verbs.items()]


def _arguments_without_help(named_parsers):
    import argparse
    return [f"{name}: {'/'.join(a.option_strings) or a.dest}" for name, parser in named_parsers
            for a in parser._actions if not a.help or a.help == argparse.SUPPRESS]


def test_version_prints_the_packages_version():
    import grader
    proc = subprocess.run([sys.executable, "-m", "grader", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"hw8-grade {grader.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", grader.__version__)


def test_every_argument_of_every_verb_has_help():
    import argparse
    named = _cli_parsers()
    assert [n for n, _ in named] == ["hw8-grade", "hw8-grade grade", "hw8-grade check", "hw8-grade batch"]
    assert not _arguments_without_help(named)
    # Each verb's one-line help in `hw8-grade --help`, too.
    sub = next(a for a in named[0][1]._actions if isinstance(a, argparse._SubParsersAction))
    assert [c.dest for c in sub._choices_actions] == ["grade", "check", "batch"] and all(c.help for c in sub._choices_actions)
    # Positive control: the scan finds an argument without help, positional or optional.
    bare = argparse.ArgumentParser()
    bare.add_argument("directory")
    bare.add_argument("--executor", choices=["local", "dask"], help="")
    assert _arguments_without_help([("bare", bare)]) == ["bare: directory", "bare: --executor"]


def test_check_has_no_seed_option_because_a_visible_run_does_not_depend_on_the_seed():
    """`check --seed` was removed: the visible probes are the homework's inputs and fixed-seed trainings
    (grader/probes.py TRAIN_SEED, OTHER_SEED), so a visible-only plan is the same at every seed. Should a
    visible probe ever draw from the seed, this fails, and `check` needs its --seed back."""
    from grader.cli import build_parser
    from grader.probes import plan
    from hw8core.wire import probe_spec

    def received(probes):  # what the child is sent: JSON specs and their arrays
        arrays = {}
        return json.dumps([[probe_spec(p, arrays), p.hidden] for p in probes], sort_keys=True), arrays

    def same(a, b):
        return a[0] == b[0] and a[1].keys() == b[1].keys() and all(
            a[1][k].dtype == b[1][k].dtype and np.array_equal(a[1][k], b[1][k]) for k in a[1])

    visible = received(plan(0, visible_only=True))
    assert len(json.loads(visible[0])) > 20
    for seed in (1, 7, 2 ** 31 - 1):
        assert same(received(plan(seed, visible_only=True)), visible), seed
    assert not same(received(plan(0)), received(plan(1)))  # positive control: whole plans differ by seed
    parser, _ = build_parser()
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["check", "x", "--seed", "1"])
    assert exit_.value.code == 2
    assert parser.parse_args(["grade", "x", "--seed", "1"]).seed == 1  # grade keeps it: hidden probes are random


def _non_root_user():
    import pwd
    return next(u.pw_name for u in sorted(pwd.getpwall(), key=lambda u: u.pw_name != "nobody") if u.pw_uid != 0)


def _cli_error(argv, capsys):
    from grader.cli import main
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    return exit_.value.code, capsys.readouterr().err


MISSING_USER = "hw8-no-such-user-for-test"


def test_user_that_does_not_exist_fails_at_once_with_a_message(tmp_path, monkeypatch, capsys):
    """`--user NAME` with no such user used to hang: the sandbox waited an hour for a free user among none.
    The check runs before any grading, as root (geteuid is patched: the message does not depend on who runs
    the tests); the positive control is an existing unprivileged user, which passes it."""
    import pwd

    from grader import cli
    with pytest.raises(KeyError):
        pwd.getpwnam(MISSING_USER)
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    monkeypatch.setattr(cli, "Limits", None)  # grading must not start: building its limits would raise
    for verb in ("grade", "check"):
        code, err = _cli_error([verb, str(tmp_path), "--user", MISSING_USER], capsys)
        assert code == 2 and f"--user {MISSING_USER}: no such user" in err and "useradd" in err, err
        assert "Traceback" not in err
    code, err = _cli_error(["grade", str(tmp_path), "--user", "root"], capsys)
    assert code == 2 and "unprivileged" in err, err
    assert cli.user_problem(_non_root_user()) is None  # positive control: a real unprivileged user is accepted
    # batch creates its users (NAME, NAME-2 ...) as its help says: a missing one is fine there, as root.
    assert cli.user_problem(MISSING_USER, may_create=True) is None
    assert "creates those that do not exist" in " ".join(
        a.help for a in cli.build_parser()[1]["batch"]._actions if a.dest == "user")


def test_user_when_not_root_fails_at_once_with_a_message(tmp_path, monkeypatch, capsys):
    """Only root can run the child as another user: without root, every verb refuses --user before grading."""
    from grader import cli
    monkeypatch.setattr(cli.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(cli, "Limits", None)
    user = _non_root_user()
    for argv in (["grade", str(tmp_path)], ["check", str(tmp_path)], ["batch", str(tmp_path), "-o", str(tmp_path / "o")]):
        code, err = _cli_error(argv + ["--user", user], capsys)
        assert code == 2 and f"--user {user}: running the submission as another user needs root" in err, err
        assert "uid 1000" in err and "Traceback" not in err
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    assert cli.user_problem(user) is None  # positive control: the same user as root


def test_grade_with_a_missing_user_exits_in_seconds(tmp_path):
    """End to end, as whoever runs the tests (root: no such user; otherwise: needs root): exit code 2 at once,
    no traceback, no results.json; it used to hang for an hour."""
    import time
    out = tmp_path / "r.json"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", str(ROOT / "examples" / "reference"), "-o", str(out),
                           "--user", MISSING_USER], capture_output=True, text=True, cwd=ROOT, timeout=120)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 2, proc.stdout + proc.stderr
    why = "no such user" if os.geteuid() == 0 else "needs root"
    assert f"--user {MISSING_USER}: " in proc.stderr and why in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists() and elapsed < 60, elapsed
