"""The wire format of probes: to_spec/probe_spec and their inverses, as the student kit stores its probes."""
from dataclasses import fields, is_dataclass

import numpy as np
import pytest

from hw8core.child import ANSWER_KINDS, ARGUMENT_KINDS
from grader.probes import plan
from hw8core.wire import (Probe, ResultOf, StudentModule, Tensor, TorchModule, called, from_spec, probe_from_spec,
                          stored_spec, to_spec)


def kinds(spec):
    """Every "t" tag in a spec, nested ones too."""
    found = set()
    if isinstance(spec, dict):
        if isinstance(spec.get("t"), str):
            found.add(spec["t"])
        for v in spec.values():
            found |= kinds(v)
    elif isinstance(spec, list):
        for v in spec:
            found |= kinds(v)
    return found


def same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    if is_dataclass(a):
        return type(a) is type(b) and all(same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("seed", [0, 5, 2024])
def test_every_probe_of_a_run_round_trips(seed):
    probes = plan(seed)
    arrays = {}
    specs = [stored_spec(p, arrays) for p in probes]
    back = [probe_from_spec(s, arrays) for s in specs]
    assert all(same(a, b) for a, b in zip(probes, back))
    assert len(back) == len(probes) > 80


def test_every_argument_type_round_trips():
    rng = np.random.default_rng(0)
    values = [np.arange(6.).reshape(2, 3), Tensor(rng.normal(size=(2, 1)).astype(np.float32)),
              TorchModule("Linear", {"in_features": 2, "out_features": 1}, {"weight": np.ones((1, 2), np.float32)}),
              StudentModule("CharRNN", {}, {"fc.bias": np.zeros(4, np.float32)}), ResultOf("s5.train", 0),
              ResultOf("s7.train"), (1, "a", [2, 3]), [np.zeros(2), ResultOf("s4.train")], {"W": np.eye(2)},
              {"plain": [1, 2]}, 7, "word", None, [["man", "women"]], np.zeros((4, 2), np.int16)]
    arrays = {}
    specs = [to_spec(v, arrays) for v in values]
    assert all(same(v, from_spec(s, arrays)) for v, s in zip(values, specs)), [
        (v, from_spec(s, arrays)) for v, s in zip(values, specs) if not same(v, from_spec(s, arrays))]
    assert set().union(*map(kinds, specs)) == set(ARGUMENT_KINDS)  # every kind of the vocabulary, and no other


def test_the_called_function_is_named_as_the_student_knows_it():
    assert called(Probe("s1.hw", 1, "srn_forward")) == "srn_forward"
    assert called(Probe("s5.forward.rand0", 5, "@call", [StudentModule("CharRNN", {}, {})])) == "CharRNN.forward"
    assert called(Probe("s7.train.kit_logits", 7, "@call", [ResultOf("s7.train")])) == "Seq2Seq.forward"
    assert called(Probe("s4.train.kit_sums0", 4, "@each", ["add_binary", [ResultOf("s4.train")], []])) == "add_binary"


def test_every_answer_type_round_trips_through_the_child_and_back(tmp_path):
    """The child's half (Encoder, write_answer) and the parent's (read_answer, decode), on every kind of value."""
    import torch

    from hw8core import child
    from hw8core.wire import ForeignValue, ModuleValue, TensorValue, read_answer
    torch.manual_seed(0)
    linear = torch.nn.Linear(2, 3)
    cases = {"none": None, "bool": True, "int": -3, "float": 0.1, "str": "ohlol", "list": [1, [2.5, "x"]],
             "tuple": (1, "a"), "dict": {"k": np.arange(3)}, "f32": np.ones((2, 2), np.float32),
             "scalar": np.int64(7), "tensor": torch.arange(4.0).requires_grad_(), "module": linear,
             "other": object()}
    ns = {f"make_{k}": (lambda v=v: v) for k, v in cases.items()}
    seen = set()
    for name, value in cases.items():
        answer, enc = child.answer_probe({"id": name, "fn": f"make_{name}", "args": [], "kwargs": {}}, {}, ns)
        seen |= kinds(answer["result"])
        child.write_answer(str(tmp_path), name, answer, enc)
        got = read_answer(tmp_path, name)
        assert got.status == "ok", (name, got)
        v = got.value
        if name == "tensor":
            assert isinstance(v, TensorValue) and v.dtype == "float32" and v.requires_grad
            assert v.array.tolist() == [0.0, 1.0, 2.0, 3.0]
        elif name == "module":
            assert isinstance(v, ModuleValue) and v.torch_cls == "Linear" and v.config["out_features"] == 3
            assert np.array_equal(v.state["weight"].array, linear.weight.detach().numpy())
        elif name == "other":
            assert isinstance(v, ForeignValue) and v.cls == "builtins.object"
        elif name == "dict":
            assert list(v) == ["k"] and v["k"].tolist() == [0, 1, 2]
        elif name in ("f32", "scalar"):
            assert np.asarray(v).dtype == np.asarray(cases[name]).dtype and np.array_equal(v, cases[name])
        else:
            assert v == value and type(v) is type(value), (name, v)
    assert seen == set(ANSWER_KINDS)  # every kind of the vocabulary, and no other


def test_an_answer_of_unknown_kind_is_foreign_data_not_an_error():
    from hw8core.wire import ForeignValue, decode
    assert decode({"t": "pickle", "v": "..."}, {}) == ForeignValue("an answer of unknown kind 'pickle'")
    with pytest.raises(ValueError, match="unknown argument kind"):
        from_spec({"t": "pickle"}, {})


def test_both_halves_build_only_the_torch_modules_the_child_lists():
    """child.TORCH_MODULES is the one list: the parent refuses to send another class, the child to build one,
    and every listed class is built by both halves (the reference's materialise and the child's decoder)."""
    import torch
    from hw8core import child
    from grader.expected import materialise
    with pytest.raises(ValueError, match="Conv2d"):
        TorchModule("Conv2d", {}, {})
    with pytest.raises(ValueError, match="Conv2d"):
        child._decode_arg({"t": "torch_module", "cls": "Conv2d", "kwargs": {}, "state": {}}, {}, {})
    sizes = {"RNNCell": {"input_size": 2, "hidden_size": 3}, "RNN": {"input_size": 2, "hidden_size": 3},
             "Linear": {"in_features": 2, "out_features": 3}}
    assert set(sizes) == set(child.TORCH_MODULES)
    for name, kwargs in sizes.items():
        state = {k: v.detach().numpy() for k, v in getattr(torch.nn, name)(**kwargs).state_dict().items()}
        value = TorchModule(name, kwargs, state)
        arrays = {}
        built = child._decode_arg(to_spec(value, arrays), arrays, {})
        assert type(built) is type(materialise(value)) is getattr(torch.nn, name)
