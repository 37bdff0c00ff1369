"""make bench: what grading costs, serial and side by side, beside a bare run of the same training.

All are measured in this one run, as subprocess trees, interleaved (A B C, then C B A ...; BENCH_ROUNDS rounds,
default 3) and reported as medians, since the machine is shared:
- grade: `python -m grader grade examples/reference` at -j 1 (one child), -j 2 and the default (auto);
- the visible checks: `hw8-check` (the student kit) and `hw8-grade check`, at -j 1 and auto;
- bare:  the reference's three training functions called directly in one process, with the
         same budgets (reference/budgets.json), torch on one thread.
Wall time, CPU seconds (user + system of the whole tree, from getrusage of waited children) and
peak RSS (the tree's summed RSS, sampled every 20 ms) are printed, with grade/bare ratios.
Gradescope's defaults are 0.5 vCPU, 768 MB and 10 minutes: CPU x 2 must stay well under 600 s.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def measure(cmd, env=None, stdout=None):
    """Wall, CPU and the tree's peak RSS of one command (its stdout written to the file `stdout`, if given)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.PIPE)
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
    if stdout:
        out.close()
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
    """Grade in a fresh process under Gradescope's cap (serial, as there): the child's peak address space, the wall
    time and the tree's peak RSS."""
    with tempfile.NamedTemporaryFile() as out:
        m = measure([sys.executable, "-c", GRADE_ONE.format(root=str(ROOT), path=str(path), gib=gib)], stdout=out.name)
        return {**json.loads(Path(out.name).read_text().strip().splitlines()[-1]), **m}


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


def kit_build(tmp):
    """The student kit, built and unpacked: (its site folder, wheel KiB, zip KiB)."""
    import zipfile
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_student_kit
    out, archive = build_student_kit.build(Path(tmp) / "student-kit")
    wheel = next(out.glob("*.whl"))
    site = Path(tmp) / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    return site, wheel.stat().st_size / 1024, archive.stat().st_size / 1024


def kit_sections(site):
    """hw8check.check(N) per section in one kernel-like process, the example's functions."""
    proc = subprocess.run([sys.executable, "-c", KIT_SECTIONS.format(site=str(site), example=str(ROOT / "examples"
                                                                                                "/reference"))],
                          capture_output=True, text=True, cwd=ROOT)
    return json.loads(proc.stderr.strip().splitlines()[-1])


def interleaved(commands, rounds):
    """Each command measured `rounds` times, in turn (A B C A B C ...: a shared machine's load falls on all alike);
    {name: [measure, ...]}."""
    runs = {name: [] for name in commands}
    for r in range(rounds):
        names = list(commands) if r % 2 == 0 else list(reversed(commands))  # ABC CBA: no one always goes first
        for name in names:
            cmd, env = commands[name]
            runs[name].append(measure(cmd, env=env))
    return runs


def med(runs, key):
    return statistics.median(m[key] for m in runs)


def table(title, runs, base):
    print(f"\n{title} (medians of {len(next(iter(runs.values())))} runs, interleaved)")
    print(f"  {'':<28}{'wall s':>8}{'CPU s':>8}{'tree peak RSS MB':>18}{'wall / ' + base:>16}")
    for name, ms in runs.items():
        print(f"  {name:<28}{med(ms, 'wall_s'):>8.1f}{med(ms, 'cpu_s'):>8.1f}{med(ms, 'peak_rss_mb'):>18.0f}"
              f"{med(ms, 'wall_s') / med(runs[base], 'wall_s'):>16.2f}")


