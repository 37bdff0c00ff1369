"""Find a submission and turn it into a list of code cells, without running any of it.

A notebook's code cells are cut at their top-level statements, as a .py module is, so that a
broken or hanging statement costs only itself. A Python cell magic (%%time, %%capture ...) runs its
body, `%time stmt` runs stmt, and other magics and `!` shell lines are neutralised by IPython's own
input transformer.
"""
import ast
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .i18n import Msg
from .wire import read_at_most


class LoadError(Exception):
    def __init__(self, msg: Msg):
        super().__init__(msg.en)
        self.msg = msg


@dataclass
class Cell:
    label: str  # "cell 3" or "line 12": what tracebacks and reports call it
    source: str
    line: int = None  # for a statement of a notebook cell: its first line in the cell


# Cell magics whose body is Python that Jupyter runs in the notebook's namespace: the body runs once.
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
# Line magics that run the statement written after them: the statement runs once.
PYTHON_LINE_MAGICS = {"time", "timeit", "prun"}
_LINE_MAGIC = re.compile(r"^%(\w+)[ \t]+(.*)$")


@dataclass
class Submission:
    path: Path
    kind: str  # "ipynb" | "py"
    cells: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # Msg
    code_cells: int = 0  # as the student counts them: a notebook's code cells, a module's statements


def find_submission(path):
    """A notebook, a module, or a folder holding hw8.ipynb, else hw8.py, else the only .ipynb or .py."""
    path = Path(path)
    if not path.exists():
        raise LoadError(Msg(f"No submission found at {path}.", f"找不到提交的文件：{path}。"))
    if path.is_file():
        if path.suffix not in (".ipynb", ".py"):
            raise LoadError(Msg(f"{path.name} is neither a notebook (.ipynb) nor a module (.py).",
                              f"{path.name} 既不是 notebook（.ipynb）也不是 Python 模块（.py）。"))
        return path
    if not path.is_dir():  # a FIFO, a device, a socket: never opened
        raise LoadError(Msg(f"{path.name} is not a regular file.", f"{path.name} 不是普通文件。"))
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    for name in ("hw8.ipynb", "hw8.py"):
        if (path / name).is_file():
            return path / name
    for suffix in (".ipynb", ".py"):
        found = [p for p in files if p.suffix == suffix]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            raise LoadError(Msg(f"Found several {suffix} files ({names}) and no hw8{suffix}; rename the one to grade to hw8{suffix}.",
                              f"找到多个 {suffix} 文件（{names}），但没有 hw8{suffix}；请把要评分的文件命名为 hw8{suffix}。"))
    listing = ", ".join(p.name for p in files[:20]) or "nothing"
    raise LoadError(Msg(f"No hw8.ipynb or hw8.py in {path}; it holds: {listing}.",
                      f"{path} 中没有 hw8.ipynb 或 hw8.py；其中只有：{listing}。"))


