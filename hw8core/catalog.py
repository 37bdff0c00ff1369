"""The graded checks and their metadata, read from the check modules without running pytest."""
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

from .homework import SECTIONS
from .i18n import get_lang
CHECKS_DIR = Path(__file__).with_name("checks")


def load_points(path=None):
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    data = tomllib.loads(Path(path or Path(__file__).with_name("points.toml")).read_text())
    points = {int(k): float(v) for k, v in data["sections"].items()}
    if sorted(points) != list(SECTIONS):
        raise ValueError(f"points.toml must give points for sections {SECTIONS}, not {sorted(points)}")
    return points


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
    module = importlib.import_module(f"{__package__}.checks.test_s{section}")  # grader, or the student kit's copy
    funcs = [v for k, v in vars(module).items() if k.startswith("test_") and callable(v) and hasattr(v, "__number__")]
    return [info_of(f) for f in funcs]


def catalog(points=None):
    """Every check, in number order, with its max_score from the section points."""
    points = points or load_points()
    checks = []
    for n in SECTIONS:
        infos = checks_of(n)
        total = sum(i.weight for i in infos)
        for i in infos:
            i.max_score = round(points[n] * i.weight / total, 4)
        checks += infos
    return sorted(checks, key=lambda c: tuple(int(x) for x in c.number.split(".")))
