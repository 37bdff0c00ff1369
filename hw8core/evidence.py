"""What the checks see: the evidence of one graded run (its probes, the submission's answers, and the oracle to
compare them with, passed in by the product that runs the checks), and CheckFailed, the one way a check fails."""
import json
from pathlib import Path

from .i18n import Msg
from .wire import called

TOLERANCES = json.loads((Path(__file__).with_name("tolerances.json")).read_text())["tolerance"]


class CheckFailed(AssertionError):
    """A failed check; .feedback is what the student reads."""

    def __init__(self, msg):
        super().__init__(msg.en)
        self.feedback = msg  # not .msg: pytest reads an AssertionError's .msg itself


def fail(en, zh):
    raise CheckFailed(Msg(en, zh))


class Evidence:
    """The `evidence` fixture of every check: answers by probe id, each turned into a plain CheckFailed when missing."""

    def __init__(self, probes, report=None, load_error=None, visible_only=False, seed=None, oracle=None):
        self.probes = {p.id: p for p in probes}
        self.report = report
        self.load_error = load_error  # a Msg when the submission could not be loaded at all
        self.visible_only = visible_only
        self.seed = seed
        self._oracle = oracle
        self._expected = {}

    @property
    def oracle(self):
        """What the checks compare with, as passed in: the reference in the grader (grader/oracle.py, which
        grader.evidence.Evidence passes), stored data and the student's own functions in the student kit."""
        if self._oracle is None:
            raise RuntimeError("this Evidence was made without an oracle, and a check asked for one")
        return self._oracle

    def expected(self, pid):
        """The right answer to probe pid (tensors as float64 NumPy arrays), computed once per run."""
        if pid not in self._expected:
            self._expected[pid] = self.oracle.expected(self.probes[pid])
        return self._expected[pid]

    def tol(self, kind):
        return TOLERANCES[kind]

    def probe(self, pid):
        return self.probes[pid]

    def ids(self, prefix):
        """The ids of a family of probes ("s4.forward.rand"), in the plan's order."""
        return [pid for pid in self.probes if pid.startswith(prefix)]

    def ids_of_role(self, section, role):
        """The ids of section's probes with this role (probe_ids.ROLES), in the plan's order."""
        return [pid for pid, p in self.probes.items() if p.section == section and p.role == role]

    def has_hidden(self):
        return not self.visible_only

    def answer(self, pid):
        """The submission's answer to probe pid, or CheckFailed saying plainly why there is none."""
        if self.load_error is not None:
            raise CheckFailed(Msg("Not graded: ", "未评分：") + self.load_error)
        p = self.probes[pid]
        name = called(p)
        base = name.split(".")[0]
        if self.report is None or pid not in self.report.answers:
            fail(f"{name} was not run.", f"{name} 没有运行。")
        if base not in self.report.namespace:
            fail(f"`{base}` is not defined in your submission. Check its spelling, and that the cell defining it runs "
                 f"without errors (see the loading report, test 0.1).",
                 f"你的提交中没有定义 `{base}`。请检查拼写，并确认定义它的单元格运行无误（见加载报告 0.1）。")
        a = self.report.answers[pid]
        if a.status == "ok":
            return a.value
        if a.status == "timeout":
            fail(f"{name} did not finish in time on this input ({a.message}): an infinite loop, or far too slow.",
                 f"{name} 在此输入上没有按时结束（{a.message}）：死循环，或太慢。")
        if a.status == "crashed":
            fail(f"{name} ended the whole Python process ({a.message}). Do not call exit() or os._exit in graded code.",
                 f"{name} 结束了整个 Python 进程（{a.message}）。评分代码中不要调用 exit() 或 os._exit。")
        if a.status == "error":
            err = a.error if isinstance(a.error, dict) else {}  # what the child wrote: plain JSON, of any shape
            msg = str(err.get("message") or a.message)
            where = err.get("where") or []
            where = ", ".join(map(str, where)) if isinstance(where, list) else str(where)
            where_en = f" (at {where})" if where else ""
            where_zh = f"（位置：{where}）" if where else ""
            if err.get("type") == "NotImplementedError":
                fail(f"{name} is not implemented yet: it still raises NotImplementedError{where_en}.",
                     f"{name} 尚未实现：它仍然抛出 NotImplementedError{where_zh}。")
            if "MemoryError" in msg or "can't allocate memory" in msg:
                fail(f"{name} ran out of memory{where_en}: {msg[:300]}", f"{name} 内存不足{where_zh}：{msg[:300]}")
            fail(f"{name} raised {msg[:600]}{where_en}", f"{name} 抛出异常 {msg[:600]}{where_zh}")
        fail(f"{name} was not reached: {a.message or 'an earlier problem stopped the run'}.",
             f"{name} 没有被运行：{a.message or '之前的问题中止了运行'}。")

    def answer_record(self, pid):
        self.answer(pid)
        return self.report.answers[pid]


def passes(fn, *args):
    """True if the check fn(*args) passes, False if it fails."""
    try:
        fn(*args)
        return True
    except CheckFailed:
        return False
