"""The student template: generated from the reference, the same API, and no solution left in it."""
import ast
import re
import inspect
import subprocess
import sys

import nbformat

import reference
from reference import API

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import make_template  # noqa: E402


def _namespace(path):
    ns = {"__name__": "hw8_template"}
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, str(path), "exec"), ns)
    return ns, nb


def test_committed_notebooks_are_fresh():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_template.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_has_the_reference_api_and_signatures():
    ns, _ = _namespace(ROOT / "student_template" / "hw8.ipynb")
    for section, names in API.items():
        for name in names:
            assert name in ns, f"section {section}: {name} missing from the template"
            ref = getattr(reference, name)
            if callable(ref):
                assert str(inspect.signature(ns[name])) == str(inspect.signature(ref)), name
            else:
                assert ns[name] == ref, name
    for cls in ("CharRNN", "Seq2Seq"):
        for method in ("__init__", "forward"):
            assert str(inspect.signature(getattr(ns[cls], method))) == str(inspect.signature(getattr(getattr(reference, cls), method)))


def _solution_lines():
    """Every statement line inside a reference function body, docstrings aside."""
    lines = set()
    for module in make_template.MODULES.values():
        src = (ROOT / "reference" / f"{module}.py").read_text()
        tree = ast.parse(src)
        text = src.splitlines()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                for stmt in body:
                    for i in range(stmt.lineno - 1, stmt.end_lineno):
                        line = text[i].strip()
                        # `return states, outputs` names results and computes nothing: it is no solution
                        if len(line) > 12 and not line.startswith("#") and not re.fullmatch(r"return [\w, ]+", line):
                            lines.add(line)
    return lines


def test_no_solution_line_leaks_into_the_template():
    nb = nbformat.read(ROOT / "student_template" / "hw8.ipynb", as_version=4)
    code = {line.strip() for cell in nb.cells if cell.cell_type == "code" for line in cell.source.splitlines()}
    leaked = _solution_lines() & code
    assert not leaked, leaked


def test_template_stubs_raise_not_implemented():
    ns, _ = _namespace(ROOT / "student_template" / "hw8.ipynb")
    import numpy as np
    try:
        ns["srn_forward"](np.ones((3, 2)), np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)))
    except NotImplementedError:
        pass
    else:
        raise AssertionError("srn_forward stub should raise NotImplementedError")


def test_template_has_bilingual_sections_self_checks_and_guards():
    nb = nbformat.read(ROOT / "student_template" / "hw8.ipynb", as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for n in API:
        assert f"## {n}." in md
        assert any(f"hw8check.check({n}, " in c.source for c in nb.cells if c.cell_type == "code")
    assert "## 6." not in md
    assert "使用" in md and "Implement" in md
    for cell in nb.cells:
        if cell.cell_type == "code" and ("train_" in cell.source and "(" in cell.source and "def " not in cell.source):
            assert cell.source.startswith('if __name__ == "__main__":'), cell.source


def test_example_is_the_reference_and_runs_clean():
    ns, _ = _namespace(ROOT / "examples" / "reference" / "hw8.ipynb")
    for names in API.values():
        for name in names:
            assert name in ns
    states, outputs = ns["srn_forward"](*[__import__("numpy").ones((2, 2))] * 4)
    assert outputs.tolist() == [[4.0, 4.0], [12.0, 12.0]]
