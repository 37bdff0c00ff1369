"""grader.check(section) inside the student's notebook: the visible checks on the live functions.

Nothing is sandboxed here: it is the student's own kernel. The probes are answered in-process
with the same encoding the sandbox uses, so the checks see exactly what a graded run sees.
"""
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from . import _child
from .i18n import _, set_lang
from .probes import plan
from .report import run_checks
from .run import Run
from .sandbox import RunReport, read_answer
from .values import to_spec


def answer_in_process(namespace, probes, api_names):
    report = RunReport(namespace=_child._describe_namespace(namespace, api_names))
    with tempfile.TemporaryDirectory(prefix="hw8-check-") as tmp:
        arrays, specs = {}, []
        for p in probes:
            specs.append({"id": p.id, "fn": p.fn, "seed": p.seed, "args": [to_spec(a, arrays) for a in p.args],
                          "kwargs": {k: to_spec(v, arrays) for k, v in p.kwargs.items()}})
        out = Path(tmp)
        for p, spec in zip(probes, specs):
            start = time.monotonic()
            enc = _child.Encoder()
            answer = {"id": p.id}
            try:
                args = [_child._decode_arg(s, arrays, namespace) for s in spec["args"]]
                kwargs = {k: _child._decode_arg(s, arrays, namespace) for k, s in spec["kwargs"].items()}
                fn = args.pop(0) if p.fn == "@call" else namespace.get(p.fn)
                if fn is None:
                    raise NameError(f"name '{p.fn}' is not defined")
                if p.seed is not None:
                    _child._seed_everything(p.seed)
                result = fn(*args, **kwargs)
                answer.update(result=enc.encode(result), args_after=[enc.encode(a) for a in args],
                              kwargs_after={k: enc.encode(v) for k, v in kwargs.items()})
            except Exception as exc:
                answer["error"] = _child._short_error(exc)
            answer["seconds"] = time.monotonic() - start
            np.savez(out / f"{p.id}.npz", **enc.arrays)
            (out / f"{p.id}.json").write_text(json.dumps(answer))
            report.answers[p.id] = read_answer(out, p.id)
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
