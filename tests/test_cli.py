"""cnnexp/cli.py: the headless interface, end to end in real subprocesses."""

import json
import signal
import subprocess
import sys

import pytest
import torch

from cnnexp import experiments
from cnnexp.config import describe
from tests.conftest import ROOT, cli_env


def cli(results, *args, check=True, module="cnnexp"):
    p = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=cli_env(results),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert p.returncode == 0, p.stderr
    return p


TINY_FLAGS = ["--dataset", "digits", "--epochs", "1", "--width", "4", "--seeds", "1"]


def test_run_json_is_one_object_and_second_time_cached(results):
    out = json.loads(cli(results, "run", "baseline", *TINY_FLAGS, "--seeds", "2", "--json").stdout)
    assert out["experiment"] == "baseline" and len(out["runs"]) == 2
    assert {r["cached"] for r in out["runs"]} == {False}
    assert set(out["headline"]) >= {"model", "dataset", "params", "test_acc", "train_seconds"}
    assert out["headline"]["test_acc"]["n"] == 2 and len(out["headline"]["test_acc"]["ci95"]) == 2
    again = cli(results, "run", "baseline", *TINY_FLAGS, "--seeds", "2", "--json")
    assert {r["cached"] for r in json.loads(again.stdout)["runs"]} == {True}
    assert "cached" in again.stderr


