"""cnnexp/runner.py on a shared host: workers yield the CPU to the dashboard, and an idle
runner costs the server next to nothing."""

import os
import time

from cnnexp.executor import WORKER_NICENESS
from cnnexp.runner import LocalRunner
from tests.test_runner import specs, wait_for


def test_a_worker_trains_at_a_lower_priority_than_the_server(tmp_path):
    runner = LocalRunner(tmp_path / "results", device="cpu")
    try:
        ids = runner.submit(specs(seed=7))
        wait_for(runner, ids, {"done"})  # the worker has set itself up and trained
        server = os.getpriority(os.PRIO_PROCESS, 0)
        worker = os.getpriority(os.PRIO_PROCESS, runner.worker_pid)
        assert worker == min(server + WORKER_NICENESS, 19)
    finally:
        runner.close()


def test_an_idle_runner_looks_at_the_queue_a_few_times_a_second_and_a_submit_wakes_it(tmp_path):
    runner = LocalRunner(tmp_path / "results", device="cpu")
    claims, taken = [], []  # when the runner asked the queue; when an ask got a run
    claim = runner.queue.claim

    def counted(*a, **kw):
        claims.append(time.monotonic())
        row = claim(*a, **kw)
        if row is not None:
            taken.append(time.monotonic())
        return row

    runner.queue.claim = counted
    try:
        time.sleep(3.0)
        idle = len(claims)  # no worker started yet: one look a turn, for the first
        assert 2 <= idle <= 10, f"{idle} looks at the queue in 3 s by an idle runner"
        runner.idle_look_s = 60.0  # the next looks are far off: only the wake-up can claim it
        time.sleep(1.0)
        t0 = time.monotonic()
        ids = runner.submit(specs(seed=8))
        wait_for(runner, ids, {"running", "done"}, timeout=30)
        assert taken[0] - t0 < 5.0
    finally:
        runner.close()


def test_an_error_in_one_turn_of_the_loop_does_not_stop_the_runner(tmp_path, capfd):
    runner = LocalRunner(tmp_path / "results", device="cpu")
    sync, failures = runner._sync, []

    def flaky_sync():  # the queue's database briefly unreadable, a lost Ray actor, ...
        if len(failures) < 2:
            failures.append(1)
            raise OSError("disk I/O error")
        sync()

    runner._sync = flaky_sync
    try:
        ids = runner.submit(specs(seed=9))
        wait_for(runner, ids, {"done"}, timeout=60)  # the loop lived on and trained it
        assert runner._thread.is_alive() and len(failures) == 2
        assert "cnnexp runner: OSError: disk I/O error (going on)" in capfd.readouterr().err
    finally:
        runner.close()
