"""The student kit (scripts/build_student_kit.py): no solution inside, runs where students are, agrees with Gradescope."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.grade import grade
from hw8core.homework import SECTIONS
from grader.results import run_checks

from conftest import ROOT, mutate, reference_module_source, verdicts, write_submission
from corpus import MUTANTS
from pythons import find_build
from test_template import _solution_lines

EXAMPLE = ROOT / "examples" / "reference" / "hw8.ipynb"
VISIBLE = {"1.1", "2.1", "3.1", "3.2", "3.3", "4.1", "4.2", "4.3", "4.4", "4.10", "5.1", "5.2", "5.5", "5.6", "7.1", "7.2",
           "7.7", "7.8"}


def test_the_kit_holds_the_template_a_small_wheel_and_a_bilingual_readme(kit):
    out, archive, wheel = kit
    assert sorted(f.name for f in out.iterdir()) == ["README.md", "hw8.ipynb", wheel.name]
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == sorted(f"student-kit/{n}" for n in ("README.md", "hw8.ipynb", wheel.name))
    assert wheel.stat().st_size < 1024 ** 2  # small enough to email
    readme = (out / "README.md").read_text()
    assert "hw8check.check(" in readme and "hw8-check hw8.ipynb" in readme and "安装" in readme and "Install" in readme
    template = nbformat.read(out / "hw8.ipynb", as_version=4)
    assert sum("hw8check.check(" in c.source for c in template.cells if c.cell_type == "code") == 6  # the README's call
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith("METADATA"))).decode()
        entry = z.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "Requires-Dist" not in meta  # never installs or upgrades numpy or torch
    assert "hw8-check = hw8check.cli:main" in entry
    assert not [n for n in names if n.startswith("reference/") or "/reference" in n]


def _kit_lines(kit):
    """Every line of text in the zip a student gets: its files, the files of the wheel inside it, the template's cells."""
    import io
    lines = set()
    with zipfile.ZipFile(kit[1]) as outer:
        for name in outer.namelist():
            data = outer.read(name)
            if name.endswith(".whl"):
                with zipfile.ZipFile(io.BytesIO(data)) as wheel:
                    for inner in wheel.namelist():
                        if not inner.endswith(".npz"):
                            lines |= {line.strip() for line in wheel.read(inner).decode("utf-8").splitlines()}
            elif name.endswith(".ipynb"):
                nb = nbformat.reads(data.decode("utf-8"), as_version=4)
                lines |= {line.strip() for c in nb.cells for line in c.source.splitlines()}
            else:
                lines |= {line.strip() for line in data.decode("utf-8").splitlines()}
    return lines


def test_no_line_of_a_reference_function_body_is_in_the_kit(kit):
    solution = _solution_lines()
    assert len(solution) > 100  # the rule has something to look for
    kit_text = _kit_lines(kit)
    assert not solution & kit_text, sorted(solution & kit_text)
    with zipfile.ZipFile(kit[2]) as z:
        code = "\n".join(z.read(n).decode() for n in z.namelist() if n.endswith(".py"))
    assert "import reference" not in code and "from reference" not in code


def test_the_leak_rule_would_see_a_copied_solution(kit, tmp_path):
    """Positive control: the same reading of a kit zip with one reference module slipped in fails the rule."""
    import shutil
    leaky = tmp_path / "leaky.zip"
    shutil.copyfile(kit[1], leaky)
    with zipfile.ZipFile(leaky, "a") as z:
        z.write(ROOT / "reference" / "s4_binary_adder.py", "student-kit/notes.py")
    assert _solution_lines() & _kit_lines((kit[0], leaky, kit[2]))
    assert not _solution_lines() & _kit_lines(kit)


