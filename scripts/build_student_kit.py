"""Build the student kit: what an instructor hands out for self-checking, with no solution inside.

    python scripts/build_student_kit.py [--out dist/student-kit]

Writes, in --out: the template hw8.ipynb, a wheel of the `hw8check` package (`hw8-check` command
and `hw8check.check(N)` for the notebook), and README.md for students; and --out + ".zip" of it all.

The wheel holds two packages: hw8core, the core the grader installs too (the checks themselves, the
child, the supervisor, the loader, the wire format, the messages), so the kit shows the same check
numbers and messages as Gradescope; and hw8check, the kit's own modules (student_kit/hw8check/),
with its data generated here (hw8check/data/). Both are taken whole, as packages, from where they
live. No module of reference/ is in it: the visible probes' expected values are computed here, from
the reference, and stored as numbers (data/kit.json and data/arrays.npz).
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import timeouts  # noqa: E402
from grader.criteria import PASS_ACCURACY  # noqa: E402
from grader.oracle import ReferenceOracle  # noqa: E402
from grader.probes import plan  # noqa: E402
from hw8core import probe_ids as P  # noqa: E402
from hw8core.homework import IDX2CHAR, SEQ_DATA, X_TEXT  # noqa: E402
from hw8core.supervisor import Limits  # noqa: E402
from hw8core.wire import Probe, ResultOf, Tensor, stored_spec, to_spec  # noqa: E402
from reference import API_NAMES  # noqa: E402

CORE = ROOT / "hw8core"  # the shared package, whole
KIT = ROOT / "student_kit" / "hw8check"  # the kit's own modules, whole
# The functions whose visible answers are compared with a stored expected value. Trainings, module
# builders and calls on the student's own trained model have none: they are judged by the checks'
# own criteria and by the kit's extra probes (student_kit/hw8check/stored_oracle.py).
EXPECTED_FOR = {"srn_forward", "srn_forward_tanh", "run_rnncell", "run_rnn", "int2binary", "binary2int",
                "binary_adder_forward", "binary_adder_gradients", "add_binary", "make_data"}
VERSION = "1.0.0"


def kit_probes():
    """The grader's visible probes (seed 0: they do not depend on it), then the kit's extra probes after each training.
    The kit's package must be importable (stage_package puts student_kit/ first on sys.path)."""
    from hw8check.stored_oracle import ADDER_CHUNKS, ADDER_N, adder_sums_probe, adder_sums_stop, logits_probe
    probes = plan(0, visible_only=True)
    timeouts._speed = 1.0  # the limits as measured (grader/timings.json), not this build machine's
    timeouts.calibrate(probes)
    out = []
    for p in probes:
        out.append(p)
        if p.fn == "train_binary_adder" and p.role in (P.TRAIN, P.TINY):
            # All 128 x 128 sums only where a check reads an accuracy: the graded training's criterion (4.4) and the
            # tiny one's "untrained" (hw8core/checks/test_s4.py); the other trainings are compared as they are. Sums
            # after all eight trainings took 15 of hw8-check's 25 s on the example (make bench at fedd1b5).
            # The tiny one's "untrained" is settled once 1% of all sums are wrong: the child stops there (165 of
            # 8192 calls per chunk for the reference's; the whole chunks took 1.5 of hw8-check's 9 s, make bench).
            per = ADDER_N // ADDER_CHUNKS
            for chunk in range(ADDER_CHUNKS):
                rows = np.array([[a, b] for a in range(chunk * per, (chunk + 1) * per) for b in range(ADDER_N)],
                                np.int16)  # stored in arrays.npz; the child passes each row as Python ints
                stop = [rows.sum(axis=1), adder_sums_stop(PASS_ACCURACY)] if p.role == P.TINY else []
                out.append(Probe(adder_sums_probe(p.id, chunk), 4, "@each", ["add_binary", [ResultOf(p.id)], rows, *stop],
                                 hidden=False, timeout=timeouts.FLOOR, role=P.KIT))
        elif p.fn == "train_char_lm":
            x = Tensor(np.array([[IDX2CHAR.index(ch) for ch in X_TEXT]], np.int64))  # (1, 5)
            out.append(Probe(logits_probe(p.id), 5, "@call", [ResultOf(p.id, 0), x], hidden=False,
                             timeout=timeouts.FLOOR, role=P.KIT))
        elif p.fn == "train_seq2seq":
            import reference
            enc, dec, _ = reference.make_data([[word, "?" * 5] for word, _t in SEQ_DATA])  # translate's inputs
            h0 = np.zeros((1, len(SEQ_DATA), 128), np.float32)
            out.append(Probe(logits_probe(p.id), 7, "@call",
                             [ResultOf(p.id), Tensor(enc.numpy()), Tensor(h0), Tensor(dec.numpy())],
                             hidden=False, timeout=timeouts.FLOOR, role=P.KIT))
    return out


