"""The graded training again at other seeds (issue 17; hw8core/checks/common.require_trains_at_another_seed).

The grader's plan trains each section at its budget at seed 0, then again at GRADED_AT_OTHER_SEEDS (hidden probes).
Each must pass the section's own criterion, and must not return the seed-0 result unless the tiny training shows the
seed ignored. The real plan and the real Evidence, with answers written in: no sandbox, no training. The criterion is
a stand-in that fails on the answer "untrained"; tests/test_fairness.py (the cheats stored_above_the_small_budgets)
and the mutation sample (two adder initialisations that pass at seed 0 only) grade the whole thing for real.
"""
import numpy as np
import pytest

from grader.evidence import Evidence
from grader.probes import GRADED_AT_OTHER_SEEDS, plan
from hw8core import probe_ids as P
from hw8core.checks.common import require_trains_at_another_seed
from hw8core.evidence import CheckFailed, fail
from hw8core.supervisor import RunReport
from hw8core.wire import Answer

FN = "train_binary_adder"


def _judge(evidence, pid):
    if isinstance(evidence.answer(pid), str):
        fail(f"{pid} did not train", f"{pid} 没有训练")


def _weights(seed):
    return {"W": np.random.default_rng(seed).normal(size=(2, 3))}


def _evidence(answers, visible_only=False):
    """Section 4's probes at probe seed 0; every training answer is its seed's weights unless `answers` says."""
    probes = [p for p in plan(0, through=4) if p.section == 4 and not (visible_only and p.hidden)]
    report = RunReport(namespace={FN: {"kind": "function"}})
    for p in probes:
        if p.fn == FN:
            value = answers.get(p.id, _weights(1000 * p.kwargs["seed"] + len(p.kwargs)))
            report.answers[p.id] = Answer("error", error={"message": "ValueError: no"}) if value is RAISES \
                else Answer("ok", value)
    return Evidence(probes, report, visible_only=visible_only, seed=0)


RAISES = object()
OTHERS = [P.train_other_seed("s4", seed) for seed in GRADED_AT_OTHER_SEEDS[FN]]


def _verdict(answers, visible_only=False):
    try:
        require_trains_at_another_seed(_evidence(answers, visible_only), "s4", FN, _judge)
    except CheckFailed as exc:
        return exc.feedback.en
    return None


def test_the_plan_trains_at_the_other_seeds_hidden_at_the_graded_budget():
    probes = {p.id: p for p in plan(0, through=4)}
    graded = probes[P.train("s4")]
    assert len(OTHERS) >= 1
    for pid in OTHERS:
        p = probes[pid]
        assert p.hidden and p.role == P.TRAIN_OTHER_SEED and p.kwargs["seed"] != graded.kwargs["seed"]
        assert {k: v for k, v in p.kwargs.items() if k != "seed"} == {k: v for k, v in graded.kwargs.items() if k != "seed"}


def test_a_right_training_passes():
    assert _verdict({}) is None


@pytest.mark.parametrize("pid", OTHERS)
def test_a_training_that_fails_at_one_other_seed_fails_there(pid):
    got = _verdict({pid: "untrained"})
    assert got is not None and f"at seed {pid.rsplit('seed', 1)[1]}: {pid} did not train" in got, got


def test_a_stored_result_at_every_budget_above_the_small_ones_fails():
    """The graded result at every seed is one stored result, while the tiny trainings follow their seeds."""
    stored = _weights(7)
    got = _verdict({P.train("s4"): stored, **{pid: stored for pid in OTHERS}})
    assert got is not None and "returns exactly what" in got and "two seeds give two results" in got, got


def test_a_training_that_ignores_its_seed_everywhere_keeps_this_check():
    """One result at every seed, the tiny training's too: an ignored seed (4.10's deduction), not a stored result."""
    one, tiny = _weights(7), _weights(8)
    answers = {P.train("s4"): one, **{pid: one for pid in OTHERS},
               P.tiny("s4"): tiny, P.tiny_other_seed("s4"): tiny}
    assert _verdict(answers) is None


def test_a_stored_result_with_a_raising_tiny_training_fails():
    stored = _weights(7)
    got = _verdict({P.train("s4"): stored, **{pid: stored for pid in OTHERS}, P.tiny("s4"): RAISES})
    assert got is not None and "it raised" in got, got


def test_the_student_kit_does_not_run_them():
    """Visible only (the kit's run): the hidden trainings are not planned, and the rule has nothing to say."""
    assert not any(p.role == P.TRAIN_OTHER_SEED for p in plan(0, visible_only=True))
    assert _verdict({pid: "untrained" for pid in OTHERS}, visible_only=True) is None
