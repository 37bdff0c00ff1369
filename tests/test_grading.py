"""End-to-end: canned submissions graded through the sandbox, results.json validated.

Each single-bug mutant is the reference with one line changed. "visible" mutants are caught
by the homework's own numbers; "hidden" mutants pass every homework-number check and are
caught only by the randomized probes. Each must lose points in its own section and no other.
"""
import json

import jsonschema
import pytest

from grader.catalog import catalog
from grader.grade import grade, grade_to_file

from conftest import (SEED, failed, full_marks, mutate, outputs, reference_module_source, section_scores, strip_timing,
                      write_submission)

VISIBLE = {c.number for c in catalog() if c.visibility == "visible"}

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
    # caught by the visible checks: the student's own predict must give "ohlol" on their trained model
    "s5_predict_argmin": (5, "visible", "idx = model(encode(text)).argmax(dim=1)", "idx = model(encode(text)).argmin(dim=1)"),
    "s7_padding_first": (7, "visible", "word = word + '?' * (n_step - len(word))  # 'man??'", "word = '?' * (n_step - len(word)) + word"),
    "s7_n_step_ignored": (7, "hidden", "def make_data(seq_data, n_step=5):\n", "def make_data(seq_data, n_step=5):\n    n_step = 5\n"),
}


def _grade(tmp_path, source, name="hw8.py", **kw):
    path = write_submission(tmp_path / "sub", source, name)
    out = tmp_path / "results.json"
    results = grade_to_file(path, out, seed=SEED, **kw)
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    return results


@pytest.fixture(scope="module")
def reference_results(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("ref"), reference_module_source())


def test_example_notebook_scores_full_marks(tmp_path, schema):
    results = grade_to_file("examples/reference", tmp_path / "results.json", seed=SEED)
    jsonschema.validate(results, schema)
    assert results["score"] == 100 and results["extra_data"]["max_score"] == 100
    assert failed(results) == []
    assert results["extra_data"]["seed"] == SEED


def test_reference_module_scores_full_marks(reference_results, schema):
    jsonschema.validate(reference_results, schema)
    assert failed(reference_results) == [], outputs(reference_results)
    assert section_scores(reference_results) == full_marks()


def test_same_seed_same_results(tmp_path, reference_results):
    again = _grade(tmp_path, reference_module_source())
    assert strip_timing(again) == strip_timing(reference_results)


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_single_bug_costs_its_own_section_only(mutant, tmp_path, schema):
    section, caught_by, old, new = MUTANTS[mutant]
    results = _grade(tmp_path, mutate(reference_module_source(), old, new))
    jsonschema.validate(results, schema)
    scores, full = section_scores(results), full_marks()
    assert scores[section] < full[section], f"{mutant} was not caught: {outputs(results, str(section))}"
    assert {n: s for n, s in scores.items() if n != section} == {n: p for n, p in full.items() if n != section}, \
        f"{mutant} cost points outside section {section}: {scores}"
    failing = [n for n in failed(results) if n.split(".")[0] == str(section)]
    hidden_failures = [n for n in failing if n not in VISIBLE]
    if caught_by == "visible":
        assert set(failing) & VISIBLE, f"{mutant} should be caught by the homework's numbers"
    else:
        # the homework-number checks pass (the anti-hard-coding rule withholds them only from constants);
        # only the randomized probes see the bug
        assert hidden_failures, failing
        assert not [n for n in failing if n in VISIBLE], {n: outputs(results)[n] for n in failing}


HARDCODED = '''
import numpy as np
import torch

def srn_forward(inputs, W_xh, W_hh, W_hy, h0=None):
    return np.array([[2., 2.], [6., 6.], [16., 16.]]), np.array([[4., 4.], [12., 12.], [32., 32.]])

def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):
    y = [1.9280551601516338, 1.9984510891336251, 1.9999753470497836]
    h = [0.9640275800758169, 0.9992255445668126, 0.9999876735]
    return np.array([[v, v] for v in h]), np.array([[v, v] for v in y])

def build_rnncell(input_size=2, hidden_size=2, output_size=2):
    cell, lin = torch.nn.RNNCell(2, 2), torch.nn.Linear(2, 2)
    for p in list(cell.parameters()) + list(lin.parameters()):
        torch.nn.init.ones_(p) if p.dim() == 2 else torch.nn.init.zeros_(p)
    return cell, lin

def run_rnncell(cell, linear, inputs, h0=None):
    h = torch.tensor([[[0.9640, 0.9640]], [[0.9992, 0.9992]], [[0.99999, 0.99999]]])
    return h, torch.tensor([[[1.9281, 1.9281]], [[1.9985, 1.9985]], [[2.0000, 2.0000]]])

build_rnn = build_rnncell
run_rnn = run_rnncell

def int2binary(n, width=8):
    return {77: np.array([0, 1, 0, 0, 1, 1, 0, 1], np.uint8), 82: np.array([0, 1, 0, 1, 0, 0, 1, 0], np.uint8),
            194: np.array([1, 1, 0, 0, 0, 0, 1, 0], np.uint8), 14: np.array([0, 0, 0, 0, 1, 1, 1, 0], np.uint8)}.get(n, np.zeros(8, np.uint8))

def binary2int(bits):
    return 77

def add_binary(weights, a, b, width=8):
    return a + b

IDX2CHAR = ['e', 'h', 'l', 'o']

def predict(model, text="hello"):
    return "ohlol"

def translate(model, word, n_step=5):
    return {'man': 'women', 'black': 'white', 'king': 'queen', 'girl': 'boy', 'up': 'down', 'high': 'low'}.get(word, 'women')
'''