def main():
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    py = sys.executable
    from hw8core.parallel import cores, degree, memory_available
    free = memory_available()
    print(f"this machine: {cores():g} CPUs available, {free >> 20 if free else '?'} MiB of memory available; "
          f"`hw8-grade grade` picks {degree(6, 3 * 2 ** 30)[0]} children at the default cap (3 GiB), "
          f"{degree(6, int(0.8 * 2 ** 30))[0]} under Gradescope's (0.8 GiB)")
    with tempfile.TemporaryDirectory() as tmp:
        grade = [py, "-m", "grader", "grade", "examples/reference", "-o", f"{tmp}/r.json", "--seed", "0"]
        bare = [py, "-c", BARE.format(root=str(ROOT), budgets=str(ROOT / "reference" / "budgets.json"))]
        runs = interleaved({"hw8-grade grade -j 1": (grade + ["-j", "1"], None),
                            "hw8-grade grade -j 2": (grade + ["-j", "2"], None),
                            "hw8-grade grade (auto)": (grade, None),
                            "bare training": (bare, None)}, rounds)
        score = json.loads(Path(f"{tmp}/r.json").read_text())["score"]
    table("grading the example side by side with a bare run of the same training", runs, "hw8-grade grade -j 1")
    serial, auto = med(runs["hw8-grade grade -j 1"], "wall_s"), med(runs["hw8-grade grade (auto)"], "wall_s")
    bare_wall = med(runs["bare training"], "wall_s")
    print(f"  score of the example: {score}")
    print(f"  grade/bare: -j 1 {serial / bare_wall:.2f}, auto {auto / bare_wall:.2f} (wall)")
    print(f"  TARGET hw8-grade grade (auto) at most 0.6 of serial: {auto / serial:.2f} "
          f"{'met' if auto / serial <= 0.6 else 'NOT met'}")
    print(f"  Gradescope (0.5 vCPU, serial there): CPU x 2 = {med(runs['hw8-grade grade -j 1'], 'cpu_s') * 2:.0f} s of 600 s")
    with tempfile.TemporaryDirectory() as tmp:
        site, wheel_kib, zip_kib = kit_build(tmp)
        env = dict(os.environ, PYTHONPATH=str(site))
        example = "examples/reference/hw8.ipynb"
        kit = interleaved({"hw8-check -j 1": ([py, "-m", "hw8check.cli", example, "-j", "1"], env),
                           "hw8-check (auto)": ([py, "-m", "hw8check.cli", example], env),
                           "hw8-grade check -j 1": ([py, "-m", "grader", "check", "examples/reference", "-j", "1"], None),
                           "hw8-grade check (auto)": ([py, "-m", "grader", "check", "examples/reference"], None)},
                          rounds)
        sections = kit_sections(site)
    table("the visible checks: the student kit beside the grader's own", kit, "hw8-check -j 1")
    check_auto = med(kit["hw8-check (auto)"], "wall_s")
    print(f"  hw8-check / hw8-grade check (auto): {check_auto / med(kit['hw8-grade check (auto)'], 'wall_s'):.2f}")
    print(f"  TARGET hw8-check at most 7 s on the example: {check_auto:.1f} s {'met' if check_auto <= 7 else 'NOT met'}")
    print(f"  student kit: wheel {wheel_kib:.0f} KiB, zip {zip_kib:.0f} KiB; hw8check.check(N) in the notebook: " + ", ".join(
        f"section {n} {t:.2f} s{'' if ok else ' (FAILED)'}" for n, (t, ok) in sections.items()))
    times = slow_variants()
    print("\ntraining the adder (3000 iterations), correct variants side by side:")
    for name, t in times.items():
        print(f"  {name:<16}{t:>8.2f} s  {t / times['reference']:>5.2f}x the reference")
    worst, seconds = slowest_reference_call()
    print(f"\nslowest reference call outside training: {worst}, {seconds * 1000:.1f} ms (the limit's floor: 10 s)")
    with tempfile.TemporaryDirectory() as tmp:
        capped = memory_and_hang(tmp)
    cap_kb = 0.8 * 2 ** 20
    print("\ngraded under Gradescope's cap (0.8 GiB of address space for the child; one child, as there):")
    for name, r in capped.items():
        peak = r["vm_peak_kb"]
        margin = f"{peak / 1024:.0f} MiB, margin {(cap_kb - peak) / 1024:.0f} MiB" if peak else "peak unknown"
        print(f"  {name:<42} score {r['score']:>6g}  wall {r['wall_s']:>6.1f} s  child VmPeak {margin}  "
              f"tree peak RSS {r['peak_rss_mb']:.0f} MB")
    tree = capped["example"]["peak_rss_mb"]
    print(f"  TARGET a 25% memory margin under Gradescope's 768 MB: tree peak {tree:.0f} MB, margin "
          f"{1 - tree / 768:.0%} {'met' if tree <= 0.75 * 768 else 'NOT met'}")
    extra = capped["example + hang in binary_adder_forward"]["wall_s"] - capped["example"]["wall_s"]
    print(f"one hang costs {extra:.0f} s of grading beyond a normal run")
    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps({"grade": runs, "checks": kit, "adder_variants_s": times,
                                                "slowest_reference_call": [worst, seconds], "capped": capped,
                                                "kit_sections_s": sections}, indent=1))


if __name__ == "__main__":
    main()
