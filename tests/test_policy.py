"""cnnexp/policy.py without Streamlit: roles, permissions, identities, caps, budgets."""

import pytest

from cnnexp import experiments, policy
from cnnexp.config import parse
from cnnexp.experiments import baseline

ADMINS, LAUNCHERS = {"prof@school.edu"}, {"ta@school.edu"}


@pytest.mark.parametrize(
    "mode, email, verified, token, admin_token, expected",
    [
        ("launch", None, False, False, False, "admin"),  # a laptop: the single user
        ("viewer", "prof@school.edu", True, True, True, "viewer"),
        ("guarded", None, False, False, False, "viewer"),
        ("guarded", "ta@school.edu", True, False, False, "launcher"),
        ("guarded", "TA@school.edu", True, False, False, "launcher"),
        ("guarded", "ta@school.edu", False, False, False, "viewer"),  # unverified: anyone's
        ("guarded", "prof@school.edu", True, False, False, "admin"),
        ("guarded", "prof@school.edu", False, False, False, "viewer"),
        ("guarded", "student@school.edu", True, False, False, "viewer"),
        ("guarded", None, False, True, False, "launcher"),
        ("guarded", None, False, False, True, "admin"),
        ("lanuch", None, False, True, True, "viewer"),  # a typo fails closed
    ],
)
def test_roles(mode, email, verified, token, admin_token, expected):
    mode = policy.parse_mode(mode)
    got = policy.role(mode, email, verified, ADMINS, LAUNCHERS, token, admin_token)
    assert got == expected


@pytest.mark.parametrize(
    "role, owner, launch, cancel, delete, paths",
    [
        ("viewer", "client:a", False, False, False, False),
        ("launcher", "client:a", True, True, False, False),  # their own run
        ("launcher", "client:b", True, False, False, False),  # someone else's
        ("launcher", None, True, False, False, False),  # a run with no recorded owner
        ("admin", "client:b", True, True, True, True),
    ],
)
def test_permissions(role, owner, launch, cancel, delete, paths):
    assert policy.may_launch(role) is launch
    assert policy.may_cancel(role, "client:a", owner) is cancel
    assert policy.may_delete(role) is delete
    assert policy.may_see_paths(role) is paths


def test_only_a_laptop_shows_tracebacks():
    assert policy.error_details("launch") == "full"
    assert {policy.error_details(m) for m in ("viewer", "guarded")} == {"type"}


def test_identity_is_the_person_not_the_session():
    assert policy.identity("Prof@School.edu", True, True, "1.2.3.4") == "email:prof@school.edu"
    # an unverified e-mail is not trusted as an identity either
    assert policy.identity("prof@school.edu", False, False, "1.2.3.4") == "client:1.2.3.4"
    assert policy.identity(None, False, True, "1.2.3.4") == "token:1.2.3.4"
    assert policy.identity(None, False, False, None) == "client:local"


def test_wrong_tokens_slow_down_boundedly():
    delays = [policy.token_delay(n) for n in range(10)]
    assert delays[0] == 0 and delays[1] == 0.5 and delays[2] == 1.0
    assert delays == sorted(delays) and max(delays) == 8.0


def test_hosted_caps_are_lower_than_launch_caps():
    launch, hosted = policy.Caps.defaults("launch"), policy.Caps.defaults("viewer")
    assert hosted == policy.Caps.defaults("guarded")
    assert hosted.probe_gflop < launch.probe_gflop and hosted.probe_mb < launch.probe_mb
    assert hosted.max_export_rows < launch.max_export_rows
    assert launch.max_epochs is None and hosted.max_epochs is not None


def test_what_one_page_view_may_plan_is_bounded_lower_when_hosted():
    launch, hosted = policy.Caps.defaults("launch"), policy.Caps.defaults("viewer")
    assert hosted.max_sweep_values < launch.max_sweep_values
    assert hosted.max_plan_runs < launch.max_plan_runs
    lengths = {"Widths (mlp_widths)": 31, "Seeds list (x)": 16}
    assert hosted.sweep_problems(lengths) == [
        "This server takes at most 16 values per setting; Widths (mlp_widths) has 31."
    ]
    assert launch.sweep_problems(lengths) == []
    assert hosted.plan_problem(2_000) is None
    assert "make 120,700 runs" in hosted.plan_problem(120_700)
    assert "at most 2,000" in hosted.plan_problem(120_700)
    assert policy.Caps().plan_problem(10**9) is None  # no cap set: no refusal


