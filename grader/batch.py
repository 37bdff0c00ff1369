"""hw8-grade batch: a whole class in one command.

DIR holds one submission per student (a folder or a single .ipynb/.py each), or Gradescope's
"Export Submissions" layout (submission_<id>/ folders and submission_metadata.yml). Each
submission is graded exactly as `grade` grades it, in its own worker process, N at a time, or
on a Dask cluster. OUTDIR gets gradebook.csv, summary.md, two PNG plots, and per student a
results.json and a feedback.md. An interrupted batch resumes: finished students are skipped
unless --force.
"""
import json
import os
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from .classreport import feedback_markdown, write_outputs
from .i18n import Msg, set_lang

MAX_FILE_BYTES = 50 * 2 ** 20
PER_JOB_BYTES = int(1.5 * 2 ** 30)  # a grading worker with its sandboxed child peaks near 1 GB (make bench)


@dataclass
class Entry:
    id: str
    files: dict  # relative name -> bytes: the student's submission, to be graded anywhere
    submitters: list = field(default_factory=list)  # [{"name", "sid", "email"}]


def _read_files(path):
    """A submission's files as bytes, so a worker on another machine can grade it."""
    path = Path(path)
    if path.is_file():
        return {path.name: path.read_bytes()}
    files = {}
    for p in sorted(path.rglob("*")):
        if p.is_file() and p.stat().st_size <= MAX_FILE_BYTES and not any(part.startswith(".") for part in p.parts):
            files[str(p.relative_to(path))] = p.read_bytes()
    return files


def _symbol(d, key):
    """Gradescope's export writes Ruby symbols as keys: ':name'."""
    return d.get(f":{key}", d.get(key)) if isinstance(d, dict) else None


def discover(directory):
    directory = Path(directory)
    meta = directory / "submission_metadata.yml"
    if meta.exists():
        import yaml
        data = yaml.safe_load(meta.read_text(encoding="utf-8")) or {}
        entries = []
        for key in sorted(data):
            folder = directory / str(key)
            submitters = [{"name": str(_symbol(s, "name") or ""), "sid": str(_symbol(s, "sid") or ""),
                           "email": str(_symbol(s, "email") or "")} for s in (_symbol(data[key], "submitters") or [])]
            entries.append(Entry(str(key), _read_files(folder) if folder.exists() else {}, submitters))
        return entries
    entries = []
    for p in sorted(directory.iterdir()):
        if p.name.startswith(".") or (p.is_file() and p.suffix not in (".ipynb", ".py")):
            continue
        sid = p.stem if p.is_file() else p.name
        entries.append(Entry(sid, _read_files(p), [{"name": "", "sid": sid, "email": ""}]))
    return entries


def grade_entry(files, seed, lang, limits):
    """Grade one submission from its bytes, in this process; returns results.json as a dict.

    Runs in a worker: a local process or a Dask worker. Never raises for a bad submission.
    """
    try:
        return _grade_files(files, seed, lang, limits)
    except Exception:  # the grader's own failure: this student's row says so, the batch goes on
        from .results import make_failure_results
        return make_failure_results(traceback.format_exc(), seed, time.monotonic())


def _grade_files(files, seed, lang, limits):
    from .grade import grade_to_file
    with tempfile.TemporaryDirectory(prefix="hw8-batch-") as tmp:
        sub = Path(tmp) / "submission"
        sub.mkdir()
        for name, data in files.items():
            target = sub / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        out = Path(tmp) / "results.json"
        try:
            grade_to_file(sub, out, seed=seed, lang=lang, limits=limits)
        except Exception:
            pass  # grade_to_file has already written the "autograder failed" results
        return json.loads(out.read_text(encoding="utf-8"))


def _failure(exc, seed):
    from .results import make_failure_results
    return make_failure_results("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), seed,
                                time.monotonic())


