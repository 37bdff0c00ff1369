"""Sections 1 and 2 share their checks: the NumPy SRN without and with tanh."""
import numpy as np

from .common import all_pass, expect_all_unmodified, expect_array, expect_close, require_follows_inputs, unpack, within

HW_STATES = np.array([[2., 2.], [6., 6.], [16., 16.]])  # printed as state_t in section 1
HW_OUTPUTS = {1: np.array([[4., 4.], [12., 12.], [32., 32.]]),  # printed output_y in section 1
              2: np.array([[1.9280551601516338] * 2, [1.9984510891336251] * 2, [1.9999753470497836] * 2])}
HW_TOL = 1e-12  # the homework prints 17 significant digits; the reference matches them to 2e-16


def srn_result(evidence, pid):
    p = evidence.probe(pid)
    states, outputs = unpack(evidence.answer(pid), ["states", "outputs"], p.fn)
    T, H, O = p.args[0].shape[0], p.args[2].shape[0], p.args[3].shape[0]
    expect_array(states, "states", (T, H))
    expect_array(outputs, "outputs", (T, O))
    return states, outputs


def states_hint(evidence, pid, got, want, tol):
    """A hint only where the evidence shows it (issue 17, item 4): the states are the expected ones one step late or
    early (an off-by-one in time), or the states of the same recurrence under another activation. Otherwise none."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if len(want) >= 2 and not within(want[1:], want[:-1], tol):
        if within(got[1:], want[:-1], tol):
            return (" (states[t] holds what states[t-1] should be: one step late in time)",
                    "（states[t] 存的是 states[t-1] 应有的值：时间上晚了一步）")
        if within(got[:-1], want[1:], tol):
            return (" (states[t] holds what states[t+1] should be: one step early in time)",
                    "（states[t] 存的是 states[t+1] 应有的值：时间上早了一步）")
    variants = getattr(evidence.oracle, "srn_variants", None)
    if variants is not None:
        for name, states in variants(evidence.probe(pid)).items():
            if within(got, states, tol) and not within(want, states, tol):
                own = "no activation" if evidence.probe(pid).section == 1 else "tanh"
                return (f" (these are the states with {name}; this section's network uses {own})",
                        f"（这是使用 {name} 时的状态；本节的网络使用 {own}）")
    return "", ""


def check_random(evidence, pid):
    section = evidence.probe(pid).section
    states, outputs = srn_result(evidence, pid)
    want_states, want_outputs = evidence.expected(pid)
    tol = evidence.tol(f"s{section}")
    expect_close(states, want_states, tol, "states", *states_hint(evidence, pid, states, want_states, tol))
    expect_close(outputs, want_outputs, evidence.tol(f"s{section}"), "outputs")


def check_homework(evidence, section, fn):
    states, outputs = srn_result(evidence, f"s{section}.hw")
    ctx_en, ctx_zh = " with the homework's inputs [[1,1],[1,1],[2,2]] and all weights 1", "（作业的输入与全 1 权重）"
    hint_en, hint_zh = states_hint(evidence, f"s{section}.hw", states, evidence.expected(f"s{section}.hw")[0], HW_TOL)
    if section == 1:
        expect_close(states, HW_STATES, HW_TOL, "states", ctx_en + hint_en, ctx_zh + hint_zh)
    else:  # the printed state_t before steps 2 and 3; the last state follows from the same recurrence
        expect_close(states[:2], [[0.9640275800758169] * 2, [0.9992255445668126] * 2], HW_TOL, "states",
                     ctx_en + hint_en, ctx_zh + hint_zh)
    expect_close(outputs, HW_OUTPUTS[section], HW_TOL, "outputs", ctx_en, ctx_zh)
    require_follows_inputs(evidence, evidence.ids(f"s{section}.rand"), fn)


def check_unmodified(evidence, section, fn):
    pids = [f"s{section}.hw"] + evidence.ids(f"s{section}.rand")
    expect_all_unmodified(evidence, pids)
    require_follows_inputs(evidence, evidence.ids(f"s{section}.rand"), fn)  # a constant modifies nothing: no credit


def check_all_random(evidence, section):
    all_pass(evidence, check_random, evidence.ids(f"s{section}.rand"))
