"""Shared fixtures: canned submissions built from the reference, graded end to end once each."""
import json
import os
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


def strip_timing(results):
    text = json.dumps(results, sort_keys=True)
    text = re.sub(r'"execution_time": [0-9.e-]+', '"execution_time": 0', text)
    return text


@pytest.fixture(autouse=True)
def _messages_in_english():
    """Messages render in a process-wide language (grader.i18n); a test that switches it must not leak into the next."""
    from grader import i18n
    i18n.set_lang("en")
    yield
    i18n.set_lang("en")
