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


# ------------------------------------------------------------------ sections 1 and 2: the states of the SRN
from hw8core.checks.srn import check_random  # noqa: E402
from grader.oracle import ReferenceOracle  # noqa: E402
from hw8core.wire import Probe  # noqa: E402


class _SrnEvidence:
    """What check_random reads: the probe, the student's (states, outputs), the reference's, the oracle's variants."""

    def __init__(self, probe, answer):
        self._probe, self._answer, self.oracle = probe, answer, ReferenceOracle()

    def probe(self, pid):
        return self._probe

    def answer(self, pid):
        return self._answer

    def expected(self, pid):
        return self.oracle.expected(self._probe)

    def tol(self, kind):
        return TOLERANCES[kind]


def _srn_message(section, bug):
    """check_random's message for an answer made from the right one (or from the probe) by bug(states, probe)."""
    rng = np.random.default_rng(7)
    T, I, H, O = 5, 3, 4, 2
    args = [rng.normal(size=(T, I)), rng.normal(size=(H, I)) * 0.7, rng.normal(size=(H, H)) * 0.7,
            rng.normal(size=(O, H))]
    fn = {1: reference.srn_forward, 2: reference.srn_forward_tanh}[section]
    probe = Probe(f"s{section}.rand0", section, fn.__name__, args)
    states, _ = fn(*args)
    got = bug(states.copy(), args)
    with pytest.raises(CheckFailed) as exc:
        check_random(_SrnEvidence(probe, (got, got @ args[3].T)), probe.id)
    return exc.value.feedback.en


def _recurrence(args, act):
    inputs, W_xh, W_hh = args[:3]
    h, out = np.zeros(W_hh.shape[0]), []
    for x in inputs:
        h = act(W_xh @ x + W_hh @ h)
        out.append(h)
    return np.array(out)


def _late(states, args):  # the state saved before the update: states[t] = h(t-1)
    return np.vstack([np.zeros_like(states[:1]), states[:-1]])


@pytest.mark.parametrize("section", [1, 2])
def test_states_one_step_late_are_called_an_off_by_one_in_time(section):
    msg = _srn_message(section, _late)
    assert "one step late in time" in msg and "activation" not in msg and "with tanh" not in msg, msg


def test_states_one_step_early_are_called_so():
    msg = _srn_message(1, lambda states, args: np.vstack([states[1:], states[-1:]]))
    assert "one step early in time" in msg, msg


def test_tanh_in_section_1_is_named():
    msg = _srn_message(1, lambda states, args: _recurrence(args, np.tanh))
    assert "these are the states with tanh; this section's network uses no activation" in msg, msg


def test_sigmoid_or_no_activation_in_section_2_is_named():
    msg = _srn_message(2, lambda states, args: _recurrence(args, lambda z: 1 / (1 + np.exp(-z))))
    assert "these are the states with sigmoid; this section's network uses tanh" in msg, msg
    msg = _srn_message(2, lambda states, args: _recurrence(args, lambda z: z))
    assert "these are the states with no activation" in msg, msg


@pytest.mark.parametrize("section", [1, 2])
def test_an_unrelated_state_bug_gets_no_hint(section):
    act = (lambda z: z) if section == 1 else np.tanh
    for bug in (lambda states, args: 2 * states,  # a factor
                lambda states, args: _recurrence([args[0], args[1], args[2].T], act),  # W_hh transposed
                lambda states, args: _recurrence([args[0], args[1], 0 * args[2]], act)):  # no recurrence
        msg = _srn_message(section, bug)
        assert "(" not in msg, msg  # the plain "should be ... but is ..." message, with no hint in brackets
