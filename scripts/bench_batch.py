"""make bench-batch: batch throughput on 8 copies of the example submission, at -j 1 and -j 2.

Both runs happen side by side in this one invocation; the ratio is what to read, since the
machine is shared and noisy.
"""
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch import main as batch_main  # noqa: E402

COPIES = 8


def run(jobs, class_dir):
    with tempfile.TemporaryDirectory() as out:
        start = time.monotonic()
        batch_main(class_dir, out, jobs=jobs, seed=0, progress=False)
        return time.monotonic() - start


def main():
    with tempfile.TemporaryDirectory() as tmp:
        class_dir = Path(tmp) / "class"
        for i in range(COPIES):
            (class_dir / f"student{i}").mkdir(parents=True)
            shutil.copy(ROOT / "examples" / "reference" / "hw8.ipynb", class_dir / f"student{i}" / "hw8.ipynb")
        times = {jobs: run(jobs, class_dir) for jobs in (1, 2)}
    rate = {j: COPIES / t * 60 for j, t in times.items()}
    for j in (1, 2):
        print(f"-j {j}: {times[j]:.0f} s for {COPIES} submissions = {rate[j]:.2f} submissions/minute")
    print(f"speed-up -j 2 / -j 1: {rate[2] / rate[1]:.2f}x")


if __name__ == "__main__":
    main()
