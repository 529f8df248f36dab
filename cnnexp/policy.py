"""Who may do what on a hosted dashboard, and how much: pure functions, no Streamlit.

Roles:
    viewer    browses, compares and exports saved runs.
    launcher  also launches runs and cancels their own.
    admin     also cancels anyone's runs, deletes runs and sees the server's paths.

Modes (CNNEXP_MODE) decide who gets which role:
    launch   (default) the dashboard on your own machine: the single user is admin.
    viewer   everybody is a viewer.
    guarded  a hosted server: admins are the verified e-mails in CNNEXP_ADMINS or holders of
             the admin token; launchers the verified e-mails in CNNEXP_LAUNCHERS or holders of
             the access token; everyone else is a viewer.
An unknown mode counts as viewer: a typo must not open a server.

Caps bound every piece of work done for a visitor. Hosted modes (viewer, guarded) have lower
defaults than launch mode; a deployment may set any cap (`Caps.from_settings`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

MODES = ("launch", "viewer", "guarded")
ROLES = ("viewer", "launcher", "admin")


# --- roles and permissions ------------------------------------------------------------------
def parse_mode(value: Any) -> str:
    value = str(value or "launch").strip().lower()
    return value if value in MODES else "viewer"


def email_list(value: Any) -> set[str]:
    """A comma-separated string or a list of e-mails, lower-cased."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return {str(x).strip().lower() for x in items if str(x).strip()}


def role(
    mode: str,
    email: str | None = None,
    email_verified: bool = False,
    admins: set[str] = frozenset(),
    launchers: set[str] = frozenset(),
    token_ok: bool = False,
    admin_token_ok: bool = False,
) -> str:
    """The role of one visitor. An e-mail counts only when its provider verified it: an
    unverified address could be anyone's."""
    if mode == "launch":
        return "admin"
    if mode != "guarded":
        return "viewer"
    email = email.lower() if email and email_verified else None
    if admin_token_ok or (email and email in admins):
        return "admin"
    if token_ok or (email and email in launchers):
        return "launcher"
    return "viewer"


def may_launch(role_: str) -> bool:
    return role_ in ("launcher", "admin")


def may_cancel(role_: str, me: str, run_owner: str | None) -> bool:
    """Launchers cancel only their own runs; admins any."""
    return role_ == "admin" or (role_ == "launcher" and bool(me) and run_owner == me)


def who_may_launch(mode: str, role_: str) -> str:
    """Who may launch runs on this server, said to a visitor of this role."""
    if mode == "launch":
        return "Anyone using this dashboard may launch (launch mode: a single user's machine)."
    if role_ == "admin":
        return "You may launch these as an admin of this server (and cancel anyone's runs)."
    if role_ == "launcher":
        return (
            "You may launch these as a launcher; they count against your share of this "
            "server's queue, and you may cancel your own runs."
        )
    if mode == "guarded":
        return (
            "Launching here is for launchers and admins: sign in with an allowed account, or "
            "enter the access token, in the sidebar."
        )
    return "This server is read-only (viewer mode): nobody launches here."


def may_delete(role_: str) -> bool:
    return role_ == "admin"


def may_see_paths(role_: str) -> bool:
    """The server's absolute paths tell a stranger about its file system."""
    return role_ == "admin"


def error_details(mode: str) -> str:
    """How much of an unexpected error a page shows (Streamlit's client.showErrorDetails):
    all of it on a laptop; on a hosted server only its type, since a traceback names the
    server's files and the message may quote them (the server's log keeps the whole)."""
    return "full" if mode == "launch" else "type"


def identity(email: str | None, email_verified: bool, token_ok: bool, client: str | None) -> str:
    """Who work is counted against, the same in every tab and session of one person: the
    verified e-mail, else the token holder at their address, else the address."""
    if email and email_verified:
        return f"email:{email.lower()}"
    where = client or "local"
    return f"token:{where}" if token_ok else f"client:{where}"


