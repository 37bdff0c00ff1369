"""Issue 20, in the scoring process alone: a student's value in any form that behaves the same is accepted, and
anything else gets a message naming what differs, never an internal error. End to end, the homework's own code
(corpus.homework_code, tests/test_fairness.py) is the case that found it: liner.bias.data = torch.Tensor([0.0])."""
import numpy as np
import pytest
import torch

from hw8core.checks import models
from hw8core.checks.common import same_value
from hw8core.checks.test_s7 import check_make_data
from grader.evidence import CheckFailed, Evidence
from hw8core.supervisor import RunReport
from hw8core.wire import Answer, ModuleValue, Probe, TensorValue

import reference


def module_value(module):
    """A module as the wire brings it back (grader/child.py's Encoder._module, the parts the checks read)."""
    config = {k: v for k, v in vars(module).items() if k in ("input_size", "hidden_size", "num_layers", "in_features",
                                                             "out_features", "nonlinearity", "bias")}
    state = {k: TensorValue(v.detach().numpy().copy(), "float32") for k, v in module.state_dict().items()}
    return ModuleValue(type(module).__name__, type(module).__name__, config, state)


def homework_linear(hidden=2, out=2):
    liner = torch.nn.Linear(hidden, out)
    liner.weight.data = torch.ones(out, hidden)
    liner.bias.data = torch.Tensor([0.0])  # the homework's line: shape (1,)
    return liner


def test_same_behaviour_is_the_shape_or_a_bias_that_broadcasts_to_it():
    assert models.same_behaviour("bias", (1,), (2,)) and models.same_behaviour("bias_ih_l0", (), (5,))
    assert models.same_behaviour("weight", (2, 3), (2, 3))
    assert not models.same_behaviour("bias", (3,), (2,))  # does not broadcast
    assert not models.same_behaviour("bias", (2, 1), (2,))  # broadcasts to (2, 2): another output shape
    assert not models.same_behaviour("weight", (1, 3), (2, 3))  # a weight multiplies: its shape is the module's
    assert not models.same_behaviour("fc.weight", (1,), (4, 8))


def test_the_homeworks_linear_is_accepted_and_runs_as_built():
    value = module_value(homework_linear())
    models.expect_torch_shapes(value, "Linear", "linear")  # passes: (1,) broadcasts to (2,)
    rebuilt = models.torch_module("Linear", value)
    assert tuple(rebuilt.bias.shape) == (1,)  # the student's own shape, as the student's module has it
    x = torch.randn(3, 2)
    assert torch.equal(rebuilt(x), homework_linear()(x)) and torch.equal(rebuilt(x), x.sum(1, keepdim=True).expand(3, 2))
    models.expect_torch_shapes(module_value(torch.nn.Linear(2, 3, bias=False)), "Linear", "linear")  # adds nothing


def test_a_shape_that_behaves_otherwise_is_named():
    wrong_weight = homework_linear(3, 4)
    wrong_weight.weight.data = torch.Tensor([[1, 1], [1, 1]])  # the homework's 2 x 2, whatever the sizes
    with pytest.raises(CheckFailed) as exc:
        models.expect_torch_shapes(module_value(wrong_weight), "Linear", "linear")
    assert exc.value.feedback.en == "linear.weight has shape (2, 2); nn.Linear(3, 4) has (4, 3)."
    wrong_bias = torch.nn.Linear(2, 2)
    wrong_bias.bias.data = torch.zeros(3)
    with pytest.raises(CheckFailed) as exc:
        models.expect_torch_shapes(module_value(wrong_bias), "Linear", "linear")
    assert exc.value.feedback.en == "linear.bias has shape (3,); nn.Linear(2, 2) has (2,)."
    rnn = module_value(torch.nn.RNN(2, 3, num_layers=2))
    del rnn.state["weight_hh_l1"]
    with pytest.raises(CheckFailed) as exc:
        models.expect_torch_shapes(rnn, "RNN", "rnn")
    assert exc.value.feedback.en == "rnn has no parameter weight_hh_l1; nn.RNN(2, 3, num_layers=2) has one of shape (3, 3)."
    models.expect_torch_shapes(module_value(torch.nn.RNN(2, 3, num_layers=2)), "RNN", "rnn")
    models.expect_torch_shapes(module_value(torch.nn.RNNCell(4, 3)), "RNNCell", "rnncell")


class _Shapes:
    def state_shapes(self, cls):
        return {k: tuple(v.shape) for k, v in reference.CharRNN().state_dict().items()}


def test_a_trained_models_broadcasting_bias_is_expanded_for_the_trusted_evaluation():
    model = reference.CharRNN()
    model.fc.bias.data = torch.Tensor([0.25])
    evidence = Evidence([], oracle=_Shapes())
    state = models.expect_state(evidence, "CharRNN", module_value(model), "the trained model")
    assert state["fc.bias"].shape == (4,) and np.all(state["fc.bias"] == 0.25)
    model.fc.bias.data = torch.zeros(3)
    with pytest.raises(CheckFailed, match=r"fc.bias should have shape \(4,\), but has \(3,\)"):
        models.expect_state(evidence, "CharRNN", module_value(model), "the trained model")


def test_an_argument_that_came_back_as_an_array_is_modified_not_an_error():
    assert same_value("man", "man") and not same_value(np.array([1.0, 2.0]), "man")
    assert not same_value(TensorValue(np.zeros(3, np.float32), "float32"), 4)


def test_make_data_with_an_index_out_of_the_alphabet_gets_a_message():
    pairs = [["man", "women"]]
    enc, dec_in, dec_out = reference.make_data(pairs)
    dec_out = dec_out.numpy().copy()
    dec_out[0, 2] = 99  # not a letter: the message shows it, and does not raise IndexError
    answer = (TensorValue(enc.numpy(), "float32"), TensorValue(dec_in.numpy(), "float32"), TensorValue(dec_out, "int64"))
    probe = Probe("s7.data.hw", 7, "make_data", [pairs])
    report = RunReport(namespace={"make_data": {"kind": "function"}}, answers={probe.id: Answer("ok", value=answer)})
    with pytest.raises(CheckFailed) as exc:
        check_make_data(Evidence([probe], report), probe.id)
    assert "should encode 'womenE', but encodes 'wo<99>enE'" in exc.value.feedback.en