def _decode(data, name, notes):
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        notes.append(Msg("The file starts with a byte-order mark; it was ignored.", "文件以 BOM 开头，已忽略。"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise LoadError(Msg(f"{name} is not UTF-8 text (bad byte at position {exc.start}). Save it as UTF-8 and submit again.",
                              f"{name} 不是 UTF-8 文本（第 {exc.start} 字节无法解码）。请以 UTF-8 编码保存后重新提交。")) from None
        notes.append(Msg(f"{name} is not UTF-8; it was read as GB18030. Please save it as UTF-8.",
                       f"{name} 不是 UTF-8 编码，已按 GB18030 读取。请改用 UTF-8 保存。"))
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


_transformer = None


def neutralise_magics(source):
    """IPython's own transformer turns `%magic` and `!cmd` into get_ipython() calls, which the child stubs."""
    global _transformer
    if not re.search(r"^\s*[%!]|\?\s*$", source, re.M):
        return source  # nothing IPython-specific: leave the cell exactly as written
    if _transformer is None:
        try:
            from IPython.core.inputtransformer2 import TransformerManager
            _transformer = TransformerManager()
        except ImportError:  # the student kit without IPython: such lines become no-ops
            _transformer = _NoIPython()
    try:
        return _transformer.transform_cell(source)
    except Exception:
        return source


class _NoIPython:
    """Without IPython: `%magic` and `!cmd` lines become `pass` (their indentation kept); the rest stays."""

    def transform_cell(self, source):
        return re.sub(r"^(\s*)[%!].*$", r"\1pass", source, flags=re.M)


def _strip_line_magic(line):
    """`%time x = f()` -> `x = f()`, options of %timeit dropped (`-n 10`, `-r1`, `-q` ...)."""
    m = _LINE_MAGIC.match(line)
    if not m or m.group(1) not in PYTHON_LINE_MAGICS:
        return line
    words = m.group(2).split(" ")
    while words and words[0].startswith("-"):
        flag = words.pop(0)
        if flag in ("-n", "-r", "-p") and words and words[0].isdigit():
            words.pop(0)
    return " ".join(words)


def python_of_cell(source, label, notes):
    """The Python a cell runs once: a Python cell magic's body, statement magics unwrapped; None when
    the cell is another language (%%bash, %%html, %%writefile ...)."""
    lines = source.split("\n")
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in PYTHON_CELL_MAGICS:
            notes.append(Msg(f"{label} starts with %%{magic}: it is not Python, so it was not run.",
                           f"{label} 以 %%{magic} 开头：不是 Python 代码，未运行。"))
            return None
        notes.append(Msg(f"{label} starts with %%{magic}: its body was run once, as in a notebook.",
                         f"{label} 以 %%{magic} 开头：其代码已像在 notebook 中一样运行一次。"))
        lines = [""] + lines[1:]  # keep line numbers
    return neutralise_magics("\n".join(_strip_line_magic(line) for line in lines))


def split_statements(source, label):
    """A cell as its top-level statements, so that one failing or hanging statement costs only itself.
    A cell that does not parse stays whole: it fails once, with its SyntaxError."""
    try:
        chunks = _chunks_by_ast(source)
    except SyntaxError:
        return [Cell(label, source)]
    return [Cell(label, c.source, int(c.label.split()[1])) for c in chunks] or [Cell(label, source)]


def read_notebook(path, text, notes):
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise LoadError(Msg(f"{path.name} is not valid notebook JSON ({exc}). Open it in Jupyter, save it, and submit again.",
                          f"{path.name} 不是有效的 notebook JSON（{exc}）。请在 Jupyter 中打开并保存后重新提交。")) from None
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise LoadError(Msg(f"{path.name} is JSON but not a Jupyter notebook.", f"{path.name} 是 JSON，但不是 Jupyter notebook。"))
    major = raw.get("nbformat")
    if major not in (3, 4):
        raise LoadError(Msg(f"{path.name} uses notebook format {major}; only formats 3 and 4 can be read.",
                          f"{path.name} 使用 notebook 格式 {major}，只支持格式 3 和 4。"))
    try:
        nb = _as_v4(text, raw)
    except Exception as exc:
        raise LoadError(Msg(f"{path.name} could not be read as a notebook: {exc}", f"无法读取 notebook {path.name}：{exc}")) from None
    if major == 3:
        notes.append(Msg("The notebook was in the old format 3 and was upgraded to 4.", "notebook 为旧的格式 3，已升级为格式 4。"))
    cells, code_cells = [], 0
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        code_cells += 1
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        python = python_of_cell(source, f"cell {i + 1}", notes)
        if python is not None:
            cells += split_statements(python, f"cell {i + 1}")
    if not code_cells:
        notes.append(Msg("The notebook has no code cells.", "notebook 中没有代码单元格。"))
    return cells, code_cells


def _as_v4(text, raw):
    """The notebook in format 4: nbformat's upgrade where installed; the student kit may run without
    it, and then reads format 4 as it is and format 3's worksheets and `input` fields by hand."""
    try:
        import nbformat
    except ImportError:
        if raw["nbformat"] == 4:
            return raw
        cells = [c for ws in raw.get("worksheets") or [] for c in ws.get("cells") or []]
        return {"cells": [{**c, "source": c.get("input", c.get("source", ""))} for c in cells]}
    return nbformat.reads(text, as_version=4)


def _chunks_by_ast(text):
    tree = ast.parse(text)
    lines = text.split("\n")
    cells = []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        body = "\n" * (start - 1) + "\n".join(lines[start - 1:node.end_lineno])  # keep line numbers
        cells.append(Cell(f"line {start}", body))
    return cells


_CONTINUES = re.compile(r"^(\)|\]|\}|else\b|elif\b|except\b|finally\b|#|$)")


def _chunks_by_lines(text):
    """When the module does not parse: cut before each unindented line that starts a statement."""
    lines = text.split("\n")
    starts = [0]
    for i, line in enumerate(lines[1:], 1):
        if line[:1] in (" ", "\t") or _CONTINUES.match(line) or lines[i - 1].startswith("@"):
            continue
        starts.append(i)
    starts.append(len(lines))
    return [Cell(f"line {a + 1}", "\n" * a + "\n".join(lines[a:b])) for a, b in zip(starts, starts[1:])
            if "\n".join(lines[a:b]).strip()]


def _magic_call(node):
    """(kind, name, python) when node is `get_ipython().run_cell_magic(name, line, body)` or
    `get_ipython().run_line_magic(name, statement)` with constant strings, as nbconvert and IPython write magics
    into a script; else None. kind is "cell" or "line"."""
    call = node.value if isinstance(node, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr in ("run_cell_magic", "run_line_magic") and isinstance(call.func.value, ast.Call)
            and isinstance(call.func.value.func, ast.Name) and call.func.value.func.id == "get_ipython"
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)):
        return None
    kind = "cell" if call.func.attr == "run_cell_magic" else "line"
    if len(call.args) != (3 if kind == "cell" else 2):
        return None
    return kind, call.args[0].value, call.args[-1].value


def unwrap_script_magics(cells, notes):
    """A script's magics, as `jupyter nbconvert --to script` writes them: the body of a Python cell magic (%%time,
    %%timeit, %%capture, %%prun) runs once, statement by statement, as in a notebook; so does the statement of %time,
    %timeit and %prun. Other magics stay the no-ops they are. Each one is named in the loading report."""
    out = []
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            out.append(cell)
            continue
        found = _magic_call(tree.body[0]) if len(tree.body) == 1 else None
        if found is None:
            out.append(cell)
            continue
        kind, name, python = found
        runs = name in (PYTHON_CELL_MAGICS if kind == "cell" else PYTHON_LINE_MAGICS)
        sign = "%%" if kind == "cell" else "%"
        if not runs:
            notes.append(Msg(f"{cell.label}: get_ipython() runs %s{name} there; it is not run." % sign,
                             f"{cell.label}：此处 get_ipython() 调用 %s{name}，评分时不运行。" % sign))
            out.append(cell)
            continue
        what = ("its body", "其代码") if kind == "cell" else ("its statement", "其语句")
        notes.append(Msg(f"{cell.label}: get_ipython() runs {sign}{name} there; {what[0]} was run once, as in a notebook.",
                         f"{cell.label}：此处 get_ipython() 调用 {sign}{name}；{what[1]}已像在 notebook 中一样运行一次。"))
        if kind == "line":
            python = _strip_line_magic(f"%{name} {python}")
        out += split_statements(python, cell.label)
    return out


# A submission file larger than this is refused unread (grader/batch.py keeps each file of a class to the same).
MAX_SUBMISSION_BYTES = 50 * 2 ** 20


def read_submission(path, follow_links=False):
    """The bytes of the submission file, read as untrusted input: a regular file of at most MAX_SUBMISSION_BYTES,
    opened without blocking (a FIFO) and, for the grader, without following a symbolic link (an upload's link to
    the grader's own files would be graded, or shown, as the student's code). The kit, on the student's own
    machine, follows links."""
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
             | (0 if follow_links else getattr(os, "O_NOFOLLOW", 0)))
    if not follow_links and os.path.islink(path):
        raise LoadError(Msg(f"{path.name} is a symbolic link; submit the file itself.",
                            f"{path.name} 是符号链接；请提交文件本身。"))
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise LoadError(Msg(f"{path.name} could not be opened: {exc.strerror}.",
                            f"无法打开 {path.name}：{exc.strerror}。")) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LoadError(Msg(f"{path.name} is not a regular file.", f"{path.name} 不是普通文件。"))
        if st.st_size > MAX_SUBMISSION_BYTES:
            raise LoadError(Msg(f"{path.name} is {st.st_size >> 20} MiB, more than the {MAX_SUBMISSION_BYTES >> 20} MiB "
                                f"a submission may be; clear the notebook's outputs and submit it again.",
                                f"{path.name} 大小为 {st.st_size >> 20} MiB，超过提交文件的上限 "
                                f"{MAX_SUBMISSION_BYTES >> 20} MiB；请清除 notebook 的输出后重新提交。"))
        data = read_at_most(fd, MAX_SUBMISSION_BYTES + 1)
        if len(data) > MAX_SUBMISSION_BYTES:
            raise LoadError(Msg(f"{path.name} grew past {MAX_SUBMISSION_BYTES >> 20} MiB while it was read.",
                                f"{path.name} 在读取时超过了 {MAX_SUBMISSION_BYTES >> 20} MiB。"))
        return data
    except OSError as exc:
        raise LoadError(Msg(f"{path.name} could not be read: {exc.strerror}.",
                            f"无法读取 {path.name}：{exc.strerror}。")) from None
    finally:
        os.close(fd)


