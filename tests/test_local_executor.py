"""cnnexp/local_executor.py: how many worker processes, on which devices (a GPU holds only
as many as its free memory allows)."""

import pytest

from cnnexp.local_executor import default_workers, fit_gpu_workers, gpu_free_bytes
from cnnexp.runner import LocalRunner


def test_gpu_workers_fit_the_free_memory():
    gib = 2**30
    assert fit_gpu_workers(20 * gib, 2 * gib, 4, "cuda:0") == (4, None)
    n, why = fit_gpu_workers(5 * gib, 2 * gib, 4, "cuda:1")
    assert n == 2 and why == (
        "cuda:1 has 5.0 GiB free and a worker needs about 2.0 GiB: starting 2 of 4 workers there"
    )
    n, why = fit_gpu_workers(gib // 2, 2 * gib, 4, "cuda:0")
    assert n == 1 and "starting 1 worker anyway; its runs may fail out of memory" in why


def test_a_pool_on_a_full_gpu_starts_fewer_workers_and_says_why(monkeypatch, tmp_path):
    # No GPU here: the two functions that ask the hardware answer as a GPU with 3 GiB free
    # would. The runner's decision and the sidebar's line are the real ones.
    from cnnexp import local_executor as mod
    from ui.resources import backend_line

    monkeypatch.setattr(mod, "_gpu_count", lambda: 1)
    monkeypatch.setattr(mod, "gpu_free_bytes", lambda: [3 * 2**30])
    r = LocalRunner(tmp_path / "r", device="cuda", workers=4)
    try:
        assert r.workers == 1 and [s.device for s in r._slots] == ["cuda:0"]
        assert "starting 1 of 4 workers" in backend_line(r)
    finally:
        r.close()


def test_free_gpu_memory_is_none_without_a_gpu():
    from cnnexp.runspec import cuda_available

    if cuda_available():
        pytest.skip("a GPU is here: test_free_gpu_memory_is_read_on_a_gpu covers it")
    assert gpu_free_bytes() is None


@pytest.mark.gpu
def test_free_gpu_memory_is_read_on_a_gpu():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    free = gpu_free_bytes()
    assert len(free) == torch.cuda.device_count() and all(b > 2**20 for b in free)
    assert not torch.cuda.is_initialized()  # asked in a child: no CUDA context here


def test_bad_pool_settings_are_refused_with_what_is_allowed(monkeypatch):
    monkeypatch.setenv("CNNEXP_WORKERS", "two")
    with pytest.raises(ValueError, match="CNNEXP_WORKERS='two' must be a whole number"):
        default_workers("cpu")
    monkeypatch.setenv("CNNEXP_WORKERS", "3")
    assert default_workers("cpu") == 3
