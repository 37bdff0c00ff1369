"""Section 2's probes, beside its checks (test_s2.py): the plan of sections 1 and 2 is srn.plan_srn."""
from .srn import plan_srn


def plan(p):
    plan_srn(p, 2, "srn_forward_tanh")