def load(path, follow_links=False):
    """Find, read and split a submission. Raises LoadError with a message for the student."""
    path = find_submission(path)
    notes = []
    data = read_submission(path, follow_links)
    if not data.strip():
        raise LoadError(Msg(f"{path.name} is empty.", f"{path.name} 是空文件。"))
    text = _decode(data, path.name, notes)
    if path.suffix == ".ipynb":
        cells, code_cells = read_notebook(path, text, notes)
        return Submission(path, "ipynb", cells, notes, code_cells)
    try:
        cells = unwrap_script_magics(_chunks_by_ast(text), notes)
    except SyntaxError as exc:
        notes.append(Msg(f"{path.name} has a syntax error at line {exc.lineno}: {exc.msg}. The rest is graded statement by statement.",
                       f"{path.name} 第 {exc.lineno} 行有语法错误：{exc.msg}。其余部分逐条语句评分。"))
        cells = _chunks_by_lines(text)
    return Submission(path, "py", cells, notes, len(cells))


def load_for_grading(path, follow_links=False):
    """(submission, None), or (whatever was read, the Msg saying why it cannot be graded): a missing or unreadable
    file, or a notebook without code cells. The grader and the student kit (follow_links) start every run here."""
    try:
        submission = load(path, follow_links)
    except LoadError as exc:
        return None, exc.msg
    if not submission.cells:
        return submission, Msg("The notebook has no code cells.", "notebook 中没有代码单元格。")
    return submission, None
