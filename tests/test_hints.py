"""Feedback hints appear only when the evidence shows them (issue 17, item 4): each is triggered by its own bug and
stays silent on an unrelated one. The checks are called directly on answers built here, with the reference's
expected values; no sandbox."""
import numpy as np
import pytest

import reference
from hw8core.checks.test_s4 import check_gradients
from grader.evidence import CheckFailed, TOLERANCES
from grader.probe_inputs import original_adder_weights


class _Evidence:
    """What check_gradients reads: one probe's answer, the reference's expected value, the tolerance."""

    def __init__(self, answer, want):
        self._answer, self._want = answer, want

    def answer(self, pid):
        return self._answer

    def expected(self, pid):
        return self._want

    def tol(self, kind):
        return TOLERANCES[kind]


def _message(grads):
    w = original_adder_weights()
    want = reference.binary_adder_gradients(w, 4, 73)  # the homework's probe s4.grad.hw
    with pytest.raises(CheckFailed) as exc:
        check_gradients(_Evidence(grads(want), want), "s4.grad.hw")
    return exc.value.feedback.en


def test_a_negated_gradient_is_called_a_sign():
    assert "the sign is flipped" in _message(lambda want: {k: -v for k, v in want.items()})


def test_a_transposed_gradient_is_called_a_transpose():
    msg = _message(lambda want: {**want, "W_hh": want["W_hh"].T.copy()})
    assert "transpose" in msg and "sign" not in msg


def test_a_wrong_gradient_gets_no_hint():
    for bug in (lambda want: {k: 2 * v for k, v in want.items()},  # a factor of 2 (0.5 dropped from L's derivative)
                lambda want: {**want, "W_xh": want["W_xh"] + 0.1}):
        msg = _message(bug)
        assert "sign" not in msg and "transpose" not in msg and "-dL/dW" not in msg, msg
