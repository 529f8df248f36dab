"""cnnexp/store.py: tidy tables round-trip; crashes, kills, foreign files and concurrent
writers never lose or corrupt saved results."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pandas as pd
import pytest

from cnnexp.config import ConfigError
from cnnexp.store import TMP_MAX_AGE_S, Store
from tests.conftest import ROOT


def record(i: int, experiment: str = "baseline", **extra) -> dict:
    return {
        "run_id": f"r{i:05d}",
        "experiment": experiment,
        "version": 1,
        "seed": i,
        "label": "cnn",
        "status": "done",
        "ended_at": f"2026-01-01T00:{i % 60:02d}:00",
        "config": {"model": "cnn", "width": 4 + i % 3},
        "test_acc": 0.5 + i / 1e4,
        **extra,
    }


def metrics(n_epochs: int = 2) -> list[dict]:
    return [
        {"epoch": e, "split": s, "metric": "acc", "value": e / 10}
        for e in range(1, n_epochs + 1)
        for s in ("train", "test")
    ]


def test_round_trip(store):
    store.save(
        record(1), metrics(3), {"shift_eval": [{"shift": 2, "metric": "test_acc", "value": 0.8}]}
    )
    runs = store.runs()
    assert runs.loc[0, "run_id"] == "r00001" and runs.loc[0, "width"] == 5
    assert json.loads(runs.loc[0, "config_json"]) == {"model": "cnn", "width": 5}
    m = store.metrics(["r00001"])
    assert list(m.columns) == ["run_id", "epoch", "split", "metric", "value"] and len(m) == 6
    t = store.table("shift_eval", ["r00001"])
    assert t.to_dict("records") == [
        {"run_id": "r00001", "shift": 2, "metric": "test_acc", "value": 0.8}
    ]
    assert store.table("metrics", ["r00001"]).shape[0] == 6


def test_saving_the_same_run_replaces_it(store):
    store.save(record(1, status="failed"), [])
    store.save(record(1), metrics())
    runs = store.runs()
    assert len(runs) == 1 and runs.loc[0, "status"] == "done"


def test_unreadable_files_are_skipped_with_a_warning_naming_them(store):
    store.save(record(1), metrics())
    good = store.save(record(2), metrics())
    (good.parent / "truncated.parquet").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (good.parent / "foreign.parquet").write_text("not a parquet file")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = store.runs()
    assert set(runs["run_id"]) == {"r00001", "r00002"}
    text = " ".join(str(w.message) for w in caught)
    assert "truncated.parquet" in text and "foreign.parquet" in text


def test_temporary_files_are_never_read_as_runs(store):
    p = store.save(record(1), metrics())
    (p.parent / ".r00009.123.abcd.tmp").write_bytes(b"half")
    assert list(store.runs()["run_id"]) == ["r00001"]


def test_the_app_removes_stray_temporary_files_of_dead_writers_on_start(store, results):
    from tests.test_app import open_page

    p = store.save(record(1), metrics())
    (results / "headlines").mkdir()
    old = [p.parent / ".r00009.123.abcd.tmp", results / ".index.1.ab.tmp"]
    old.append(results / "headlines" / ".baseline.1.ab.tmp")
    live = p.parent / ".r00010.456.cdef.tmp"  # a writer still at work: too young to remove
    for f in [*old, live]:
        f.write_bytes(b"half")
    for f in old:
        os.utime(f, (time.time() - 2 * TMP_MAX_AGE_S,) * 2)
    assert not open_page("pages/home.py").exception
    assert not any(f.exists() for f in old) and live.exists()
    assert list(store.runs()["run_id"]) == ["r00001"]  # the results themselves untouched


def test_index_is_rebuilt_when_missing_or_corrupt(store, results):
    for i in range(5):
        store.save(record(i), metrics())
    assert len(store.runs()) == 5
    (results / "index.parquet").write_text("garbage")
    assert len(Store(results).runs()) == 5
    (results / "index.parquet").unlink()
    assert len(Store(results).runs()) == 5


def test_delete(store):
    for i in range(3):
        store.save(record(i), metrics())
    assert store.delete(["r00000", "r00002"]) == 2
    assert list(store.runs()["run_id"]) == ["r00001"]


def test_a_results_path_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "results"
    f.write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        Store(f)


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from cnnexp.store import Store
    from tests.test_store import record, metrics
    store = Store(sys.argv[1])
    start, count = int(sys.argv[2]), int(sys.argv[3])
    for i in range(start, start + count):
        store.save(record(i), metrics(200))
        store.runs()  # readers and writers interleave
""")


