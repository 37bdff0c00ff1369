"""Correct submissions written differently from the reference, cheats with a known price, and single-bug mutants.

Each entry is built from the reference by small, checked edits (conftest.mutate fails when an
anchor is gone), the way the real students' variants were. CORRECT must score 100 at every seed;
CHEATS must lose exactly the points given, at every seed; each of MUTANTS must lose points in its own
section only, the same at every seed (tests/test_mutants.py).
"""
import json
from pathlib import Path

import nbformat

from conftest import ROOT, mutate

import reference

MODULES = list(reference.MODULES.values())
SECTION_OF = {m: n for n, m in reference.MODULES.items()}


def ref(name):
    return (ROOT / "reference" / f"{name}.py").read_text()


def module_file(parts):
    return {"hw8.py": "\n\n".join(parts[m] for m in MODULES)}


def parts(**replaced):
    out = {m: ref(m) for m in MODULES}
    out.update(replaced)
    return out


def notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) if not c.startswith("#md ") else nbformat.v4.new_markdown_cell(c[4:])
                for c in cells]
    return {"hw8.ipynb": nbformat.writes(nb)}


def edit(name, *pairs):
    text = ref(name)
    for old, new in pairs:
        text = mutate(text, old, new)
    return text


# ------------------------------------------------------------------------------------- correct
VARIANTS = ROOT / "tests" / "variants"


def homework_section(n):
    """Section n as the homework's own code, quirks kept, wrapped in the API (tests/variants/s<n>_homework_code.py)."""
    return (VARIANTS / f"s{n}_homework_code.py").read_text()


def homework_code():
    """Every section as the homework's own code wrapped in the API with the fewest edits, in one file: the quirks
    that keep the contract are kept (each variant's header says which, and what was edited)."""
    return module_file({m: homework_section(SECTION_OF[m]) for m in MODULES})


def vectorised():
    """Input projections for all steps at once; the adder's forward on precomputed bit arrays."""
    return module_file(parts(
        s1_srn=edit("s1_srn", ("    for t in range(T):\n        h = W_xh @ inputs[t] + W_hh @ h",
                               "    xs = inputs @ W_xh.T  # (T, hidden)\n    for t in range(T):\n        h = xs[t] + W_hh @ h")),
        s2_srn_tanh=edit("s2_srn_tanh", ("        h = np.tanh(W_xh @ inputs[t] + W_hh @ h)",
                                         "        h = np.tanh((inputs @ W_xh.T)[t] + W_hh @ h)")),
        s4_binary_adder=edit("s4_binary_adder", ("        hidden[t + 1] = sigmoid(x[t] @ W_xh + hidden[t] @ W_hh)  # (H,)\n"
                                                 "        outputs[t] = sigmoid(hidden[t + 1] @ W_hy)[0]",
                                                 "        hidden[t + 1] = sigmoid(x[t] @ W_xh + hidden[t] @ W_hh)  # (H,)\n"
                                                 "    outputs[:] = sigmoid(hidden[1:] @ W_hy)[:, 0]")),
    ))


def _example_cells():
    nb = nbformat.read(ROOT / "examples" / "reference" / "hw8.ipynb", as_version=4)
    return [c.source if c.cell_type == "code" else "#md " + c.source for c in nb.cells]


def magics_and_shell():
    """%matplotlib, !pip, %time statements and a %%time line on every definition cell."""
    cells = ["%matplotlib inline\n!pip install torch numpy\n%load_ext autoreload\n%autoreload 2"]
    for c in _example_cells():
        if c.startswith("#md ") or "grader" in c:
            cells.append(c)
        elif "def " in c or "class " in c:
            cells.append("%%time\n" + c)
        else:
            cells.append(c + "\n%time _ = 1 + 1")
    cells.append("%%bash\necho this is not python")
    return notebook(cells)


def missing_module():
    """The first cell imports a course library the grading environment lacks, then numpy and torch."""
    cells = _example_cells()
    first = next(i for i, c in enumerate(cells) if not c.startswith("#md "))
    cells[first] = "import d2l_course_tools as tools  # the course's own helpers, not installed for grading\n" + cells[first]
    return notebook(cells)


