"""make bench-batch: batch throughput on copies of the example submission, at -j 1 and -j 2.

The runs are interleaved (A B, then B A ...; BENCH_ROUNDS rounds, default 2) in this one invocation and reported as
medians; the ratios are what to read, since the machine is shared and noisy. Each student's sections run side by
side on the cores the concurrent students leave (hw8-grade batch's default): at -j 1 on two cores, two children per
student; at -j 2, one. "-j 1, sections serial" is the batch as it was before sections ran side by side.
"""
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch import main as batch_main  # noqa: E402
from hw8core.supervisor import Limits  # noqa: E402

COPIES = int(os.environ.get("BENCH_COPIES", "6"))


def run(jobs, class_dir, section_jobs, prepared=True):
    with tempfile.TemporaryDirectory() as out:
        start = time.monotonic()
        batch_main(class_dir, out, jobs=jobs, seed=0, progress=False, limits=Limits(jobs=section_jobs, prepared=prepared))
        return time.monotonic() - start


def main():
    rounds = int(os.environ.get("BENCH_ROUNDS", "2"))
    # "children started fresh": every child `python -I -S child.py`, as before prepared children (grader/zygote.py)
    modes = {"-j 1, sections serial": (1, 1), "-j 1": (1, None), "-j 2": (2, None),
             "-j 2, children started fresh": (2, None, False)}
    times = {name: [] for name in modes}
    with tempfile.TemporaryDirectory() as tmp:
        class_dir = Path(tmp) / "class"
        for i in range(COPIES):
            (class_dir / f"student{i}").mkdir(parents=True)
            shutil.copy(ROOT / "examples" / "reference" / "hw8.ipynb", class_dir / f"student{i}" / "hw8.ipynb")
        for r in range(rounds):
            for name in (list(modes) if r % 2 == 0 else list(reversed(modes))):
                jobs, section_jobs, *prepared = modes[name]
                times[name].append(run(jobs, class_dir, section_jobs, *prepared))
    rate = {name: COPIES / statistics.median(t) * 60 for name, t in times.items()}
    print(f"\nbatch of {COPIES} copies of the example, medians of {rounds} interleaved runs:")
    for name in modes:
        print(f"  {name:<30}{statistics.median(times[name]):>6.0f} s = {rate[name]:.2f} submissions/minute")
    ratio = rate["-j 2"] / rate["-j 1, sections serial"]
    print(f"speed-up -j 2 / -j 1 (sections serial): {ratio:.2f}x "
          f"(TARGET at least 1.8: {'met' if ratio >= 1.8 else 'NOT met'}); "
          f"-j 2 / -j 1 (sections side by side): {rate['-j 2'] / rate['-j 1']:.2f}x; "
          f"-j 2 prepared / started fresh: {rate['-j 2'] / rate['-j 2, children started fresh']:.2f}x")


if __name__ == "__main__":
    main()
