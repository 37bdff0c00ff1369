"""The graded checks and their metadata, read from the check modules without running pytest."""
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .i18n import get_lang

SECTIONS = (1, 2, 3, 4, 5, 7)
CHECKS_DIR = Path(__file__).with_name("checks")


def load_points(path=None):
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


def info_of(func):
    doc = [line.strip() for line in (func.__doc__ or func.__name__).strip().splitlines()]
    number = func.__number__
    return CheckInfo(number=number, section=int(number.split(".")[0]), func=func, weight=float(func.__weight__),
                     visibility=getattr(func, "__visibility__", "visible"), tags=tuple(getattr(func, "__tags__", ())),
                     doc_en=doc[0], doc_zh=doc[1] if len(doc) > 1 else "")


def catalog(points=None):
    """Every check, in number order, with its max_score from the section points."""
    points = points or load_points()
    checks = []
    for n in SECTIONS:
        module = importlib.import_module(f"grader.checks.test_s{n}")
        funcs = [v for k, v in vars(module).items() if k.startswith("test_") and callable(v) and hasattr(v, "__number__")]
        infos = [info_of(f) for f in funcs]
        total = sum(i.weight for i in infos)
        for i in infos:
            i.max_score = round(points[n] * i.weight / total, 4)
        checks += infos
    return sorted(checks, key=lambda c: tuple(int(x) for x in c.number.split(".")))
