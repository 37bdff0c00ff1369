"""Sections side by side (hw8core/parallel.py) change nothing about a grade: results.json of a parallel run equals the
serial run's, test by test (verdicts, messages, scores, the loading report and the printed output), at two seeds.

What may differ, and is normalised here: execution_time, and the address space in the rlimits layer's detail (each
child side by side gets its share of the run's memory cap).
"""
import json
import re

import pytest

from grader.grade import grade
from hw8core.parallel import degree, split
from grader.probes import plan
from hw8core.supervisor import Limits

from conftest import (ROOT, assert_no_internal_error, full_marks, mutate, orphans, reference_module_source,
                      section_scores, write_submission)
from corpus import CORRECT, MUTANTS, write

SEEDS = (0, 3)
LIMITS = dict(cell_timeout=20.0, total_timeout=400.0, memory_bytes=3 * 2 ** 30)


def normalised(results):
    results = json.loads(json.dumps(results))
    rlimits = results["extra_data"].get("confinement", {}).get("rlimits", {})
    if "detail" in rlimits:
        rlimits["detail"] = re.sub(r"address space \d+ MiB", "address space N MiB", rlimits["detail"])
    text = json.dumps(results, sort_keys=True, indent=1, ensure_ascii=False)
    return re.sub(r'"execution_time": [0-9.e-]+', '"execution_time": 0', text)


def serial_and_parallel(path, seed, sections=None, **limits):
    """(serial results, parallel results, the parallel run's Evidence) of one submission at one seed."""
    serial, _ = grade(path, seed=seed, limits=Limits(**{**LIMITS, **limits}, jobs=1), sections=sections)
    parallel, evidence = grade(path, seed=seed, limits=Limits(**{**LIMITS, **limits}, jobs=2), sections=sections)
    return serial, parallel, evidence


PRINTS = {  # each training prints when it starts, with its budget, and the top level prints: the output's order shows
    "def train_binary_adder(iterations=10000, hidden_dim=16, alpha=0.1, seed=0, width=8):\n":
        "def train_binary_adder(iterations=10000, hidden_dim=16, alpha=0.1, seed=0, width=8):\n"
        "    print('adder', iterations, hidden_dim, alpha, width)\n",
    "def train_char_lm(epochs=15, lr=0.05, seed=0):\n": "def train_char_lm(epochs=15, lr=0.05, seed=0):\n"
                                                        "    print('char-LM', epochs, lr)\n",
    "def train_seq2seq(seq_data=SEQ_DATA, epochs=5000, lr=0.001, batch_size=3, seed=0):\n":
        "def train_seq2seq(seq_data=SEQ_DATA, epochs=5000, lr=0.001, batch_size=3, seed=0):\n"
        "    print('seq2seq', epochs, lr, batch_size)\n",
}


def submissions(tmp_path):
    mutant = {name: write_submission(tmp_path / name, mutate(reference_module_source(), *MUTANTS[name][2:]))
              for name in ("s4_gradient_sign", "s7_n_step_ignored")}
    prints = "print('top level')\n" + reference_module_source()
    for old, new in PRINTS.items():
        prints = mutate(prints, old, new)
    return {"example": ROOT / "examples" / "reference" / "hw8.ipynb",
            "corpus_vectorised": write(CORRECT["vectorised"](), tmp_path / "vectorised"),
            "prints_while_training": write_submission(tmp_path / "prints", prints),
            **mutant}


@pytest.mark.parametrize("name", ["example", "corpus_vectorised", "prints_while_training", "s4_gradient_sign",
                                  "s7_n_step_ignored"])
def test_parallel_results_equal_serial_at_two_seeds(name, tmp_path, request):
    if name != "prints_while_training":  # its output's order with the other-seed trainings split between the children
        request.getfixturevalue("without_other_seed_trainings")  # the rest: conftest's reasons
    path = submissions(tmp_path)[name]
    # A mutant is graded on its own section and section 1 (two groups side by side; CI's time: the other trainings
    # add nothing to what a mutant shows); the correct submissions on every section.
    sections = (1, MUTANTS[name][0]) if name in MUTANTS else None
    for seed in SEEDS:
        serial, parallel, evidence = serial_and_parallel(path, seed, sections=sections)
        assert_no_internal_error(parallel, f"{name} at seed {seed}, side by side")
        assert evidence.report.side_by_side == 2, "the parallel run did not run side by side"
        assert normalised(parallel) == normalised(serial), f"{name} at seed {seed}: parallel != serial"
        scores = section_scores(serial)
        if name in MUTANTS:  # a real grade, not two equal empty ones: the mutant loses points in its own section
            section = MUTANTS[name][0]
            assert scores[section] < full_marks()[section]
            assert set(scores) == {1, section} and scores[1] == full_marks()[1]
        else:
            assert scores == full_marks(), f"{name} at seed {seed}: {scores}"
        if name == "prints_while_training":  # printed by the trainings in two children, put back in serial order
            printed = next(t["output"] for t in parallel["tests"] if t["number"] == "0.2")
            assert printed.startswith("top level\nadder 17000") and printed.count("top level") == 1
            assert printed.index("adder") < printed.index("char-LM") < printed.index("seq2seq")
    assert not orphans()


