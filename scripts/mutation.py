"""make mutation: every mutant of a correct submission (tests/mutation.py), graded at five probe seeds on its own
section; the survivors checked for equivalence with the reference (tests/differential.py); a report.

    python scripts/mutation.py [-j N] [--only SUBSTRING] [--sample] [--out out/mutation]

Outcomes: killed (loses points at every seed), lottery (at some seeds only), survived (at none). A survivor whose
every contract-fixed output equals the reference's on random inputs is "equivalent" and leaves the count.
Graded mutants are kept in OUT/graded.jsonl, keyed by the mutant's id and text, so an interrupted run resumes.
Writes OUT/report.md and OUT/report.json: kill rate, lottery count, survivor list, wall time; over the whole set,
also grader/MUTATION.md, the measurement the README cites.
"""
import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def _grader_version():
    """A digest of everything a grade depends on besides the submission: the grader and the reference."""
    h = hashlib.sha256()
    for path in sorted([*ROOT.glob("grader/**/*.py"), *ROOT.glob("grader/*.json"), *ROOT.glob("grader/*.toml"),
                        *ROOT.glob("hw8core/**/*.py"), *ROOT.glob("hw8core/*.json"),
                        *ROOT.glob("reference/*.py"), *ROOT.glob("reference/*.json"), ROOT / "tests" / "multiseed.py"]):
        h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def _key(mutant, version):
    return hashlib.sha256(mutant.source().encode() + version.encode()).hexdigest()[:16]


def _grade(mutant_id):
    import torch
    torch.set_num_threads(1)
    import mutation
    mutant = next(m for m in mutation.mutants() if m.id == mutant_id)
    with tempfile.TemporaryDirectory(prefix="hw8-mutant-") as tmp:
        started = time.monotonic()
        try:
            row = mutation.grade_mutant(mutant, tmp)
        except Exception as exc:  # a grader error is reported, never taken for a kill
            row = {"outcome": "error", "error": repr(exc)}
        row["seconds"] = round(time.monotonic() - started, 2)
    return mutant_id, row


def _equivalence(mutant_id):
    import differential
    import mutation
    mutant = next(m for m in mutation.mutants() if m.id == mutant_id)
    return mutant_id, differential.check(mutant.source(), mutant.section)


def main(argv=None):
    import mutation
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--only", default="", help="grade only mutants whose id contains this")
    ap.add_argument("--sample", action="store_true", help="only the CI sample (tests/mutation_sample.txt)")
    ap.add_argument("--out", default=str(ROOT / "out" / "mutation"))
    ap.add_argument("--report-from", nargs="+", metavar="GRADED_JSONL",
                    help="grade nothing: report from these runs' graded.jsonl (a later file's row wins), as measured")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["TMPDIR"] = str(out / "tmp")  # the runs' folders are this harness's own: no other program's cleanup
    (out / "tmp").mkdir(exist_ok=True)
    started = time.monotonic()

    chosen = [m for m in mutation.mutants() if args.only in m.id]
    if args.sample:
        sample = set(mutation.sample_ids())
        chosen = [m for m in chosen if m.id in sample]
    if args.report_from:
        return report_from(args, chosen, out, started)
    cache_file = out / "graded.jsonl"
    cache = {}
    if cache_file.exists():
        for line in cache_file.read_text().splitlines():
            row = json.loads(line)
            cache[(row["id"], row["key"])] = row
    version = _grader_version()
    keys = {m.id: _key(m, version) for m in chosen}
    # the training sections first: their mutants are the slowest, and their survivors the likeliest
    todo = sorted((m for m in chosen if (m.id, keys[m.id]) not in cache), key=lambda m: (m.section not in (4, 5, 7),))
    print(f"{len(chosen)} mutants, {len(chosen) - len(todo)} already graded, {len(todo)} to grade, -j {args.jobs}",
          flush=True)
    with ProcessPoolExecutor(args.jobs) as pool, cache_file.open("a") as f:
        futures = [pool.submit(_grade, m.id) for m in todo]
        for i, fut in enumerate(as_completed(futures), 1):
            mid, row = fut.result()
            row.update(id=mid, key=keys[mid])
            cache[(mid, keys[mid])] = row
            f.write(json.dumps(row) + "\n")
            f.flush()
            print(f"[{i}/{len(todo)}] {row['outcome']:8s} {row.get('scores')} {row['seconds']:5.1f}s {mid}", flush=True)
    graded = {m.id: cache[(m.id, keys[m.id])] for m in chosen}
    return finish(args, chosen, graded, out, started)


def report_from(args, chosen, out, started):
    graded = {}
    for path in args.report_from:
        for line in Path(path).read_text().splitlines():
            row = json.loads(line)
            graded[row["id"]] = dict(row, run=str(path))
    missing = [m.id for m in chosen if m.id not in graded]
    chosen = [m for m in chosen if m.id in graded]
    return finish(args, chosen, graded, out, started, missing)


