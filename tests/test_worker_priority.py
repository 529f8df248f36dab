"""cnnexp/runner.py: training workers yield the CPU to the dashboard that shares their machine."""

import os

from cnnexp.runner import WORKER_NICENESS, LocalRunner
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