def test_the_kit_agrees_with_the_grader_on_the_example(hw8check):
    """Same verdict, same message (in both languages), same check numbers as the grader's visible-only run
    (`hw8-grade check`, seed 0), which has every visible check and no other. The single-bug mutants are
    compared in tests/test_mutants.py."""
    kit_outcomes, _loading, load_error = hw8check.cli.grade_visible(EXAMPLE, SECTIONS)
    assert load_error is None
    results, evidence = grade(EXAMPLE, seed=0, visible_only=True)
    numbers = {t["number"] for t in results["tests"] if not t["number"].startswith("0.")}
    assert numbers == VISIBLE and results["score"] == results["extra_data"]["max_score"], results["score"]
    grader_outcomes = run_checks(evidence, visible_only=True)  # the same checks on the same answers, as Msg objects
    assert set(kit_outcomes) == set(grader_outcomes) == VISIBLE
    assert verdicts(kit_outcomes) == verdicts(grader_outcomes)
    assert all(o.passed for o in kit_outcomes.values())


HANGS = '''
def srn_forward(inputs, W_xh, W_hh, W_hy, h0=None):
    while True:
        pass
'''


def test_without_linux_features_it_is_a_plain_subprocess_with_a_time_limit(hw8check, tmp_path):
    """What Windows and macOS get: no session, no rlimit, no parent-death signal; a hang still costs only its check."""
    src = mutate(reference_module_source(), "def srn_forward(", HANGS.strip() + "\n\n\ndef _homework_srn_forward(")
    path = write_submission(tmp_path, src)
    limits = hw8check.cli.kit_limits(hw8check.kit.load_kit())
    # The hang's limit: 5 s instead of the kit's 30 s. Every limit scales: at 0.2 the adder's training had 6 s, and
    # took longer beside a full test run (it takes 4.1 s on a quiet machine); at 0.5 it has 15 s.
    limits.timeout_scale = 0.5
    outcomes, _loading, _ = hw8check.cli.grade_visible(path, (1, 2, 4), limits=limits, linux=False)
    assert not outcomes["1.1"].passed and "did not finish in time" in outcomes["1.1"].message.en
    assert all(o.passed for n, o in outcomes.items() if n != "1.1"), {n: str(o.message) for n, o in outcomes.items()}


