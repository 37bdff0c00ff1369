"""Section 1's probes, beside its checks (test_s1.py): the plan of sections 1 and 2 is srn.plan_srn."""
from .srn import plan_srn


def plan(p):
    plan_srn(p, 1, "srn_forward")
