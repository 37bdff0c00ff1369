"""hw8-grade batch: a whole class in one command.

DIR holds one submission per student (a folder or a single .ipynb/.py each), or Gradescope's
"Export Submissions" layout (submission_<id>/ folders and submission_metadata.yml). Each
submission is graded exactly as `grade` grades it, in its own worker process, N at a time, or
on a Dask cluster. OUTDIR gets gradebook.csv, summary.md, two PNG plots, and per student a
results.json and a feedback.md. An interrupted batch resumes: finished students are skipped
unless --force.
"""
import asyncio
import json
import os
import stat
import tempfile
import time
import traceback
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from dataclasses import dataclass, field, replace
from pathlib import Path

from .classreport import feedback_markdown, write_outputs
from hw8core.i18n import Msg, set_lang
from hw8core.supervisor import write_new
from hw8core.wire import read_at_most

MAX_FILE_BYTES = 50 * 2 ** 20
PER_JOB_BYTES = int(1.5 * 2 ** 30)  # a grading worker with its sandboxed child peaks near 1 GB (make bench)


@dataclass
class Entry:
    id: str
    files: dict  # relative name -> bytes: the student's submission, to be graded anywhere
    submitters: list = field(default_factory=list)  # [{"name", "sid", "email"}]


def _read_files(path):
    """A submission's files as bytes, so a worker on another machine can grade it. Only regular files, and no link
    is followed: a student's link (unzip restores them) to the TA's files, or a folder link to /, would otherwise be
    read by the TA and copied into the submission, where the child reads it."""
    path = Path(path)
    if path.is_symlink():
        return {}
    if path.is_file():
        data = _read_regular(path)
        return {} if data is None else {path.name: data}
    files = {}
    for root, dirs, names in os.walk(path):  # followlinks=False: a link to a folder is listed, never entered
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith("."):
                data = _read_regular(Path(root) / name)
                if data is not None:
                    files[str((Path(root) / name).relative_to(path))] = data
    return files


def _read_regular(path):
    """The bytes of a regular file of at most MAX_FILE_BYTES, or None: a link, a FIFO, a device, a larger file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            return None
        data = read_at_most(fd, MAX_FILE_BYTES + 1)
        return data if len(data) <= MAX_FILE_BYTES else None
    except OSError:
        return None
    finally:
        os.close(fd)


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
        try:  # the dict itself comes back: nothing is read from a folder a submission could have reached
            return grade_to_file(sub, out, seed=seed, lang=lang, limits=limits)
        except Exception:
            from .results import make_failure_results
            return make_failure_results(traceback.format_exc(), seed, time.monotonic())


def _failure(exc, seed):
    from .results import make_failure_results
    return make_failure_results("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), seed,
                                time.monotonic())


def _timed_out(seconds, seed):
    """The row of a student whose grading passed the batch's per-student limit: a grader error that says so."""
    from .results import make_failure_results
    return make_failure_results(f"timed out: grading this submission took longer than {seconds:.0f} s "
                                f"(hw8-grade batch --student-timeout); it was stopped, and a resumed batch skips it "
                                f"unless --retry-errors or --force", seed, time.monotonic())


def _grader_error(results):
    """Whether a row is the grader's own failure (make_failure_results: its hidden traceback entry)."""
    return any(t.get("name") == "0.0 traceback" for t in results.get("tests", []))


def _kill_pool(pool):
    """Kill a pool's worker processes (and, we being the subreaper, what they started)."""
    for proc in list(getattr(pool, "_processes", {}).values()):
        try:
            proc.kill()
        except Exception:
            pass


def _pool_round(entries, jobs, call, limit, on_done, on_late):
    """Grade entries in a process pool. One that runs past `limit` seconds (the grader's own clock, from when a
    worker took it) is reported to on_late and the pool's workers are killed; returns the entries whose worker
    died under them, to be graded again, each alone."""
    retry = []
    pool = ProcessPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(call, e): e for e in entries}
        pending, started = set(futures), {}
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                entry = futures[fut]
                try:
                    on_done(entry, fut.result())
                except BrokenProcessPool:  # a worker died and took the pool's other tasks with it
                    retry.append(entry)
                except Exception as exc:
                    on_done(entry, exc)
            now = time.monotonic()
            for fut in pending:
                if fut.running():
                    started.setdefault(fut, now)
            late = [f for f in pending if now - started.get(f, now) > limit]
            if late:
                for fut in late:
                    on_late(futures[fut])
                pending -= set(late)
                _kill_pool(pool)  # the others fail with BrokenProcessPool: graded again
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return retry


def _grade_one(grade, entry, *, seed, lang, limits):
    return grade(entry.files, seed, lang, limits)


def local_cluster(jobs):
    """A Dask cluster on this machine that speaks only TLS, with a certificate made for it: (cluster, security)."""
    from distributed import LocalCluster
    from distributed.security import Security
    security = Security.temporary()
    cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, security=security,
                           host="127.0.0.1", dashboard_address=None)
    return cluster, security


