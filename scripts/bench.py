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
import os
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


GRADE_ONE = """
import json, sys
sys.path.insert(0, {root!r})
from grader.grade import grade
from hw8core.supervisor import Limits
from hw8core.i18n import set_lang
set_lang("en")
results, run = grade({path!r}, seed=0, limits=Limits(memory_bytes=int({gib} * 2 ** 30)))
print(json.dumps({{"score": results["score"], "vm_peak_kb": run.report.child_vm_peak_kb,
                  "restarts": run.report.restarts}}))
"""

HEADER_IMPORTS = "import matplotlib.pyplot as plt\nfrom tqdm import tqdm\n"
HANG = ("import signal as _signal\n_signal.signal(_signal.SIGTERM, _signal.SIG_IGN)\n\n\n"
        "def binary_adder_forward(weights, a, b, width=8):\n    while True:\n        pass\n")


def grade_one(path, gib=0.8):
    """Grade in a fresh process under Gradescope's cap; the child's peak address space and the wall time."""
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-c", GRADE_ONE.format(root=str(ROOT), path=str(path), gib=gib)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "wall_s": time.monotonic() - start}


def slow_variants():
    """Training the adder, 3000 iterations, one thread: correct variants against the reference."""
    sys.path.insert(0, str(ROOT / "tests" / "variants"))
    import torch
    torch.set_num_threads(1)
    import reference
    import s4_homework_code
    import s4_python_loops_train
    times = {}
    for name, train in (("reference", lambda: reference.train_binary_adder(iterations=3000)),
                        ("homework code", lambda: s4_homework_code.train_binary_adder(iterations=3000)),
                        ("python loops", lambda: s4_python_loops_train.train_naive(3000))):
        start = time.perf_counter()
        train()
        times[name] = time.perf_counter() - start
    return times


def slowest_reference_call():
    """The reference's slowest call among the probes that are not trainings (their limit is the floor)."""
    import torch
    torch.set_num_threads(1)
    from grader.expected import expected
    from grader.probes import plan
    from grader.timeouts import TRAINERS
    times = {}
    for p in plan(0):
        if p.fn in TRAINERS or any(type(a).__name__ == "ResultOf" for a in p.args):
            continue
        start = time.perf_counter()
        expected(p)
        times[p.id] = time.perf_counter() - start
    worst = max(times, key=times.get)
    return worst, times[worst]


def memory_and_hang(tmp):
    """The child's peak address space under the 0.8 GiB cap, with and without plotting imports, and
    the cost of one SIGTERM-immune hang in binary_adder_forward, beside a normal grade."""
    import nbformat
    nb = nbformat.read(ROOT / "examples" / "reference" / "hw8.ipynb", as_version=4)
    plain = Path(tmp) / "plain.ipynb"
    nbformat.write(nb, plain)
    nb.cells.insert(0, nbformat.v4.new_code_cell(HEADER_IMPORTS))
    plots = Path(tmp) / "plots.ipynb"
    nbformat.write(nb, plots)
    del nb.cells[0]
    nb.cells.append(nbformat.v4.new_code_cell(HANG))
    hang = Path(tmp) / "hang.ipynb"
    nbformat.write(nb, hang)
    return {"example": grade_one(plain), "example + matplotlib.pyplot + tqdm": grade_one(plots),
            "example + hang in binary_adder_forward": grade_one(hang)}


KIT_SECTIONS = """
import json, sys, time
sys.path.insert(0, {site!r})
import hw8check
from hw8core.loader import load
ns = {{"__name__": "__main__"}}
for cell in load({example!r}).cells:
    if "hw8check" not in cell.source and "__main__" not in cell.source:
        exec(cell.source, ns)
times = {{}}
for n in (1, 2, 3, 4, 5, 7):
    start = time.perf_counter()
    ok = eval("hw8check.check(%d, lang='en')" % n, dict(ns, hw8check=hw8check))
    times[n] = [round(time.perf_counter() - start, 2), ok]
print(json.dumps(times), file=sys.stderr)
"""


def kit_times(tmp):
    """The student kit: hw8check.check(N) per section in one kernel-like process, and hw8-check on the example,
    side by side with the grader's own visible-only check (hw8-grade check)."""
    import zipfile
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_student_kit
    out, archive = build_student_kit.build(Path(tmp) / "student-kit")
    wheel = next(out.glob("*.whl"))
    site = Path(tmp) / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    proc = subprocess.run([sys.executable, "-c", KIT_SECTIONS.format(site=str(site), example=str(ROOT / "examples"
                                                                                                "/reference"))],
                          capture_output=True, text=True, cwd=ROOT)
    sections = json.loads(proc.stderr.strip().splitlines()[-1])
    env = dict(os.environ, PYTHONPATH=str(site))
    cli = measure([sys.executable, "-m", "hw8check.cli", "examples/reference/hw8.ipynb"], env=env)
    staff = measure([sys.executable, "-m", "grader", "check", "examples/reference"])
    return {"wheel_kib": wheel.stat().st_size / 1024, "zip_kib": archive.stat().st_size / 1024,
            "sections_s": sections, "cli": cli, "grader_check": staff}


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
    times = slow_variants()
    print("\ntraining the adder (3000 iterations), correct variants side by side:")
    for name, t in times.items():
        print(f"  {name:<16}{t:>8.2f} s  {t / times['reference']:>5.2f}x the reference")
    worst, seconds = slowest_reference_call()
    print(f"\nslowest reference call outside training: {worst}, {seconds * 1000:.1f} ms (the limit's floor: 10 s)")
    with tempfile.TemporaryDirectory() as tmp:
        runs = memory_and_hang(tmp)
    cap_kb = 0.8 * 2 ** 20
    print("\ngraded under Gradescope's cap (0.8 GiB of address space for the child):")
    for name, r in runs.items():
        peak = r["vm_peak_kb"]
        margin = f"{peak / 1024:.0f} MiB, margin {(cap_kb - peak) / 1024:.0f} MiB" if peak else "peak unknown"
        print(f"  {name:<42} score {r['score']:>6g}  wall {r['wall_s']:>6.1f} s  child VmPeak {margin}")
    extra = runs["example + hang in binary_adder_forward"]["wall_s"] - runs["example"]["wall_s"]
    print(f"one hang costs {extra:.0f} s of grading beyond a normal run")
    with tempfile.TemporaryDirectory() as tmp:
        kit = kit_times(tmp)
    print(f"\nstudent kit: wheel {kit['wheel_kib']:.0f} KiB, zip {kit['zip_kib']:.0f} KiB")
    print("  hw8check.check(N) in the notebook, the example's functions: " + ", ".join(
        f"section {n} {t:.2f} s{'' if ok else ' (FAILED)'}" for n, (t, ok) in kit["sections_s"].items()))
    print(f"  hw8-check on the example: wall {kit['cli']['wall_s']:.1f} s; the grader's `hw8-grade check`: wall "
          f"{kit['grader_check']['wall_s']:.1f} s; ratio {kit['cli']['wall_s'] / kit['grader_check']['wall_s']:.2f}")
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps({"grade": grade, "bare": bare, "adder_variants_s": times,
                                                "slowest_reference_call": [worst, seconds], "runs": runs,
                                                "student_kit": kit}, indent=1))


if __name__ == "__main__":
    main()
