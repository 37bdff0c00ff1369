"""End-to-end: canned submissions graded through the sandbox by grade_to_file, results.json validated.

The example and the reference score 100, the same at the same seed; constants, missing functions,
exceptions, NaN and wrong shapes get their own clear messages. The single-bug mutants are graded
in tests/test_mutants.py.
"""
import json

import jsonschema

from grader.catalog import catalog
from grader.grade import grade, grade_to_file

from conftest import (SEED, assert_no_internal_error, failed, full_marks, mutate, outputs, reference_module_source,
                      section_scores, strip_timing, write_submission)

VISIBLE = {c.number for c in catalog() if c.visibility == "visible"}


def _grade(tmp_path, source, name="hw8.py", **kw):
    path = write_submission(tmp_path / "sub", source, name)
    out = tmp_path / "results.json"
    results = grade_to_file(path, out, seed=SEED, **kw)
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    assert_no_internal_error(results)
    return results


def test_example_notebook_scores_full_marks(tmp_path, schema):
    results = grade_to_file("examples/reference", tmp_path / "results.json", seed=SEED)
    jsonschema.validate(results, schema)
    assert_no_internal_error(results)
    assert results["score"] == 100 and results["extra_data"]["max_score"] == 100
    assert failed(results) == []
    assert results["extra_data"]["seed"] == SEED


def test_reference_module_scores_full_marks_and_the_same_at_the_same_seed(tmp_path, schema):
    """One test, so that the two grades it compares are never split over two workers, nor graded a third time."""
    first = _grade(tmp_path / "first", reference_module_source())
    jsonschema.validate(first, schema)
    assert failed(first) == [], outputs(first)
    assert section_scores(first) == full_marks()
    again = _grade(tmp_path / "again", reference_module_source())
    assert strip_timing(again) == strip_timing(first)


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
    assert_no_internal_error(results)
    assert results["score"] == 0 and results["extra_data"]["max_score"] == 100
    assert len([t for t in results["tests"] if not t["number"].startswith("0.")]) == len(catalog())
    assert "not valid notebook JSON" in outputs(results)["0.1"]
    assert all("Not graded" in o for n, o in outputs(results).items() if not n.startswith("0."))


def test_a_raising_predict_or_translate_cannot_pass_the_visible_checks(tmp_path):
    """The homework's end-to-end results come from the student's own predict and translate."""
    source = mutate(reference_module_source(), '    """The argmax character at each position of text."""\n',
                    '    """The argmax character at each position of text."""\n    raise NotImplementedError\n')
    source = mutate(source, """    \"\"\"Decode greedily from 'S' and padding; cut at the first 'E' and drop the '?' padding.\"\"\"\n""",
                    """    \"\"\"Decode greedily from 'S' and padding; cut at the first 'E' and drop the '?' padding.\"\"\"\n"""
                    "    raise NotImplementedError\n")
    path = write_submission(tmp_path / "sub", source)
    results, _ = grade(path, seed=0, visible_only=True, sections=(5, 7))
    assert_no_internal_error(results)
    out = outputs(results)
    assert {t["number"] for t in results["tests"] if not t["number"].startswith("0.")} == {
        "5.1", "5.2", "5.5", "5.6", "7.1", "7.2", "7.7", "7.8"}
    assert results["score"] < results["extra_data"]["max_score"]
    # Their own checks only (issue 17): the trainings are right, so 5.2 and 7.2 keep their points.
    assert failed(results) == ["5.5", "7.7"], out
    assert "predict is not implemented yet" in out["5.5"] and "translate is not implemented yet" in out["7.7"], out


def test_a_failed_training_does_not_cost_the_predict_and_translate_checks(tmp_path):
    """The reverse of the test above: trainings cut to 3 epochs fail 5.2 and 7.2, while the student's own predict and
    translate, right on whatever model they are given, keep 5.5 and 7.7 (each fault costs its own check)."""
    source = reference_module_source()
    assert source.count("    for _ in range(epochs):\n") == 2  # train_char_lm's and train_seq2seq's loops
    source = source.replace("    for _ in range(epochs):\n", "    for _ in range(min(epochs, 3)):\n")
    path = write_submission(tmp_path / "sub", source)
    results, _ = grade(path, seed=0, visible_only=True, sections=(5, 7))
    assert_no_internal_error(results)
    out = outputs(results)
    assert failed(results) == ["5.2", "7.2"], out
    assert {t["number"]: t["status"] for t in results["tests"] if t["number"] in ("5.5", "7.7")} == {
        "5.5": "passed", "7.7": "passed"}
    assert "loss" in out["5.2"] and "translate correctly" in out["7.2"], out



def _grade_sections_4_5_7(tmp_path, source):
    results, _ = grade(write_submission(tmp_path / "sub", source), seed=0, visible_only=True, sections=(4, 5, 7))
    assert_no_internal_error(results)
    return results, outputs(results)


def test_a_training_that_fails_only_at_a_budget_the_homework_never_uses_loses_its_small_check(tmp_path):
    """A progress line every budget // 10 (or // 100) steps divides by zero at the tiny budgets (20 iterations, 1
    epoch) and nowhere the homework trains: 4.10, 5.6 and 7.8 say so; the training checks keep their points
    (issue 17: on main before, 4.4, 5.2 and 7.2 were withheld, -23)."""
    source = reference_module_source()
    for old, new in (("    for _ in range(iterations):\n", "    for _ in range(iterations):\n        _ % (iterations // 100)\n"),
                     ("    for _ in range(epochs):\n", "    for _ in range(epochs):\n        _ % (epochs // 10)\n")):
        assert old in source
        source = source.replace(old, new)
    results, out = _grade_sections_4_5_7(tmp_path, source)
    assert failed(results) == ["4.10", "5.6", "7.8"], out
    assert all("ZeroDivisionError" in out[n] for n in ("4.10", "5.6", "7.8")), out
    assert "train_char_lm(epochs=1" in out["5.6"], out["5.6"]


def test_a_training_that_ignores_its_seed_loses_its_small_check_only(tmp_path):
    source = mutate(reference_module_source(), "    torch.manual_seed(seed)\n    n_step", "    torch.manual_seed(0)\n    n_step")
    results, out = _grade_sections_4_5_7(tmp_path, source)
    assert failed(results) == ["7.8"], out
    assert "must use its seed" in out["7.8"], out


def test_a_training_that_raises_at_both_small_budgets_earns_no_training_marks(tmp_path):
    """No sign of training at all: the training check cannot be credited (a budget-branching cheat could raise)."""
    source = mutate(reference_module_source(), "    for _ in range(epochs):\n        for batch",
                    "    if epochs < 100:\n        raise ValueError('too few epochs')\n    for _ in range(epochs):\n"
                    "        for batch")
    results, out = _grade_sections_4_5_7(tmp_path, source)
    assert failed(results) == ["7.2", "7.8"], out
    assert "There is no sign that train_seq2seq trains" in out["7.2"] and "too few epochs" in out["7.2"], out