HANG_AND_CRASH = {
    # section 2's function never returns; section 5's predict ends the Python process
    "def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):\n":
        "def srn_forward_tanh(inputs, W_xh, W_hh, W_hy, h0=None):\n    while True:\n        pass\n",
    "def predict(model, text=\"hello\"):\n": "def predict(model, text=\"hello\"):\n    import os\n    os._exit(3)\n",
}


def test_a_hang_and_a_crash_cost_their_sections_only_side_by_side_as_serially(tmp_path, without_other_seed_trainings):
    source = reference_module_source()
    for old, new in HANG_AND_CRASH.items():
        source = mutate(source, old, new)
    path = write_submission(tmp_path / "hang", source)
    # Every limit scales, the trainings' too: at 0.3 the adder's had 9 s (it takes 4.1 s quiet) and ran out once in a
    # full test run beside other work (section 4 at 15 of 20 in one mode); 0.5 gives it 15 s, the hang costs 5 s.
    serial, parallel, evidence = serial_and_parallel(path, SEEDS[0], timeout_scale=0.5)
    assert normalised(parallel) == normalised(serial)
    scores, full = section_scores(parallel), full_marks()
    assert scores[2] < full[2] and scores[5] < full[5]
    assert {n: scores[n] for n in (1, 3, 4, 7)} == {n: full[n] for n in (1, 3, 4, 7)}
    assert evidence.report.side_by_side == 2
    assert evidence.report.restarts >= 2  # the hang and the crash each ended their own group's child
    assert not orphans()


def test_degree_follows_the_machine_the_memory_cap_and_the_request(monkeypatch):
    import hw8core.parallel as par
    GIB = 2 ** 30
    # Gradescope's image: 0.5 vCPU, 768 MB; cap 0.8 GiB (autograder/setup.sh). One child, even when asked for four.
    monkeypatch.setattr(par, "cores", lambda: 0.5)
    monkeypatch.setattr(par, "memory_available", lambda: 700 * 2 ** 20)
    assert degree(6, int(0.8 * GIB))[0] == 1 and degree(6, int(0.8 * GIB), jobs=4)[0] == 1
    # A TA's laptop: 4 cores, 8 GiB free, the default cap of 3 GiB for every child: two fit, whatever is asked.
    monkeypatch.setattr(par, "cores", lambda: 4)
    monkeypatch.setattr(par, "memory_available", lambda: 8 * GIB)
    assert degree(6, 3 * GIB)[0] == 2 and degree(6, 3 * GIB, jobs=8)[0] == 2
    assert degree(6, 3 * GIB, jobs=1)[0] == 1
    assert degree(1, 3 * GIB, jobs=2)[0] == 1  # one section: nothing to put side by side
    assert degree(6, 3 * GIB, jobs=2, slots=1)[0] == 1  # one sandbox user: one child at a time
    # The kit's cap (the machine's RAM) is split, never below what a child needs to import torch.
    assert degree(6, int(0.8 * GIB), jobs=4, split_cap=True)[0] == 1
    assert degree(6, 3 * GIB, jobs=8, split_cap=True)[0] == 3
    assert degree(6, 8 * GIB, split_cap=True)[0] == 4


def test_every_grader_child_keeps_the_whole_memory_cap():
    """Whether a submission fits in memory never depends on the degree (a child of a 2-way run used to get half)."""
    from hw8core.parallel import run_groups
    from hw8core.supervisor import Limits
    seen = []

    class _Run:
        def __init__(self, probes, limits):
            seen.append(limits.memory_bytes)

        def run(self):
            raise KeyboardInterrupt  # the limits are what this test needs; nothing is run

    limits = Limits(memory_bytes=3 * 2 ** 30)
    with pytest.raises(KeyboardInterrupt):
        run_groups(_Run, plan(0), limits, 2, lambda p: 1.0)
    assert seen == [3 * 2 ** 30] * 2
    seen.clear()
    with pytest.raises(KeyboardInterrupt):
        run_groups(_Run, plan(0), limits, 2, lambda p: 1.0, split_cap=True)
    assert seen == [3 * 2 ** 30 // 2] * 2


def test_groups_are_whole_sections_in_plan_order():
    probes = plan(0)
    order = [p.id for p in probes]
    groups = split(probes, 2, lambda p: 3.0 if p.fn.startswith("train") else 0.01)
    assert sorted(p.id for g in groups for p in g) == sorted(order)  # every probe once
    for g in groups:
        assert [p.id for p in g] == [i for i in order if i in {p.id for p in g}]  # the plan's order within a group
    sections = [{p.section for p in g} for g in groups]
    assert not sections[0] & sections[1]  # no section is split when none outweighs an even share
