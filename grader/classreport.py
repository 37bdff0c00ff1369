"""The class's report from a batch's results: gradebook.csv, per-student feedback.md, summary.md and two plots.

grader/batch.py finds and grades the submissions; this module only reads their results.
"""
import csv
import statistics
from collections import Counter

from .catalog import SECTIONS, catalog


def feedback_markdown(entry, results):
    names = ", ".join(s["name"] or s["sid"] for s in entry.submitters) or entry.id
    lines = [f"# Homework 8 (RNN): {names}", "", f"**{results['score']:g} / {results['extra_data'].get('max_score', 100):g}**", "",
             "```", results["output"], "```", ""]
    for t in results["tests"]:
        if t.get("visibility") == "hidden":
            continue
        mark = "✔" if t["status"] == "passed" else "✘"
        lines.append(f"## {mark} {t['name']} ({t['score']:g}/{t['max_score']:g})" if t["max_score"]
                     else f"## {t['name']}")
        lines += ["", "```", t["output"], "```", ""]
    return "\n".join(lines)


def internal_errors_of(results):
    """The checks of one results.json that ended in an internal error of the grader; "0.0" when the whole grading did."""
    checks = [str(c) for c in results.get("extra_data", {}).get("internal_error_checks") or []]
    if not checks and any(t.get("number") == "0.0" for t in results.get("tests", [])):  # written before the count was
        checks = ["0.0"]
    return checks


def label_of(entry):
    names = ", ".join(s["name"] or s["sid"] for s in entry.submitters)
    return f"{entry.id} ({names})" if names else entry.id


def row_of(entry, results):
    sections = results.get("extra_data", {}).get("sections", {})
    failed_internal = any(t["number"] == "0.0" for t in results["tests"])
    loading = next((t["output"] for t in results["tests"] if t["number"] == "0.1"), "")
    status = "grader error" if failed_internal else ("not loaded" if "could not be loaded" in loading or "无法加载" in loading
                                                     else "graded")
    if failed_internal:  # the reason: the last line of the grader's traceback
        trace = next((t["output"] for t in results["tests"] if t["name"] == "0.0 traceback"), "")
        loading = next((line for line in reversed(trace.strip().splitlines()) if line.strip()), "unknown error")
    return {"submission": entry.id,
            "names": "; ".join(s["name"] for s in entry.submitters),
            "sids": "; ".join(s["sid"] for s in entry.submitters),
            "emails": "; ".join(s["email"] for s in entry.submitters),
            **{f"section_{n}": sections.get(str(n), 0.0) for n in SECTIONS},
            "total": results["score"], "max": results.get("extra_data", {}).get("max_score", 100),
            "status": status, "error": loading.splitlines()[0][:300] if status != "graded" else _internal_note(results)}


def _internal_note(results):
    checks = internal_errors_of(results)
    return f"internal error of the grader in check(s) {', '.join(checks)} (see summary.md)" if checks else ""


def write_outputs(outdir, entries, all_results):
    rows = []
    for entry in entries:
        results = all_results.get(entry.id)
        if results is None:
            continue
        row = row_of(entry, results)
        if not entry.submitters:
            rows.append(row)
        for s in entry.submitters or []:  # one row per student; a group shares its submission's grade
            rows.append({**row, "names": s["name"], "sids": s["sid"], "emails": s["email"]})
    with open(outdir / "gradebook.csv", "w", newline="", encoding="utf-8") as f:
        fields = ["submission", "names", "sids", "emails"] + [f"section_{n}" for n in SECTIONS] + ["total", "max", "status", "error"]
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    checks = catalog()
    try:  # the gradebook is written; a failure in the class report must not lose it
        graded = [entry for entry in entries if entry.id in all_results]
        (outdir / "summary.md").write_text(summary_markdown([all_results[e.id] for e in graded], checks,
                                                            [label_of(e) for e in graded]), encoding="utf-8")
        plot(outdir, list(all_results.values()), checks)
    except Exception as exc:
        print(f"warning: the class summary or plots could not be written: {exc!r}")
    return rows


def summary_markdown(results_list, checks, labels=None):
    """The class's summary; labels[i] names the submission of results_list[i] (its id and students)."""
    labels = labels or [f"submission {i + 1}" for i in range(len(results_list))]
    lines = ["# Homework 8 (RNN): class summary", "", f"{len(results_list)} submissions graded.", "",
             "| section | mean | median | max |", "|---|---|---|---|"]
    points = {c.section: 0.0 for c in checks}
    for c in checks:
        points[c.section] += c.max_score
    for n in SECTIONS:
        vals = [r.get("extra_data", {}).get("sections", {}).get(str(n), 0.0) for r in results_list]
        if vals:
            lines.append(f"| {n} | {statistics.mean(vals):.2f} | {statistics.median(vals):.2f} | {points[n]:g} |")
    totals = [r["score"] for r in results_list]
    if totals:
        lines.append(f"| total | {statistics.mean(totals):.2f} | {statistics.median(totals):.2f} | {sum(points.values()):g} |")
    fails = Counter(t["name"] for r in results_list for t in r["tests"] if t["status"] == "failed" and t["max_score"] > 0)
    lines += ["", "## Checks failed most often", "", "| check | submissions failing |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in fails.most_common(15)]
    # Every submission for which the grader failed, whole or in a check: its score there is the grader's fault.
    hit = [(label, internal_errors_of(r)) for label, r in zip(labels, results_list) if internal_errors_of(r)]
    lines += ["", "## Internal errors of the grader", ""]
    if hit:
        lines += [f"{len(hit)} submissions hit an internal error of the grader: their scores there are the grader's "
                  f"fault, not the students'. The tracebacks are in each students/ID/results.json (test 0.3, or 0.0 "
                  f"when the whole grading failed), hidden from students.", "",
                  "| submission | checks |", "|---|---|"]
        lines += ["| " + label.replace("|", "\\|") + f" | {', '.join(found)} |" for label, found in hit]
    else:
        lines.append("None: every check of every submission ran to its verdict.")
    return "\n".join(lines) + "\n"


def plot(outdir, results_list, checks):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    totals = [r["score"] for r in results_list]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(totals, bins=range(0, 106, 5), color="#3b6ea8", edgecolor="white")
    ax.set_xlabel("total score")
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"Homework 8: total scores (n = {len(totals)})")
    fig.tight_layout()
    fig.savefig(outdir / "scores_histogram.png", dpi=100)
    plt.close(fig)
    rate = []
    for c in checks:
        graded = [t for r in results_list for t in r["tests"] if t["number"] == c.number]
        rate.append(sum(t["status"] == "passed" for t in graded) / len(graded) if graded else 0.0)
    fig, ax = plt.subplots(figsize=(7, max(4, len(checks) * 0.25)))
    ax.barh([c.number for c in checks][::-1], [100 * x for x in rate][::-1], color="#5a9e6f")
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of submissions passing")
    ax.set_title("Pass rate of each check")
    fig.tight_layout()
    fig.savefig(outdir / "check_pass_rate.png", dpi=100)
    plt.close(fig)