def with_tqdm():
    """Progress bars over the training loops."""
    return module_file(parts(
        s4_binary_adder="from tqdm import tqdm\n" + edit("s4_binary_adder", ("for _ in range(iterations):",
                                                                             "for _ in tqdm(range(iterations), leave=False):")),
        s5_char_lm="from tqdm import tqdm\n" + edit("s5_char_lm", ("for _ in range(epochs):", "for _ in tqdm(range(epochs)):")),
        s7_seq2seq="from tqdm.auto import tqdm\n" + edit("s7_seq2seq", ("for _ in range(epochs):",
                                                                        "for _ in tqdm(range(epochs), desc='seq2seq'):")),
    ))


def log_softmax():
    """forward returns log_softmax: the same argmax and the same cross-entropy training."""
    return module_file(parts(
        s5_char_lm=edit("s5_char_lm", ("return x.reshape(-1, self.num_class)",
                                       "return torch.log_softmax(x.reshape(-1, self.num_class), dim=-1)")),
        s7_seq2seq=edit("s7_seq2seq", ("return self.fc(outputs)", "return torch.log_softmax(self.fc(outputs), dim=-1)")),
    ))


def buffers_and_unused_layers():
    return module_file(parts(
        s5_char_lm=edit("s5_char_lm", ("self.fc = torch.nn.Linear(hidden_size, num_class)",
                                       "self.fc = torch.nn.Linear(hidden_size, num_class)\n"
                                       "        self.register_buffer('calls', torch.zeros(1))")),
        s7_seq2seq=edit("s7_seq2seq", ("self.fc = torch.nn.Linear(n_hidden, n_class)",
                                       "self.fc = torch.nn.Linear(n_hidden, n_class)\n"
                                       "        self.register_buffer('step', torch.zeros(1))\n"
                                       "        self.attention = torch.nn.Linear(n_hidden, n_hidden)  # tried, not used")),
    ))


def array_and_tensor_losses():
    """losses as a NumPy array (of detached loss tensors' values)."""
    return module_file(parts(s5_char_lm=edit("s5_char_lm", ("losses.append(loss.item())", "losses.append(loss.detach())"),
                                             ("return model, losses", "return model, torch.stack(losses).numpy()"))))


def top_level_training():
    """Section 7's cell defines everything, then trains for a very long time at top level, unguarded."""
    cells = []
    for c in _example_cells():
        if "def train_seq2seq" in c:
            c = c + "\n\nmodel = train_seq2seq(epochs=10 ** 7)\nprint(translate(model, 'man'))"
        cells.append(c)
    return notebook(cells)


def cuda_guarded_device():
    """`.to(device)` with device chosen by torch.cuda.is_available(), as the homework writes it."""
    return module_file(parts(s7_seq2seq="device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n" + edit(
        "s7_seq2seq",
        ("    model = Seq2Seq()\n", "    model = Seq2Seq().to(device)\n"),
        ("h0 = torch.zeros(1, len(batch), model.decoder.hidden_size)",
         "h0 = torch.zeros(1, len(batch), model.decoder.hidden_size).to(device)"),
        ("hidden = torch.zeros(1, 1, model.decoder.hidden_size)", "hidden = torch.zeros(1, 1, model.decoder.hidden_size).to(device)"),
        ("        output = model(enc_input, hidden, dec_input)", "        output = model(enc_input.to(device), hidden, dec_input.to(device))"),
    )))


def global_n_hidden():
    """translate sizes its hidden state from the homework's global n_hidden = 128."""
    return module_file(parts(s7_seq2seq="n_hidden = 128\n" + edit(
        "s7_seq2seq", ("hidden = torch.zeros(1, 1, model.decoder.hidden_size)", "hidden = torch.zeros(1, 1, n_hidden)"))))


def homework_rnn_dropout():
    """The homework's nn.RNN(..., dropout=0.5) (no effect with one layer) and its super(Class, self) style."""
    return module_file(parts(s7_seq2seq=edit(
        "s7_seq2seq",
        ("        super().__init__()\n        self.encoder = torch.nn.RNN(input_size=n_class, hidden_size=n_hidden)\n"
         "        self.decoder = torch.nn.RNN(input_size=n_class, hidden_size=n_hidden)",
         "        super(Seq2Seq, self).__init__()\n"
         "        self.encoder = torch.nn.RNN(input_size=n_class, hidden_size=n_hidden, dropout=0.5)  # encoder\n"
         "        self.decoder = torch.nn.RNN(input_size=n_class, hidden_size=n_hidden, dropout=0.5)  # decoder"))))


