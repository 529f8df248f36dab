"""cnnexp/bundle.py: which runs' weights the bundle ships (it is kept in git, so small)."""

import json

from cnnexp import bundle
from cnnexp.store import Store


def record(experiment, seed=0, params=1000, **config):
    return {"experiment": experiment, "seed": seed, "params": params, "config": config}


def test_the_bundle_keeps_the_weights_pages_read_and_the_first_seed_of_small_models():
    assert bundle.keeps_weights(record("baseline"))
    assert not bundle.keeps_weights(record("baseline", seed=1))
    assert not bundle.keeps_weights(record("scaling", params=bundle.WEIGHTS_MAX_PARAMS + 1))
    assert bundle.keeps_weights(record("receptive_field", seed=2))  # its page reads every seed
    assert bundle.keeps_weights(record("equivariance", seed=2, model="cnn", augment_shift=0))
    assert not bundle.keeps_weights(record("equivariance", seed=2, model="cnn", augment_shift=6))
    row = {**record("baseline"), "config": None, "config_json": json.dumps({"model": "cnn"})}
    assert bundle.keeps_weights(row)  # a runs-table row, its config as JSON


def test_the_shipped_bundles_weights_stay_a_few_megabytes():
    store = Store(bundle.ROOT / "bundle")
    kept = [r for r in store.records(store.runs()["run_id"]).values() if bundle.keeps_weights(r)]
    fp16_bytes = sum(2 * int(r["params"]) for r in kept)
    assert fp16_bytes < 4e6, fp16_bytes  # fp16: 2 bytes a parameter (~42 MB for every run's)