def test_hardcoded_homework_numbers_earn_nothing(tmp_path, schema):
    results = _grade(tmp_path, HARDCODED)
    jsonschema.validate(results, schema)
    assert results["score"] == 0, {t["number"]: t["score"] for t in results["tests"] if t["score"]}
    hidden = [t for t in results["tests"] if t["number"] not in VISIBLE and not t["number"].startswith("0.")]
    assert hidden and all(t["status"] == "failed" for t in hidden)
    assert "fixed numbers earn nothing" in outputs(results)["1.1"]


BROKEN = reference_module_source()


def test_clear_messages_for_missing_exception_nan_and_shape(tmp_path, schema):
    source = mutate(BROKEN, "def srn_forward(inputs,", "def srn_forwrd(inputs,")  # missing function
    source = mutate(source, 'states[t-1])."""\n', 'states[t-1])."""\n    raise ValueError("oops")\n')  # an exception
    source = mutate(source, "return hiddens, linear(hiddens)  # (T, batch, output)\n\n\ndef build_rnn",
                    "return hiddens * float('nan'), linear(hiddens)\n\n\ndef build_rnn")  # NaN
    source = mutate(source, "return torch.stack(enc_input), torch.stack(dec_input), torch.LongTensor(dec_output)",
                    "return torch.stack(enc_input)[:, :-1], torch.stack(dec_input), torch.LongTensor(dec_output)")  # shape
    results = _grade(tmp_path, source)
    jsonschema.validate(results, schema)
    out = outputs(results)
    assert "`srn_forward` is not defined" in out["1.1"]
    assert "srn_forward_tanh raised ValueError: oops" in out["2.1"]
    assert "hiddens contains NaN" in out["3.2"]
    assert "enc_input should have shape (6, 6, 29), but has shape (6, 5, 29)" in out["7.1"]
    scores = section_scores(results)
    assert scores[1] == 0 and scores[2] == 0 and scores[3] < 15 and scores[7] < 25
    assert scores[4] == 20 and scores[5] == 20


def test_unloadable_submission_lists_every_check_at_zero(tmp_path, schema):
    path = write_submission(tmp_path / "sub", "{not json", "hw8.ipynb")
    results = grade_to_file(path, tmp_path / "results.json", seed=SEED)
    jsonschema.validate(results, schema)
    assert results["score"] == 0 and results["extra_data"]["max_score"] == 100
    assert len([t for t in results["tests"] if not t["number"].startswith("0.")]) == len(catalog())
    assert "not valid notebook JSON" in outputs(results)["0.1"]
    assert all("Not graded" in o for n, o in outputs(results).items() if not n.startswith("0."))


def test_visible_only_run_has_only_visible_checks(tmp_path):
    results, _ = grade("examples/reference", seed=0, visible_only=True)
    numbers = {t["number"] for t in results["tests"] if not t["number"].startswith("0.")}
    assert numbers == VISIBLE and results["score"] == results["extra_data"]["max_score"]


def test_a_raising_predict_or_translate_cannot_pass_the_visible_checks(tmp_path):
    """The homework's end-to-end results come from the student's own predict and translate."""
    source = mutate(reference_module_source(), '    """The argmax character at each position of text."""\n',
                    '    """The argmax character at each position of text."""\n    raise NotImplementedError\n')
    source = mutate(source, """    \"\"\"Decode greedily from 'S' and padding; cut at the first 'E' and drop the '?' padding.\"\"\"\n""",
                    """    \"\"\"Decode greedily from 'S' and padding; cut at the first 'E' and drop the '?' padding.\"\"\"\n"""
                    "    raise NotImplementedError\n")
    path = write_submission(tmp_path / "sub", source)
    results, _ = grade(path, seed=0, visible_only=True)
    out = outputs(results)
    assert results["score"] < results["extra_data"]["max_score"]
    assert failed(results) == ["5.2", "7.2"], out
    assert "predict is not implemented yet" in out["5.2"] and "translate is not implemented yet" in out["7.2"], out
