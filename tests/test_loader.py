"""Loading: folders, notebook versions, encodings, magics, and broken files."""
import json
import sys

import nbformat
import pytest

from hw8core.loader import LoadError, find_submission, load


def _nb(cells, minor=5):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.nbformat_minor = minor
    return nbformat.writes(nb)


def test_folder_prefers_hw8_ipynb_then_hw8_py_then_the_only_file(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "mine.py").write_text("x = 1")
    assert find_submission(tmp_path).name == "mine.py"
    (tmp_path / "hw8.py").write_text("x = 1")
    assert find_submission(tmp_path).name == "hw8.py"
    (tmp_path / "hw8.ipynb").write_text(_nb(["x = 1"]))
    assert find_submission(tmp_path).name == "hw8.ipynb"


def test_two_notebooks_and_no_hw8_is_a_clear_error(tmp_path):
    (tmp_path / "a.ipynb").write_text(_nb(["x = 1"]))
    (tmp_path / "b.ipynb").write_text(_nb(["x = 2"]))
    with pytest.raises(LoadError, match=r"several \.ipynb files \(a\.ipynb, b\.ipynb\)"):
        find_submission(tmp_path)


def test_empty_folder_lists_what_it_holds(tmp_path):
    (tmp_path / "readme.md").write_text("hi")
    with pytest.raises(LoadError, match="readme.md"):
        find_submission(tmp_path)
    with pytest.raises(LoadError, match="No submission found"):
        find_submission(tmp_path / "missing")


@pytest.mark.parametrize("minor", [0, 1, 2, 3, 4, 5])
def test_every_v4_minor_version_reads(tmp_path, minor):
    text = _nb(["import numpy as np", "y = 2"], minor)
    data = json.loads(text)
    if minor < 5:
        for cell in data["cells"]:
            cell.pop("id", None)
    data["nbformat_minor"] = minor
    (tmp_path / "hw8.ipynb").write_text(json.dumps(data))
    sub = load(tmp_path)
    assert [c.source for c in sub.cells] == ["import numpy as np", "y = 2"]


def test_v3_notebook_is_upgraded(tmp_path):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
          "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1", "language": "python", "outputs": []}]}]}
    (tmp_path / "hw8.ipynb").write_text(json.dumps(v3))
    sub = load(tmp_path)
    assert [c.source for c in sub.cells] == ["x = 1"]
    assert any("format 3" in str(n) for n in sub.notes)


def test_magics_and_shell_lines_are_neutralised(tmp_path):
    (tmp_path / "hw8.ipynb").write_text(_nb(["%matplotlib inline\n!pip install torch\nx = 1", "%%time\ny = 2",
                                             "%%bash\necho hi", "%timeit -n 10 -r1 z = 3\n%time w = 4"]))
    sub = load(tmp_path)
    sources = [c.source.strip() for c in sub.cells]
    assert sources == ["get_ipython().run_line_magic('matplotlib', 'inline')", "get_ipython().system('pip install torch')",
                       "x = 1", "y = 2", "z = 3", "w = 4"]
    assert [(c.label, c.line) for c in sub.cells] == [("cell 1", 1), ("cell 1", 2), ("cell 1", 3), ("cell 2", 2),
                                                      ("cell 4", 1), ("cell 4", 2)]
    assert any("%%bash: it is not Python" in str(n) for n in sub.notes)
    assert sub.code_cells == 4
    for cell in sub.cells:
        compile(cell.source, "x", "exec")


def test_a_cell_that_does_not_parse_stays_whole(tmp_path):
    (tmp_path / "hw8.ipynb").write_text(_nb(["a = 1\ndef f(:\n    pass\nb = 2"]))
    sub = load(tmp_path)
    assert len(sub.cells) == 1 and sub.cells[0].line is None


def test_bom_crlf_and_gb18030(tmp_path):
    (tmp_path / "hw8.py").write_bytes(b"\xef\xbb\xbfx = 1\r\ny = 2\r\n")
    sub = load(tmp_path / "hw8.py")
    assert "\r" not in "".join(c.source for c in sub.cells) and len(sub.cells) == 2
    assert any("byte-order mark" in str(n) for n in sub.notes)
    (tmp_path / "gbk.py").write_bytes("s = '中文注释'\n".encode("gb18030"))
    sub = load(tmp_path / "gbk.py")
    assert "中文注释" in sub.cells[0].source and any("GB18030" in str(n) for n in sub.notes)


