"""Meaning-preserving rewrites of the correct example (examples/reference/hw8.ipynb), made mechanically: each must
score 100 at every seed (tests/test_rewrites.py). The harness of issue 17's item 2: how fair the grader is to right
code written, saved or run differently, as the mutation harness (tests/mutation.py) measures how strong it is.

Each rewrite returns the submission's files, {name: text}.
"""
import ast
import copy
import re

import nbformat

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "reference" / "hw8.ipynb"
CELL_MAGICS = ["time", "timeit", "capture", "prun"]  # the README's Python cell magics (grader/loader.py)


def example():
    return nbformat.read(EXAMPLE, as_version=4)


def _defines(source):
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in tree.body)


def _notebook(nb):
    return {"hw8.ipynb": nbformat.writes(nb)}


def _script(nb):
    """The notebook exported as `jupyter nbconvert --to script` exports it (nbconvert's own PythonExporter)."""
    from nbconvert import PythonExporter
    body, _ = PythonExporter().from_notebook_node(nb)
    return {"hw8.py": body}


def _with_magics(nb, magics):
    """Every definition cell starts with a cell magic, in turn from `magics`."""
    nb = copy.deepcopy(nb)
    k = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and _defines(cell.source):
            cell.source = f"%%{magics[k % len(magics)]}\n" + cell.source
            k += 1
    return nb


def exported_script():
    return _script(example())


def exported_script_with_cell_magics():
    """The definition cells begin with %%time, %%timeit, %%capture, %%prun in turn, then the notebook is exported:
    nbconvert writes each as get_ipython().run_cell_magic('time', '', '<body>')."""
    return _script(_with_magics(example(), CELL_MAGICS))


def _magic_rewrite(magic):
    def rewrite():
        return _notebook(_with_magics(example(), [magic]))
    rewrite.__name__ = f"every_definition_cell_in_{magic}"
    rewrite.__doc__ = f"Every definition cell starts with %%{magic}."
    return rewrite


def _loops(nb, wrap, header):
    """Every training loop's range(...) wrapped by wrap, with header (an import) at the top of the notebook."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and "def train_" in cell.source:
            cell.source = re.sub(r"for _ in range\((iterations|epochs)\):", lambda m: f"for _ in {wrap}(range({m.group(1)})):",
                                 cell.source)
    first = next(c for c in nb.cells if c.cell_type == "code")
    first.source = header + "\n" + first.source
    return nb


def tqdm_progress_bars():
    return _notebook(_loops(example(), "tqdm", "from tqdm import tqdm"))


def tqdm_notebook_progress_bars():
    """tqdm's Jupyter front-end (widgets): what a student's Jupyter shows."""
    return _notebook(_loops(example(), "tqdm", "from tqdm.notebook import tqdm"))


def tqdm_auto_progress_bars():
    return _notebook(_loops(example(), "tqdm", "from tqdm.auto import tqdm"))


def display_and_friends():
    """Top-level demo code, unguarded: display(), clear_output(), plt.show() and input() between the definitions."""
    nb = copy.deepcopy(example())
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type == "code" and "def srn_forward(" in cell.source:
            cells.append(nbformat.v4.new_code_cell(
                "import matplotlib.pyplot as plt\n"
                "states, outputs = srn_forward(np.ones((3, 2)), np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)))\n"
                "display(outputs)\nplt.plot(outputs[:, 0])\nplt.show()"))
        if cell.cell_type == "code" and "def translate(" in cell.source:
            cells.append(nbformat.v4.new_code_cell(
                "from IPython.display import clear_output\nclear_output(wait=True)\n"
                "name = input('Your name: ')\nprint('hello', name)"))
    nb.cells = cells
    return _notebook(nb)


def redefined_in_a_later_cell():
    """A first, wrong srn_forward and Seq2Seq; the right ones in later cells (Run All: the last definition wins)."""
    nb = copy.deepcopy(example())
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "def srn_forward(" in cell.source:
            cells.append(nbformat.v4.new_code_cell("def srn_forward(inputs, W_xh, W_hh, W_hy, h0=None):\n"
                                                   "    raise NotImplementedError\n"))
        if cell.cell_type == "code" and "class Seq2Seq(" in cell.source:
            cells.append(nbformat.v4.new_code_cell("class Seq2Seq(torch.nn.Module):\n    pass\n"))
        cells.append(cell)
    nb.cells = cells
    return _notebook(nb)


def seeded_through_another_stream():
    """The adder draws from numpy's Generator seeded with seed, the char-LM's initialisation from a torch.Generator
    forked from seed, seq2seq's shuffles from their own torch.Generator: every stream still follows seed."""
    nb = copy.deepcopy(example())
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = cell.source
        src = src.replace("rng = np.random.RandomState(seed)", "rng = np.random.default_rng(seed)")
        src = src.replace("rng.random_sample(", "rng.random(").replace("rng.randint(", "rng.integers(")
        src = src.replace("for batch in torch.randperm(n).split(batch_size):",
                          "for batch in torch.randperm(n, generator=shuffle).split(batch_size):")
        src = src.replace("    optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n    n = len(seq_data)\n",
                          "    optimizer = torch.optim.Adam(model.parameters(), lr=lr)\n    n = len(seq_data)\n"
                          "    shuffle = torch.Generator().manual_seed(seed + 1)\n")
        cell.source = src
    return _notebook(nb)


class _RenameLocals(ast.NodeTransformer):
    """Inside each function, every local variable (assigned there, not an argument) renamed to local_<name>."""

    def visit_FunctionDef(self, node):
        args = {a.arg for a in node.args.args + node.args.kwonlyargs}
        local = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} - args
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id in local:
                n.id = f"local_{n.id}"
        return node


def renamed_locals():
    nb = copy.deepcopy(example())
    for cell in nb.cells:
        if cell.cell_type == "code" and _defines(cell.source):
            tree = _RenameLocals().visit(ast.parse(cell.source))
            cell.source = ast.unparse(tree)
    return _notebook(nb)


def cells_split_at_statements():
    nb = copy.deepcopy(example())
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        lines = cell.source.split("\n")
        tree = ast.parse(cell.source)
        starts = [min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])]) - 1 for n in tree.body]
        for a, b in zip(starts, starts[1:] + [len(lines)]):
            cells.append(nbformat.v4.new_code_cell("\n".join(lines[a:b]).strip("\n")))
    nb.cells = cells
    return _notebook(nb)


REWRITES = {f.__name__: f for f in [exported_script, exported_script_with_cell_magics,
                                    *[_magic_rewrite(m) for m in CELL_MAGICS], tqdm_progress_bars,
                                    tqdm_notebook_progress_bars, tqdm_auto_progress_bars, display_and_friends,
                                    redefined_in_a_later_cell, seeded_through_another_stream, renamed_locals,
                                    cells_split_at_statements]}
