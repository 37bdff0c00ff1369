"""Section 2's probes (its checks: hw8core/checks/test_s2.py): section 1's plan, for srn_forward_tanh."""
from .s1 import plan_srn


def plan(p):
    plan_srn(p, 2, "srn_forward_tanh")
