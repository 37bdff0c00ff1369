"""The graded checks with their points: the core's catalog (hw8core/catalog.py) and the points of grader/points.toml."""
import sys
from pathlib import Path

from hw8core.catalog import CHECKS_DIR, CheckInfo, Outcome, checks_of, info_of  # noqa: F401 - re-exported
from hw8core.homework import SECTIONS


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