def test_run_json_stops_an_accuracy_interval_at_1_as_the_pages_do(results):
    """Found: `run baseline --dataset digits --epochs 2 --seeds 2 --json` gave ci95 [0.764,
    1.083]. Two saved seeds far apart (the t-interval of two seeds is ±12.7·s/√2); the command
    reuses them and reports the interval the page shows."""
    from cnnexp.config import parse
    from cnnexp.experiments import baseline
    from cnnexp.runner import perform, save
    from cnnexp.runspec import RunContext
    from cnnexp.store import Store

    cfg = parse(baseline.Config, {**baseline.TINY, "seeds": 2})
    for spec, acc in zip(baseline.plan(cfg), (0.9, 0.95), strict=True):
        record, out = perform(spec, RunContext(device="cpu"))
        save(Store(results), {**record, "test_acc": acc}, out)
    out = json.loads(cli(results, "run", "baseline", *TINY_FLAGS, "--seeds", "2", "--json").stdout)
    assert {r["cached"] for r in out["runs"]} == {True}
    lo, hi = out["headline"]["test_acc"]["ci95"]
    assert lo == pytest.approx(0.925 - 12.706 * 0.025, abs=1e-3) and hi == 1.0


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--kernel", "9", "--padding", "valid", "--dataset", "digits"], "kernel 9"),
        (["--depth", "9"], "below 1×1"),
        (["--norm", "group", "--groups", "5"], "groups 5"),
        (["--batch-size", "1"], "batch_size >= 2"),
        (["--dataset", "svhn"], "dataset"),
        (["--model", "transformer"], "model"),
        (["--lr", "0"], "lr"),
        (["--lr", "nan"], "lr"),
        (["--seeds", "0"], "seeds"),
        (["--epochs", "0"], "epochs"),
        (["--dataset", "mnist"], "MNIST/raw"),
        (["--device", "tpu"], "device"),
        pytest.param(
            ["--device", "cuda"],
            "no CUDA GPU is available",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here"),
        ),
        (["--epoch", "2"], "unrecognized arguments: --epoch"),  # not taken for --epochs
        (["--augment-flip", "1"], "allowed: true or false"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_writes_nothing(results, flags, words):
    p = cli(results, "run", "baseline", *flags, check=False)
    assert p.returncode == 2
    assert words in p.stderr and "error:" in p.stderr and "Traceback" not in p.stderr
    assert not results.exists() or not any(results.rglob("*.parquet"))


def test_results_path_that_is_a_file(tmp_path, results):
    f = tmp_path / "file"
    f.write_text("")
    p = cli(results, "run", "baseline", *TINY_FLAGS, "--results", str(f), check=False)
    assert p.returncode == 2 and "is a file" in p.stderr
    for command in (["runs"], ["run", "baseline", *TINY_FLAGS], ["queue"]):  # found: tracebacks
        p = cli(results, *command, "--results", str(f / "sub"), check=False)
        assert p.returncode == 2 and f"is inside the file {f}" in p.stderr, p.stderr
        assert "Traceback" not in p.stderr


def test_a_read_only_results_folder_is_refused_before_training(tmp_path):
    """Found: `run` trained, then failed to save each run; `queue` raised sqlite3's
    'attempt to write a readonly database'. Root ignores a folder's mode: its capabilities
    are dropped for the command (setpriv, util-linux)."""
    import os
    import shutil

    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    prefix = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root without setpriv: a folder's mode does not stop root")
        prefix = ["setpriv", "--bounding-set=-all"]
    for command in (["run", "baseline", *TINY_FLAGS], ["queue", "--cancel", "all"]):
        p = subprocess.run(
            [*prefix, sys.executable, "-m", "cnnexp", *command, "--results", str(folder)],
            cwd=ROOT,
            env=cli_env(folder),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert p.returncode == 2, p.stderr
        assert f"results folder {folder} cannot be written" in p.stderr, p.stderr
        assert "training" not in p.stderr and "Traceback" not in p.stderr
    assert not list(folder.iterdir())


def test_runs_of_an_unknown_experiment_is_refused(results):
    p = cli(results, "runs", "--experiment", "nope", check=False)
    assert p.returncode == 2 and "unknown; allowed:" in p.stderr and "baseline" in p.stderr


def test_list_runs_and_model(results):
    listing = json.loads(cli(results, "list", "--json").stdout)
    assert "baseline" in listing
    assert any(s["flag"] == "--batch-size" for s in listing["baseline"]["settings"])
    cli(results, "run", "baseline", *TINY_FLAGS)
    runs = json.loads(cli(results, "runs", "--json").stdout)
    assert len(runs) == 1 and runs[0]["status"] == "done" and runs[0]["width"] == 4
    cli(results, "run", "baseline", *TINY_FLAGS, "--width", "6")  # the same label, another width
    header, *rows = cli(results, "runs").stdout.splitlines()
    assert header.split()[:5] == ["run_id", "experiment", "label", "width", "seed"], header
    assert {r.split()[5] for r in rows} == {"4", "6"}  # after the label "cnn · digits"
    table = cli(results, "model", "--model", "local", "--width", "4").stdout
    assert "LocallyConnected2d" in table and "parameters 88,626" in table


def test_runs_lists_what_differs_within_an_experiment_not_between(results, store):
    """Each experiment's dataset is its own: a column for it would tell nothing new."""
    for i, (experiment, dataset, width) in enumerate(
        [("baseline", "digits", 4), ("baseline", "digits", 8), ("permuted", "mnist5k", 16)]
    ):
        config = {"dataset": dataset, "width": width}
        record = {"run_id": f"{i:016x}", "experiment": experiment, "seed": 0, "label": "cnn"}
        store.save({**record, "status": "done", "config": config, "test_acc": 0.5}, [])
    header = cli(results, "runs").stdout.splitlines()[0].split()
    assert header[:5] == ["run_id", "experiment", "label", "width", "seed"], header
    assert "dataset" not in header


@pytest.mark.parametrize("name", experiments.names())
def test_every_flag_has_help(name):
    p = subprocess.run(
        [sys.executable, "-m", "cnnexp", "run", name, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    text = "".join(p.stdout.split())  # argparse wraps lines anywhere, even inside "low-pass"
    for spec in describe(experiments.get(name).Config):
        flag = "--" + spec.name.replace("_", "-")
        assert flag in text, flag
        assert spec.help and "".join(spec.help.split()) in text, (flag, spec.help)


def test_an_unreadable_results_file_is_one_plain_line_on_stderr(results):
    cli(results, "run", "baseline", *TINY_FLAGS)
    saved = next((results / "runs").rglob("*.parquet"))
    (saved.parent / "foreign.parquet").write_text("not a parquet file")
    err = cli(results, "runs").stderr
    lines = [line for line in err.splitlines() if "foreign.parquet" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: skipping unreadable"), err
    assert "UserWarning" not in err and "store.py" not in err, err


def test_baseline_cnn_on_mnist5k_reaches_97_percent(results):
    out = json.loads(
        cli(
            results,
            "run",
            "baseline",
            "--model",
            "cnn",
            "--dataset",
            "mnist5k",
            "--seeds",
            "1",
            "--json",
        ).stdout
    )
    assert out["headline"]["test_acc"]["mean"] >= 0.97
    mlp = json.loads(
        cli(
            results, "run", "baseline", "--model", "mlp", "--width", "256", "--seeds", "1", "--json"
        ).stdout
    )
    assert mlp["runs"][0]["status"] == "done" and mlp["headline"]["test_acc"]["mean"] > 0.9


def _workers(parent: int) -> dict[int, str]:
    """`parent`'s multiprocessing workers (Linux /proc): pid -> what SIGINT does to it now:
    "default" (its interpreter is not up yet), "caught" (Python's KeyboardInterrupt: it is
    importing) or "ignored" (set up: it leaves Ctrl-C to its parent)."""
    from pathlib import Path

    found = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            stat = (proc / "stat").read_text()
            cmd = (proc / "cmdline").read_bytes()
            status = (proc / "status").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) != parent or b"spawn_main" not in cmd:
            continue
        masks = {ln.split(":")[0]: int(ln.split()[1], 16) for ln in status.splitlines()[1:]
                 if ln.startswith(("SigIgn:", "SigCgt:"))}  # fmt: skip
        bit = 1 << (signal.SIGINT - 1)
        found[int(proc.name)] = (
            "ignored" if masks["SigIgn"] & bit else "caught" if masks["SigCgt"] & bit else "default"
        )
    return found


# Runs of minutes on any CPU (mnist5k, 500 epochs): the tests below end them long before.
# Found: two 200-epoch digits runs ended (400 epochs in 22 s) before a test sent Ctrl-C.
LONG = ["--dataset", "mnist5k", "--epochs", "500", "--width", "8", "--seeds", "2"]


def _start(results, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "cnnexp", *args],
        cwd=ROOT,
        env=cli_env(results),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


def _nothing_left(results) -> None:
    """No record of an interrupted run, no half-written file, no row left in the queue."""
    from cnnexp.runqueue import RunQueue
    from cnnexp.store import Store

    # An interrupted run leaves no record (stderr says so; the same command trains it again).
    assert Store(results).runs().empty
    assert not list(results.rglob("*.tmp"))
    assert RunQueue(results).rows() == []


def _wait_until(check, timeout=300):  # generous: two `yes` beside 2 cores took >180 s
    import time

    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_beside_two_workers_says_one_thing_and_loses_nothing(results):
    """Found: Ctrl-C with --workers 2, once they trained, printed each worker's
    KeyboardInterrupt traceback."""
    import os

    p = _start(results, "run", "baseline", *LONG, "--workers", "2")
    _wait_until(lambda: list(_workers(p.pid).values()) == ["ignored"] * 2)  # past imports
    os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C sends: the whole group
    _, err = p.communicate(timeout=180)  # a deadline, not a race: a loaded CI box is slow
    assert p.returncode == 130, err
    assert "Traceback" not in err and "interrupted:" in err, err
    _nothing_left(results)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_while_a_worker_starts_says_one_thing_and_leaves_nothing(results):
    """Found: Ctrl-C in the first seconds, while a worker imported torch, printed its
    KeyboardInterrupt traceback. Sent once the first worker's interpreter is up (it would
    catch SIGINT): it is importing then, seconds from its first batch."""
    import os

    p = _start(results, "run", "baseline", *LONG, "--workers", "2")
    _wait_until(lambda: "caught" in _workers(p.pid).values())
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=180)  # a deadline, not a race: a loaded CI box is slow
    assert p.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert [line for line in err.splitlines() if "interrupted" in line] == [
        "interrupted: the runs that finished are saved, any in progress are not; the same "
        "command trains what is missing"
    ], err
    _nothing_left(results)


def test_a_cancelled_run_exits_1_and_says_so(results):
    """Found: runs cancelled from another terminal (`queue --cancel`) exited 0, as if they
    had trained."""
    from cnnexp.runqueue import FILENAME, RunQueue

    p = _start(results, "run", "baseline", *LONG, "--workers", "2")
    _wait_until(lambda: (results / FILENAME).exists() and RunQueue(results).rows())
    cli(results, "queue", "--cancel", "all")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1, err
    assert err.count(": cancelled") == 2, err