def default_jobs():
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        import psutil
        fit = max(1, psutil.virtual_memory().available // PER_JOB_BYTES)
    except Exception:
        fit = cpus
    return max(1, min(cpus, fit))


def _done(student_dir):
    try:
        json.loads((student_dir / "results.json").read_text(encoding="utf-8"))
        return True
    except (OSError, ValueError):
        return False


def main(directory, outdir, *, jobs=None, seed=None, force=False, lang="en", executor="local", scheduler=None,
         limits=None, progress=True, grade=grade_entry):
    """Grade every submission in directory; `grade` is grade_entry (tests pass one that fails)."""
    from .grade import new_seed
    set_lang(lang)
    outdir = Path(outdir)
    (outdir / "students").mkdir(parents=True, exist_ok=True)
    seed_file = outdir / "seed.txt"
    if seed is None:  # one seed for the whole class, kept so that a resumed batch uses the same probes
        seed = int(seed_file.read_text()) if seed_file.exists() and not force else new_seed()
    seed_file.write_text(str(seed))
    entries = discover(directory)
    all_results, todo = {}, []
    for e in entries:
        sdir = outdir / "students" / e.id
        if not force and _done(sdir):
            all_results[e.id] = json.loads((sdir / "results.json").read_text(encoding="utf-8"))
        else:
            todo.append(e)
    jobs = jobs or default_jobs()
    if limits is not None and limits.user and os.geteuid() == 0:
        from .processes import ensure_sandbox_users
        ensure_sandbox_users(limits.user, jobs)  # one uid per concurrent run: none can touch another's
    started = time.monotonic()

    def save(entry, results):
        sdir = outdir / "students" / entry.id
        sdir.mkdir(parents=True, exist_ok=True)
        (sdir / "feedback.md").write_text(feedback_markdown(entry, results), encoding="utf-8")
        tmp = sdir / "results.json.tmp"
        tmp.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(sdir / "results.json")  # written last: its presence marks the student as done
        all_results[entry.id] = results

    from rich.progress import Progress
    with Progress(disable=not progress) as bar:
        task = bar.add_task(str(Msg("grading", "评分中")), total=len(todo))
        if executor == "dask":
            from distributed import Client, as_completed as dask_completed
            client = Client(scheduler) if scheduler else Client(processes=True, n_workers=jobs, threads_per_worker=1)
            try:
                futures = {client.submit(grade, e.files, seed, lang, limits, key=f"hw8-{e.id}-{seed}",
                                         pure=False): e for e in todo}
                for fut in dask_completed(futures):
                    try:
                        results = fut.result()
                    except Exception as exc:  # a worker died or the task failed: a row marked "grader error"
                        results = _failure(exc, seed)
                    save(futures[fut], results)
                    bar.advance(task)
            finally:
                client.close()
        else:
            retry = []
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(grade, e.files, seed, lang, limits): e for e in todo}
                for fut in as_completed(futures):
                    entry = futures[fut]
                    try:
                        save(entry, fut.result())
                        bar.advance(task)
                    except BrokenProcessPool:  # a worker died and took the pool's other tasks with it
                        retry.append(entry)
                    except Exception as exc:
                        save(entry, _failure(exc, seed))
                        bar.advance(task)
            for entry in retry:  # each alone, so that the one who killed its worker harms no one else
                with ProcessPoolExecutor(max_workers=1) as pool:
                    try:
                        save(entry, pool.submit(grade, entry.files, seed, lang, limits).result())
                    except Exception as exc:
                        save(entry, _failure(exc, seed))
                bar.advance(task)
    rows = write_outputs(outdir, entries, all_results)
    print(str(Msg(f"Graded {len(todo)} submissions ({len(entries) - len(todo)} already done) in "
                f"{time.monotonic() - started:.0f} s with {jobs} jobs; {len(rows)} gradebook rows in {outdir}.",
                f"本次评分 {len(todo)} 份（{len(entries) - len(todo)} 份已完成），用时 {time.monotonic() - started:.0f} 秒，"
                f"并行 {jobs}；成绩单共 {len(rows)} 行，位于 {outdir}。")))
    return 0