def main_guarded_demos():
    """Demos and long training under `if __name__ == "__main__":`, prints everywhere, a plot at the end."""
    demo = ("\n\nif __name__ == '__main__':\n    print(srn_forward(np.ones((3, 2)), np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2))))\n"
            "    model = train_seq2seq(epochs=5000)\n")
    plot = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\nprint('done')\n"
    files = module_file(parts())
    files["hw8.py"] = files["hw8.py"] + demo + "\n" + plot
    return files


CORRECT = {f.__name__: f for f in (homework_code, vectorised, magics_and_shell, missing_module, with_tqdm, log_softmax,
                                   buffers_and_unused_layers, array_and_tensor_losses, top_level_training,
                                   cuda_guarded_device, global_n_hidden, homework_rnn_dropout, main_guarded_demos)}


# --------------------------------------------------------------------------------------- cheats
STORED = """

_STORED = {}


def _once(key, train):  # trains once, then returns the stored result whatever the seed and budget
    if key not in _STORED:
        _STORED[key] = train()
    return _STORED[key]


_real_adder, _real_lm, _real_s2s = train_binary_adder, train_char_lm, train_seq2seq
train_binary_adder = lambda *a, **k: _once("adder", lambda: _real_adder(iterations=17000, seed=3))
train_char_lm = lambda *a, **k: _once("lm", lambda: _real_lm(epochs=40, seed=3))
train_seq2seq = lambda *a, **k: _once("s2s", lambda: _real_s2s(epochs=800, seed=3))
"""


def stored_parameters():
    files = module_file(parts())
    files["hw8.py"] += STORED
    return files


# Issue 17: a training that branches on its budget: real training up to a budget (so the small budgets come out
# untrained, from their seeds, following every argument), the stored result above it.
def stored_above(adder, char_lm, seq2seq):
    code = STORED.replace(
        'train_binary_adder = lambda *a, **k: _once("adder", lambda: _real_adder(iterations=17000, seed=3))',
        'train_binary_adder = lambda *a, **k: (_once("adder", lambda: _real_adder(iterations=17000, seed=3))\n'
        f'                                      if k.get("iterations", 10000) > {adder} else _real_adder(*a, **k))').replace(
        'train_char_lm = lambda *a, **k: _once("lm", lambda: _real_lm(epochs=40, seed=3))',
        'train_char_lm = lambda *a, **k: (_once("lm", lambda: _real_lm(epochs=40, seed=3))\n'
        f'                                 if k.get("epochs", 15) > {char_lm} else _real_lm(*a, **k))').replace(
        'train_seq2seq = lambda *a, **k: _once("s2s", lambda: _real_s2s(epochs=800, seed=3))',
        'train_seq2seq = lambda *a, **k: (_once("s2s", lambda: _real_s2s(epochs=800, seed=3))\n'
        f'                                 if k.get("epochs", 5000) > {seq2seq} else _real_s2s(*a, **k))')
    assert code.count("_once(") == 4  # the three replacements took
    files = module_file(parts())
    files["hw8.py"] += code
    return files


def stored_above_the_tiny_budget():  # the grader's tiny budgets (grader/probes.py TINY_BUDGET)
    return stored_above(20, 1, 1)


def stored_above_the_small_budgets():  # and its small ones (SMALL_BUDGET): only the second seed's graded run sees it
    return stored_above(1000, 10, 10)


def relu_and_bidirectional():
    return module_file(parts(s3_torch_rnn=edit(
        "s3_torch_rnn",
        ("cell = torch.nn.RNNCell(input_size=input_size, hidden_size=hidden_size)",
         "cell = torch.nn.RNNCell(input_size=input_size, hidden_size=hidden_size, nonlinearity='relu')"),
        ("rnn = torch.nn.RNN(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)",
         "rnn = torch.nn.RNN(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers, bidirectional=True)"))))


def translate_keeps_padding():
    return module_file(parts(s7_seq2seq=edit("s7_seq2seq", ("return decoded.replace('?', '')", "return decoded"))))


def make_data_pads_in_place():
    """The homework's make_data: pads its argument's words in place (all values right)."""
    return module_file(parts(s7_seq2seq=edit(
        "s7_seq2seq",
        ("    for word, target in seq_data:\n        word = word + '?' * (n_step - len(word))  # 'man??'\n"
         "        target = target + '?' * (n_step - len(target))  # 'women'\n",
         "    for seq in seq_data:\n        for i in range(2):\n            seq[i] = seq[i] + '?' * (n_step - len(seq[i]))\n"
         "        word, target = seq[0], seq[1]\n"))))


