"""The results store: one parquet file per run, an index that is only ever a cache.

Layout (schema in results/README.md):
    <root>/runs/<experiment>/<run_id>.parquet   the run: its record in the file's metadata,
                                                its tidy tables as rows (column `table`)
    <root>/runs/<experiment>/<run_id>.<name>.bin  a run's binary blob (e.g. trained weights),
                                                written before the run file, deleted with it
    <root>/runs/<experiment>/<run_id>.notes.json  what people call the run: name, note, tags
                                                (cnnexp/run_notes.py); changed at any time,
                                                never part of the run's id or results
    <root>/index.parquet                        the runs table of every file, rebuilt from
                                                the files whenever they change
    <root>/headlines/<experiment>.json          the latest finished plan's headline (recent)
    <root>/pins/<experiment>.json               the headline an admin pinned to Home

Every file is written under a temporary name and moved into place with os.replace, so a
crash, a kill or a second writer never leaves a half-written file under a run's name. The
run files are the truth: the index is re-derived from them, so losing or racing on the
index loses nothing. A file that cannot be read is skipped with a warning naming it.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from cnnexp import catalog  # light (the standard library): each headline's shape version
from cnnexp.errors import ConfigError  # not cnnexp.config: Home loads the store, not pydantic
from cnnexp.run_notes import COLUMNS as NOTE_COLUMNS
from cnnexp.run_notes import RunNotes

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# pandas and pyarrow are imported by the methods that read or write tables, not here: Home
# (headlines and run counts) and the sidebar then paint without loading them (bench/ui.py).

SCHEMA_VERSION = 1
RUN_KEY = b"cnnexp.run"
NOTES_SUFFIX = ".notes.json"


@cache
def core_schema() -> pa.Schema:
    """The columns every run file shares, with one Arrow type each."""
    import pyarrow as pa

    return pa.schema(
        [
            ("run_id", pa.string()),
            ("table", pa.string()),
            ("epoch", pa.int64()),
            ("split", pa.string()),
            ("metric", pa.string()),
            ("value", pa.float64()),
        ]
    )


TMP_MAX_AGE_S = 3600  # stray temporary files older than this are from dead writers
# Between full scans (a stat of every run file), the folders' modification times say whether
# anything changed: every write, replace and delete renames or unlinks a file in its
# experiment's folder. A folder changed less than RECENT_S ago is not trusted (a second change
# in the same clock tick leaves the time as it was); a file edited in place by hand is seen
# at the next full scan, at most FULL_SCAN_S later.
RECENT_S = 2.0
FULL_SCAN_S = 30.0


def default_root() -> Path:
    return Path(os.environ.get("CNNEXP_RESULTS") or "results")


def check_folder(path: Path, what: str) -> None:
    """A folder at `path`, or one that can be made there: not a file, nor inside one."""
    existing = next((p for p in (path, *path.absolute().parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        where = "is a file" if existing == path else f"is inside the file {existing}"
        raise ConfigError(f"{what} {path} {where}; allowed: a folder (existing or to be created)")


def check_writable(path: Path, what: str) -> None:
    """Make the folder and write a scratch file in it, before any work that would save there
    (a read-only folder failed each run after training it)."""
    check_folder(path, what)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise ConfigError(
            f"{what} {path} cannot be written ({e.strerror or e}); allowed: a folder this "
            "user can write"
        ) from None


_VERSIONS = itertools.count(1)  # shared by every Store: no two tables get the same number


class Store:
    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_root()
        check_folder(self.root, "results path")
        self._index: pd.DataFrame | None = None
        self._signature: dict[str, tuple[int, int]] = {}
        self._warned: set[tuple[str, int]] = set()
        self._stamp_seen: tuple | None = None
        self._scanned_at = 0.0
        self._lock = threading.RLock()  # one Store serves every browser session's thread
        # Records already read out of the current index, by run id (None: not saved). Swapped
        # as one tuple with the index they came from, so no thread pairs an index with
        # another's records.
        self._records: tuple[pd.DataFrame | None, dict[str, dict | None]] = (None, {})
        self._version = 0  # which index this is, unique in the process: see runs_and_version
        # The runs table as the files give it (also what index.parquet holds), and the notes
        # sidecars read into it: file -> (signature, RunNotes), kept to read only changed ones.
        self._base: pd.DataFrame | None = None
        self._notes: dict[str, tuple[tuple[int, int], RunNotes]] = {}

    # --- paths --------------------------------------------------------------------------
    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def path(self, experiment: str, run_id: str) -> Path:
        return self.runs_dir / experiment / f"{run_id}.parquet"

    def notes_path(self, experiment: str, run_id: str) -> Path:
        if not (experiment.isidentifier() and run_id.isalnum()):  # names, never paths
            raise ConfigError(
                f"run {experiment!r}/{run_id!r} is not a plain name; allowed: letters, digits, _"
            )
        return self.runs_dir / experiment / f"{run_id}{NOTES_SUFFIX}"

    def blob_path(self, experiment: str, run_id: str, name: str) -> Path:
        if not name.isidentifier():
            raise ConfigError(
                f"blob name '{name}' is not a plain name; allowed: letters, digits, _"
            )
        return self.runs_dir / experiment / f"{run_id}.{name}.bin"

    # --- writing --------------------------------------------------------------------------
    def save(
        self,
        record: dict,
        metrics: list[dict],
        tables: dict[str, list[dict]] | None = None,
        blobs: dict[str, bytes] | None = None,
    ) -> Path:
        """Write one run atomically; a run with the same id is replaced whole. Blobs (bytes
        too large or too opaque for a table, e.g. trained weights) go to files beside it,
        written first: a run file on disk means its blobs are whole."""
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        record = {**record, "schema_version": SCHEMA_VERSION}
        frames = [
            pd.DataFrame(metrics, columns=["epoch", "split", "metric", "value"]).assign(
                table="metrics"
            )
        ]
        frames += [pd.DataFrame(rows).assign(table=name) for name, rows in (tables or {}).items()]
        frame = pd.concat(frames, ignore_index=True)
        frame.insert(0, "run_id", record["run_id"])
        table = _with_core_types(pa.Table.from_pandas(frame, preserve_index=False))
        table = table.replace_schema_metadata(
            {RUN_KEY: json.dumps(record, default=str).encode(), b"cnnexp.schema": b"1"}
        )
        final = self.path(record["experiment"], record["run_id"])
        final.parent.mkdir(parents=True, exist_ok=True)
        for name, data in (blobs or {}).items():
            path = self.blob_path(record["experiment"], record["run_id"], name)
            _atomic_write(path, lambda f, data=data: f.write(data))
        _atomic_write(final, lambda f: pq.write_table(table, f))
        return final

    def blob(self, experiment: str, run_id: str, name: str) -> bytes | None:
        """A saved run's blob, or None when that run or blob is not saved."""
        if not self.path(experiment, run_id).exists():
            return None  # a blob outlives its run only between the two unlinks of delete
        try:
            return self.blob_path(experiment, run_id, name).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, run_ids: Iterable[str]) -> int:
        """Remove runs by id; returns how many files were removed."""
        wanted = set(run_ids)
        index = self.runs()
        removed = 0
        for f in index.loc[index["run_id"].isin(wanted), "_file"]:
            run = self.root / f
            try:
                run.unlink()  # first the run, so no run is ever seen without its blobs
                removed += 1
            except FileNotFoundError:
                pass
            for blob in run.parent.glob(f"{run.stem}.*.bin"):
                blob.unlink(missing_ok=True)
            run.with_name(f"{run.stem}{NOTES_SUFFIX}").unlink(missing_ok=True)
        return removed

    # --- what people call a run (a sidecar: never the run's id or results) ------------------
    def write_notes(self, experiment: str, run_id: str, notes: RunNotes) -> None:
        """Name, note and tag a run (saved or still to come: the sidecar waits beside where
        its file will be), replacing what it had; nothing at all removes the sidecar."""
        path = self.notes_path(experiment, run_id)
        if not notes.said and not notes.owner:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(notes.to_json(), ensure_ascii=False).encode()
        _atomic_write(path, lambda f: f.write(text))

    def notes(self, experiment: str, run_id: str) -> RunNotes | None:
        """A run's sidecar, or None when it has none."""
        try:
            return RunNotes.from_json(json.loads(self.notes_path(experiment, run_id).read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):  # unreadable: as if it said nothing, owner unknown
            return RunNotes()

    def cleanup(self) -> int:
        """Remove temporary files left by writers that died; returns how many."""
        n = 0
        stray = [
            *self.root.glob(".*.tmp"),
            *self.root.glob("headlines/.*.tmp"),
            *self.root.glob("pins/.*.tmp"),
        ]
        for p in [*stray, *self.runs_dir.glob("*/.*.tmp")]:
            if time.time() - p.stat().st_mtime > TMP_MAX_AGE_S:
                p.unlink(missing_ok=True)
                n += 1
        return n

    def save_headline(
        self, experiment: str, config: dict, headline: dict, finished_at: str | None = None
    ) -> None:
        """Remember the headline of an experiment's most recently finished plan (what Home
        shows); `finished_at`: when the plan's newest run ended. A plan that finished no later
        than the one remembered (one viewed again, with a setting no run depends on moved)
        leaves it: looking at pages does not change Home. Unchanged: no write. The record
        keeps the version of the headline's shape (cnnexp.catalog): one saved in an older
        shape is replaced by the same plan's whatever its time (viewing its page renews it)."""
        entry = catalog.ENTRIES.get(experiment)
        version = entry.headline_version if entry else 1
        path = self.root / "headlines" / f"{experiment}.json"
        old = self.headlines().get(experiment, {})
        if old.get("headline_version", 1) != version and old.get("config") == config:
            old = {}
        if old.get("config") == config and old.get("headline") == headline:
            return
        bar = old.get("finished_at") or old.get("saved_at")  # saved_at: before finished_at
        if finished_at and bar and finished_at[:19] <= bar[:19]:  # ISO times, to the second
            return
        payload = {
            "experiment": experiment,
            "config": config,
            "headline": headline,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "finished_at": finished_at,
            "headline_version": version,
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, lambda f: f.write(json.dumps(payload, default=str).encode()))
        except OSError:
            pass  # read-only results folder

    def headlines(self) -> dict[str, dict]:
        """The latest finished plan's headline of each experiment (recent, not curated)."""
        return self._json_files("headlines")

    def pin(self, experiment: str, config: dict, headline: dict, by: str = "") -> None:
        """Pin a plan's headline to Home for `experiment` (an admin's choice: cnnexp.policy
        may_pin), in place of the bundle's. Raises OSError where the folder is read-only."""
        entry = catalog.ENTRIES.get(experiment)
        payload = {
            "experiment": experiment,
            "config": config,
            "headline": headline,
            "headline_version": entry.headline_version if entry else 1,
            "pinned_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "pinned_by": by,  # for the server's records; Home does not show it
        }
        path = self.root / "pins" / f"{experiment}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, lambda f: f.write(json.dumps(payload, default=str).encode()))

    def unpin(self, experiment: str) -> None:
        """Home shows the bundle's headline for `experiment` again."""
        (self.root / "pins" / f"{experiment}.json").unlink(missing_ok=True)

    def pins(self) -> dict[str, dict]:
        """The headlines admins pinned to Home, by experiment."""
        return self._json_files("pins")

    def _json_files(self, folder: str) -> dict[str, dict]:
        out = {}
        for p in sorted((self.root / folder).glob("*.json")):
            try:
                out[p.stem] = json.loads(p.read_text())
            except (OSError, ValueError):
                continue
        return out

    def counts(self) -> dict[str, int]:
        """Saved run files per experiment, from the folder listing alone (no table is read):
        what Home shows beside each experiment."""
        out: dict[str, int] = {}
        for rel in self._scan():
            exp = rel.split("/")[1]
            out[exp] = out.get(exp, 0) + 1
        return out

    # --- reading --------------------------------------------------------------------------
    def runs(self, experiment: str | None = None) -> pd.DataFrame:
        """The runs table: one row per saved run (record fields; config as columns and JSON)."""
        return self._runs_of(self._sync(), experiment)

    def runs_and_version(self) -> tuple[pd.DataFrame, int]:
        """The runs table and a number that changes whenever the saved runs do (and only
        then, in this process): a key for what is computed from the table."""
        with self._lock:  # the number that goes with this very table
            index = self._sync_locked()
            return self._runs_of(index), self._version

    @staticmethod
    def _runs_of(index: pd.DataFrame, experiment: str | None = None) -> pd.DataFrame:
        if experiment is not None:
            index = index[index["experiment"] == experiment]
        if "ended_at" in index:
            index = index.sort_values("ended_at", kind="stable")
        return index.reset_index(drop=True)

    def records(self, run_ids: Iterable[str]) -> dict[str, dict]:
        """Saved records by run id (only ids that are saved), each a dict of its own.

        Remembered until the index changes: turning rows of a wide index into dicts was the
        largest part of an experiment page's server time under load (bench/wire.py)."""
        index = self._sync()
        seen, known = self._records
        if seen is not index:
            known = {}
            self._records = (index, known)
        wanted = list(dict.fromkeys(run_ids))
        todo = [r for r in wanted if r not in known]
        if todo:
            rows = index[index["run_id"].isin(set(todo))]
            found = {r["run_id"]: r for r in rows.to_dict("records")}
            known.update({r: found.get(r) for r in todo})
        return {r: dict(known[r]) for r in wanted if known.get(r) is not None}

    def metrics(self, run_ids: Iterable[str]) -> pd.DataFrame:
        """Tidy metrics of these runs: run_id, epoch, split, metric, value."""
        return self.table(
            "metrics", run_ids, columns=["run_id", "epoch", "split", "metric", "value"]
        )

    def table(
        self, name: str, run_ids: Iterable[str], columns: list[str] | None = None
    ) -> pd.DataFrame:
        """The rows of table `name` of these runs, all-empty columns dropped."""
        import pandas as pd
        import pyarrow as pa
        import pyarrow.dataset as pads
        import pyarrow.parquet as pq

        files = self._files(run_ids)
        if not files:
            return pd.DataFrame(columns=columns or ["run_id"])
        if columns is not None:  # fixed columns: one multithreaded scan over all files
            core = core_schema()
            schema = pa.schema([core.field(c) for c in columns] + [core.field("table")])
            dataset = pads.dataset(files, format="parquet", schema=schema)
            t = dataset.to_table(columns=columns, filter=pads.field("table") == name)
            return t.to_pandas()
        parts = [pq.read_table(f, filters=[("table", "==", name)]).to_pandas() for f in files]
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame(columns=["run_id"])
        out = pd.concat(parts, ignore_index=True).drop(columns="table")
        return out.dropna(axis=1, how="all")

    # --- the index ------------------------------------------------------------------------
    def _files(self, run_ids: Iterable[str]) -> list[str]:
        index = self._sync()
        rows = index[index["run_id"].isin(set(run_ids))]
        return [str(self.root / f) for f in rows["_file"]]

    def _scan(self) -> dict[str, tuple[int, int]]:
        """Relative path -> (mtime_ns, size) of every complete run file."""
        return self._scan_with_notes()[0]

    def _scan_with_notes(self) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
        """(run files, notes sidecars), each relative path -> (mtime_ns, size): one pass over
        the folders, which list both."""
        found: dict[str, tuple[int, int]] = {}
        notes: dict[str, tuple[int, int]] = {}
        if not self.runs_dir.is_dir():
            return found, notes
        for exp in os.scandir(self.runs_dir):
            if not exp.is_dir():
                continue
            for e in os.scandir(exp.path):
                if e.name.startswith("."):
                    continue
                into = (
                    found
                    if e.name.endswith(".parquet")
                    else notes
                    if e.name.endswith(NOTES_SUFFIX)
                    else None
                )
                if into is not None:
                    st = e.stat()
                    into[f"runs/{exp.name}/{e.name}"] = (st.st_mtime_ns, st.st_size)
        return found, notes

    def _stamp(self) -> tuple | None:
        """The modification times of runs/ and its experiment folders; None if one changed
        too recently to be trusted."""
        try:
            folders = [os.stat(self.runs_dir), *(e.stat() for e in os.scandir(self.runs_dir))]
        except FileNotFoundError:
            return ()
        times = tuple(f.st_mtime_ns for f in folders)
        return None if time.time_ns() - max(times) < RECENT_S * 1e9 else times

    def _sync(self) -> pd.DataFrame:
        with self._lock:
            return self._sync_locked()

    def _sync_locked(self) -> pd.DataFrame:
        import pandas as pd

        stamp = self._stamp()  # before the scan: a change during it shows up next time
        if (
            self._index is not None
            and stamp is not None
            and stamp == self._stamp_seen
            and time.monotonic() - self._scanned_at < FULL_SCAN_S
        ):
            return self._index  # a rerun of a page with 10,000 runs skips 10,000 stats
        current, notes = self._scan_with_notes()
        self._stamp_seen, self._scanned_at = stamp, time.monotonic()
        if self._base is not None and current == self._signature:
            return self._with_notes(self._base, notes)
        index = self._read_index()
        known = (
            dict(
                zip(
                    index["_file"],
                    zip(index["_mtime_ns"], index["_size"], strict=True),
                    strict=True,
                )
            )
            if len(index)
            else {}
        )
        changed = [f for f, sig in current.items() if known.get(f) != sig]
        gone = set(known) - set(current)
        if changed or gone:
            fresh = [r for f in changed if (r := self._read_record(f, current[f])) is not None]
            keep = index[~index["_file"].isin(set(changed) | gone)]
            parts = [p for p in (keep, pd.DataFrame.from_records(fresh)) if len(p)]
            # Concatenating with an empty frame would turn integer columns into floats.
            index = (
                pd.concat(parts, ignore_index=True)
                if len(parts) > 1
                else (parts[0].reset_index(drop=True) if parts else keep.iloc[:0])
            )
            self._write_index(index)
        if "run_id" not in index:
            index = pd.DataFrame(
                columns=["run_id", "experiment", "status", "_file", "_mtime_ns", "_size"]
            )
        self._signature = current
        return self._with_notes(index, notes)

    def _with_notes(self, base: pd.DataFrame, notes: dict[str, tuple[int, int]]) -> pd.DataFrame:
        """The runs table `base` with each run's name, note and tags from its sidecar (columns
        only once some run has a sidecar); the same table again when neither changed."""
        changed = base is not self._base or notes.keys() != self._notes.keys()
        changed = changed or any(self._notes[f][0] != sig for f, sig in notes.items())
        if not changed and self._index is not None:
            return self._index
        known = {}
        for rel, sig in notes.items():
            old = self._notes.get(rel)
            known[rel] = old if old is not None and old[0] == sig else (sig, self._read_notes(rel))
        self._notes, self._base = known, base
        said = {
            rel.rsplit("/", 1)[1].removesuffix(NOTES_SUFFIX): n.row()
            for rel, (_, n) in known.items()
            if n.said
        }
        index = base
        if said and "run_id" in base and len(base):
            rows = [said.get(r, {}) for r in base["run_id"]]
            index = base.assign(**{c: [r.get(c) for r in rows] for c in NOTE_COLUMNS})
        self._index = index
        self._version = next(_VERSIONS)
        return index

    def _read_notes(self, rel: str) -> RunNotes:
        try:
            return RunNotes.from_json(json.loads((self.root / rel).read_text()))
        except (OSError, ValueError):  # half-gone or foreign: says nothing
            return RunNotes()

    def _read_record(self, rel: str, sig: tuple[int, int]) -> dict | None:
        import pyarrow.parquet as pq

        path = self.root / rel
        try:
            record = json.loads(pq.read_metadata(path).metadata[RUN_KEY])
        except Exception as e:  # truncated, foreign or not parquet at all
            if (rel, sig[0]) not in self._warned:
                self._warned.add((rel, sig[0]))
                warnings.warn(
                    f"skipping unreadable results file {path}: {type(e).__name__}: {e}",
                    stacklevel=3,
                )
            return None
        config = record.get("config") or {}
        row = {**{k: v for k, v in config.items() if k not in record}, **record}
        row.pop("config", None)
        row["config_json"] = json.dumps(config, sort_keys=True)
        row.update(_file=rel, _mtime_ns=sig[0], _size=sig[1])
        return row

    def _read_index(self) -> pd.DataFrame:
        import pandas as pd

        path = self.root / "index.parquet"
        try:
            return pd.read_parquet(path)
        except Exception:  # absent, or torn by a crash in an old version: rebuild from files
            return pd.DataFrame(columns=["_file", "_mtime_ns", "_size"])

    def _write_index(self, index: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            self.root.mkdir(parents=True, exist_ok=True)
            table = pa.Table.from_pandas(_json_safe(index), preserve_index=False)
            _atomic_write(self.root / "index.parquet", lambda f: pq.write_table(table, f))
        except OSError:
            pass  # a read-only results folder (a hosted viewer): the in-memory index serves


def _json_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed Python values (a config key that is a list in one run) become JSON text."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object and out[c].map(lambda v: isinstance(v, list | dict)).any():
            out[c] = out[c].map(lambda v: json.dumps(v) if isinstance(v, list | dict) else v)
    return out


def _with_core_types(table: pa.Table) -> pa.Table:
    """Give the shared columns one Arrow type in every file, so files can be scanned together."""
    import pyarrow as pa

    core = core_schema()
    for field in core:
        if field.name not in table.column_names:
            table = table.append_column(field, pa.nulls(len(table), field.type))
    fields = [
        core.field(n) if n in core.names else f
        for n, f in zip(table.column_names, table.schema, strict=True)
    ]
    return table.cast(pa.schema(fields))


def _atomic_write(final: Path, write) -> None:
    tmp = final.parent / f".{final.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)  # atomic: readers see the old file or the new, never a part
    finally:
        tmp.unlink(missing_ok=True)


def versions() -> dict[str, str]:
    """Library versions stamped on every run."""
    import importlib.metadata as md

    def v(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return ""

    from cnnexp import __version__

    return {
        "python_version": platform.python_version(),
        "torch_version": v("torch"),
        "cnnexp_version": __version__,
    }
