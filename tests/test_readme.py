"""cnnexp/readme.py: README's experiment table is the bundle's headlines, and a stale table
is caught."""

import json
import shutil

import pytest

from cnnexp import readme


def test_readme_table_matches_the_bundle():
    path, bundle = readme.ROOT / "README.md", readme.ROOT / "bundle"
    assert path.read_text() == readme.expected(path, bundle), (
        "README.md's experiment table disagrees with bundle/headlines: "
        "run `python -m cnnexp readme`"
    )


def test_a_changed_headline_changes_the_table(tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(readme.ROOT / "bundle" / "headlines", bundle / "headlines")
    path = tmp_path / "README.md"
    shutil.copyfile(readme.ROOT / "README.md", path)
    f = bundle / "headlines" / "baseline.json"
    rec = json.loads(f.read_text())
    rec["headline"]["test_acc"] = {"mean": 0.5, "ci95": [0.25, 0.75], "n": 3}
    f.write_text(json.dumps(rec))
    assert readme.expected(path, bundle) != path.read_text()
    assert readme.write(path, bundle) is True
    assert "50.0% (95% CI 25.0–75.0%, 3 seeds)" in path.read_text()
    assert readme.write(path, bundle) is False  # now up to date: nothing written


def test_an_experiment_missing_from_the_bundle_says_so():
    block = readme.table({})
    assert block.count("not in the bundle yet") == len(readme.experiments.names())


def test_missing_markers_are_named():
    with pytest.raises(ValueError, match="markers"):
        readme.splice("no table here", readme.table({}))


def _commands() -> list[str]:
    """Every `python -m …` line of README's code blocks, its comment cut off."""
    text = (readme.ROOT / "README.md").read_text()
    blocks = text.split("```")[1::2]
    lines = [line.split("  #")[0].strip() for b in blocks for line in b.splitlines()]
    return [line for line in lines if line.startswith("python -m ")]


def test_readmes_commands_name_modules_and_flags_that_exist():
    """Found: README sent readers to `python -m cnnexp.experiments.shift_probe` after the
    probes moved. Each module must import, and each `python -m cnnexp` line must parse."""
    import importlib.util
    import shlex

    from cnnexp import cli

    commands = _commands()
    assert any(c.startswith("python -m cnnexp probe shift") for c in commands), commands
    for command in commands:
        module, *args = shlex.split(command)[2:]
        assert importlib.util.find_spec(module) is not None, command
        if module == "cnnexp":
            cli.build_parser().parse_args(args)  # exits 2 on an unknown command or flag


def test_readmes_figures_are_what_each_page_opens_with():
    """README's table heads its figures "the page's defaults". Found: Baseline defaulted to 1
    seed while its README figures were the bundled 3-seed runs. Each headline must be of the
    page's default settings, and every run of that plan shipped, so the page opens on them."""
    from cnnexp.config import parse
    from cnnexp.store import Store

    shipped = Store(readme.ROOT / "bundle")
    headlines = shipped.headlines()
    for name in readme.experiments.names():
        mod = readme.experiments.get(name)
        defaults = parse(mod.Config, {})
        assert headlines[name]["config"] == json.loads(json.dumps(defaults.canonical())), name
        saved = shipped.records(s.run_id for s in mod.plan(defaults))
        missing = [s.label for s in mod.plan(defaults) if s.run_id not in saved]
        assert not missing, f"{name}: the defaults' runs {missing} are not in the bundle"


def test_readme_names_the_equivariance_models_as_the_page_does():
    """One name per thing: the page's legend and text say "mlp · trained shifted ±6"."""
    row = readme.figures(
        "equivariance", readme.Store(readme.ROOT / "bundle").headlines()["equivariance"]["headline"]
    )
    assert "mlp · trained shifted ±6 " in row and "_augmented" not in row


def test_readmes_layout_names_every_module():
    """README's layout lists every module (issue 24: it named 19 of 29). A new file must be
    named there, so a newcomer finds it by its name."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text()
    layout = text[text.index("## Layout") :]
    layout = layout[: layout.index("\n## ", 1)]
    named = set(re.findall(r"[\w]+\.py", layout))
    folders = ["pages", "ui", "bench", "cnnexp", "cnnexp/experiments", "cnnexp/probes"]
    files = {f.name for d in folders for f in (root / d).glob("*.py")}
    files |= {"core.py", "command.py"}  # cnnexp/exercises: one module per page, and these
    missing = sorted(files - named - {"__init__.py", "__main__.py"})
    assert not missing, f"README's layout does not name {missing}"
