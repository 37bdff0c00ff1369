"""make timings: the reference's training times on this machine, for grader/timeouts.py.

Each training is timed at its full budget in a fresh process on one thread (a child's first call
pays torch's start-up too, so the time includes it), next to the adder at a twentieth of its budget:
the grader times that same short run at start-up and scales every stored time by the ratio.
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGETS = json.loads((ROOT / "reference" / "budgets.json").read_text())
TIMER = """
import json, sys, time, torch
sys.path.insert(0, {root!r})
torch.set_num_threads(1)
import reference as R
fn, kwargs = {fn!r}, {kwargs!r}
start = time.perf_counter()
getattr(R, fn)(**kwargs)
print(json.dumps(time.perf_counter() - start))
"""
RUNS = {
    "train_binary_adder": {"iterations": BUDGETS["binary_adder_iterations"]["budget"]},
    "train_char_lm": {"epochs": BUDGETS["char_lm_epochs"]["budget"]},
    "train_seq2seq": {"epochs": BUDGETS["seq2seq_epochs"]["budget"]},
}


def cold(fn, kwargs, repeats=3):
    times = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", TIMER.format(root=str(ROOT), fn=fn, kwargs=kwargs)],
                             capture_output=True, text=True, check=True)
        times.append(json.loads(out.stdout))
    return min(times)


def main():
    sys.path.insert(0, str(ROOT))
    from grader.timeouts import probe_seconds
    data = {"seconds": {fn: cold(fn, kwargs) for fn, kwargs in RUNS.items()},
            "budgets": {fn: kwargs for fn, kwargs in RUNS.items()},
            "probe_seconds": min(probe_seconds() for _ in range(5))}
    out = ROOT / "grader" / "timings.json"
    out.write_text(json.dumps(data, indent=1) + "\n")
    print(json.dumps(data, indent=1))


if __name__ == "__main__":
    main()
