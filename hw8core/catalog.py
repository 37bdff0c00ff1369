"""The graded checks and their metadata, read from the check modules without running pytest.

The points of each section are the grader's (grader/catalog.py, grader/points.toml): the kit shows no points."""
import importlib
from dataclasses import dataclass
from pathlib import Path

from .i18n import get_lang
CHECKS_DIR = Path(__file__).with_name("checks")


@dataclass
class CheckInfo:
    number: str
    section: int
    func: object
    weight: float
    visibility: str
    tags: tuple
    doc_en: str
    doc_zh: str
    max_score: float = 0.0

    @property
    def title(self):
        return self.doc_zh if get_lang() == "zh" and self.doc_zh else self.doc_en

    @property
    def nodename(self):
        return self.func.__name__


class Outcome:
    """What one check concluded: passed, or the message (a Msg) saying why not; `trace`, the traceback when the check
    itself failed (an internal error: the grader's fault, not the student's), for the course staff only."""

    def __init__(self, info, passed, message, trace=None):
        self.info = info
        self.passed = passed
        self.message = message  # Msg or str
        self.trace = trace


def info_of(func):
    doc = [line.strip() for line in (func.__doc__ or func.__name__).strip().splitlines()]
    number = func.__number__
    return CheckInfo(number=number, section=int(number.split(".")[0]), func=func, weight=float(func.__weight__),
                     visibility=getattr(func, "__visibility__", "visible"), tags=tuple(getattr(func, "__tags__", ())),
                     doc_en=doc[0], doc_zh=doc[1] if len(doc) > 1 else "")


def checks_of(section):
    """The checks of one section, as CheckInfo (max_score not set), in the module's order."""
    module = importlib.import_module(f"{__package__}.checks.test_s{section}")  # hw8core.checks, in both products
    funcs = [v for k, v in vars(module).items() if k.startswith("test_") and callable(v) and hasattr(v, "__number__")]
    return [info_of(f) for f in funcs]
