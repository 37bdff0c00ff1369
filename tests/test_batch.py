"""Batch grading: a mixed class folder, resume, Gradescope's export layout, plots, and Dask."""
import csv
import json

import numpy as np
import pytest

from grader.batch import discover, main as batch_main
from hw8core.supervisor import Limits

from conftest import ROOT, mutate

# The machinery around a grade, not its fairness: the graded trainings at other seeds are left out in this process
# (conftest.without_other_seed_trainings says where they are graded for real, and why).
pytestmark = pytest.mark.usefixtures("without_other_seed_trainings")

# The longest statement of a correct submission takes 0.9-1.0 s here (the torch import; report.cells[i].seconds of
# the example and corpus.homework_code): 10 s leaves 10x room on a busy machine, and a hang costs only that.
LIMITS = Limits(cell_timeout=10.0, total_timeout=200.0, memory_bytes=2 * 2 ** 30)  # probe limits as calibrated
HOSTILE = "import time\ntime.sleep(10**6)\n"
SECTION1_ONLY = (ROOT / "reference" / "s1_srn.py").read_text()
# Section 1 with a bug and nothing else: alice's notebook already takes a whole grade, and one is enough here.
BUGGY = mutate(SECTION1_ONLY, "h = W_xh @ inputs[t] + W_hh @ h  # (hidden,)", "h = W_xh @ inputs[t] + h")


def _rows(out):
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def mixed_class(tmp_path_factory):
    class_dir = tmp_path_factory.mktemp("class")
    (class_dir / "alice").mkdir()
    (class_dir / "alice" / "hw8.ipynb").write_bytes((ROOT / "examples" / "reference" / "hw8.ipynb").read_bytes())
    (class_dir / "bob.py").write_text(BUGGY)
    (class_dir / "carol").mkdir()
    (class_dir / "carol" / "hw8.ipynb").write_text("{ this is not json")
    (class_dir / "dave.py").write_text(SECTION1_ONLY + "\n" + HOSTILE)
    out = tmp_path_factory.mktemp("out")
    assert batch_main(class_dir, out, jobs=2, seed=3, limits=LIMITS, progress=False) == 0
    return class_dir, out


def test_mixed_class_gets_the_right_rows(mixed_class):
    _, out = mixed_class
    rows = {r["submission"]: r for r in _rows(out)}
    assert set(rows) == {"alice", "bob", "carol", "dave"}
    assert float(rows["alice"]["total"]) == 100 and rows["alice"]["status"] == "graded"
    assert 0 < float(rows["bob"]["section_1"]) < 10 and float(rows["bob"]["total"]) == float(rows["bob"]["section_1"])
    assert float(rows["carol"]["total"]) == 0 and rows["carol"]["status"] == "not loaded"
    assert "not valid notebook JSON" in rows["carol"]["error"]
    assert float(rows["dave"]["section_1"]) == 10 and float(rows["dave"]["total"]) == 10
    for sid in rows:
        assert (out / "students" / sid / "results.json").exists()
        assert (out / "students" / sid / "feedback.md").read_text().startswith("# Homework 8")
    summary = (out / "summary.md").read_text()
    assert "| 1 |" in summary and "Checks failed most often" in summary


def test_resumed_batch_does_not_regrade(mixed_class):
    class_dir, out = mixed_class
    before = {p: p.stat().st_mtime_ns for p in (out / "students").glob("*/results.json")}
    batch_main(class_dir, out, jobs=2, limits=LIMITS, progress=False)  # the seed comes back from seed.txt
    assert {p: p.stat().st_mtime_ns for p in (out / "students").glob("*/results.json")} == before
    assert len(_rows(out)) == 4