def test_caps_from_settings_override_and_refuse_nonsense():
    caps = policy.Caps.from_settings(
        "guarded", {"max_epochs": "3", "probe_mb": "64", "max_run_tflop": "0.5"}.get
    )
    assert caps.max_epochs == 3 and caps.probe_mb == 64 and caps.max_width == 64
    assert caps.max_run_tflop == 0.5
    with pytest.raises(ValueError, match="max_epochs must be a number"):
        policy.Caps.from_settings("guarded", {"max_epochs": "lots"}.get)
    with pytest.raises(ValueError, match="0 or more"):
        policy.Caps.from_settings("guarded", {"max_seeds": "-1"}.get)


def _costs(specs) -> list[policy.RunCost]:
    from cnnexp.estimate import work_of_spec

    return [
        policy.RunCost(s.label, s.config, work_of_spec(s).params, work_of_spec(s).train_flop)
        for s in specs
    ]


def test_caps_name_their_limit():
    specs = baseline.plan(
        parse(baseline.Config, {"epochs": 30, "width": 64, "seeds": 4, "batch_size": 256})
    )
    caps = policy.Caps(
        max_epochs=20,
        max_width=32,
        max_seeds=3,
        max_train_images=1000,
        max_queued_runs=5,
        max_queued_total=6,
        max_batch_size=128,
    )
    said = " ".join(caps.launch_problems(_costs(specs), 4, 4000, mine=3, everyone=5))
    for words in (
        "at most 20 epochs",
        "ask for 30 (cnn · mnist5k)",
        "conv widths up to 32 channels",
        "at most 3 seeds",
        "at most 1,000 images",
        "4,000",
        "at most 5 runs per person",
        "3 waiting",
        "at most 6 runs in all",
        "batch sizes up to 128",
        "ask for 256",
    ):
        assert words in said, words
    assert policy.Caps().launch_problems(_costs(specs), 4, 4000, 3, 5) == []


def test_an_mlps_hidden_units_are_not_conv_width_its_work_is_capped_instead():
    """Found: max_width = 64 refused the Equivariance page's MLP (256 hidden units), a width
    that means something else for an MLP; its size is bounded by parameters and compute."""
    mlp = baseline.plan(parse(baseline.Config, {"model": "mlp", "width": 256, "seeds": 1}))
    caps = policy.Caps(max_width=64)
    assert caps.launch_problems(_costs(mlp), 1, 4000, 0, 0) == []
    cnn = baseline.plan(parse(baseline.Config, {"width": 128, "seeds": 1}))
    assert "conv widths up to 64 channels; these settings ask for 128" in " ".join(
        caps.launch_problems(_costs(cnn), 1, 4000, 0, 0)
    )
    big = baseline.plan(
        parse(baseline.Config, {"model": "mlp", "width": 4096, "depth": 4, "seeds": 1})
    )
    hosted = policy.Caps.defaults("guarded")
    said = " ".join(hosted.launch_problems(_costs(big), 1, 4000, 0, 0))
    assert "models of at most 20,000,000 parameters; the run mlp · mnist5k has 53,616,650" in said
    assert "conv widths" not in said
    # the compute cap: 3 × forward FLOPs × images × epochs
    work = _costs(big)[0].train_flop
    said = " ".join(policy.Caps(max_run_tflop=1).launch_problems(_costs(big), 1, 4000, 0, 0))
    assert "at most 1 TFLOP of training per run" in said and f"{work / 1e12:,.1f}" in said
    # the run's estimated time against the time limit that would stop it anyway
    slow = [policy.RunCost("cnn · width 64", {"model": "cnn"}, seconds=7200.0)]
    said = " ".join(policy.Caps(max_run_seconds=3600).launch_problems(slow, 1, 4000, 0, 0))
    assert "stops a run after 60 min; the run cnn · width 64 would take at least 120 min" in said
    unknown = [policy.RunCost("cnn", {"model": "cnn"})]  # nothing known: nothing refused
    assert policy.Caps(max_run_seconds=1, max_params=1).launch_problems(unknown, 1, 1, 0, 0) == []


def test_the_queues_room_is_the_tighter_of_a_persons_and_the_servers():
    caps = policy.Caps(max_queued_runs=30, max_queued_total=50)
    assert caps.room(0, 0) == 30 and caps.room(10, 45) == 5 and caps.room(31, 0) == 0
    assert policy.Caps().room(1000, 1000) is None


