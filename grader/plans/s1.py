"""Section 1's probes (its checks: hw8core/checks/test_s1.py); section 2 (s2.py) draws the same with tanh."""
from hw8core.homework import HW_INPUTS, ONES

from ..probe_inputs import N_RANDOM


def plan(p):
    plan_srn(p, 1, "srn_forward")


def plan_srn(p, section, fn):
    """The probes of sections 1 and 2: the homework's inputs, then random sizes, weights, inputs and h0."""
    p.add(f"s{section}.hw", fn, [HW_INPUTS, ONES, ONES, ONES], hidden=False)
    for k in range(N_RANDOM):
        T, I, H, O = (int(v) for v in p.rng.integers([2, 1, 2, 1], [7, 5, 6, 4]))  # T >= 2: the recurrence shows
        args = [p.rng.normal(size=(T, I)), p.rng.normal(size=(H, I)) * 0.6, p.rng.normal(size=(H, H)) * 0.6,
                p.rng.normal(size=(O, H))]
        kwargs = {} if k == 0 else {"h0": p.rng.normal(size=H)}
        p.add(f"s{section}.rand{k}", fn, args, kwargs)