def test_plots_are_real_pngs(mixed_class):
    from PIL import Image
    _, out = mixed_class
    for name in ("scores_histogram.png", "check_pass_rate.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
        with Image.open(out / name) as img:
            img.verify()
        with Image.open(out / name) as img:
            assert img.size[0] > 300 and len(np.unique(np.asarray(img.convert("L")))) > 10  # not a blank canvas


METADATA = """submission_101:
  :submitters:
  - :name: Li Lei
    :sid: '2023001'
    :email: lilei@example.edu
  :created_at: 2026-11-20 10:00:00.000000000 +08:00
  :score: 0.0
submission_102:
  :submitters:
  - :name: Han Meimei
    :sid: '2023002'
    :email: hanmm@example.edu
  - :name: Wang Fang
    :sid: '2023003'
    :email: wangf@example.edu
  :created_at: 2026-11-21 11:30:00.000000000 +08:00
"""


def _export(tmp_path):
    d = tmp_path / "export"
    (d / "submission_101").mkdir(parents=True)
    (d / "submission_101" / "hw8.py").write_text(SECTION1_ONLY)
    (d / "submission_102").mkdir()
    (d / "submission_102" / "hw8.ipynb").write_text("{}")
    (d / "submission_metadata.yml").write_text(METADATA)
    return d


def test_gradescope_export_layout_and_groups(tmp_path):
    entries = {e.id: e for e in discover(_export(tmp_path))}
    assert set(entries) == {"submission_101", "submission_102"}
    assert entries["submission_101"].submitters == [{"name": "Li Lei", "sid": "2023001", "email": "lilei@example.edu"}]
    assert [s["sid"] for s in entries["submission_102"].submitters] == ["2023002", "2023003"]
    out = tmp_path / "out"
    batch_main(tmp_path / "export", out, jobs=2, seed=1, limits=LIMITS, progress=False)
    rows = _rows(out)
    assert sorted(r["sids"] for r in rows) == ["2023001", "2023002", "2023003"]
    by_sid = {r["sids"]: r for r in rows}
    assert float(by_sid["2023001"]["section_1"]) == 10
    assert by_sid["2023002"]["submission"] == by_sid["2023003"]["submission"] == "submission_102"
    assert by_sid["2023002"]["total"] == by_sid["2023003"]["total"] == "0.0"


def test_dask_executor_on_a_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        out = tmp_path / "out"
        batch_main(_export(tmp_path), out, seed=1, limits=LIMITS, progress=False, executor="dask",
                   scheduler=cluster.scheduler_address)
    rows = _rows(out)
    assert len(rows) == 3 and {r["status"] for r in rows} == {"graded", "not loaded"}
    local = tmp_path / "local"
    batch_main(tmp_path / "export", local, seed=1, limits=LIMITS, progress=False, jobs=1)
    strip = lambda p: json.dumps({k: v for k, v in json.loads(p.read_text()).items() if k != "execution_time"}, sort_keys=True)
    for sub in ("submission_101", "submission_102"):
        assert strip(out / "students" / sub / "results.json") == strip(local / "students" / sub / "results.json")


def grade_or_fail(files, seed, lang, limits):
    """A grader with a bug for two students: one raises, one kills its worker process outright."""
    from grader.batch import grade_entry
    source = b"".join(files.values())
    if b"RAISE-IN-GRADER" in source:
        raise RuntimeError("simulated grader bug")
    if b"KILL-THE-WORKER" in source:
        import os
        os._exit(7)
    return grade_entry(files, seed, lang, limits)


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_a_grader_error_costs_one_row_not_the_batch(tmp_path, executor):
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    for name in ("amy", "ben", "cat"):
        (class_dir / f"{name}.py").write_text(SECTION1_ONLY)
    (class_dir / "raiser.py").write_text(SECTION1_ONLY + "\n# RAISE-IN-GRADER\n")
    if executor == "local":
        (class_dir / "killer.py").write_text(SECTION1_ONLY + "\n# KILL-THE-WORKER\n")
    out = tmp_path / "out"
    kwargs = {}
    if executor == "dask":
        distributed = pytest.importorskip("distributed")
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
        kwargs = {"executor": "dask", "scheduler": cluster.scheduler_address}
    try:
        assert batch_main(class_dir, out, jobs=2, seed=4, limits=LIMITS, progress=False, grade=grade_or_fail,
                          **kwargs) == 0
    finally:
        if executor == "dask":
            cluster.close()
    rows = {r["submission"]: r for r in _rows(out)}
    for name in ("amy", "ben", "cat"):
        assert rows[name]["status"] == "graded" and float(rows[name]["section_1"]) == 10, rows[name]
    assert rows["raiser"]["status"] == "grader error" and "simulated grader bug" in rows["raiser"]["error"]
    if executor == "local":
        assert rows["killer"]["status"] == "grader error", rows["killer"]
        assert "process" in rows["killer"]["error"].lower(), rows["killer"]
    assert (out / "summary.md").exists() and (out / "students" / "raiser" / "feedback.md").exists()


def grade_or_hang(files, seed, lang, limits):
    """A grader that never returns for one student (a hang the sandbox did not catch)."""
    from grader.batch import grade_entry
    if b"HANG-THE-GRADER" in b"".join(files.values()):
        import time
        time.sleep(600)
    return grade_entry(files, seed, lang, limits)


def test_a_student_past_the_time_limit_is_a_row_not_a_stopped_class(tmp_path):
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    for name in ("amy", "ben"):
        (class_dir / f"{name}.py").write_text(SECTION1_ONLY)
    (class_dir / "hanger.py").write_text(SECTION1_ONLY + "\n# HANG-THE-GRADER\n")
    out = tmp_path / "out"
    # 60 s: a section-1 grade takes about 3 s here (the torch import and the probes); the hang is 600 s.
    kwargs = dict(jobs=2, seed=4, limits=LIMITS, progress=False, grade=grade_or_hang, student_timeout=60)
    assert batch_main(class_dir, out, **kwargs) == 0
    rows = {r["submission"]: r for r in _rows(out)}
    assert rows["amy"]["status"] == rows["ben"]["status"] == "graded", rows
    assert rows["hanger"]["status"] == "grader error" and "timed out" in rows["hanger"]["error"], rows["hanger"]
    stamp = (out / "students" / "hanger" / "results.json").stat().st_mtime_ns
    batch_main(class_dir, out, **kwargs)  # resumed: the hung row is not graded again
    assert (out / "students" / "hanger" / "results.json").stat().st_mtime_ns == stamp
    (class_dir / "hanger.py").write_text(SECTION1_ONLY)  # fixed; the TA asks for the errors again
    batch_main(class_dir, out, **kwargs, retry_errors=True)
    assert {r["submission"]: r for r in _rows(out)}["hanger"]["status"] == "graded"


def test_the_batch_cluster_speaks_only_tls(tmp_path):
    distributed = pytest.importorskip("distributed")
    from grader.batch import local_cluster
    cluster, security = local_cluster(1)
    try:
        assert cluster.scheduler_address.startswith("tls://")
        with distributed.Client(cluster.scheduler_address, security=security, timeout=20) as client:
            assert client.submit(sum, [1, 2]).result() == 3
        plain = cluster.scheduler_address.replace("tls://", "tcp://")
        with pytest.raises(Exception):  # no certificate: no connection, so no code to run
            distributed.Client(plain, timeout=5)
        with pytest.raises(Exception):
            distributed.Client(cluster.scheduler_address, timeout=5)  # tls, but not this batch's certificate
    finally:
        cluster.close()
    # The positive control: a cluster without security runs whatever a plain client sends.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as open_:
        with distributed.Client(open_.scheduler_address, timeout=20) as client:
            assert client.submit(sum, [1, 2]).result() == 3


def test_batch_refuses_an_unconfined_class_unless_told(tmp_path, monkeypatch):
    from grader import confine
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "amy.py").write_text(SECTION1_ONLY)
    monkeypatch.setattr(confine, "available_layers", lambda limits=None: [])
    with pytest.raises(SystemExit, match="--unconfined"):
        batch_main(tmp_path / "class", tmp_path / "out", jobs=1, seed=1, limits=LIMITS, progress=False)
    assert not (tmp_path / "out" / "gradebook.csv").exists()
    batch_main(tmp_path / "class", tmp_path / "out", jobs=1, seed=1, limits=LIMITS, progress=False, unconfined=True)
    assert (tmp_path / "out" / "gradebook.csv").exists()