def test_a_partial_launch_takes_every_configurations_first_seed_first():
    seeds = [0, 1, 2, 0, 1, 2, 0, 1, 2]  # three configurations, three seeds each, plan order
    order = policy.launch_order(seeds)
    assert [seeds[i] for i in order] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert order[:3] == [0, 3, 6]  # stable: each seed's configurations in plan order


def test_an_epochs_cap_fits_a_step_budget():
    assert policy.fit_epochs(250, 20) == 20 and policy.fit_epochs(8, 20) == 8
    assert policy.fit_epochs(250, None) == 250


def test_who_may_launch_follows_the_role_and_mode():
    assert "Anyone" in policy.who_may_launch("launch", "admin")
    assert "as an admin" in policy.who_may_launch("guarded", "admin")
    assert "as a launcher" in policy.who_may_launch("guarded", "launcher")
    assert "sign in" in policy.who_may_launch("guarded", "viewer")
    assert "read-only" in policy.who_may_launch("viewer", "viewer")


def readme_caps() -> dict:
    """The [caps] table of README's class example, parsed as TOML exactly as written."""
    import re
    import tomllib

    from tests.conftest import ROOT

    text = (ROOT / "README.md").read_text()
    section = text[text.index("### A GPU server for a class") :]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block, "README's class example has no toml block"
    return tomllib.loads(block.group(1))["caps"]


def test_the_readmes_class_caps_parse_exactly_as_written():
    table = readme_caps()
    policy.Caps.check_names(table)  # every name a cap this version knows
    caps = policy.Caps.from_settings("guarded", table.get)
    for name, value in table.items():
        assert getattr(caps, name) == value, name
    with pytest.raises(ValueError, match="Unknown cap max_widht in \\[caps\\]"):
        policy.Caps.check_names({"max_widht": 64})


def test_the_probe_from_the_issue_is_refused_in_every_mode():
    # ?image_size=256&channels=32&kernel=9&depth=4&colour=true took 67 s and 12.8 GB
    cost = policy.shift_probe_cost(256, 32, 9, 4, True)
    assert cost["mb"] > 8000  # the model agrees with what the issue measured
    for mode in ("launch", "viewer"):
        said = policy.shift_probe_problem(policy.Caps.defaults(mode), 256, 32, 9, 4, True)
        assert said and "MB of memory (the limit is" in said and "GFLOP" in said


def test_the_default_probe_fits_every_mode_and_bigger_ones_only_a_laptop():
    for mode in ("launch", "viewer"):
        assert policy.shift_probe_problem(policy.Caps.defaults(mode), 64, 8, 3, 2, False) is None
    big = (128, 16, 5, 4, True)
    assert policy.shift_probe_problem(policy.Caps.defaults("launch"), *big) is None
    assert "Lower the photo side" in policy.shift_probe_problem(
        policy.Caps.defaults("viewer"), *big
    )


def test_cost_grows_with_every_size():
    base = policy.shift_probe_cost(64, 8, 3, 2, False)
    for bigger in (
        (128, 8, 3, 2, False),
        (64, 16, 3, 2, False),
        (64, 8, 5, 2, False),
        (64, 8, 3, 3, False),
    ):
        assert policy.shift_probe_cost(*bigger)["gflop"] > base["gflop"], bigger


def test_export_limit():
    caps = policy.Caps(max_export_rows=10)
    assert policy.export_problem(caps, 10) is None
    assert "at most 10 rows" in policy.export_problem(caps, 11)


def test_the_probe_budget_in_words_follows_the_mode():
    launch = policy.shift_probe_budget_help(policy.Caps.defaults("launch"))
    hosted = policy.shift_probe_budget_help(policy.Caps.defaults("viewer"))
    assert "5,000 GFLOP of compute and 4,096 MB of memory" in launch
    assert "200 GFLOP of compute and 512 MB of memory" in hosted
    assert "side² × 4 bytes" in hosted and "1.8 GFLOP and 72 MB" in hosted  # the default probe
    assert (
        policy.shift_probe_budget_help(policy.Caps()) == "This server sets no budget on the probe."
    )
    assert policy.budget_help(policy.Caps.defaults("viewer"), "shift_probe") == hosted
    assert policy.budget_help(policy.Caps.defaults("viewer"), "") == ""


