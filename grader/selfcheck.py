"""grader.check(section) inside the student's notebook: the visible checks on the live functions.

Nothing is sandboxed here: it is the student's own kernel. The probes are answered in-process
with the same encoding the sandbox uses, so the checks see exactly what a graded run sees.
"""
import tempfile
from pathlib import Path

from . import _child
from .i18n import _, set_lang
from .probes import plan
from .report import run_checks
from .run import Run
from .supervisor import RunReport, read_answer
from .values import probe_spec


def answer_in_process(namespace, probes, api_names):
    report = RunReport(namespace=_child._describe_namespace(namespace, api_names))
    arrays = {}
    specs = [probe_spec(p, arrays) for p in probes]
    with tempfile.TemporaryDirectory(prefix="hw8-check-") as tmp:
        for spec in specs:
            answer, enc = _child.answer_probe(spec, arrays, namespace, catch=Exception)
            _child.write_answer(tmp, spec["id"], answer, enc)
            report.answers[spec["id"]] = read_answer(Path(tmp), spec["id"])
    return report


def check(section, namespace, lang=None):
    """Print each visible check of `section` and return True when all of them pass."""
    from .grade import API_NAMES
    if lang:
        set_lang(lang)
    if section not in (1, 2, 3, 4, 5, 7):
        raise ValueError("section must be 1, 2, 3, 4, 5 or 7 (there is no section 6)")
    probes = [p for p in plan(0, visible_only=True) if p.section == section]
    report = answer_in_process(namespace, probes, API_NAMES)
    run = Run(probes, report, visible_only=True, seed=0)
    outcomes = run_checks(run, visible_only=True)
    ok = True
    for number in sorted(outcomes, key=lambda n: [int(x) for x in n.split(".")]):
        o = outcomes[number]
        if o.info.section != section:
            continue
        ok &= o.passed
        mark = "✔" if o.passed else "✘"
        print(f"{mark} {number} {o.info.title}")
        if not o.passed:
            print("    " + str(o.message).replace("\n", "\n    "))
    print(str(_(f"Section {section}: all visible checks pass." if ok else f"Section {section}: some checks fail.",
                f"第 {section} 节：可见检查全部通过。" if ok else f"第 {section} 节：部分检查未通过。")))
    return ok
