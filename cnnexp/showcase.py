"""What Home shows: each experiment's showcase headline, and apart from it what finished last.

The showcase is curated: an admin's pin (cnnexp.store `pins/`, cnnexp.policy.may_pin), else the
bundle's headline (the pages' defaults, trained for the bundle with several seeds). A finished
plan only ever replaces the experiment's *recent* headline (store.save_headline), which Home
lists under its own heading, so nobody's test run changes the card everyone sees first.

Pure functions over the records the store reads (plain dicts: experiment, config, headline,
headline_version, and when); Home imports this, so nothing heavy is imported here.
"""

from __future__ import annotations

from pathlib import Path

from cnnexp.store import Store

PINNED, BUNDLED = "pinned", "bundled"  # where a showcase headline comes from


def bundled(bundle_dir: Path | None) -> dict[str, dict]:
    """The bundle's headlines by experiment (none without a bundle)."""
    if bundle_dir is None or not (bundle_dir / "headlines").is_dir():
        return {}
    return Store(bundle_dir).headlines()


def showcase(pins: dict[str, dict], shipped: dict[str, dict]) -> dict[str, dict]:
    """Each experiment's showcase record: an admin's pin, else the bundle's, each with
    `source` saying which."""
    out = {name: {**h, "source": BUNDLED} for name, h in shipped.items()}
    out.update({name: {**h, "source": PINNED} for name, h in pins.items()})
    return out


def when(record: dict) -> str:
    """When a headline's plan finished (or, for older records, was saved): ISO text or ''."""
    return str(record.get("finished_at") or record.get("saved_at") or "")


def recent(latest: dict[str, dict], shown: dict[str, dict]) -> list[dict]:
    """The latest finished plan of each experiment, newest first, less those that are the
    experiment's showcase already (the same settings): what Home lists as recent."""
    fresh = [
        h
        for name, h in latest.items()
        if name not in shown or shown[name].get("config") != h.get("config")
    ]
    return sorted(fresh, key=when, reverse=True)
