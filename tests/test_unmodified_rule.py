"""The arguments-unmodified checks (hw8core/checks/common.expect_all_unmodified) judge the calls that returned, and
decide "nothing to judge" on the homework's own inputs only (role HOMEWORK, the same at every seed), so their
verdict never depends on which random shapes a seed drew (issue 17, item 5). No sandbox: a stand-in evidence."""
import numpy as np
import pytest

from hw8core import probe_ids as P
from hw8core.checks.common import expect_all_unmodified
from grader.evidence import CheckFailed
from hw8core.i18n import Msg
from hw8core.wire import Probe


class _Record:
    def __init__(self, args_after):
        self.args_after, self.kwargs_after = args_after, {}


class _Evidence:
    """Probes by id; `raised` lists the ids whose call raised, `modified` the ids whose first argument came back +1."""

    def __init__(self, ids, raised=(), modified=()):
        self._probes = {pid: Probe(pid, 1, "srn_forward", [np.zeros((3, 2))], role=ROLES.get(pid, P.RANDOM))
                        for pid in ids}
        self._raised, self._modified = set(raised), set(modified)

    def probe(self, pid):
        return self._probes[pid]

    def answer(self, pid):
        if pid in self._raised:
            raise CheckFailed(Msg(f"srn_forward raised at {pid}", f"srn_forward 在 {pid} 出错"))
        return None

    def answer_record(self, pid):
        self.answer(pid)
        before = self._probes[pid].args[0]
        return _Record([before + 1 if pid in self._modified else before.copy()])


IDS = ["s1.hw", "s1.rand0", "s1.rand1", "s1.rand2"]
ROLES = {"s1.hw": P.HOMEWORK}  # the plan's roles: the homework's own inputs, then random ones


def _verdict(**kw):
    try:
        expect_all_unmodified(_Evidence(IDS, **kw), IDS)
        return "pass"
    except CheckFailed as exc:
        return exc.feedback.en


def test_calls_that_raised_are_not_charged_twice():
    assert _verdict(raised=["s1.rand0", "s1.rand2"]) == "pass"  # issue 20: w1 ... w8 raise at other sizes


def test_a_modified_argument_in_any_returned_call_fails():
    assert "modified its argument number 1" in _verdict(modified=["s1.rand1"])
    assert "modified its argument number 1" in _verdict(raised=["s1.rand0"], modified=["s1.rand1"])


@pytest.mark.parametrize("raised_at_this_seed", [[], ["s1.rand0"], ["s1.rand0", "s1.rand1", "s1.rand2"]])
def test_the_verdict_does_not_depend_on_which_random_calls_raised(raised_at_this_seed):
    """The homework's call returned and modified nothing: a pass, whatever the random shapes did (before, every random
    call raising at one seed failed the check there only: a seed lottery in the CI sample of make mutation)."""
    assert _verdict(raised=raised_at_this_seed) == "pass"


@pytest.mark.parametrize("raised_at_this_seed", [[], ["s1.rand0", "s1.rand1", "s1.rand2"]])
def test_no_call_on_the_homeworks_inputs_returned_fails_at_every_seed(raised_at_this_seed):
    assert "raised at s1.hw" in _verdict(raised=["s1.hw"] + raised_at_this_seed)
