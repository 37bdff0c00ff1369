"""make bench: what grading costs, beside a bare run of the same training.

Both are measured side by side in this one run, as subprocess trees:
- grade: `python -m grader grade examples/reference` (parent, sandboxed child, checks);
- bare:  the reference's three training functions called directly in one process, with the
         same budgets (reference/budgets.json), torch on one thread.
Wall time, CPU seconds (user + system of the whole tree, from getrusage of waited children) and
peak RSS (the tree's summed RSS, sampled every 20 ms) are printed, with grade/bare ratios.
Gradescope's defaults are 0.5 vCPU, 768 MB and 10 minutes: CPU x 2 must stay well under 600 s.
"""
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent

BARE = """
import json, sys, torch
sys.path.insert(0, {root!r})
torch.set_num_threads(1)
import reference as R
b = json.load(open({budgets!r}))
R.train_binary_adder(iterations=b["binary_adder_iterations"]["budget"], seed=0)
R.train_char_lm(epochs=b["char_lm_epochs"]["budget"], seed=0)
R.train_seq2seq(epochs=b["seq2seq_epochs"]["budget"], seed=0)
"""


def measure(cmd, env=None):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        total = 0
        try:
            for p in [root] + root.children(recursive=True):
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        peak = max(peak, total)
        time.sleep(0.02)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode()[-2000:]}")
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak / 2 ** 20}


def main():
    with tempfile.TemporaryDirectory() as tmp:
        grade = measure([sys.executable, "-m", "grader", "grade", "examples/reference", "-o", f"{tmp}/r.json", "--seed", "0"])
        score = json.loads(Path(f"{tmp}/r.json").read_text())["score"]
    bare = measure([sys.executable, "-c", BARE.format(root=str(ROOT), budgets=str(ROOT / "reference" / "budgets.json"))])
    print(f"{'':<10}{'wall s':>10}{'CPU s':>10}{'peak RSS MB':>14}")
    for name, m in (("grade", grade), ("bare", bare)):
        print(f"{name:<10}{m['wall_s']:>10.1f}{m['cpu_s']:>10.1f}{m['peak_rss_mb']:>14.0f}")
    print(f"{'ratio':<10}{grade['wall_s'] / bare['wall_s']:>10.2f}{grade['cpu_s'] / bare['cpu_s']:>10.2f}"
          f"{grade['peak_rss_mb'] / bare['peak_rss_mb']:>14.2f}")
    print(f"score of the example: {score}")
    print(f"Gradescope (0.5 vCPU): CPU x 2 = {grade['cpu_s'] * 2:.0f} s of 600 s; peak RSS {grade['peak_rss_mb']:.0f} of 768 MB")
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps({"grade": grade, "bare": bare}, indent=1))


if __name__ == "__main__":
    main()
