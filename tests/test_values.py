"""The wire format of probes: to_spec/probe_spec and their inverses, as the student kit stores its probes."""
from dataclasses import fields, is_dataclass

import numpy as np
import pytest

from grader.probes import plan
from grader.values import (Probe, ResultOf, StudentModule, Tensor, TorchModule, called, from_spec, probe_from_spec,
                           probe_spec, to_spec)


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
    specs = [dict(probe_spec(p, arrays), section=p.section, hidden=p.hidden, timeout=p.timeout) for p in probes]
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


def test_the_called_function_is_named_as_the_student_knows_it():
    assert called(Probe("s1.hw", 1, "srn_forward")) == "srn_forward"
    assert called(Probe("s5.forward.rand0", 5, "@call", [StudentModule("CharRNN", {}, {})])) == "CharRNN.forward"
    assert called(Probe("s7.train.kit_logits", 7, "@call", [ResultOf("s7.train")])) == "Seq2Seq.forward"
    assert called(Probe("s4.train.kit_sums0", 4, "@each", ["add_binary", [ResultOf("s4.train")], []])) == "add_binary"
