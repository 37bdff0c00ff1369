"""Section 2's probes, beside its checks (test_s2.py): section 1's plan, for srn_forward_tanh."""
from .plan_s1 import plan_srn


def plan(p):
    plan_srn(p, 2, "srn_forward_tanh")