def each_call_seconds(calls=2000):
    """One add_binary call of the reference, in the seconds of the machine that measured grader/timings.json."""
    import time
    import reference
    weights = reference.train_binary_adder(iterations=20)
    start = time.perf_counter()
    for k in range(calls):
        reference.add_binary(weights, k % 128, (k * 7) % 128)
    here = (time.perf_counter() - start) / calls
    return here * timeouts.TIMINGS["probe_seconds"] / timeouts.probe_seconds()


def each_calls(probe, probes):
    """How many calls an "@each" probe makes on the reference's own training (all its rows, unless its stop rule
    ends it sooner)."""
    name, leading, rows, *stop = probe.args
    if not stop:
        return len(rows)
    import reference
    trained = next(p for p in probes if p.id == leading[0].probe)
    weights = getattr(reference, trained.fn)(**trained.kwargs)
    expect, most_wrong = stop
    wrong = 0
    for k, (row, want) in enumerate(zip(rows.tolist(), expect.tolist())):
        wrong += getattr(reference, name)(weights, *row) != want
        if wrong >= most_wrong:
            return k + 1
    return len(rows)


def plain(value):
    """An expected value as storable data: NumPy scalars as Python numbers, containers kept."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def kit_data():
    oracle = ReferenceOracle()
    probes = kit_probes()
    arrays = {}
    specs = [stored_spec(p, arrays) for p in probes]  # every probe of the kit is visible
    expected = {p.id: to_spec(plain(oracle.expected(p)), arrays) for p in probes if p.fn in EXPECTED_FOR}
    limits = Limits()
    # What each training costs (the reference's seconds as measured, grader/timings.json): how hw8-check shares
    # the sections among its children side by side (hw8core/parallel.py)
    costs = {p.id: round(timeouts.reference_seconds(p.fn, p.kwargs), 3) for p in probes if p.fn in timeouts.TRAINERS}
    per_call = each_call_seconds()
    costs.update({p.id: round(each_calls(p, probes) * per_call, 3) for p in probes if p.fn == "@each"})
    meta = {"version": VERSION, "api_names": API_NAMES, "probes": specs, "expected": expected, "costs": costs,
            "state_shapes": {cls: {k: list(v) for k, v in oracle.state_shapes(cls).items()}
                             for cls in ("CharRNN", "Seq2Seq")},
            "pass_accuracy": oracle.pass_accuracy,
            "limits": {"cell_timeout": limits.cell_timeout, "total_timeout": limits.total_timeout}}
    return meta, arrays


SETUP = '''from setuptools import setup

# The packages are taken whole from where they live (package_dir); only hw8check/data/ is made for this build.
setup(
    name="hw8-check",
    version="{version}",
    description="Homework 8 (RNN): self-check the visible checks on your own machine, no solutions inside",
    packages=["hw8core", "hw8core.checks", "hw8check", "hw8check.data"],
    package_dir={{"hw8core": {core!r}, "hw8check": {kit!r}, "hw8check.data": "data"}},
    package_data={{"hw8core": ["*.json"], "hw8check.data": ["kit.json", "arrays.npz"]}},
    python_requires=">=3.9",
    # Nothing: the kit uses the numpy and torch the student already has, and never installs or upgrades them.
    install_requires=[],
    entry_points={{"console_scripts": ["hw8-check=hw8check.cli:main"]}},
)
'''


def stage_package(stage):
    """A setup.py in `stage` that builds the wheel from hw8core/ and student_kit/hw8check/ as they are, and the kit's
    data (computed from the reference) in stage/data/, which the wheel installs as hw8check/data/."""
    data = stage / "data"
    data.mkdir(parents=True)
    sys.path.insert(0, str(KIT.parent))
    try:
        meta, arrays = kit_data()
    finally:  # the kit's modules are imported from the source tree for the build only: nothing may keep them
        sys.path.remove(str(KIT.parent))
        for name in [m for m in sys.modules if m == "hw8check" or m.startswith("hw8check.")]:
            del sys.modules[name]
    (data / "__init__.py").write_text('"""The kit\'s stored probes and expected values (numbers only), made by '
                                      'scripts/build_student_kit.py."""\n')
    (data / "kit.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    np.savez_compressed(data / "arrays.npz", **arrays)
    (stage / "setup.py").write_text(SETUP.format(version=VERSION, core=str(CORE), kit=str(KIT)))


def build(out):
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="hw8-kit-") as tmp:
        stage = Path(tmp) / "src"
        stage_package(stage)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                        "-w", str(out), str(stage)], check=True)
        shutil.rmtree(stage / "build", ignore_errors=True)
    shutil.copyfile(ROOT / "student_template" / "hw8.ipynb", out / "hw8.ipynb")
    shutil.copyfile(ROOT / "student_kit" / "README.md", out / "README.md")
    archive = out.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(out.iterdir()):
            z.write(f, f"{out.name}/{f.name}")
    return out, archive


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "dist" / "student-kit"))
    args = parser.parse_args()
    out, archive = build(args.out)
    wheel = next(out.glob("*.whl"))
    print(f"{out}/: {', '.join(sorted(f.name for f in out.iterdir()))}")
    print(f"{archive}: {archive.stat().st_size / 1024:.0f} KiB (wheel {wheel.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
