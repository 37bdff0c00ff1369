"""The grader's evidence: the shared core's Evidence (hw8core/evidence.py) with the reference's oracle bound.

The core never names an oracle; the student kit passes its stored one, the grader this one (grader/oracle.py).
"""
from hw8core.evidence import TOLERANCES, CheckFailed, fail, passes  # noqa: F401 - the checks' vocabulary, re-exported
from hw8core.evidence import Evidence as CoreEvidence

from .oracle import ReferenceOracle


class Evidence(CoreEvidence):
    """Evidence whose oracle is the reference, run in this trusted process, unless another is given."""

    def __init__(self, probes, report=None, load_error=None, visible_only=False, seed=None, oracle=None):
        super().__init__(probes, report, load_error, visible_only, seed, oracle or ReferenceOracle())
