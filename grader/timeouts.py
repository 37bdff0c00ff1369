"""Each probe's time limit, sized from the reference's own time on this machine, measured at start-up.

A hang costs its probe's whole limit, so limits are as short as fairness allows: FACTOR times what
the reference takes for the same call on the same machine (so a slow grading machine scales every
limit with it), and never under a floor that covers one-off costs such as torch's lazy start-up.

The training probes are the only calls that take long; the reference runs a tenth of each budget
(about 0.5 s in all here) and the time is scaled up. Every other call of the reference takes under
0.05 s (`make bench` prints the slowest), so FLOOR alone decides their limits.
"""
import time

import reference

# A correct but slow submission must finish well inside its limit. Measured side by side by
# `make bench` (training the adder): the homework's own code wrapped in the API
# (tests/variants/s4_homework_code.py) takes 1.03 times the reference's time, and pure-Python loops
# instead of matrix products (tests/variants/s4_python_loops_train.py) 2.9 times. 10 leaves them 3x room.
FACTOR = 10.0
FLOOR = 10.0  # seconds, for any call
TRAIN_FLOOR = 30.0  # seconds, for a training call: import-time and first-step costs dominate tiny budgets
FRACTION = 0.1  # of each training budget, run by the reference at start-up

TRAINERS = {  # probe function -> (reference function, the kwarg that is the budget)
    "train_binary_adder": (reference.train_binary_adder, "iterations"),
    "train_char_lm": (reference.train_char_lm, "epochs"),
    "train_seq2seq": (reference.train_seq2seq, "epochs"),
}
_measured = {}  # (fn, budget) -> seconds of the full budget, once per process


def reference_seconds(fn, kwargs):
    """The reference's time for this training call, from a FRACTION of its budget."""
    ref, budget_key = TRAINERS[fn]
    key = (fn, kwargs.get(budget_key))
    if key not in _measured:
        import torch
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as in the sandboxed child (OMP_NUM_THREADS=1)
        try:
            budget = kwargs[budget_key]
            part = max(1, int(budget * FRACTION))
            start = time.perf_counter()
            ref(**{**kwargs, budget_key: part})
            _measured[key] = (time.perf_counter() - start) * budget / part
        finally:
            torch.set_num_threads(threads)
    return _measured[key]


def calibrate(probes):
    """Set every probe's timeout from the reference's measured time; returns {probe id: seconds}."""
    limits = {}
    for p in probes:
        if p.fn in TRAINERS:
            p.timeout = max(TRAIN_FLOOR, FACTOR * reference_seconds(p.fn, p.kwargs))
        else:
            p.timeout = FLOOR
        limits[p.id] = p.timeout
    return limits