# name: (files, the section scores it must get; sections not named keep full marks)
CHEATS = {
    # the training checks 4.4 (4), 5.2 (6), 7.2 (8), and 4.10, 5.6, 7.8 (1 each: one result for both seeds)
    "stored_parameters": (stored_parameters, {4: 15, 5: 13, 7: 16}),
    # the training checks only: the small budget's result is the graded one (main before issue 17: full marks)
    "stored_above_the_tiny_budget": (stored_above_the_tiny_budget, {4: 16, 5: 14, 7: 17}),
    # the training checks only: the graded result at the second seed is the first's, though the seeds are followed
    # at the small budgets (main before the second seed: full marks)
    "stored_above_the_small_budgets": (stored_above_the_small_budgets, {4: 16, 5: 14, 7: 17}),
    "relu_and_bidirectional": (relu_and_bidirectional, {3: 11}),  # 3.1 and 3.4, 2 points each
    # 7.5 (4) and 7.7 (1): its own translate on its trained model; the training (7.2) is right
    "translate_keeps_padding": (translate_keeps_padding, {7: 20}),
    "make_data_pads_in_place": (make_data_pads_in_place, {7: 24}),  # 7.6, non-mutation (1)
}


# ---------------------------------------------------------------------------- the homework's lines that break the contract
# The homework's own code wrapped in the API (homework_code, in CORRECT) scores full marks; it edits a few of the
# homework's lines. Each entry here puts one group of those lines back, verbatim. They break the contract, so each
# costs its own check and no other, with a message that says what went wrong, at every seed.

def homework_with(n, *pairs, count=1):
    """Section n as the homework's code, with its own lines put back (old, new) where the wrapped version edits them."""
    text = homework_section(n)
    for old, new in pairs:
        text = mutate(text, old, new, count)
    return module_file(parts(**{reference.MODULES[n]: text}))


def _scalar_weights(n, act):
    """Sections 1 and 2 with the scalar weights w1 ... w8, U1 ... U4 read from 2 x 2 matrices."""
    fn = "srn_forward" if n == 1 else "srn_forward_tanh"
    inner = (lambda e: f"np.tanh({e})") if act else (lambda e: e)
    return homework_with(
        n,
        (f"def {fn}(inputs, W_xh, W_hh, W_hy, h0=None):\n",
         f"def {fn}(inputs, W_xh, W_hh, W_hy, h0=None):\n"
         "    (w1, w3), (w2, w4) = W_xh\n    (U2, U4), (U1, U3) = W_hh\n    (w5, w7), (w6, w8) = W_hy\n"),
        ("        in_h = [" + inner("np.dot(W_xh[j], input_t) + np.dot(W_hh[j], state_t)") + " for j in range(len(W_hh))]\n"
         "        state_t = tuple(in_h)\n"
         "        output_y = [np.dot(W_hy[k], in_h) for k in range(len(W_hy))]\n"
         "        print('output_y is ', *output_y)\n",
         "        in_h1 = " + inner("np.dot([w1, w3], input_t) + np.dot([U2, U4], state_t)") + "\n"
         "        in_h2 = " + inner("np.dot([w2, w4], input_t) + np.dot([U1, U3], state_t)") + "\n"
         "        state_t = in_h1, in_h2\n"
         "        output_y1 = np.dot([w5, w7], [in_h1, in_h2])\n"
         "        output_y2 = np.dot([w6, w8], [in_h1, in_h2])\n"
         "        print('output_y is ', output_y1, output_y2)\n"
         "        output_y = [output_y1, output_y2]\n"))


def s1_scalar_weights():
    """w1 ... w8 are 2 x 2 only: any other size raises ValueError (too many / not enough values to unpack)."""
    return _scalar_weights(1, act=False)


def s2_scalar_weights():
    return _scalar_weights(2, act=True)


def s3_two_by_two_linear_weight():
    """liner.weight.data = torch.Tensor([[1, 1], [1, 1]]) whatever the sizes: right only at the homework's (2, 2, 2)."""
    return homework_with(3, ("liner.weight.data = torch.ones(output_size, hidden_size)",
                             "liner.weight.data = torch.Tensor([[1, 1], [1, 1]])"), count=2)


def s7_pads_in_place_and_needs_an_e():
    """make_data pads its argument's words in place; translate's decoded.index('E') raises when there is no 'E'
    (the random weights' decodings of probes 0 or 3 have none, at every seed tested; an 'E' always ends a trained
    model's decoding)."""
    return homework_with(7, ("        seq = list(seq)\n", ""),
                         ("''.join(decoded[:decoded.index('E')] if 'E' in decoded else decoded)",
                          "''.join(decoded[:decoded.index('E')])"))


