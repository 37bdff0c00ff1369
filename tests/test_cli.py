"""The CLI verbs and the notebook self-check, as a student and a TA use them."""
import io
import json
import subprocess
import sys

import nbformat
from rich.console import Console

from grader.check_cli import main as check_main
from grader.loader import load

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
