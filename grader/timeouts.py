"""Each probe's time limit, sized from the reference's own time, calibrated on this machine at start-up.

A hang costs its probe's whole limit, so limits are as short as fairness allows: FACTOR times what
the reference takes for the same call, and never under a floor that covers one-off costs such as
torch's lazy start-up. The reference's training times were measured by `make timings` (in fresh
processes, so they include torch's start-up) into grader/timings.json, beside a short probe run:
the adder at a twentieth of its budget. At start-up the grader times that same probe run (about
0.15 s) and scales every stored time by how much slower or faster this machine is.

Every other call of the reference takes milliseconds (`make bench` prints the slowest: 4.9 ms here),
so FLOOR alone decides their limits.
"""
import json
import time
from pathlib import Path

import reference

# A correct but slow submission must finish well inside its limit. Measured side by side by
# `make bench` (training the adder): the homework's own code wrapped in the API
# (tests/variants/s4_homework_code.py) takes 1.0 times the reference's time, and pure-Python loops
# instead of matrix products (tests/variants/s4_python_loops_train.py) 2.9 times. 10 leaves them 3x room.
FACTOR = 10.0
FLOOR = 10.0  # seconds, for any call
TRAIN_FLOOR = 30.0  # seconds, for a training call: torch's start-up and first steps dominate small budgets
TIMINGS = json.loads(Path(__file__).with_name("timings.json").read_text())
TRAINERS = ("train_binary_adder", "train_char_lm", "train_seq2seq")
_speed = None  # this machine's time for the probe run / the measuring machine's


PROBE_ITERATIONS = json.loads((Path(reference.__file__).with_name("budgets.json")).read_text())[
    "binary_adder_iterations"]["budget"] // 20


def probe_seconds():
    """The probe run: the reference adder at a twentieth of its budget (pure NumPy: no thread setting matters)."""
    start = time.perf_counter()
    reference.train_binary_adder(iterations=PROBE_ITERATIONS)
    return time.perf_counter() - start


def machine_speed():
    global _speed
    if _speed is None:
        _speed = probe_seconds() / TIMINGS["probe_seconds"]
    return _speed


def reference_seconds(fn, kwargs):
    """The reference's time for this training call on this machine, scaled linearly in its budget."""
    budget_key, budget = next(iter(TIMINGS["budgets"][fn].items()))
    share = kwargs.get(budget_key, budget) / budget
    return TIMINGS["seconds"][fn] * max(share, 0.05) * machine_speed()


def calibrate(probes):
    """Set every probe's timeout from the reference's time on this machine; returns {probe id: seconds}."""
    limits = {}
    for p in probes:
        if p.fn in TRAINERS:
            p.timeout = max(TRAIN_FLOOR, FACTOR * reference_seconds(p.fn, p.kwargs))
        else:
            p.timeout = FLOOR
        limits[p.id] = p.timeout
    return limits
