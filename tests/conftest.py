"""Shared fixtures: canned submissions built from the reference, graded end to end once each."""
import json
import os
import random
import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
torch.set_num_threads(1)
os.environ.setdefault("HW8_LANG", "en")

REFERENCE_MODULES = list(__import__("reference").MODULES.values())  # reference/__init__.py: the one spelling


def reference_module_source():
    """The reference, as one hw8.py a student could have written."""
    parts = []
    for name in REFERENCE_MODULES:
        parts.append((ROOT / "reference" / f"{name}.py").read_text())
    return "\n\n".join(parts)


def mutate(source, old, new, count=1):
    assert source.count(old) >= 1, f"mutation anchor not found: {old!r}"
    return source.replace(old, new, count)


def write_submission(folder, source, name="hw8.py"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(source, encoding="utf-8")
    return path


SEED = 12345


def own_sleeps(source):
    """The source with every `sleep 60N` made `sleep 60N<token>`, a duration of this call's own; and those durations.

    A daemon that double-forks, calls setsid() and execs with an empty environment shares no tree, session or
    environment with its run, so only a scan of the machine's processes finds it: by its argv, which execve keeps.
    With a token in it, the scan finds this test's processes and never another worker's."""
    token = str(random.SystemRandom().randrange(10 ** 5, 10 ** 6))
    new = re.sub(r"(\bsleep\W+)(60\d)\b", lambda m: m.group(1) + m.group(2) + token, source)
    return new, set(re.findall(r"\bsleep\W+(60\d" + token + r")\b", new))


def orphans():
    """Processes from a sandbox whose work folder is gone: the run is over, they should be too."""
    import psutil
    left = []
    for p in psutil.process_iter():
        try:
            env = p.environ()
        except (psutil.Error, OSError):
            continue
        if "HW8_SANDBOX_TOKEN" in env and not Path(env.get("TMPDIR", "/nonexistent")).exists() \
                and p.status() != psutil.STATUS_ZOMBIE:
            left.append(p)
    return left


def sleepers(durations):
    """`sleep N` processes for N in durations (from own_sleeps)."""
    import psutil
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or [""]
        if cmd[0] in ("sleep", "/bin/sleep") and cmd[-1] in durations:
            found.append(p.pid)
    return found


@pytest.fixture(scope="session")
def schema():
    return json.loads((ROOT / "grader" / "results.schema.json").read_text())


def section_scores(results):
    return {int(k): v for k, v in results["extra_data"]["sections"].items()}


def full_marks():
    from grader.catalog import load_points
    return load_points()


def outputs(results, prefix=""):
    return {t["number"]: t["output"] for t in results["tests"] if t["number"].startswith(prefix)}


def failed(results):
    return sorted(t["number"] for t in results["tests"] if t["status"] == "failed")


def internal_errors(results):
    """{number: output} of every test whose output is the internal-error message, in either language, and of the
    internal errors results.json counts (extra_data.internal_errors; missing counts as one: fail closed)."""
    from hw8core.feedback import INTERNAL_ERROR
    hit = {t["number"]: t["output"][:1500] for t in results["tests"]
           if INTERNAL_ERROR.en in t["output"] or INTERNAL_ERROR.zh in t["output"]}
    extra = results.get("extra_data", {})
    if extra.get("internal_errors", 1) != 0:
        hit.setdefault("extra_data", f"internal_errors={extra.get('internal_errors')!r}, "
                                     f"checks {extra.get('internal_error_checks')!r}")
    return hit


def assert_no_internal_error(results, what=""):
    """No check ended in an internal error (issue 20): every grade of the corpus in the suite asserts it, so the
    whole corpus is covered without one more run of it."""
    hit = internal_errors(results)
    assert not hit, f"internal errors of the grader{f' ({what})' if what else ''}: {hit}"


def verdicts(outcomes):
    """{number: (passed, English message, Chinese message)}: what the kit and the grader must agree on."""
    out = {}
    for number, o in outcomes.items():
        msg = o.message
        out[number] = (o.passed, getattr(msg, "en", str(msg)), getattr(msg, "zh", str(msg)))
    return out


def strip_timing(results):
    text = json.dumps(results, sort_keys=True)
    text = re.sub(r'"execution_time": [0-9.e-]+', '"execution_time": 0', text)
    return text


@pytest.fixture(scope="session")
def kit(tmp_path_factory):
    """The student kit, built as `make student-kit` builds it: (folder, zip, wheel)."""
    import sys
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_student_kit
    out, archive = build_student_kit.build(tmp_path_factory.mktemp("kit") / "student-kit")
    return out, archive, next(out.glob("*.whl"))


@pytest.fixture(scope="session")
def hw8check(kit):
    """The built package, unpacked from its wheel and importable in this process."""
    import sys
    import zipfile
    site = kit[0].parent / "site"
    with zipfile.ZipFile(kit[2]) as z:
        z.extractall(site)
    sys.path.insert(0, str(site))
    import hw8check
    import hw8check.cli
    assert Path(hw8check.__file__).is_relative_to(site)
    return hw8check


@pytest.fixture(autouse=True)
def _messages_in_english():
    """Messages render in a process-wide language (hw8core.i18n); a test that switches it must not leak into the next."""
    from hw8core import i18n
    i18n.set_lang("en")
    yield
    i18n.set_lang("en")


@pytest.fixture
def without_other_seed_trainings(monkeypatch):
    """The grader's plan without its hidden graded trainings at other seeds (grader/probes.py GRADED_AT_OTHER_SEEDS),
    in this process. For the tests of the machinery around a grade (side by side, batch, restarts, the kit's agreement,
    single-bug mutants): those trainings add 9.8 s of CPU to every whole grade (the adder 2 x 3.3 s, the char-LM 1.3 s,
    seq2seq 1.9 s), and with them in every grade the suite took twice as long (30 min 46 s against 15 min 37 s at
    -n 2, measured at a888255). The trainings themselves are graded for real wherever a grade's fairness or strength
    is the point: tests/test_fairness.py, test_rewrites.py, test_mutation.py, test_grading.py, test_other_seeds.py,
    and every test that grades in a child process (the CLI, the Gradescope zip, the installs)."""
    from grader import probes
    monkeypatch.setattr(probes, "GRADED_AT_OTHER_SEEDS", {fn: () for fn in probes.GRADED_AT_OTHER_SEEDS})
