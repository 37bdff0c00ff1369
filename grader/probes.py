"""The probes: which submission function is called with which inputs, and what each is for (Probe.role).

Visible probes use the homework's own inputs. Hidden probes are drawn at grading time from a
seeded generator: random sizes, weights, inputs, h0 and words. A probe carries inputs only;
the expected values are computed in the scoring process by the checks, with the reference.
Each section's plan is grader/plans/sN.py; what they draw with is grader/probe_inputs.py.
"""
import numpy as np

from hw8core import probe_ids as P
from hw8core.homework import SEQ_DATA
from hw8core.wire import Probe

from .plans import PLANS

TRAIN_SEED, OTHER_SEED = 0, 1  # within the seeds over which the budgets were measured (reference/BUDGETS.md)
# Budgets at which the reference is plainly untrained, for every seed measured (by hand with python -c;
# tests/test_training_rule.py re-measures it at the two seeds used):
# the adder after 20 iterations adds at most 11.6% of pairs (seeds 0-49; pass: 99%); the char-LM after
# 1 epoch has loss >= 0.86 (seeds 0-49; pass: < 0.05); seq2seq after 1 epoch translates 0 of 6 (seeds 0-19).
TINY_BUDGET = {"train_binary_adder": 20, "train_char_lm": 1, "train_seq2seq": 1}
# A second small budget, at which a training with a progress line every budget // 10 steps runs (at the tiny one it
# divides by zero), still far from trained: its result must not be the graded training's (stored results). Measured
# as for TINY_BUDGET (reference/budgets.json's tables): the adder after 1000 iterations adds at most 2.0% of pairs
# (seeds 0-49); the char-LM after 10 epochs passes at 5 seeds of 50, which is why its result is compared with the
# graded one and not judged untrained; seq2seq after 10 epochs translates 0 of 6 (after 100: 0/6, seeds 0-19).
SMALL_BUDGET = {"train_binary_adder": 1000, "train_char_lm": 10, "train_seq2seq": 10}
# The tiny training again with one hyperparameter changed from the graded call's: a training that ignores an argument
# (uses its default or the homework's global instead) returns the same result, which a right one cannot
# (make mutation found each of these ignored at full marks). Each value is one the reference trains with.
HYPERPARAMETER_TWINS = {
    "train_binary_adder": {"alpha": 0.5, "hidden_dim": 5, "width": 6},
    "train_char_lm": {"lr": 0.2},
    # seq_data: the pairs reversed, black -> dark: the longest words (5 letters) are then all paired with shorter ones,
    # so n_step taken as the longest pair's shorter word (max of min: 4) is not the longest word (make mutation's last
    # seq2seq survivor). Six pairs, every word within the homework's n_step of 5: the homework's own code pads to 5
    # and builds h0 for whole batches (6 pairs in batches of 2 or 3)
    "train_seq2seq": {"lr": 0.01, "batch_size": 2,
                      "seq_data": [[t, "dark" if w == "black" else w] for w, t in SEQ_DATA]},
}

# The seeds at which the graded training runs again, at its budget (besides TRAIN_SEED). tests/differential.py calls a
# training mutant equivalent only if it passes at the graded budget at seeds 0, 1 and 2; make mutation found three
# adder mutants (initialisations) that pass at seed 0 but not at 1 or 2 (at seeds 0-9 each fails at one seed: 1, 2
# and 2), and none in the char-LM or seq2seq: the adder runs at both, the others at seed 1 (a stored result is the
# same at every seed). Their cost, measured with time.process_time in one process at 133891e: 3.3 s of CPU for the
# adder, 1.3 s for the char-LM, 1.9 s for seq2seq.
GRADED_AT_OTHER_SEEDS = {"train_binary_adder": (1, 2), "train_char_lm": (1,), "train_seq2seq": (1,)}


class Planner:
    """Draws a run's probes in order from one seeded generator; each section's plan (grader/plans/sN.py) adds its own,
    while `section` is that section's number."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.probes = []
        self.section = None

    def add(self, pid, fn, args=(), kwargs=None, hidden=True, role=None, **kw):
        """One probe. Its role (hw8core/probe_ids.py) is what the checks select it by; unless given, a visible probe
        is on the homework's own inputs (P.HOMEWORK) and a hidden one on random inputs (P.RANDOM)."""
        role = role or (P.RANDOM if hidden else P.HOMEWORK)
        self.probes.append(Probe(pid, self.section, fn, list(args), kwargs or {}, hidden, role=role, **kw))

    def add_training(self, section, fn, budget_key, budget, kwargs):
        """The graded training at the budget, the same at small and tiny budgets and with twins (training must follow
        its budget, its seed and its arguments: stored parameters earn nothing), then the graded one at other seeds.
        The seeds are fixed, not drawn: whether a training passes must not depend on the probe seed."""
        self.add(P.train(section), fn, kwargs={budget_key: budget, **kwargs, "seed": TRAIN_SEED}, hidden=False,
                 seed=TRAIN_SEED, role=P.TRAIN)
        self.add(P.small(section), fn, kwargs={budget_key: SMALL_BUDGET[fn], **kwargs, "seed": TRAIN_SEED}, hidden=False,
                 seed=TRAIN_SEED, role=P.SMALL)
        for pid, seed, role in ((P.tiny(section), TRAIN_SEED, P.TINY), (P.tiny_other_seed(section), OTHER_SEED,
                                                                         P.TINY_OTHER_SEED)):
            self.add(pid, fn, kwargs={budget_key: TINY_BUDGET[fn], **kwargs, "seed": seed}, hidden=False, seed=seed,
                     role=role)
        # The same call as the tiny one, after the global generators are seeded otherwise: a training that does not
        # seed from its argument (and so leans on whatever state the generators are in) gives another result.
        self.add(P.reseeded(section), fn, kwargs={budget_key: TINY_BUDGET[fn], **kwargs, "seed": TRAIN_SEED},
                 hidden=False, seed=OTHER_SEED, role=P.RESEEDED)
        for key, value in HYPERPARAMETER_TWINS[fn].items():
            self.add(P.tiny_with(section, key), fn,
                     kwargs={budget_key: TINY_BUDGET[fn], **kwargs, key: value, "seed": TRAIN_SEED}, hidden=False,
                     seed=TRAIN_SEED, role=P.TINY_WITH)
        # The graded training again at other seeds (hidden: the student kit does not run them, so its data does not
        # name them). Each must pass as well: an initialisation that trains at some seeds only, and a result stored for
        # the graded budget, returned whatever the seed, fail there. The reference passes at every seed 0-49
        # (reference/BUDGETS.md).
        for seed in GRADED_AT_OTHER_SEEDS[fn]:
            self.add(P.train_other_seed(section, seed), fn, kwargs={budget_key: budget, **kwargs, "seed": seed},
                     hidden=True, seed=seed, role=P.TRAIN_OTHER_SEED)


def plan(seed, visible_only=False, through=None):
    """All probes of a run, in order: each section's plan (grader/plans/sN.py; its checks are hw8core/checks/test_sN.py).
    The same seed always gives the same probes. `through=N` stops after section N: sections draw in order
    from one generator, so the probes up to N are the same as in the whole plan, without the cost of the
    later ones (section 7's plan alone takes about 55 ms, searching for decisive random words)."""
    planner = Planner(seed)
    for number, section in PLANS:
        if through is not None and number > through:
            break
        planner.section = number
        section.plan(planner)
    probes = planner.probes
    if visible_only:
        probes = [p for p in probes if not p.hidden]
    return probes