def test_the_portable_fallback_is_said_once(hw8check, tmp_path):
    site = Path(hw8check.__file__).parent.parent
    env = dict(os.environ, PYTHONPATH=str(site), HW8_CHECK_PORTABLE="1")
    proc = subprocess.run([sys.executable, "-m", "hw8check.cli", str(EXAMPLE), "--section", "1", "--section", "2"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("plain subprocess") == 1 and "2/2 visible checks pass" in proc.stdout
    env.pop("HW8_CHECK_PORTABLE")
    proc = subprocess.run([sys.executable, "-m", "hw8check.cli", str(EXAMPLE), "--section", "1", "--lang", "zh"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0 and "plain subprocess" not in proc.stdout and "普通子进程" not in proc.stdout
    assert "第 1 节：可见检查全部通过。" in proc.stdout


# ------------------------------------------------------------------ Jupyter: the template in a real kernel
def _execute(notebook, site, tmp_path):
    from nbclient import NotebookClient
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=dict(os.environ, PYTHONPATH=str(site), MPLBACKEND="Agg"))
    return nb


def _check_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and "hw8check.check(" in c.source]


def _text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_the_filled_template_passes_every_check_cell_in_jupyter(hw8check, tmp_path):
    nb = _execute(EXAMPLE, Path(hw8check.__file__).parent.parent, tmp_path)
    cells = _check_cells(nb)
    assert len(cells) == 6
    for cell in cells:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.outputs
        assert "可见检查全部通过" in _text(cell) and "✘" not in _text(cell), _text(cell)


def test_the_unfilled_template_says_what_is_missing_in_each_check_cell(hw8check, tmp_path):
    nb = _execute(ROOT / "student_template" / "hw8.ipynb", Path(hw8check.__file__).parent.parent, tmp_path)
    cells = _check_cells(nb)
    assert len(cells) == 6
    for cell in cells:
        text = _text(cell)
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.outputs
        assert "尚未实现" in text and "部分检查未通过" in text, text  # "not implemented yet", in Chinese


# ------------------------------------------------------------------ fresh venvs: Python 3.9 and 3.12
VENVS = {  # (Python minor, numpy, torch): torch 2.8.0 is the newest for 3.9 on PyPI (a CUDA build, as on 3.12)
    "py3.9-numpy1.26": (9, "numpy==1.26.4", "torch==2.8.0"),
    "py3.12-numpy2": (12, "numpy==2.2.6", "torch==2.13.0"),
}
VENV_ROOT = Path(os.environ.get("HW8_KIT_VENVS", "/opt"))


def _venv(tag):
    minor, numpy, torch = {**VENVS, **NO_TORCH}[tag]
    build = find_build(minor)
    if build is None:
        pytest.skip(f"no pyenv build of Python 3.{minor}")
    venv = VENV_ROOT / f"hw8-kit-venv-{tag}"
    stamp = venv / "hw8-requirements.txt"
    want = f"{build.name} {numpy} {torch}"
    if not (stamp.exists() and stamp.read_text() == want):  # built once per machine, as the zip test's venvs
        subprocess.run([str(build / "bin" / f"python3.{minor}"), "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", numpy, *([torch] if torch else [])],
                       check=True, timeout=1800)
        stamp.write_text(want)
    return venv


def _versions(venv):
    code = "import numpy, torch, sys; print(sys.version.split()[0], numpy.__version__, torch.__version__)"
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True,
                          check=True).stdout.split()


@pytest.mark.parametrize("tag", sorted(VENVS))
def test_the_wheel_installs_and_checks_in_a_fresh_venv(tag, kit, tmp_path):
    venv = _venv(tag)
    before = _versions(venv)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--force-reinstall", str(kit[2])],
                   check=True)
    assert _versions(venv) == before  # numpy and torch untouched
    assert before[0].startswith(f"3.{VENVS[tag][0]}.") and before[1] == VENVS[tag][1].split("==")[1]
    exe = str(venv / "bin" / "hw8-check")
    proc = subprocess.run([exe, str(EXAMPLE), "--lang", "zh"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"可见检查通过 {len(VISIBLE)}/{len(VISIBLE)} 项" in proc.stdout  # every visible check, by its count
    # The failing path on this Python: a section-1 bug (the example above has just run section 4 here).
    _section, _caught, old, new = MUTANTS["s1_no_recurrence"]
    bad = write_submission(tmp_path, mutate(reference_module_source(), old, new))
    proc = subprocess.run([exe, str(bad), "--section", "1"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1 and "✘ 1.1" in proc.stdout and "states[" in proc.stdout, proc.stdout


NO_TORCH = {"py3.13-numpy2-no-torch": (13, "numpy==2.2.6", None)}


def test_python_3_13_without_torch_checks_the_numpy_sections(kit):
    """The newest Python students have, before they install torch: sections 1, 2 and 4 need only NumPy, and
    the loading report names the missing import instead of failing the run."""
    venv = _venv("py3.13-numpy2-no-torch")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--force-reinstall", str(kit[2])],
                   check=True)
    proc = subprocess.run([str(venv / "bin" / "hw8-check"), str(EXAMPLE), "--section", "1", "--section", "2",
                           "--section", "4"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    numpy_sections = {n for n in VISIBLE if n.split(".")[0] in ("1", "2", "4")}  # 1.1, 2.1, 4.1-4.4 and 4.10
    assert f"{len(numpy_sections)}/{len(numpy_sections)} visible checks pass" in proc.stdout
    assert "No module named 'torch': it is not installed on this machine" in proc.stdout


def test_a_python_without_numpy_gets_a_plain_message(kit, tmp_path):
    build = find_build(13) or find_build(12)
    if build is None:
        pytest.skip("no pyenv build of Python 3.13 or 3.12")
    venv = tmp_path / "bare"
    subprocess.run([str(next((build / "bin").glob("python3.1?"))), "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(kit[2])], check=True)
    proc = subprocess.run([str(venv / "bin" / "hw8-check"), str(EXAMPLE)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "needs numpy" in proc.stdout and "Traceback" not in proc.stderr, proc.stderr


def test_a_child_that_cannot_start_is_reported_not_raised(hw8check, tmp_path, monkeypatch):
    broken = tmp_path / "child.py"
    broken.write_text("import sys\nsys.exit(3)\n")  # dies before any cell, as a Python without numpy's DLLs would
    monkeypatch.setattr(hw8check.runner, "CHILD", broken)
    outcomes, loading, load_error = hw8check.cli.grade_visible(EXAMPLE, (1,))
    assert load_error is not None and "could not be started" in load_error.en and "exited with status 3" in loading
    assert not outcomes["1.1"].passed and "Not graded" in outcomes["1.1"].message.en


def test_a_grader_cleaning_stale_runs_leaves_the_kits_live_folder(hw8check, tmp_path, monkeypatch):
    """CI at ace10ea: a kit run (it holds no lock: the kit runs anywhere) lost its folder to a grader started beside
    it, because both named their folders hw8-run-*. The kit now has its own prefix."""
    import tempfile
    import hw8check.runner
    from grader.leftovers import remove_stale_runs
    from hw8core.supervisor import Limits, Supervisor
    from hw8core.wire import Probe
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    kit_run = hw8check.runner.PortableRun(["x = 1"], [Probe("p", 1, "f")], ["f"], Limits())
    grader_like = Supervisor(["x = 1"], [Probe("p", 1, "f")], ["f"], Limits())  # positive control: the grader's prefix
    removed = remove_stale_runs(tmp_path, min_age=0)
    assert kit_run.workdir.exists() and str(kit_run.workdir) not in removed
    assert removed == [str(grader_like.workdir)]


def test_the_child_stops_a_rows_calls_once_enough_answers_are_wrong():
    """hw8core/child.py's "@each" with a stop rule: every row without one; with one, up to the row at which that many
    answers were not their expected value, and no further."""
    from hw8core.child import _each
    calls = []

    def add(w, a, b):
        calls.append((a, b))
        return a + b if a % 2 == 0 else -1  # every odd a wrong
    rows = [[a, b] for a in range(6) for b in range(2)]
    assert _each(add, [None], rows) == [a + b if a % 2 == 0 else -1 for a, b in rows] and len(calls) == 12
    calls.clear()
    got = _each(add, [None], rows, [a + b for a, b in rows], 3)
    assert [list(c) for c in calls] == rows[:7], calls  # wrong at rows 2, 3 and 6 (a = 1, 1, 3): stopped at the third
    assert got == [0, 1, -1, -1, 2, 3, -1]
    calls.clear()
    assert len(_each(add, [None], rows, [a + b for a, b in rows], 99)) == 12  # never that many wrong: every row
    assert len(_each(lambda w, a, b: [a, b], [None], rows, [a + b for a, b in rows], 2)) == 2  # not a number: wrong


def test_the_kits_stopped_sums_settle_untrained_exactly_as_all_sums_would(hw8check):
    """The tiny training's sums stop at adder_sums_stop wrong ones: the accuracy over all 128 x 128 sums is then below
    the pass mark whatever the rest, so "untrained" is the verdict all sums give. The boundary: the most wrong sums a
    passing network may have is one fewer."""
    import numpy as np
    from hw8check.stored_oracle import ADDER_CHUNKS, ADDER_N, StoredOracle, adder_sums_probe, adder_sums_stop
    from hw8core.supervisor import RunReport
    from hw8core.wire import Answer, Probe
    from hw8core.evidence import Evidence
    pass_accuracy = 0.99  # grader/criteria.PASS_ACCURACY, as the kit stores it
    k = adder_sums_stop(pass_accuracy)
    total = ADDER_N * ADDER_N
    assert 1 - (k - 1) / total >= pass_accuracy > 1 - k / total
    per = total // ADDER_CHUNKS
    rows = [(a, b) for a in range(ADDER_N) for b in range(ADDER_N)]

    def accuracy(chunks):
        probes = [Probe(adder_sums_probe("s4.train_tiny", c), 4, "@each", ["add_binary", [], []], hidden=False)
                  for c in range(ADDER_CHUNKS)]
        report = RunReport(answers={p.id: Answer("ok", value=got) for p, got in zip(probes, chunks)},
                           namespace={"add_binary": {"kind": "function"}})
        evidence = Evidence(probes, report, None, True, 0, oracle=StoredOracle({}, {}, pass_accuracy))
        return evidence.oracle.adder_accuracy(evidence, "s4.train_tiny")

    def sums(wrong):  # all sums, the first `wrong` of them off by one
        return [a + b + (i < wrong) for i, (a, b) in enumerate(rows)]
    for wrong in (k - 1, k):  # every sum asked: exactly the mean, as the grader's criteria.sums_accuracy
        full = sums(wrong)
        assert accuracy([full[:per], full[per:]]) == float(np.mean(np.array(full) == [a + b for a, b in rows]))
    assert accuracy([sums(k - 1)[:per], sums(k - 1)[per:]]) >= pass_accuracy > accuracy([sums(k)[:per], sums(k)[per:]])
    stopped = sums(k)[:k]  # the child stopped after the k-th wrong sum of chunk 0; chunk 1 had no stop
    assert accuracy([stopped, sums(0)[per:]]) == 1 - k / total < pass_accuracy  # at most: every sum not asked right
    stopped_late = sums(0)[per:per + 500]
    stopped_late[-k:] = [v + 1 for v in stopped_late[-k:]]  # chunk 1 stopped at its k-th wrong sum
    assert accuracy([sums(0)[:per], stopped_late]) < pass_accuracy


def test_the_kit_judges_the_tiny_training_from_a_few_hundred_sums(hw8check):
    """On the example, the tiny training's sums stop long before 8192 calls a chunk, and it is judged untrained, while
    the graded training's are all asked (its 99% needs every sum)."""
    from hw8check.kit import load_kit
    from hw8check.runner import PortableRun
    from hw8core.evidence import Evidence
    from hw8core.loader import load_for_grading
    kit = load_kit()
    wanted = {"s4.train_tiny", "s4.train_tiny.kit_sums0", "s4.train_tiny.kit_sums1"}
    probes = [p for p in kit.probes if p.id in wanted]
    assert len(probes) == 3 and all(len(p.args) == 5 for p in probes if p.fn == "@each")
    submission, error = load_for_grading(EXAMPLE, follow_links=True)
    assert error is None
    report = PortableRun([c.source for c in submission.cells], probes, kit.api_names, hw8check.cli.kit_limits(kit),
                         labels=[c.label for c in submission.cells]).run()
    lengths = [len(report.answers[f"s4.train_tiny.kit_sums{c}"].value) for c in (0, 1)]
    assert all(0 < n < 1000 for n in lengths), lengths
    evidence = Evidence(probes, report, None, True, 0, oracle=kit.oracle())
    assert evidence.oracle.adder_accuracy(evidence, "s4.train_tiny") < kit.pass_accuracy
    graded = [p for p in kit.probes if p.id.startswith("s4.train.kit_sums")]
    assert len(graded) == 2 and all(len(p.args) == 3 for p in graded)


def test_the_kit_counts_computing_only_where_linux_shows_it(hw8check, tmp_path):
    """On Linux a step's limit counts the child's CPU time (hw8core/supervisor.py WALL_FACTOR); without the Linux
    features (Windows, macOS) it is wall time alone."""
    import hw8check.runner
    on = hw8check.runner.PortableRun([], [], [], workdir=tmp_path / "on", linux=True)
    off = hw8check.runner.PortableRun([], [], [], workdir=tmp_path / "off", linux=False)
    assert on._cpu_seconds(os.getpid()) > 0 and off._cpu_seconds(os.getpid()) is None
