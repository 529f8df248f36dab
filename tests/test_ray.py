"""cnnexp/ray_backend.py on a real Ray: one local cluster (num_cpus=2) for the module, and one
two-node `ray.cluster_utils.Cluster` that loses a node mid-sweep."""

import time

import pytest

ray = pytest.importorskip("ray")

from cnnexp import experiments  # noqa: E402
from cnnexp.config import parse  # noqa: E402
from cnnexp.runner import execute  # noqa: E402
from cnnexp.runspec import RunContext  # noqa: E402
from cnnexp.store import Store  # noqa: E402
from tests.conftest import TINY  # noqa: E402
from tests.test_runner import out_of_memory_beside, wait_for  # noqa: E402

pytestmark = pytest.mark.ray


def specs(**kw):
    mod = experiments.get("baseline")
    return mod.plan(parse(mod.Config, {**TINY, "seeds": 1, **kw}))


@pytest.fixture(scope="module")
def local_ray():
    # "local": a new cluster even when a stale one from another process runs on this machine
    # (CI once found one and ray.init() tried to join it).
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_runs_give_the_inline_ids_and_numbers(local_ray, tmp_path):
    from cnnexp.ray_backend import RayRunner

    batch = specs(seeds=2, epochs=2)
    r = RayRunner(tmp_path / "ray", device="cpu")
    try:
        assert r.cluster()["cpus"] == 2 and r.workers == 2
        ids = r.submit(batch, owner="ann")
        snap = wait_for(r, ids, {"done"}, timeout=120)
        assert [h["epoch"] for h in snap[ids[0]].history] == [1, 2]  # progress reached us
    finally:
        r.close()
    inline = Store(tmp_path / "inline")
    saved = Store(tmp_path / "ray").records(ids)
    for s in batch:
        rec = execute(s, inline, RunContext(device="cpu"))
        assert saved[s.run_id]["test_acc"] == rec["test_acc"]
        assert saved[s.run_id]["precision"] == "fp32"


def test_ray_cancel_stops_a_run(local_ray, tmp_path):
    from cnnexp.ray_backend import RayRunner

    r = RayRunner(tmp_path / "ray", device="cpu", workers=1, cancel_grace_s=20)
    try:
        (spec,) = specs(dataset="mnist5k", epochs=500, width=8, seed=5)
        (rid,) = r.submit([spec])
        end = time.time() + 120
        while r.snapshot()[rid].epoch < 1 and time.time() < end:
            time.sleep(0.1)
        r.cancel([rid])
        snap = wait_for(r, [rid], {"cancelled"}, timeout=60)
        assert snap[rid].epoch < 500
    finally:
        r.close()


def test_ray_run_out_of_memory_is_retried_alone_then_recorded_failed(local_ray, tmp_path):
    """As with the local pool (tests/test_runner.py): a real out-of-memory in a capped actor,
    beside a small run, then alone; the driver saves it failed with the reason."""
    from cnnexp.ray_backend import RayRunner

    (small,) = specs(dataset="mnist5k", epochs=20, width=8, seed=1)
    (big,) = specs(dataset="mnist5k", width=4096, seed=2)  # one dataset: see test_runner.py
    r = RayRunner(tmp_path / "ray", device="cpu", workers=2, memory_limit_mb=400)
    try:
        st, seen_waiting = out_of_memory_beside(r, small, big, hold=True)
        assert seen_waiting and st.status == "failed", st
        assert "also when retried alone" in st.error
        saved = Store(tmp_path / "ray").records([small.run_id, big.run_id])
        assert saved[big.run_id]["status"] == "failed" and saved[small.run_id]["status"] == "done"
    finally:
        r.close()


# Found: the progress board (an actor needing no CPU) was sometimes placed on the node this
# test removes; the runner's thread then died on its ActorDiedError and both runs stayed
# "running" (4 of 8 runs on a loaded 2-core machine). The board now lives on the head node
# (7 of 8 runs clean since; one more thread death, its actor not recorded, is still to
# explain: the retry stays), and a dead runner thread fails this test at once with its
# traceback instead of after a 180 s wait.
@pytest.mark.flaky(reruns=1)
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_node_lost_mid_sweep_leaves_interrupted_runs_never_half_saved(tmp_path):
    from ray.cluster_utils import Cluster

    from cnnexp.ray_backend import RayRunner

    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    node = cluster.add_node(num_cpus=1)
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False)
    r = RayRunner(tmp_path / "ray", device="cpu", workers=2, address=cluster.address)
    try:
        batch = specs(dataset="mnist5k", epochs=500, width=8, seeds=2)  # ended by the test
        ids = r.submit(batch)
        end = time.time() + 150
        while not all(r.snapshot()[i].epoch >= 1 for i in ids) and time.time() < end:
            time.sleep(0.1)
        cluster.remove_node(node)
        end = time.time() + 180
        while time.time() < end:
            snap = r.snapshot()
            if any(snap[i].status == "interrupted" for i in ids):
                break
            time.sleep(0.2)
        lost = [i for i in ids if snap[i].status == "interrupted"]
        assert len(lost) == 1, {i: snap[i].status for i in ids}
        saved = Store(tmp_path / "ray").records(ids)
        assert saved[lost[0]]["status"] == "interrupted" and "lost" in snap[lost[0]].error
        r.cancel()
    finally:
        r.close()
        ray.shutdown()
        cluster.shutdown()