def test_every_budget_a_setting_names_is_known():
    from cnnexp.config import describe
    from cnnexp.probes import field, shift

    configs = [shift.Config, field.Config, *(m.Config for m in experiments.REGISTRY.values())]
    named = {s.budget for cls in configs for s in describe(cls) if s.budget}
    assert named and named <= set(policy.BUDGETS)
    probe = {s.name for s in describe(shift.Config) if s.budget == "shift_probe"}
    # every size shift_probe_cost counts, and the shifts (to say they cost nothing more)
    assert {"image_size", "channels", "kernel", "depth", "colour", "shift", "shift_y"} <= probe


def test_chart_exports_are_bounded_by_points_and_pixels():
    caps = policy.Caps(max_figure_points=1000, max_image_pixels=4_000_000)
    assert policy.chart_export_problem(caps, 1000) is None
    said = policy.chart_export_problem(caps, 1001)
    assert "1,001 points to draw" in said and "at most 1,000." in said
    assert "at most 1,000." in policy.chart_export_problem(caps, 1001, 1000, 450)
    # the image is drawn at 2× while that fits, else at 1×, else not at all
    assert policy.image_scale(caps, 1000, 1000) == 2
    assert policy.image_scale(caps, 1000, 2000) == 1
    assert policy.image_scale(caps, 1000, 4001) is None
    assert policy.chart_export_problem(caps, 10, 1000, 2000) is None
    said = policy.chart_export_problem(caps, 10, 1000, 4001)
    assert "1,000 × 4,001 pixels" in said and "at most 4,000,000 pixels" in said
    assert policy.chart_export_problem(policy.Caps(), 10**9, 10**5, 10**5) is None
    off = policy.Caps(max_images_at_once=0)
    assert policy.chart_export_problem(off, 10, 1000, 450) == policy.NO_IMAGES
    assert policy.chart_export_problem(off, 10) is None  # HTML is still drawn


def test_images_per_person_per_minute():
    caps = policy.Caps(max_images_per_minute=3)
    now = 1000.0
    assert policy.image_rate_problem(caps, [], now) is None
    assert policy.image_rate_problem(caps, [now - 50, now - 10], now) is None
    said = policy.image_rate_problem(caps, [now - 50, now - 30, now - 10], now)
    assert "at most 3 PNG or SVG images per person per minute" in said
    assert "try again in 10 s" in said  # when the export 50 s ago stops counting
    # exports older than the window do not count
    assert policy.image_rate_problem(caps, [now - 61, now - 30, now - 10], now) is None
    assert policy.recent([now - 61, now - 30, now + 1], now) == [now - 30]
    assert policy.image_rate_problem(policy.Caps(), [now] * 100, now) is None
    assert policy.image_rate_problem(policy.Caps(max_images_per_minute=0), [], now) == (
        policy.NO_IMAGES
    )


def test_html_charts_per_person_per_minute():
    caps, now = policy.Caps(max_html_per_minute=2), 1000.0
    assert policy.html_rate_problem(caps, [now - 30], now) is None
    said = policy.html_rate_problem(caps, [now - 45, now - 30], now)
    assert "at most 2 interactive HTML charts" in said and "try again in 15 s" in said
    assert policy.html_rate_problem(caps, [now - 61, now - 30], now) is None
    assert policy.html_rate_problem(policy.Caps(), [now] * 100, now) is None
    assert policy.html_rate_problem(policy.Caps(max_html_per_minute=0), [], now) == (policy.NO_HTML)
    launch, hosted = policy.Caps.defaults("launch"), policy.Caps.defaults("guarded")
    assert launch.max_html_per_minute is None and hosted.max_html_per_minute == 10


def test_hosted_export_caps_are_lower_and_named_in_the_help():
    launch, hosted = policy.Caps.defaults("launch"), policy.Caps.defaults("guarded")
    assert hosted.max_figure_points < launch.max_figure_points
    assert hosted.max_image_pixels < launch.max_image_pixels
    assert launch.max_images_per_minute is None and hosted.max_images_per_minute is not None
    assert launch.max_images_at_once is None and hosted.max_images_at_once == 1
    said = policy.image_limits_help(hosted)
    assert "6 images per person per minute" in said and "1 drawn at a time" in said
    assert "100,000 points" in said
    # a usual chart, 1000 × 450 at 2×, is drawn sharp in every mode
    for caps in (launch, hosted):
        assert policy.chart_export_problem(caps, 5000, 1000, 450) is None
        assert policy.image_scale(caps, 1000, 450) == 2
    caps = policy.Caps.from_settings("viewer", {"max_images_per_minute": "2"}.get)
    assert caps.max_images_per_minute == 2