# name: (files, its section, the section's score, {failing check: words of its message}). Scores: points.toml's
# section points times the failing checks' share of the section's weights (hw8core/checks/test_sN.py).
HOMEWORK_QUIRKS = {
    # 1.2, weight 6.5 of 10: 10 - 6.5
    "s1_scalar_weights": (s1_scalar_weights, 1, 3.5, {"1.2": "srn_forward raised ValueError"}),
    # 2.2, weight 6.5 of 10: 10 - 6.5
    "s2_scalar_weights": (s2_scalar_weights, 2, 3.5, {"2.2": "srn_forward_tanh raised ValueError"}),
    # 3.4, weight 2 of 15: 15 - 2
    "s3_two_by_two_linear_weight": (s3_two_by_two_linear_weight, 3, 13.0, {"3.4": "linear.weight has shape (2, 2); nn.Linear("}),
    # 7.5 (weight 4) and 7.6 (weight 1) of 25: 25 - 5
    "s7_pads_in_place_and_needs_an_e": (s7_pads_in_place_and_needs_an_e, 7, 20.0,
                                        {"7.5": "translate raised ValueError: 'E' is not in list",
                                         "7.6": "make_data modified its argument number 1"}),
}


def write(files, folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder




# --------------------------------------------------------------------------------------- single-bug mutants
# The reference with one line changed. "visible" mutants are caught by the homework's own numbers;
# "hidden" mutants pass every homework-number check and are caught only by the randomized probes.
MUTANTS = {
    # id: (section, caught by, old, new)
    "s1_no_recurrence": (1, "visible", "h = W_xh @ inputs[t] + W_hh @ h  # (hidden,)", "h = W_xh @ inputs[t] + h"),
    "s1_transposed_W_hh": (1, "hidden", "h = W_xh @ inputs[t] + W_hh @ h  # (hidden,)", "h = W_xh @ inputs[t] + W_hh.T @ h"),
    "s2_tanh_outside": (2, "visible", "h = np.tanh(W_xh @ inputs[t] + W_hh @ h)  # (hidden,)",
                        "h = np.tanh(W_xh @ inputs[t]) + W_hh @ h"),
    "s2_ignores_h0": (2, "hidden", "h = np.zeros(hidden) if h0 is None else np.array(h0, dtype=np.float64)  # (hidden,)\n"
                                   "    states = np.zeros((T, hidden))  # (T, hidden)\n    for t in range(T):\n"
                                   "        h = np.tanh(",
                      "h = np.zeros(hidden)\n    states = np.zeros((T, hidden))  # (T, hidden)\n    for t in range(T):\n"
                      "        h = np.tanh("),
    "s3_biases_one": (3, "visible", "                torch.nn.init.zeros_(param)", "                torch.nn.init.ones_(param)"),
    "s3_cell_ignores_h0": (3, "hidden", "h = torch.zeros(batch, cell.hidden_size) if h0 is None else h0",
                           "h = torch.zeros(batch, cell.hidden_size)"),
    "s4_gradient_sign": (4, "visible", "dz_y = (y[t] - c[t])", "dz_y = (c[t] - y[t])"),
    "s4_width_ignored": (4, "hidden", "return np.array([(int(n) >> (width - 1 - i)) & 1 for i in range(width)], dtype=np.uint8)",
                         "return np.array([(int(n) >> (7 - i)) & 1 for i in range(8)], dtype=np.uint8)"),
    "s5_one_layer": (5, "visible", "def __init__(self, num_class=4, embedding_size=10, hidden_size=8, num_layers=2):",
                     "def __init__(self, num_class=4, embedding_size=10, hidden_size=8, num_layers=1):"),
    # caught by a visible check: the student's own predict on their trained model (5.5)
    "s5_predict_argmin": (5, "visible", "idx = model(encode(text)).argmax(dim=1)", "idx = model(encode(text)).argmin(dim=1)"),
    "s7_padding_first": (7, "visible", "word = word + '?' * (n_step - len(word))  # 'man??'", "word = '?' * (n_step - len(word)) + word"),
    "s7_n_step_ignored": (7, "hidden", "def make_data(seq_data, n_step=5):\n", "def make_data(seq_data, n_step=5):\n    n_step = 5\n"),
}


__all__ = ["CHEATS", "CORRECT", "HOMEWORK_QUIRKS", "MUTANTS", "SECTION_OF", "write", "json"]