def test_undecodable_bytes_are_refused_clearly(tmp_path):
    (tmp_path / "hw8.py").write_bytes(b"x = '\xff\xfe\xff\x80\x81'\n")
    with pytest.raises(LoadError, match="not UTF-8"):
        load(tmp_path / "hw8.py")


def test_broken_json_and_empty_files(tmp_path):
    (tmp_path / "hw8.ipynb").write_text('{"cells": [')
    with pytest.raises(LoadError, match="not valid notebook JSON"):
        load(tmp_path / "hw8.ipynb")
    (tmp_path / "e.ipynb").write_text("")
    with pytest.raises(LoadError, match="is empty"):
        load(tmp_path / "e.ipynb")
    (tmp_path / "n.ipynb").write_text(_nb([]))
    assert load(tmp_path / "n.ipynb").cells == []


def test_module_with_a_syntax_error_keeps_its_other_statements(tmp_path):
    (tmp_path / "hw8.py").write_text("def good():\n    return 1\n\ndef bad(:\n    pass\n\n@staticmethod\ndef other():\n    return 2\n")
    sub = load(tmp_path / "hw8.py")
    compiled = []
    for cell in sub.cells:
        try:
            compile(cell.source, cell.label, "exec")
            compiled.append(cell.label)
        except SyntaxError:
            pass
    assert compiled == ["line 1", "line 7"]
    assert any("syntax error at line 4" in str(n) for n in sub.notes)


def test_without_nbformat_and_ipython_as_in_a_bare_student_kit(tmp_path, monkeypatch):
    """The student kit declares no dependency: without nbformat and IPython, v4 and v3 notebooks still read and
    magic or shell lines become no-ops (`pass`)."""
    import hw8core.loader as loader
    (tmp_path / "hw8.ipynb").write_text(_nb(["%matplotlib inline\n!pip install torch\nx = 1", "%%time\ny = 2",
                                             "if True:\n    %time z = 3\n    !ls\n    w = 4"]))
    monkeypatch.setitem(sys.modules, "nbformat", None)  # `import nbformat` now raises ImportError
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.setitem(sys.modules, "IPython.core.inputtransformer2", None)
    monkeypatch.setattr(loader, "_transformer", None)
    sources = [c.source.strip() for c in load(tmp_path).cells]
    assert sources == ["pass", "pass", "x = 1", "y = 2", "if True:\n    pass\n    pass\n    w = 4"]  # as IPython: no-ops
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
          "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1", "language": "python", "outputs": []},
                                    {"cell_type": "markdown", "source": "# x = 2"}]}]}
    (tmp_path / "hw8.ipynb").write_text(json.dumps(v3))
    assert [c.source for c in load(tmp_path).cells] == ["x = 1"]


def test_a_script_exported_by_nbconvert_runs_its_python_magics_bodies_and_names_each_magic(tmp_path):
    """`jupyter nbconvert --to script` writes %%time cells as get_ipython().run_cell_magic('time', '', body):
    the body runs (statement by statement), %%bash stays a no-op, and the loading report names both."""
    from nbconvert import PythonExporter
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%%time\nimport math\n\ndef f(x):\n    return math.sqrt(x)"),
                nbformat.v4.new_code_cell("%%bash\necho hi"),
                nbformat.v4.new_code_cell("%time y = f(4)")]
    script, _ = PythonExporter().from_notebook_node(nb)
    assert "run_cell_magic('time'" in script and "run_line_magic('time'" in script  # what nbconvert writes
    (tmp_path / "hw8.py").write_text(script)
    sub = load(tmp_path / "hw8.py")
    ns = {"get_ipython": lambda: None}
    ran = [c.source for c in sub.cells]
    assert any("def f(x)" in c for c in ran) and any("y = f(4)" in c and "run_line_magic" not in c for c in ran)
    for source in ran:
        if "get_ipython" not in source:
            exec(source, ns)
    assert ns["y"] == 2.0
    notes = " ".join(n.en for n in sub.notes)
    assert "%%time there; its body was run once" in notes and "%%bash there; it is not run" in notes
    assert "%time there; its statement was run once" in notes


def test_a_notebook_names_each_python_cell_magic_it_ran(tmp_path):
    (tmp_path / "hw8.ipynb").write_text(_nb(["%%capture\nx = 1", "%%html\n<b>hi</b>"]))
    notes = " ".join(n.en for n in load(tmp_path / "hw8.ipynb").notes)
    assert "cell 1 starts with %%capture: its body was run once" in notes
    assert "cell 2 starts with %%html: it is not Python, so it was not run" in notes
