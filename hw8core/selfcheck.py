"""Visible checks without pytest and without a sandbox: the in-notebook call, in the grader and in the student kit.

`check(N)` answers section N's probes in the student's own kernel, with the live functions, through
the same encoding a sandboxed run uses, so the checks see what a graded run sees; then it calls
each visible check directly. The grader's `grader.check` passes the reference's oracle, the
student kit's `hw8check.check` its stored data (student_kit/hw8check/).
"""
import tempfile
from pathlib import Path

from . import child
from .catalog import Outcome, checks_of
from .evidence import CheckFailed, Evidence
from .feedback import internal_error, internal_error_trace
from .homework import SECTIONS
from .i18n import Msg, set_lang
from .supervisor import RunReport
from .wire import probe_spec, read_answer


def answer_in_process(namespace, probes, api_names):
    report = RunReport(namespace=child.describe_namespace(namespace, api_names))
    arrays = {}
    specs = [probe_spec(p, arrays) for p in probes]
    with tempfile.TemporaryDirectory(prefix="hw8-check-") as tmp:
        for spec in specs:
            answer, enc = child.answer_probe(spec, arrays, namespace, catch=Exception)
            child.write_answer(tmp, spec["id"], answer, enc)
            report.answers[spec["id"]] = read_answer(Path(tmp), spec["id"])
    return report


def run_checks(evidence, sections, visible_only=True):
    """{number: Outcome} of the (visible) checks of `sections`, each called on evidence, as the pytest plugin would."""
    outcomes = {}
    for section in sections:
        for info in checks_of(section):
            if visible_only and info.visibility != "visible":
                continue
            try:
                info.func(evidence)
                outcomes[info.number] = Outcome(info, True, "")
            except CheckFailed as exc:
                outcomes[info.number] = Outcome(info, False, exc.feedback)
            except Exception as exc:
                outcomes[info.number] = Outcome(info, False, internal_error(exc), internal_error_trace(exc))
    return outcomes


def print_section(section, outcomes, out=print):
    """One line per check (and its message when it fails), then the section's verdict; True when all pass."""
    ok = True
    for number in sorted(outcomes, key=lambda n: [int(x) for x in n.split(".")]):
        o = outcomes[number]
        if o.info.section != section:
            continue
        ok &= o.passed
        out(f"{'✔' if o.passed else '✘'} {number} {o.info.title}")
        if not o.passed:
            out("    " + str(o.message).replace("\n", "\n    "))
    out(str(Msg(f"Section {section}: all visible checks pass." if ok else f"Section {section}: some checks fail.",
              f"第 {section} 节：可见检查全部通过。" if ok else f"第 {section} 节：部分检查未通过。")))
    return ok


def check(section, namespace, probes, api_names, oracle=None, lang=None):
    """Print each visible check of `section` on the live functions in namespace; True when all pass."""
    if lang:
        set_lang(lang)
    if section not in SECTIONS:
        raise ValueError("section must be 1, 2, 3, 4, 5 or 7 (there is no section 6)")
    probes = [p for p in probes if p.section == section]
    report = answer_in_process(namespace, probes, api_names)
    evidence = Evidence(probes, report, visible_only=True, seed=0, oracle=oracle)
    return print_section(section, run_checks(evidence, [section]))