@pytest.mark.parametrize("executor", ["local", "dask"])
@pytest.mark.parametrize("confined", [True, False], ids=["confined", "positive-control"])
def test_a_student_cannot_rewrite_classmates_results(tmp_path, executor, confined):
    """mallory's code overwrites every results.json in the batch's output folder; a resumed batch reads rows
    back from there. Confined, alice keeps her 10; with resource limits only (--unconfined), she is zeroed."""
    import dataclasses
    from grader.confine import landlock_abi
    from test_integrity import attack_source
    if landlock_abi()[0] == 0 and confined:
        pytest.skip("without Landlock (and not root with --user) nothing stops a write as the TA's uid")
    if executor == "dask":
        pytest.importorskip("distributed")
    class_dir, out = tmp_path / "class", tmp_path / "out"
    class_dir.mkdir()
    (class_dir / "alice.py").write_text(SECTION1_ONLY)
    limits = LIMITS if confined else dataclasses.replace(LIMITS, layers=("rlimits",))
    kwargs = dict(jobs=1, seed=2, limits=limits, progress=False, executor=executor, unconfined=not confined)
    batch_main(class_dir, out, **kwargs)
    (class_dir / "mallory.py").write_text(SECTION1_ONLY + "\n" + attack_source("overwrites_classmates", OUTDIR=str(out)))
    batch_main(class_dir, out, **kwargs)  # mallory is graded; alice's row is kept
    batch_main(class_dir, out, **kwargs)  # resumed again: every row is read back from its results.json
    rows = {r["submission"]: r for r in _rows(out)}
    assert float(rows["mallory"]["section_1"]) == 10
    if confined:
        assert float(rows["alice"]["section_1"]) == 10, rows["alice"]
    else:
        assert float(rows["alice"]["total"]) == 0, rows["alice"]
