"""Measure the tolerances of the numeric checks from the reference itself.

For every randomized probe kind, the probes the grader draws (seeds 0..SEEDS-1 of grader.probes.plan)
are answered twice: by the reference as graded (float64 NumPy, float32 torch), and by an
independent computation of the same mathematics (torch float64 autograd for sections 1, 2 and 4;
the same torch modules in float64 for sections 3, 5 and 7). The error measured is
max |a - b| / (1 + |b|). The tolerance is that maximum times FACTOR, rounded up to a power of ten:
far below the error of any bug (which is O(0.1) and larger), far above honest round-off.

    python scripts/measure_tolerances.py    # writes hw8core/tolerances.json (the checks read it) and grader/TOLERANCES.md
"""
import json
import re
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.expected import expected, to_numpy  # noqa: E402
from grader.probes import plan  # noqa: E402

SEEDS = 100
FACTOR = 100


def err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / (1 + np.abs(b)))) if a.size else 0.0


def srn_torch64(args, kwargs, act):
    x, Wxh, Whh, Why = (torch.tensor(a) for a in args)
    h = torch.tensor(kwargs["h0"]) if "h0" in kwargs else torch.zeros(Whh.shape[0], dtype=torch.float64)
    states = []
    for t in range(x.shape[0]):
        h = act(torch.mv(Wxh, x[t]) + torch.mv(Whh, h))
        states.append(h)
    states = torch.stack(states)
    return states.numpy(), (states @ Why.T).numpy()


def adder_torch64(w, a, b):
    tw = {k: torch.tensor(v, requires_grad=True) for k, v in w.items()}
    h = torch.zeros(1, tw["W_hh"].shape[0], dtype=torch.float64)
    hs, ys, loss = [h], [], 0
    for t in range(8):
        x = torch.tensor([[(a >> t) & 1, (b >> t) & 1]], dtype=torch.float64)
        h = torch.sigmoid(x @ tw["W_xh"] + h @ tw["W_hh"])
        y = torch.sigmoid(h @ tw["W_hy"])
        hs.append(h)
        ys.append(y)
        loss = loss + 0.5 * (((a + b) >> t & 1) - y) ** 2
    loss.sum().backward()
    hidden = torch.cat(hs).detach().numpy()
    return (hidden, torch.cat(ys)[:, 0].detach().numpy()), {k: v.grad.numpy() for k, v in tw.items()}


def main():
    torch.set_num_threads(1)
    t0 = time.time()
    worst = {}

    def record(key, e):
        worst[key] = max(worst.get(key, 0.0), e)

    for seed in range(SEEDS):
        for p in plan(seed):
            if not p.hidden:
                continue
            kind = re.sub(r"\.rand\d*$", "", p.id)  # s1, s3.cell, s4.grad, ...
            if kind in ("s1", "s2"):
                ref = expected(p)
                alt = srn_torch64(p.args, p.kwargs, (lambda z: z) if kind == "s1" else torch.tanh)
                record(kind, max(err(ref[0], alt[0]), err(ref[1], alt[1])))
            elif kind in ("s3.cell", "s3.rnn", "s5.forward", "s7.forward"):
                ref = to_numpy(expected(p))
                alt = to_numpy(expected(p, dtype=torch.float64))
                ref, alt = (ref, alt) if isinstance(ref, tuple) else ((ref,), (alt,))
                record(kind, max(err(r, a) for r, a in zip(ref, alt)))
            elif kind in ("s4.forward", "s4.grad"):
                fwd, grads = adder_torch64(*p.args)
                ref = expected(p)
                if kind == "s4.forward":
                    record(kind, max(err(ref[0], fwd[0]), err(ref[1], fwd[1])))
                else:
                    record(kind, max(err(ref[k], grads[k]) for k in grads))
    tol = {k: 10.0 ** math.ceil(math.log10(max(v, 1e-16) * FACTOR)) for k, v in worst.items()}
    out = {"factor": FACTOR, "seeds": SEEDS, "measured": worst, "tolerance": tol}
    (ROOT / "hw8core" / "tolerances.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = ["# Tolerances of the numeric checks, measured", "",
             f"Produced by `python scripts/measure_tolerances.py` in {time.time() - t0:.0f} s over the probes of "
             f"seeds 0-{SEEDS - 1} (torch {torch.__version__}, numpy {np.__version__}).", "",
             "Error = max |reference - independent computation| / (1 + |independent|): torch float64 autograd for "
             "sections 1, 2 and 4, the same modules in float64 for sections 3, 5 and 7. "
             f"Tolerance = worst error x {FACTOR}, rounded up to a power of ten.", "",
             "| probe kind | worst error measured | tolerance |", "|---|---|---|"]
    lines += [f"| {k} | {worst[k]:.2e} | {tol[k]:.0e} |" for k in sorted(worst)]
    (ROOT / "grader" / "TOLERANCES.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