def _run_dask(todo, jobs, scheduler, task_of, limit, finish, late):
    """The batch on Dask. A cluster made here speaks TLS with a certificate made for this batch
    (distributed.security.Security.temporary), so nothing without it, the students' code included, can submit
    work; with --scheduler, the cluster's own security configuration (distributed's tls settings) applies."""
    from distributed import Client, wait as dask_wait
    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        cluster, security = local_cluster(jobs)
        client = Client(cluster, security=security)
    try:
        futures = {}
        for e in todo:
            fn, *args = task_of(e)
            futures[client.submit(fn, *args, key=f"hw8-{e.id}-{uuid.uuid4().hex[:8]}", pure=False)] = e
        pending, started = set(futures), time.monotonic()
        while pending:
            try:
                done, pending = dask_wait(list(pending), timeout=1.0, return_when="FIRST_COMPLETED")
            except (TimeoutError, asyncio.TimeoutError):  # nothing finished this second
                done = set()
            pending = set(pending)
            for fut in done:
                try:
                    finish(futures[fut], fut.result())
                except Exception as exc:  # a worker died or the task failed: a row marked "grader error"
                    finish(futures[fut], exc)
            # Dask does not say when a task started: each student's limit counts from when the batch could
            # first have reached it (its place in the queue over the workers).
            now = time.monotonic()
            for fut in list(pending):
                order = list(futures).index(fut) // max(1, jobs)
                if now - started > limit * (order + 1):
                    late(futures[fut])
                    fut.cancel()
                    pending.discard(fut)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


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


def require_confinement(limits, allow_unconfined):
    """Refuse a class batch that no sandbox layer beyond resource limits would confine (grader.confine), unless
    the TA said --unconfined: then every student's code could read and write whatever the TA can."""
    from .confine import available_layers
    layers = available_layers(limits)
    if layers or allow_unconfined:
        return layers
    raise SystemExit(str(Msg(
        "hw8-grade batch: no sandbox layer can confine the submissions on this machine (no Landlock, no seccomp, "
        "and no --user as root), so each student's code could read the solutions and overwrite classmates' "
        "results. Grade as root with --user, on a kernel with Landlock, or pass --unconfined to accept the risk.",
        "hw8-grade batch：本机无法用任何沙箱层隔离提交代码（没有 Landlock、seccomp，也没有以 root 身份使用 --user），"
        "学生代码可能读取答案、改写同学的成绩。请以 root 配合 --user 运行，或在支持 Landlock 的内核上运行；"
        "若接受此风险，请加 --unconfined。")))


def main(directory, outdir, *, jobs=None, seed=None, force=False, lang="en", executor="local", scheduler=None,
         limits=None, progress=True, grade=grade_entry, student_timeout=None, retry_errors=False,
         unconfined=False):
    """Grade every submission in directory; `grade` is grade_entry (tests pass one that fails).

    student_timeout: seconds one student's grading may take, after which the row is a grader error that says
    so (default: the run's total limit plus five minutes). A resumed batch skips such rows (and every other
    finished one) unless retry_errors or force."""
    from .grade import new_seed
    from .processes import kill_adopted, children_now, set_subreaper
    set_lang(lang)
    require_confinement(limits, unconfined)
    student_timeout = student_timeout or ((limits.total_timeout if limits else 540.0) + 300.0)
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
            results = json.loads((sdir / "results.json").read_text(encoding="utf-8"))
            if retry_errors and _grader_error(results):
                todo.append(e)
                continue
            all_results[e.id] = results
        else:
            todo.append(e)
    jobs = jobs or default_jobs()
    if limits is not None and limits.jobs is None:
        # Each student's sections side by side (hw8core/parallel.py) on the cores the concurrent students leave:
        # the two kinds of parallelism share the cores rather than multiply. A Dask worker has one thread.
        from hw8core.parallel import cores
        limits = replace(limits, jobs=1 if executor == "dask" else max(1, int(cores() // jobs)))
    if limits is not None and limits.user and os.geteuid() == 0:
        from .processes import ensure_sandbox_users
        # one uid per concurrent child (students times their side-by-side sections): none can touch another's
        ensure_sandbox_users(limits.user, jobs * (limits.jobs or 1))
    started = time.monotonic()

    def save(entry, results):
        sdir = outdir / "students" / entry.id
        sdir.mkdir(parents=True, exist_ok=True)
        # Each file replaced through a fresh one of the grader's own: nothing a submission left is written through.
        write_new(sdir / "feedback.md", feedback_markdown(entry, results).encode("utf-8"))
        write_new(sdir / "results.json", json.dumps(results, ensure_ascii=False, indent=1).encode("utf-8"))
        # results.json is written last: its presence marks the student as done
        all_results[entry.id] = results

    def finish(entry, results):
        save(entry, results if isinstance(results, dict) else _failure(results, seed))
        bar.advance(task)

    def late(entry):
        finish(entry, _timed_out(student_timeout, seed))

    from rich.progress import Progress
    set_subreaper()  # what a killed worker's sandbox left is re-parented here, and killed
    before = children_now()
    with Progress(disable=not progress) as bar:
        task = bar.add_task(str(Msg("grading", "评分中")), total=len(todo))
        if executor == "dask":
            _run_dask(todo, jobs, scheduler, lambda e: (grade, e.files, seed, lang, limits), student_timeout,
                      finish, late)
        else:
            call = partial(_grade_one, grade, seed=seed, lang=lang, limits=limits)
            retry = _pool_round(todo, jobs, call, student_timeout, finish, late)
            for entry in retry:  # each alone, so that the one who killed its worker harms no one else
                for again in _pool_round([entry], 1, call, student_timeout, finish, late):
                    finish(again, _failure(RuntimeError("the grading worker process died twice (BrokenProcessPool)"), seed))
    kill_adopted(before)
    rows = write_outputs(outdir, entries, all_results)
    print(str(Msg(f"Graded {len(todo)} submissions ({len(entries) - len(todo)} already done) in "
                f"{time.monotonic() - started:.0f} s with {jobs} jobs; {len(rows)} gradebook rows in {outdir}.",
                f"本次评分 {len(todo)} 份（{len(entries) - len(todo)} 份已完成），用时 {time.monotonic() - started:.0f} 秒，"
                f"并行 {jobs}；成绩单共 {len(rows)} 行，位于 {outdir}。")))
    return 0