def finish(args, chosen, graded, out, started, missing=()):
    """The survivors' differential check (keyed by the mutant's text: it does not depend on the grader), the report."""
    survivors = [m for m in chosen if graded[m.id]["outcome"] == "survived"]
    eq_file = out / "equivalence.json"
    equivalence = json.loads(eq_file.read_text()) if eq_file.exists() else {}
    source_key = {m.id: hashlib.sha256(m.source().encode()).hexdigest()[:16] for m in survivors}
    todo = [m.id for m in survivors if equivalence.get(m.id, {}).get("source") != source_key[m.id]]
    with ProcessPoolExecutor(args.jobs) as pool:
        for mid, verdict in pool.map(_equivalence, todo):
            verdict["source"] = source_key[mid]
            equivalence[mid] = verdict
            eq_file.write_text(json.dumps(equivalence, indent=1))
            print(f"equivalence {verdict['equivalent']} {mid}: {verdict.get('difference', '')[:200]}", flush=True)
    eq_file.write_text(json.dumps(equivalence, indent=1))

    report = make_report(chosen, graded, equivalence, time.monotonic() - started)
    report["not_graded"] = list(missing)
    report["runs"] = sorted({row.get("run", str(out / "graded.jsonl")) for row in graded.values()})
    (out / "report.json").write_text(json.dumps(report, indent=1))
    (out / "report.md").write_text(render(report))
    if not args.only and not args.sample and not missing:  # the whole set: the measurement the README cites
        (ROOT / "grader" / "MUTATION.md").write_text(render(report))
    print(render(report))
    return 0 if report["target_met"] else 1


def make_report(chosen, graded, equivalence, seconds):
    from collections import Counter
    rows = []
    for m in chosen:
        row = graded[m.id]
        fate = row["outcome"]
        if fate == "survived" and equivalence.get(m.id, {}).get("equivalent"):
            fate = "equivalent"
        rows.append({"id": m.id, "operator": m.operator, "section": m.section, "function": m.function,
                     "line": m.line, "outcome": fate, "scores": row.get("scores"),
                     "same_at_every_seed": len(set(row.get("scores") or [None])) == 1,
                     "why": (equivalence.get(m.id, {}).get("difference") or equivalence.get(m.id, {}).get("note")
                             or row.get("error"))})
    count = Counter(r["outcome"] for r in rows)
    counted = len(rows) - count["equivalent"]
    rate = count["killed"] / counted if counted else 1.0
    return {"mutants": len(rows), "killed": count["killed"], "lottery": count["lottery"],
            "survived": count["survived"], "equivalent": count["equivalent"], "error": count["error"],
            "kill_rate": rate, "target_met": rate >= 0.98 and count["lottery"] == 0 and count["error"] == 0,
            "seconds": round(seconds), "seeds": __import__("mutation").SEEDS,
            "by_operator": {op: dict(Counter(r["outcome"] for r in rows if r["operator"] == op))
                            for op in sorted({r["operator"] for r in rows})},
            "by_section": {s: dict(Counter(r["outcome"] for r in rows if r["section"] == s))
                           for s in sorted({r["section"] for r in rows})},
            "not_same_at_every_seed": [r["id"] for r in rows if not r["same_at_every_seed"]],
            "rows": rows}


def render(report):
    lines = ["# Mutation report", "",
             f"{report['mutants']} mutants, graded at probe seeds {report['seeds']} on their own section "
             f"({report['seconds']} s wall).", "",
             f"- killed: {report['killed']}", f"- lottery: {report['lottery']}", f"- survived: {report['survived']}",
             f"- equivalent (differential check, tests/differential.py): {report['equivalent']}",
             f"- grader errors: {report['error']}",
             f"- **kill rate of non-equivalent mutants: {report['kill_rate']:.2%}** (target 98%, zero lotteries)",
             f"- section score not the same at every seed: {len(report['not_same_at_every_seed'])}",
             f"- not graded: {len(report.get('not_graded', []))}",
             f"- runs: {', '.join(report.get('runs', [])) or 'this one'}", "",
             "| operator | outcomes |", "|---|---|"]
    lines += [f"| {op} | {c} |" for op, c in report["by_operator"].items()]
    lines += ["", "| section | outcomes |", "|---|---|"]
    lines += [f"| {s} | {c} |" for s, c in report["by_section"].items()]
    lines += ["", "## Survivors, lotteries, equivalents and errors", ""]
    for r in report["rows"]:
        if r["outcome"] != "killed":
            lines.append(f"- {r['outcome']}: `{r['id']}` scores {r['scores']}" + (f" — {r['why']}" if r["why"] else ""))
    for mid in report["not_same_at_every_seed"]:
        lines.append(f"- different scores across seeds: `{mid}`")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    os.environ.setdefault("HW8_LANG", "en")
    sys.exit(main())
