"""What the checks compare a submission with, in the grader: the reference, run in this trusted process.

Every check asks `evidence.oracle`, never `reference` itself, so the check modules (hw8core/checks/) also run in
the student kit, whose oracle answers the same questions from data stored when the kit was built and
from the student's own functions (student_kit/hw8check/stored_oracle.py). The grader's Evidence
(grader/evidence.py) passes this one in; nothing in hw8core names it.
"""
import numpy as np
import torch

import reference
from hw8core.checks.models import torch_module
from hw8core.homework import SEQ_DATA

from .criteria import PASS_ACCURACY, binary_adder_sums, char_lm_loss, sums_accuracy
from .expected import REFERENCE_CLASSES, expected, to_numpy


class ReferenceOracle:
    pass_accuracy = PASS_ACCURACY  # the adder's training criterion (reference/BUDGETS.md)

    def __init__(self):
        self._sums_of = {}  # training probe id -> its (128, 128) sums: computed once, asked for up to eight times

    def expected(self, probe):
        """The reference's answer to the probe, tensors as float64 NumPy arrays."""
        return to_numpy(expected(probe))

    def state_shapes(self, cls):
        """The homework model's parameters: name -> shape."""
        return {k: tuple(v.shape) for k, v in REFERENCE_CLASSES[cls]().state_dict().items()}

    def run_built(self, kind, net, linear, seq):
        """The modules a student built, run by the reference on seq: outputs (T, batch, out) as NumPy."""
        runner = reference.run_rnncell if kind == "RNNCell" else reference.run_rnn
        with torch.no_grad():
            _, outputs = runner(torch_module(kind, net), torch_module("Linear", linear), torch.tensor(seq))
        return outputs.numpy()

    def srn_variants(self, probe):
        """For feedback hints only: {name: states} of the SRN on the probe's inputs under the activations a student might
        have used instead of the section's own (section 1: none; section 2: tanh). The kit's oracle has none of this
        (it would show the recurrence), so its hints stay silent."""
        inputs, W_xh, W_hh = (np.asarray(a, np.float64) for a in probe.args[:3])
        h0 = probe.kwargs.get("h0", probe.args[4] if len(probe.args) > 4 else None)
        acts = {"no activation": lambda z: z, "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
                "relu": lambda z: np.maximum(z, 0)}
        own = "no activation" if probe.section == 1 else "tanh"
        out = {}
        for name, act in acts.items():
            if name == own:
                continue
            h = np.zeros(W_hh.shape[0]) if h0 is None else np.asarray(h0, np.float64)
            states = []
            for x in inputs:  # (input,)
                h = act(W_xh @ x + W_hh @ h)  # (hidden,)
                states.append(h)
            out[name] = np.array(states)  # (T, hidden)
        return out

    # The trained results, re-evaluated here: the student's numbers are not taken on trust.
    def _sums(self, evidence, pid):
        # binary_adder_sums is pinned to reference.add_binary, pair by pair, by tests/test_criteria.py
        if pid not in self._sums_of:
            self._sums_of[pid] = binary_adder_sums(_float64(evidence.answer(pid)))
        return self._sums_of[pid]

    def adder_accuracy(self, evidence, pid):
        return sums_accuracy(self._sums(evidence, pid))

    def adder_sum(self, evidence, pid, a, b):
        return int(self._sums(evidence, pid)[a, b])

    def char_lm(self, evidence, pid, state):
        """(loss, prediction for "hello") of the trained CharRNN whose checked state is given."""
        model = _loaded(reference.CharRNN(), state)
        return char_lm_loss(model), reference.predict(model)

    def translations(self, evidence, pid, state):
        model = _loaded(reference.Seq2Seq(), state)
        return {word: reference.translate(model, word) for word, _ in SEQ_DATA}


def _float64(weights):
    return {k: np.asarray(v, np.float64) for k, v in weights.items()}


def _loaded(model, state):
    model.load_state_dict({k: torch.from_numpy(np.asarray(v, np.float32).copy()) for k, v in state.items()})
    return model