def token_delay(failures: int) -> float:
    """Seconds to wait before checking a token after `failures` wrong ones from one client:
    doubling from 0.5 s, at most 8 s, so guessing is slow and a typo costs little."""
    return 0.0 if failures <= 0 else min(8.0, 0.5 * 2 ** (failures - 1))


# --- caps -----------------------------------------------------------------------------------
FLOAT_CAPS = ("probe_gflop", "probe_mb", "max_run_tflop")  # the others are whole numbers


@dataclass(frozen=True)
class Caps:
    """Limits on one launch, one probe and one export, and on image exports per person and at
    once. None: no limit."""

    max_epochs: int | None = None
    # Channels of a conv or locally connected layer (an MLP's hidden units are not channels:
    # max_params and max_run_tflop bound every family alike).
    max_width: int | None = None
    max_depth: int | None = None
    max_batch_size: int | None = None
    max_seeds: int | None = None
    max_train_images: int | None = None
    max_queued_runs: int | None = None  # per person
    max_queued_total: int | None = None  # the whole server
    max_run_seconds: int | None = None  # wall time of one run (refused up front by its estimate)
    max_params: int | None = None  # parameters of one run's model (memory, the weights file)
    max_run_tflop: float | None = None  # training compute of one run (RunCost.train_flop)
    probe_gflop: float | None = None  # compute of one view of a probe (shift or field)
    probe_mb: float | None = None  # memory of one shift probe (the field probe's is tiny)
    max_export_rows: int | None = None  # rows of one data download
    max_figure_points: int | None = None  # points one exported chart draws (export.figure_points)
    max_image_pixels: int | None = None  # pixels of one PNG or SVG (width × height × scale²)
    max_images_per_minute: int | None = None  # PNG/SVG exports per person
    max_images_at_once: int | None = None  # PNG/SVG exports drawn at once on the server
    max_html_per_minute: int | None = None  # interactive HTML charts per person (~5 MB each)
    max_sweep_values: int | None = None  # values of one list setting (a sweep) a page takes
    max_plan_runs: int | None = None  # runs one page view plans, estimates and looks up
    max_inspect_images: int | None = None  # test images one look inside a run evaluates

    @classmethod
    def defaults(cls, mode: str) -> Caps:
        """Launch mode (a laptop) bounds only what could freeze it; hosted modes bound what
        one visitor may take from everyone else."""
        if mode == "launch":
            return cls(
                probe_gflop=5000,
                probe_mb=4096,
                max_export_rows=5_000_000,
                max_figure_points=2_000_000,
                max_image_pixels=40_000_000,
                max_sweep_values=64,
                max_plan_runs=20_000,
            )
        return cls(
            max_epochs=20,
            max_width=64,
            max_depth=8,
            max_batch_size=512,
            max_seeds=5,
            max_train_images=60_000,
            max_queued_runs=10,
            max_queued_total=50,
            max_run_seconds=3600,
            # A model of 20 M parameters takes 80 MB, four times that while AdamW trains it,
            # and 40 MB on disk for its weights; 200 TFLOP is 20 epochs of CIFAR-10 at the
            # widest conv width allowed (64: 124 TFLOP), with room.
            max_params=20_000_000,
            max_run_tflop=200,
            probe_gflop=200,
            probe_mb=512,
            max_export_rows=200_000,
            max_figure_points=100_000,
            max_image_pixels=8_000_000,
            max_images_per_minute=6,
            max_images_at_once=1,
            max_html_per_minute=10,
            max_sweep_values=16,
            max_plan_runs=2_000,
            max_inspect_images=5_000,
        )

    @classmethod
    def from_settings(cls, mode: str, get) -> Caps:
        """The mode's defaults, each replaced by `get(name)` when that gives a value
        (CNNEXP_<NAME> in the environment or a [caps] table in secrets). A value that is not a
        number fails loudly: a silently ignored cap would leave the server open."""
        caps, changes = cls.defaults(mode), {}
        for f in fields(cls):
            raw = get(f.name)
            if raw in (None, ""):
                continue
            try:
                changes[f.name] = float(raw) if f.name in FLOAT_CAPS else int(raw)
            except (TypeError, ValueError):
                raise ValueError(
                    f"Cap {f.name} must be a number (CNNEXP_{f.name.upper()} or [caps] "
                    f"{f.name} in secrets); got {raw!r}."
                ) from None
            if changes[f.name] < 0:
                raise ValueError(f"Cap {f.name} must be 0 or more; got {raw!r}.")
        return replace(caps, **changes)

    @classmethod
    def check_names(cls, names) -> None:
        """Refuse a [caps] table that names a cap this version does not know: a misspelt cap
        silently ignored would leave the server open."""
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise ValueError(
                f"Unknown cap{'s' * (len(unknown) > 1)} {', '.join(unknown)} in [caps]; "
                f"known: {', '.join(known)}."
            )

    def sweep_problems(self, lengths: dict[str, int]) -> list[str]:
        """The list settings (by label: how many values) longer than a page takes. Checked
        before anything is planned: the plan grows with their product."""
        cap = self.max_sweep_values
        return [
            f"This server takes at most {cap} values per setting; {label} has {n}."
            for label, n in lengths.items()
            if cap is not None and n > cap
        ]

    def plan_problem(self, runs: int) -> str | None:
        """Refusal of a page view whose settings plan more runs than the server looks up and
        estimates for one view (found: one link planned 120,700 runs, a minute of CPU)."""
        if self.max_plan_runs is None or runs <= self.max_plan_runs:
            return None
        return (
            f"These settings make {runs:,} runs; this server shows at most "
            f"{self.max_plan_runs:,} on one page. Use fewer seeds or fewer sweep values."
        )

    def launch_problems(
        self, runs: list[RunCost], seeds: int, train_images: int, mine: int, everyone: int
    ) -> list[str]:
        """Every cap these runs would exceed, each a sentence with the limit, the value and the
        run that asks for it in the page's words. mine/everyone: runs already queued or
        running (this person's, everybody's)."""
        out = [*self._setting_problems(runs), *self._work_problems(runs)]
        if self.max_seeds is not None and seeds > self.max_seeds:
            out.append(
                f"This server allows at most {self.max_seeds} seeds; these settings ask for {seeds}."
            )
        if self.max_train_images is not None and train_images > self.max_train_images:
            out.append(
                f"This server trains on at most {self.max_train_images:,} images per run; these "
                f"settings use {train_images:,} (lower the training images, or pick a smaller "
                "dataset)."
            )
        n = len(runs)
        if self.max_queued_runs is not None and mine + n > self.max_queued_runs:
            out.append(
                f"This server queues at most {self.max_queued_runs} runs per person; you have "
                f"{mine} waiting and these settings add {n}."
            )
        if self.max_queued_total is not None and everyone + n > self.max_queued_total:
            out.append(
                f"This server queues at most {self.max_queued_total} runs in all; {everyone} are "
                f"waiting and these settings add {n}. Try again when some have finished."
            )
        return out

    def _setting_problems(self, runs: list[RunCost]) -> list[str]:
        """Caps on settings: epochs, conv widths, depths, batch sizes."""
        out = []
        for key, cap, words in (
            ("epochs", self.max_epochs, "at most {cap} epochs per run"),
            ("width", self.max_width, "conv widths up to {cap} channels"),
            ("depth", self.max_depth, "depths up to {cap}"),
            ("deep_depth", self.max_depth, "depths up to {cap}"),
            ("batch_size", self.max_batch_size, "batch sizes up to {cap}"),
        ):
            # An MLP's width is its hidden units, not channels: its size is capped by its
            # parameters and compute (max_params, max_run_tflop), like every model's.
            counted = [r for r in runs if key != "width" or r.config.get("model") != "mlp"]
            worst = _most(counted, lambda r, key=key: r.config.get(key))
            if cap is not None and worst is not None and worst[1] > cap:
                out.append(
                    f"This server allows {words.format(cap=cap)}; these settings ask for "
                    f"{worst[1]:g}{_named(worst[0])}."
                )
        return out

    def _work_problems(self, runs: list[RunCost]) -> list[str]:
        """Caps on the work of one run: its model's parameters, its training compute and its
        estimated time."""
        out = []
        worst = _most(runs, lambda r: r.params)
        if self.max_params is not None and worst and worst[1] > self.max_params:
            out.append(
                f"This server trains models of at most {self.max_params:,} parameters; "
                f"{_run(worst[0])} has {worst[1]:,.0f} (a smaller width or depth)."
            )
        worst = _most(runs, lambda r: r.train_flop)
        cap = self.max_run_tflop
        if cap is not None and worst and worst[1] > cap * 1e12:
            out.append(
                f"This server allows at most {cap:g} TFLOP of training per run (3 × a forward "
                f"pass × images × epochs); {_run(worst[0])} needs {worst[1] / 1e12:,.1f} "
                "(fewer epochs or images, or a smaller model)."
            )
        worst = _most(runs, lambda r: r.seconds)
        cap = self.max_run_seconds
        if cap is not None and worst and worst[1] > cap:
            out.append(
                f"This server stops a run after {_clock(cap)}; {_run(worst[0])} would take at "
                f"least {_clock(worst[1])} here (fewer epochs or images, or a smaller model)."
            )
        return out

    def room(self, mine: int, everyone: int) -> int | None:
        """How many more runs this person may queue now (None: no limit)."""
        rooms = [
            cap - used
            for cap, used in ((self.max_queued_runs, mine), (self.max_queued_total, everyone))
            if cap is not None
        ]
        return max(0, min(rooms)) if rooms else None


