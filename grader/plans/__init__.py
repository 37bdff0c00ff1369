"""Each section's probes, one module per section (its checks are hw8core/checks/test_sN.py): plan(planner) adds them.

Grader-side: a plan draws random inputs and keeps the decisive ones, which takes the reference
(grader/probe_inputs.py). The student kit gets the visible probes as stored data instead.
"""
from . import s1, s2, s3, s4, s5, s7

PLANS = ((1, s1), (2, s2), (3, s3), (4, s4), (5, s5), (7, s7))  # in the order they draw from the run's one generator