def _kill_once_writing(proc, results, pattern: str = "*.parquet", extra_s: float = 0.5):
    """SIGKILL a writer once it has saved something (a loaded machine may take many seconds to
    start Python), plus a moment so the kill lands mid-write of a later run."""
    end = time.time() + 120
    while not any(results.rglob(pattern)) and time.time() < end and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(extra_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _writers(results, ranges):
    code = WRITER.format(root=str(ROOT))
    return [
        subprocess.Popen([sys.executable, "-c", code, str(results), str(a), str(n)], cwd=ROOT)
        for a, n in ranges
    ]


def test_concurrent_writers_lose_nothing(results):
    procs = _writers(results, [(0, 40), (1000, 40)])
    assert all(p.wait(timeout=120) == 0 for p in procs)
    runs = Store(results).runs()
    assert len(runs) == 80 and runs["run_id"].is_unique
    assert len(Store(results).metrics(runs["run_id"])) == 80 * 400


def test_a_killed_writer_leaves_no_half_file(results):
    (proc,) = _writers(results, [(0, 100000)])
    _kill_once_writing(proc, results)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any unreadable file would warn
        runs = Store(results).runs()
    assert len(runs) > 0
    m = Store(results).metrics(runs["run_id"])
    assert (m.groupby("run_id").size() == 400).all()


def test_summary_of_many_runs(store):
    for i in range(300):
        store.save(record(i, experiment=("a", "b")[i % 2]), [])
    fresh = Store(store.root)
    assert len(fresh.runs()) == 300 and len(fresh.runs("a")) == 150
    assert isinstance(fresh.runs(), pd.DataFrame)


# --- blobs: binary files beside a run (the equivariance experiment's trained weights) ---------
def blob_of(i: int, size: int = 1000) -> bytes:
    return bytes([i % 251]) * size + i.to_bytes(4, "little")


def test_a_blob_is_written_beside_its_run_and_read_back(store):
    path = store.save(record(1, "equivariance"), metrics(), blobs={"weights": blob_of(1)})
    assert store.blob("equivariance", "r00001", "weights") == blob_of(1)
    assert (path.parent / "r00001.weights.bin").read_bytes() == blob_of(1)
    assert store.blob("equivariance", "r00001", "other") is None
    assert store.blob("equivariance", "r00002", "weights") is None
    assert list(store.runs()["run_id"]) == ["r00001"]  # a blob is never taken for a run
    with pytest.raises(ConfigError, match="not a plain name"):
        store.save(record(2), metrics(), blobs={"../x": b""})


def test_a_blob_is_deleted_with_its_run(store):
    for i in range(2):
        store.save(record(i, "equivariance"), metrics(), blobs={"weights": blob_of(i)})
    assert store.delete(["r00000"]) == 1
    files = sorted(p.name for p in (store.runs_dir / "equivariance").iterdir())
    assert files == ["r00001.parquet", "r00001.weights.bin"]
    assert store.blob("equivariance", "r00000", "weights") is None


BLOB_WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from cnnexp.store import Store
    from tests.test_store import record, metrics, blob_of
    store = Store(sys.argv[1])
    for i in range(100000):
        store.save(record(i, "equivariance"), metrics(), blobs={{"weights": blob_of(i, 2_000_000)}})
""")


def test_a_killed_writer_leaves_no_run_with_a_half_blob(results):
    proc = subprocess.Popen(
        [sys.executable, "-c", BLOB_WRITER.format(root=str(ROOT)), str(results)], cwd=ROOT
    )
    _kill_once_writing(proc, results)
    store = Store(results)
    runs = store.runs()
    assert len(runs) > 0
    for run_id, seed in zip(runs["run_id"], runs["seed"], strict=True):
        assert store.blob("equivariance", run_id, "weights") == blob_of(seed, 2_000_000)
    for p in (store.runs_dir / "equivariance").glob("*.bin"):  # no half blob under its name
        assert p.stat().st_size == 2_000_004


def test_the_bundle_seeds_blobs_with_their_runs(tmp_path):
    from cnnexp import bundle

    shipped = Store(tmp_path / "bundle")
    shipped.save(record(3, "equivariance"), metrics(), blobs={"weights": blob_of(3)})
    assert bundle.seed(tmp_path / "results", tmp_path / "bundle") == 2
    assert Store(tmp_path / "results").blob("equivariance", "r00003", "weights") == blob_of(3)


def test_what_is_done_to_seeded_runs_never_changes_the_bundle(tmp_path):
    # Seeded files are hard links to the bundle's where both share a disk: saving a run anew
    # or deleting it must leave the bundle's own files as they were.
    from cnnexp import bundle

    shipped = Store(tmp_path / "bundle")
    shipped.save(record(1), metrics())
    shipped.save(record(2), metrics())
    before = {p: p.read_bytes() for p in (tmp_path / "bundle" / "runs").rglob("*.parquet")}
    assert bundle.seed(tmp_path / "results", tmp_path / "bundle") == 2
    for p in before:  # linked, not copied: one disk here, so the hazard is real
        seeded = tmp_path / "results" / p.relative_to(tmp_path / "bundle")
        assert seeded.samefile(p)
    results = Store(tmp_path / "results")
    results.save(record(1, test_acc=0.123), metrics())  # saved anew over the seeded file
    results.delete(["r00002"])
    assert {p: p.read_bytes() for p in before} == before
    assert Store(tmp_path / "bundle").records(["r00001", "r00002"]).keys() == {"r00001", "r00002"}
    assert results.records(["r00001"])["r00001"]["test_acc"] == 0.123


def test_a_reader_between_full_scans_still_sees_every_write_and_delete(results, monkeypatch):
    """Between full scans the store trusts its folders' modification times; what another
    writer saves, replaces or deletes changes them, so the next read sees it."""
    import cnnexp.store as store_module

    monkeypatch.setattr(store_module, "RECENT_S", 0.05)  # trust folder times sooner
    reader, writer = Store(results), Store(results)
    writer.save(record(1), metrics())
    time.sleep(0.1)
    assert list(reader.runs()["run_id"]) == ["r00001"]
    time.sleep(0.1)
    assert list(reader.runs()["run_id"]) == ["r00001"]  # from the folder times alone
    writer.save(record(2, experiment="scaling"), metrics())  # a new experiment folder
    writer.save(record(3), metrics())
    time.sleep(0.1)
    assert sorted(reader.runs()["run_id"]) == ["r00001", "r00002", "r00003"]
    writer.save(record(1, status="failed"), metrics())  # replaced whole
    writer.delete(["r00003"])
    time.sleep(0.1)
    runs = reader.runs()
    assert sorted(runs["run_id"]) == ["r00001", "r00002"]
    assert runs.set_index("run_id").loc["r00001", "status"] == "failed"
    assert reader.counts() == {"baseline": 1, "scaling": 1}


def test_records_follow_every_save_and_delete_and_are_each_callers_own(results):
    store = Store(results)
    store.save(record(1), metrics())
    first = store.records(["r00001", "r00009"])
    assert list(first) == ["r00001"] and first["r00001"]["test_acc"] == 0.5001
    first["r00001"]["test_acc"] = -1  # a caller's change stays in its own copy
    assert store.records(["r00001"])["r00001"]["test_acc"] == 0.5001
    time.sleep(0.01)  # a new file time, as a later save has
    store.save(record(1, test_acc=0.9), metrics())  # saved anew
    store.save(record(9), metrics())  # asked for before it existed
    assert store.records(["r00001", "r00009"])["r00001"]["test_acc"] == 0.9
    assert "r00009" in store.records(["r00009"])
    store.delete(["r00001"])
    assert store.records(["r00001", "r00009"]).keys() == {"r00009"}


def test_the_runs_version_changes_with_every_save_and_delete_and_only_then(results):
    store = Store(results)
    store.save(record(1), metrics())
    runs, version = store.runs_and_version()
    assert list(runs["run_id"]) == ["r00001"]
    assert store.runs_and_version()[1] == version  # nothing changed: the same number
    store.save(record(2), metrics())
    runs, saved = store.runs_and_version()
    assert saved != version and len(runs) == 2
    store.delete(["r00001"])
    runs, deleted = store.runs_and_version()
    assert deleted not in (version, saved) and list(runs["run_id"]) == ["r00002"]
    # another Store (the same folder, another server's cache) never reuses a number
    assert Store(results).runs_and_version()[1] not in (version, saved, deleted)


def test_home_keeps_the_headline_of_the_plan_that_finished_last(store):
    """Found: viewing a page whose plan was saved long ago (a slider no run depends on
    moved) rewrote Home's card for everyone, as if it had just been trained."""
    t = "2026-01-01T00:00:{:02d}+00:00".format
    store.save_headline("baseline", {"width": 8}, {"acc": 0.9}, finished_at=t(10))
    store.save_headline("baseline", {"width": 4}, {"acc": 0.8}, finished_at=t(5))  # older
    store.save_headline("baseline", {"width": 8, "x": 1}, {"acc": 0.9}, finished_at=t(10))
    assert store.headlines()["baseline"]["config"] == {"width": 8}
    store.save_headline("baseline", {"width": 16}, {"acc": 0.95}, finished_at=t(20))  # trained
    saved = store.headlines()["baseline"]
    assert saved["config"] == {"width": 16} and saved["finished_at"] == t(20)
    # A shipped headline (no finished_at): its saved_at is the bar.
    shipped = {"experiment": "permuted", "config": {}, "headline": {}, "saved_at": t(30)}
    (store.root / "headlines" / "permuted.json").write_text(json.dumps(shipped))
    store.save_headline("permuted", {"seeds": 1}, {"gap": 1}, finished_at=t(25))
    assert store.headlines()["permuted"]["config"] == {}
    store.save_headline("permuted", {"seeds": 1}, {"gap": 1}, finished_at=t(35))
    assert store.headlines()["permuted"]["config"] == {"seeds": 1}


# --- notes sidecars and pins ------------------------------------------------------------------
def test_a_runs_name_note_and_tags_live_beside_it_and_change_nothing_else(results):
    from cnnexp.run_notes import RunNotes

    store = Store(results)
    store.save(record(1), metrics())
    store.save(record(2), metrics())
    before = store.runs()
    assert "name" not in before  # no sidecar anywhere: the table is as it was
    run_file = store.path("baseline", "r00001")
    saved_bytes = run_file.read_bytes()
    store.write_notes("baseline", "r00001", RunNotes("wide try", "why: see", ("week 3", "a"), "me"))
    runs = store.runs().set_index("run_id")
    assert runs.loc["r00001", ["name", "note", "tags"]].tolist() == [
        "wide try",
        "why: see",
        "week 3, a",
    ]
    assert runs.loc["r00002", ["name", "note", "tags"]].isna().all()
    assert "owner" not in runs  # who launched it is not for every visitor's download
    assert run_file.read_bytes() == saved_bytes  # the run itself: not rewritten
    assert runs.drop(columns=["name", "note", "tags"]).equals(before.set_index("run_id"))
    # A restart (another Store, the index read from disk) reads them again.
    again = Store(results).runs().set_index("run_id")
    assert again.loc["r00001", "name"] == "wide try"
    assert Store(results).notes("baseline", "r00001").owner == "me"


def test_renaming_a_run_shows_at_once_and_changes_the_runs_version(results):
    from cnnexp.run_notes import RunNotes

    store = Store(results)
    store.save(record(1), metrics())
    _, version = store.runs_and_version()
    store.write_notes("baseline", "r00001", RunNotes(name="first"))
    runs, named = store.runs_and_version()
    assert runs.loc[0, "name"] == "first" and named != version
    time.sleep(0.01)  # another file time, as a later edit has
    store.write_notes("baseline", "r00001", RunNotes(name="second"))
    runs, renamed = store.runs_and_version()
    assert runs.loc[0, "name"] == "second" and renamed != named
    assert store.records(["r00001"])["r00001"]["name"] == "second"
    assert store.runs_and_version()[1] == renamed  # nothing changed: the same number
    store.write_notes("baseline", "r00001", RunNotes())  # nothing said: the sidecar goes
    assert not store.notes_path("baseline", "r00001").exists()
    assert "name" not in store.runs()


def test_notes_written_before_the_run_is_saved_wait_for_it_and_go_with_it(results):
    """At launch the runs are only queued: their names are written before their files."""
    from cnnexp.run_notes import RunNotes

    store = Store(results)
    store.write_notes("baseline", "r00001", RunNotes(name="queued one"))
    assert store.runs().empty
    store.save(record(1), metrics())
    assert store.runs().loc[0, "name"] == "queued one"
    store.delete(["r00001"])
    assert not store.notes_path("baseline", "r00001").exists()


@pytest.mark.parametrize("experiment, run_id", [("../..", "x"), ("baseline", "../../x"), ("b", "")])
def test_a_notes_path_is_only_ever_a_runs_name(results, experiment, run_id):
    """The ids come from the page's selection; a crafted one names no other file."""
    from cnnexp.config import ConfigError
    from cnnexp.run_notes import RunNotes

    with pytest.raises(ConfigError, match="not a plain name; allowed: letters, digits, _"):
        Store(results).write_notes(experiment, run_id, RunNotes("x"))
    assert not any(results.parent.rglob("*.notes.json"))


def test_a_hand_edited_sidecar_is_read_within_the_bounds(results):
    store = Store(results)
    store.save(record(1), metrics())
    path = store.notes_path("baseline", "r00001")
    path.write_text(json.dumps({"name": "x" * 500, "tags": ["a,b", 3, "c" * 99], "note": 7}))
    row = store.runs().iloc[0]
    assert row["name"] == "x" * 80 and row["tags"] == "a b, " + "c" * 32
    assert pd.isna(row["note"])
    path.write_text("{not json")
    assert "name" not in Store(results).runs()  # unreadable: says nothing


def test_pins_are_kept_apart_from_the_latest_headline(store):
    store.save_headline("baseline", {"width": 8}, {"acc": 0.9}, finished_at="2026-01-01")
    store.pin("baseline", {"width": 16}, {"acc": 0.95}, by="email:t@school.edu")
    store.save_headline("baseline", {"width": 4}, {"acc": 0.5}, finished_at="2026-02-01")
    pin = store.pins()["baseline"]
    assert pin["config"] == {"width": 16} and pin["headline"] == {"acc": 0.95}
    assert pin["headline_version"] == 1 and pin["pinned_at"]
    assert store.headlines()["baseline"]["config"] == {"width": 4}
    store.unpin("baseline")
    assert store.pins() == {}
    store.unpin("baseline")  # twice: nothing to do