@dataclass(frozen=True)
class RunCost:
    """One planned run as the caps count it. The costs come from cnnexp.estimate (None: not
    known, so not checked: the run's time limit still stops it)."""

    label: str  # the run in the page's words ("mlp · width 1024")
    config: dict  # its settings
    params: int | None = None  # parameters of its model
    train_flop: float | None = None  # 3 × forward FLOPs × training images × epochs
    seconds: float | None = None  # the low end of its estimated wall time on this server


def _most(runs: list[RunCost], value) -> tuple[RunCost, float] | None:
    """The run with the largest value (None where no run has one)."""
    known = [(r, float(value(r))) for r in runs if value(r) is not None]
    return max(known, key=lambda rv: rv[1]) if known else None


def _run(run: RunCost) -> str:
    return f"the run {run.label}" if run.label else "one run"


def _named(run: RunCost) -> str:
    return f" ({run.label})" if run.label else ""


def _clock(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds < 120 else f"{seconds / 60:,.0f} min"


def fit_epochs(needed: int, max_epochs: int | None) -> int:
    """The epochs a run whose step budget needs `needed` trains under an epochs cap: at the
    cap where the budget asks for more (the plan says so), else as many as it needs."""
    return needed if max_epochs is None else min(needed, max_epochs)


def launch_order(seeds: list[int]) -> list[int]:
    """The order in which a plan's runs go into a queue with room for only some of them,
    as indices: every configuration's first seed first, then every second seed, …, so that
    the first part already draws every point of the page's charts. seeds: each run's seed,
    in plan order."""
    rank: dict[int, int] = {s: i for i, s in enumerate(sorted(set(seeds)))}
    return sorted(range(len(seeds)), key=lambda i: rank[seeds[i]])


# --- the shift probe (cnnexp/probes/shift.py; the field probe prices itself) ------------------
# The dx × dy grid, the sweep, the downsampling comparison.
SHIFT_PROBE_PASSES = 17 * 17 + 9 + 5 * 9


def shift_probe_cost(side: int, channels: int, kernel: int, depth: int, colour: bool) -> dict:
    """Compute (GFLOP) and peak memory (MB) of one shift probe, from its size.

    Each pass runs `depth` convs on a side × side image; the grid keeps every layer's map for
    every shift until it compares them, which is what grows the memory (side² · channels ·
    depth · shifts floats).
    """
    c_in = 3 if colour else 1
    per_pass = 2 * side * side * kernel * kernel * (c_in * channels + (depth - 1) * channels**2)
    kept = 17 * 17 * depth * channels * side * side * 4
    return {"gflop": SHIFT_PROBE_PASSES * per_pass / 1e9, "mb": kept / 2**20}


def shift_probe_problem(
    caps: Caps, side: int, channels: int, kernel: int, depth: int, colour: bool
):
    """None when the shift probe fits the budget, else a sentence naming the limit and what to
    lower."""
    cost = shift_probe_cost(side, channels, kernel, depth, colour)
    over = []
    if caps.probe_gflop is not None and cost["gflop"] > caps.probe_gflop:
        over.append(f"{cost['gflop']:,.0f} GFLOP of compute (the limit is {caps.probe_gflop:,.0f})")
    if caps.probe_mb is not None and cost["mb"] > caps.probe_mb:
        over.append(f"{cost['mb']:,.0f} MB of memory (the limit is {caps.probe_mb:,.0f})")
    if not over:
        return None
    return (
        f"This probe (side {side}, {channels} channels, kernel {kernel}, depth {depth}"
        f"{', colour' if colour else ''}) needs {' and '.join(over)} on this server. "
        "Lower the photo side, channels, kernel or depth."
    )


def shift_probe_budget_help(caps: Caps) -> str:
    """The shift probe's budget in words, for the help of every setting that counts against it."""
    limits = [
        f"{v:,.0f} {unit}"
        for v, unit in ((caps.probe_gflop, "GFLOP of compute"), (caps.probe_mb, "MB of memory"))
        if v is not None
    ]
    if not limits:
        return "This server sets no budget on the probe."
    default = shift_probe_cost(64, 8, 3, 2, False)
    return (
        f"**Probe budget on this server: {' and '.join(limits)} per probe**, checked on the "
        "server whatever a link asks. The probe always computes all 17 × 17 shifts up to ±8 "
        f"pixels plus its sweeps ({SHIFT_PROBE_PASSES} passes), so the shift you pick does not change "
        "its cost; the size does. Compute: passes × 2 · side² · kernel² · (input channels · "
        "channels + (depth − 1) · channels²) FLOP. Memory: 289 shifts × depth × channels × "
        f"side² × 4 bytes. The default probe (side 64, 8 channels, kernel 3, depth 2) takes "
        f"{default['gflop']:.1f} GFLOP and {default['mb']:.0f} MB."
    )


def inspect_images(caps: Caps, test_images: int, flops_per_image: int) -> int:
    """How many test images (the first ones) one look inside a run evaluates: all of them,
    or fewer where the image cap or the probe's compute budget stops it (a forward pass
    costs `flops_per_image`). The one image whose maps and attributions are drawn costs a
    few passes more, far inside the same budget."""
    n = test_images
    if caps.max_inspect_images is not None:
        n = min(n, caps.max_inspect_images)
    if caps.probe_gflop is not None and flops_per_image > 0:
        n = min(n, int(caps.probe_gflop * 1e9 // flops_per_image))
    return max(0, n)


# What a config field's `budget=` names (cnnexp/config.py).
BUDGETS = {"shift_probe": shift_probe_budget_help}


def budget_help(caps: Caps, budget: str) -> str:
    """The words on a budget a config field counts against; empty for a field with none."""
    return BUDGETS[budget](caps) if budget else ""


def export_problem(caps: Caps, rows: int) -> str | None:
    if caps.max_export_rows is not None and rows > caps.max_export_rows:
        return (
            f"This table has {rows:,} rows; this server exports at most "
            f"{caps.max_export_rows:,} rows per download."
        )
    return None


# --- chart exports --------------------------------------------------------------------------
# A PNG or SVG is drawn by a headless browser that kaleido starts for each export: about 2 s
# of CPU and a few hundred MB on a quiet machine, and far more for a chart of many points
# (100,000 markers as SVG: 49 s and 17 MB on the loaded 2-core machine; 1,000,000 timed out).
# Points as cnnexp.export.figure_points counts them.
IMAGE_SCALES = (2, 1)  # sharp for slides; plain when the sharp one would be too big
RATE_WINDOW_S = 60.0
NO_IMAGES = "This server draws no PNG or SVG images. Download the chart as HTML instead."


def image_scale(caps: Caps, width: int, height: int) -> int | None:
    """The sharpest scale whose image fits the pixel cap; None when none does."""
    for scale in IMAGE_SCALES:
        if caps.max_image_pixels is None or width * height * scale**2 <= caps.max_image_pixels:
            return scale
    return None


def chart_export_problem(
    caps: Caps, points: int, width: int | None = None, height: int | None = None
) -> str | None:
    """None when this chart may be exported (as an image when a size is given, else as HTML),
    else a sentence naming the limit."""
    if caps.max_figure_points is not None and points > caps.max_figure_points:
        return (
            f"This chart has {points:,} points to draw (markers and line points; 16 heatmap "
            f"cells count as one); this server exports charts of at most "
            f"{caps.max_figure_points:,}. Download the data behind it instead, or narrow the "
            "settings."
        )
    if width is None or height is None:
        return None
    if caps.max_images_at_once == 0 or caps.max_images_per_minute == 0:
        return NO_IMAGES
    if image_scale(caps, width, height) is None:
        return (
            f"This chart is {width:,} × {height:,} pixels; this server draws images of at most "
            f"{caps.max_image_pixels:,} pixels. Download it as HTML instead."
        )
    return None


def recent(times: list[float], now: float) -> list[float]:
    """The times within the rate window before `now`."""
    return [t for t in times if now - RATE_WINDOW_S < t <= now]


def _wait_s(cap: int, times: list[float], now: float) -> int | None:
    """Seconds until one more export fits a rate of `cap` per window (None: it fits now)."""
    times = sorted(recent(times, now))
    if len(times) < cap:
        return None
    return max(1, round(times[-cap] + RATE_WINDOW_S - now))  # the oldest that counts expires


def image_rate_problem(caps: Caps, times: list[float], now: float) -> str | None:
    """None when one more image export fits this person's rate, else the refusal with the wait.
    times: when this person's earlier image exports started."""
    cap = caps.max_images_per_minute
    if cap == 0:
        return NO_IMAGES
    wait = None if cap is None else _wait_s(cap, times, now)
    if wait is None:
        return None
    return (
        f"This server draws at most {cap} PNG or SVG images per person per minute; try again "
        f"in {wait} s (data downloads are not rate-limited)."
    )


# An interactive HTML chart carries plotly.js (~4.6 MB), so that it opens offline and as one
# file wherever it is mailed or moved: a CDN's copy needs the network, and a plotly.js saved
# beside it is lost when the file travels alone. Making one is cheap (~0.05 s of CPU, and
# ~0.2 s more where the server gzips it to ~1.5 MB on the wire); what a host bounds is how
# many a person takes: bytes sent and held in the server's memory for the download.
NO_HTML = "This server gives no interactive HTML charts. Download the data behind it instead."


def html_rate_problem(caps: Caps, times: list[float], now: float) -> str | None:
    """None when one more interactive HTML chart fits this person's rate, else the refusal
    with the wait. times: when this person's earlier HTML charts were made."""
    cap = caps.max_html_per_minute
    if cap == 0:
        return NO_HTML
    wait = None if cap is None else _wait_s(cap, times, now)
    if wait is None:
        return None
    return (
        f"This server gives at most {cap} interactive HTML charts (~5 MB each: plotly.js is "
        f"inside, so they open offline) per person per minute; try again in {wait} s."
    )


def image_limits_help(caps: Caps) -> str:
    """The image export limits in words, for the download buttons' help."""
    parts = []
    if caps.max_images_per_minute is not None:
        parts.append(f"{caps.max_images_per_minute} images per person per minute")
    if caps.max_images_at_once is not None:
        parts.append(f"{caps.max_images_at_once} drawn at a time on the whole server")
    if caps.max_figure_points is not None:
        parts.append(f"charts of up to {caps.max_figure_points:,} points")
    if not parts:
        return "Drawn by a headless browser on the server."
    return "Drawn by a headless browser on the server; this server allows " + ", ".join(parts) + "."


# --- exercises (the Check yourself panels) ---------------------------------------------------
EXERCISE_MODES = ("off", "on", "graded")
MAX_ATTEMPTS_PER_PERSON = 5_000  # recorded attempts one person may leave in the class's table


@dataclass(frozen=True)
class ExerciseSettings:
    """How a server runs the Check yourself panels.

    mode: off (no panel), on (default: answers checked, nothing recorded) or graded (every
    attempt recorded per person, admins see the class summary). predict_first: a prediction
    question shows the saved result only after the student commits a prediction. tries: wrong
    answers before a question shows its answer and derivation."""

    mode: str = "on"
    predict_first: bool = False
    tries: int = 3

    @classmethod
    def from_settings(cls, get) -> ExerciseSettings:
        """From `get(name)` (CNNEXP_EXERCISES, CNNEXP_PREDICT_FIRST, CNNEXP_EXERCISE_TRIES in
        the environment or secrets). A value that is not allowed fails loudly, as a bad cap
        does: a typo in `graded` must not quietly record nothing."""
        out = cls()
        mode = get("exercises")
        if mode not in (None, ""):
            mode = str(mode).strip().lower()
            if mode not in EXERCISE_MODES:
                raise ValueError(
                    f"CNNEXP_EXERCISES must be one of {', '.join(EXERCISE_MODES)}; got {mode!r}."
                )
            out = replace(out, mode=mode)
        first = get("predict_first")
        if first not in (None, ""):
            word = str(first).strip().lower()
            if word not in ("true", "false", "on", "off", "1", "0"):
                raise ValueError(f"CNNEXP_PREDICT_FIRST must be true or false; got {first!r}.")
            out = replace(out, predict_first=word in ("true", "on", "1"))
        tries = get("exercise_tries")
        if tries not in (None, ""):
            try:
                n = int(str(tries).strip())
            except ValueError:
                n = 0
            if not 1 <= n <= 20:
                raise ValueError(
                    f"CNNEXP_EXERCISE_TRIES must be a whole number from 1 to 20; got {tries!r}."
                )
            out = replace(out, tries=n)
        return out


def may_read_attempts(role_: str, me: str, person: str | None) -> bool:
    """Anyone reads their own attempts (to know the tries they have left); only an admin reads
    another person's, or the whole class's (person None)."""
    return role_ == "admin" or (person is not None and bool(me) and person == me)


def may_see_class_summary(role_: str) -> bool:
    """The class summary names what the class answered; only an admin sees it."""
    return may_read_attempts(role_, "", None)


def attempt_problem(recorded: int) -> str | None:
    """Refusal of one more recorded attempt from a person who has left `recorded` already, so
    that a script cannot grow the class's table without bound."""
    if recorded < MAX_ATTEMPTS_PER_PERSON:
        return None
    return (
        f"This server records at most {MAX_ATTEMPTS_PER_PERSON:,} answers per person; yours are "
        "no longer recorded (they are still checked)."
    )


# --- the queue, Home's pins and run names ------------------------------------------------------
QUEUE_VIEWS = ("count", "anonymous", "named")


def queue_visibility(role_: str, me: str, run_owner: str | None) -> str:
    """How one queued or running run shows to this visitor in the queue panel:
        named      with who launched it (an admin: every run; a launcher: their own)
        anonymous  its experiment, settings, place and estimated start, not who launched it
                   (a launcher: everyone else's)
        count      only counted (a viewer: every run)
    `me` is the visitor's identity (policy.identity); an empty one owns nothing, so a
    session without one never sees unowned runs (the CLI's, an old queue's) as its own."""
    if role_ == "admin":
        return "named"
    if role_ == "launcher":
        return "named" if me and run_owner == me else "anonymous"
    return "count"


def may_pin(role_: str) -> bool:
    """Home shows what everyone sees first: only an admin chooses it (pins and unpins)."""
    return role_ == "admin"


def may_annotate(role_: str, me: str, run_owner: str | None) -> bool:
    """Who may name, note and tag a saved run: an admin any, a launcher the runs they
    launched (the owner its notes recorded at launch)."""
    return may_cancel(role_, me, run_owner)
