"""The run form: combinations, workload fields and session limits.

Every field is validated as you type by the same parsers the CLI uses
(``qtui.core.config.FIELD_PARSERS``), so the form and ``qtui run`` word a problem
the same way.  The start button stays disabled while anything is invalid, no
combination is selected or the probe has not answered; the note beside it says
which.

Two modes share the combination grid (``w`` switches): *single runs* (the
fields of ``qtui run``) and *sweep* (the fields of ``qtui sweep``: comma lists
of qubits, layers, batch sizes and threads, measured and warm-up steps),
checked with ``qtui.core.sweep.parse_axis`` and expanded with ``qtui.core.sweep.expand``.
Both end in the same ``StartRequested`` message, so a sweep runs through the
same supervisor path as any other run.

The executor field (``local`` or ``slurm``, as ``--executor``) shows the SLURM
fields when it says ``slurm``: partition, time limit in minutes, exclusive
nodes (yes by default: one run per node) and any other sbatch options as
``KEY=VALUE`` words.  They are checked by ``qtui.cluster.slurm_options.set_field``,
the CLI's own checks, so a bad value reads as it does for ``qtui run`` and
nothing is submitted.  The batch is then one job array (``SlurmExecutor``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, LoadingIndicator, Static

from qtui.core.config import (
    DEFAULT_WORKLOAD,
    FIELD_PARSERS,
    SCRIPT_CHOICE,
    ConfigError,
    RunSpec,
    build_params,
)
from qtui.core.safe_text import visible
from qtui.core.sweep import (
    AXES,
    DEFAULT_STEPS,
    DEFAULT_WARMUP,
    base_params,
    expand,
    parse_axis,
    parse_steps,
)
from qtui.session.exec_spec import exec_params, parse_command, split_command
from qtui.ui.actions import alt_digit_keys
from qtui.ui.later import Later
from qtui.ui.messages import ComboFocused, FormValidity, StartRequested
from qtui.ui.widgets.combo_grid import ComboCell, ComboGrid
from qtui.ui.widgets.hint_line import HintLine


class FieldInput(Input):
    """A form field that leaves alt+digit to the tab switch: most terminals send alt+4
    as ESC then 4, which Textual reads as ``¢`` (macOS's Option character), a printable
    key an ``Input`` would otherwise take as typed text."""

    _ALT_DIGITS = alt_digit_keys()

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return key not in self._ALT_DIGITS and super().check_consume_key(key, character)


@dataclass(frozen=True)
class FieldDef:
    key: str  # FIELD_PARSERS key (and WorkloadParams field where it is one)
    label: str
    default: str
    optional: bool = False  # empty text means "not set"
    mode: str = ""  # "" both modes, "run" single runs only, "sweep" sweep only
    slurm: bool = False  # shown only when the executor field says slurm


#: Sweep fields come first in the grid: in sweep mode they are what one edits.
SWEEP_FIELDS: tuple[FieldDef, ...] = (
    FieldDef("sweep_qubits", "qubits", "2,4,8", mode="sweep"),
    FieldDef("sweep_layers", "layers", "1", mode="sweep"),
    FieldDef("sweep_batch_size", "batch sizes", "5", mode="sweep"),
    FieldDef("sweep_threads", "threads", "", optional=True, mode="sweep"),
    FieldDef("steps", "steps", str(DEFAULT_STEPS), mode="sweep"),
    FieldDef("warmup", "warm-up", str(DEFAULT_WARMUP), mode="sweep"),
)
RUN_ONLY = {"batch_size", "epochs", "qubits", "layers"}

FIELDS: tuple[FieldDef, ...] = (
    FieldDef("seed", "seed", "42"),
    FieldDef("samples", "samples", "200"),
    FieldDef("noise", "noise", "0.1"),
    FieldDef("batch_size", "batch size", "5"),
    FieldDef("epochs", "epochs", "6"),
    FieldDef("lr", "lr", "0.2"),
    FieldDef("qubits", "qubits", "2"),
    FieldDef("layers", "layers", "1"),
    FieldDef("repeat", "repeats", "1"),
    FieldDef("timeout", "timeout s", "", optional=True),
    FieldDef("interval", "sampling s", "0.1"),
    FieldDef("workload", "workload", DEFAULT_WORKLOAD),
    # `qtui exec`: a script instead of the workload (the grid's selection overrides
    # its device and diff method; nothing selected: the script's own).
    FieldDef("command", "command", "", optional=True),
)
#: Where the runs execute (``--executor``; beside the sampling interval, so the
#: form is no taller) and its SLURM flags (after the workload, shown for slurm).
EXECUTOR = FieldDef("executor", "executor", "local")
SLURM_FIELDS: tuple[FieldDef, ...] = (
    FieldDef("partition", "partition", "", optional=True, slurm=True),
    FieldDef("time_limit", "limit (min)", "60", slurm=True),
    FieldDef("exclusive", "exclusive", "yes", slurm=True),
    FieldDef("slurm_extra", "sbatch extra", "", optional=True, slurm=True),
)
EXECUTOR_FIELDS = (EXECUTOR, *SLURM_FIELDS)
FIELDS = SWEEP_FIELDS + tuple(
    FieldDef(f.key, f.label, f.default, f.optional, "run" if f.key in RUN_ONLY else "")
    for f in FIELDS[:-2]
) + (EXECUTOR, FIELDS[-2], FieldDef("command", "command", "", True, "run")) + SLURM_FIELDS
SESSION_FIELDS = {"repeat", "timeout", "interval", "command"} | {f.key for f in EXECUTOR_FIELDS}
#: Form field -> ``slurm_options.set_field`` flag.
SLURM_FLAGS = {"partition": "partition", "time_limit": "time-limit", "slurm_extra": "slurm-extra"}
#: Which of submitit's executors a slurm batch uses ("local" in tests without SLURM).
CLUSTER_ENV = "QTUI_SUBMITIT_CLUSTER"


def parse_field(key: str, text: str) -> Any:
    """One field's value, or ``ConfigError`` in the CLI's words (``qtui run``/``sweep``)."""
    if key.startswith("sweep_"):
        return parse_axis(key.removeprefix("sweep_"), text)
    if key == "steps":
        return parse_steps(text)
    if key == "repeat" and text.strip().lower() == AUTO:
        return AUTO  # qtui.session.adaptive: repeat until each mean is known (the CLI's --repeat auto)
    if key == "executor":
        return parse_executor(text)
    if key == "command":
        return parse_command(split_command(text))
    if key == "exclusive":
        return parse_yes_no(key, text)
    if key in SLURM_FLAGS:
        from qtui.cluster.slurm_options import SlurmOptions, set_field

        value: Any = text.split() if key == "slurm_extra" else text
        set_field(SlurmOptions(), SLURM_FLAGS[key], value)
        return text.strip()
    return FIELD_PARSERS[key](text)


def parse_executor(text: str) -> str:
    """``local`` or ``slurm`` (``--executor``); slurm needs sbatch unless submitit's
    local executor stands in (``QTUI_SUBMITIT_CLUSTER=local``)."""
    from qtui.cluster.slurm_options import EXECUTOR_CHOICES

    value = text.strip().lower()
    if value not in EXECUTOR_CHOICES:
        raise ConfigError("executor", f"must be one of {', '.join(EXECUTOR_CHOICES)}, got {text.strip()!r}")
    if value == "slurm" and cluster() == "slurm" and shutil.which("sbatch") is None:
        raise ConfigError("executor", "slurm: sbatch is not on PATH (is this a SLURM login node?)")
    return value


def parse_yes_no(key: str, text: str) -> bool:
    value = text.strip().lower()
    if value in ("yes", "y", "on", "true", "1"):
        return True
    if value in ("no", "n", "off", "false", "0"):
        return False
    raise ConfigError(key, f"yes or no, got {text.strip()!r}")


def cluster() -> str:
    return os.environ.get(CLUSTER_ENV, "slurm")


AUTO = "auto"


def repeat_count(text: str) -> int:
    """Runs per combination the form plans up front: ``auto`` starts with one pass."""
    value = parse_field("repeat", text)
    return 1 if value == AUTO else int(value)


class FieldValidator(Validator):
    """Wraps one ``FIELD_PARSERS`` entry; the failure text is ``ConfigError``'s."""

    def __init__(self, key: str, optional: bool) -> None:
        super().__init__()
        self.key = key
        self.optional = optional

    def validate(self, value: str) -> ValidationResult:
        if self.optional and not value.strip():
            return self.success()
        try:
            parse_field(self.key, value)
        except ConfigError as exc:
            return self.failure(str(exc))
        return self.success()


class FieldsBlock(Vertical):
    """The fields, errors and start button; validates the form once mounted."""

    DEFAULT_CSS = "FieldsBlock { height: auto; }"

    def compose(self) -> ComposeResult:
        with Grid(id="fields"):
            for f in FIELDS:
                classes = f"-{f.mode}-only" if f.mode else ("-slurm-only" if f.slurm else "")
                command = "qtui sweep" if f.mode == "sweep" else "qtui run"
                yield Label(f.label, id=f"label-{f.key}", classes=classes)
                yield FieldInput(
                    f.default,
                    placeholder=_placeholder(f),
                    id=f"field-{f.key}",
                    classes=classes,
                    compact=True,
                    validators=[FieldValidator(f.key, f.optional)],
                    validate_on=["changed", "submitted", "blur"],
                    tooltip=_tooltip(f, command),
                )
        yield Static("", id="form-errors")
        with Horizontal(id="start-row"):
            yield Button("Start runs", id="start", variant="primary", compact=True, disabled=True)
            yield Static("", id="start-note")

    def on_mount(self) -> None:
        for form in self.ancestors:
            if isinstance(form, RunForm):
                for key, value in form.preset.items():  # set before the fields existed
                    form.set_value(key, value)
                form.validate_all()
                break


class RunForm(VerticalScroll):
    DEFAULT_CSS = """
    RunForm { padding: 0 1; }
    RunForm .section { text-style: bold; color: $primary; height: 1; }
    RunForm #probe-box { height: auto; }
    RunForm #probe-status { height: auto; }
    RunForm #probe-spinner { height: 1; }
    /* fixed height: a long refusal reason must not push the fields and Start down;
       it ends at a word with … (HintLine; the whole reason is in the cell's tooltip) */
    RunForm #combo-hint { height: 2; overflow: hidden; color: $text-muted; }
    RunForm #combo-hint.-refused { color: $warning; }
    RunForm #fields { grid-size: 4; grid-columns: 12 1fr 12 1fr; grid-rows: 1; grid-gutter: 0 1;
                      height: auto; max-width: 140; }
    RunForm.-wide #fields { grid-size: 6; grid-columns: 12 1fr 12 1fr 12 1fr; }
    RunForm #fields Label { height: 1; width: 100%; text-align: right; }
    RunForm #fields Input { height: 1; }
    RunForm #fields Input.-invalid { color: $error; text-style: bold underline; }
    RunForm #fields .-sweep-only { display: none; }
    RunForm.-sweep #fields .-sweep-only { display: block; }
    RunForm.-sweep #fields .-run-only { display: none; }
    RunForm #fields .-slurm-only { display: none; }
    RunForm.-slurm #fields .-slurm-only { display: block; }
    RunForm.-wide #field-slurm_extra { column-span: 5; }
    RunForm #mode-line { height: 1; color: $text-muted; }
    RunForm #field-workload { column-span: 3; }
    RunForm.-wide #field-workload { column-span: 5; }
    RunForm #field-command { column-span: 3; }
    RunForm.-wide #field-command { column-span: 5; }
    RunForm #form-errors { color: $error; height: auto; }
    RunForm #start-row { height: 1; margin-top: 1; }
    RunForm #start-row Button { margin-right: 2; }
    RunForm #start-note { color: $text-muted; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.caps: Any = None
        self.errors: dict[str, str] = {}
        self.probe_error: str | None = None
        self.busy_note = ""
        self.sweep = False
        self.slurm = False  # the executor field says slurm: its fields are shown
        self._planned: list[RunSpec] = []
        #: Field values to show once the (lazily mounted) fields exist: a re-attached
        #: cluster session's executor fields (``qtui.ui.reattach``).
        self.preset: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Label("Combinations (device × diff method)", classes="section")
        with Vertical(id="probe-box"):
            yield Static(
                "probing PennyLane devices… (a child process imports pennylane once; "
                "the answer is cached)",
                id="probe-status",
            )
            yield LoadingIndicator(id="probe-spinner")
        yield HintLine(
            "arrows/tab move · space toggles · focus a ✗ cell to read PennyLane's reason",
            id="combo-hint",
        )
        yield Label("Workload and session — single runs", classes="section", id="fields-title")
        yield Static(self._mode_hint(), id="mode-line")
        # The fields are built one frame later (Later): two dozen inputs, each validated
        # as it is made, are most of the form's cost, and the first frame must not wait.
        yield Later(lambda: FieldsBlock(id="fields-block"))

    def on_mount(self) -> None:
        # Mounted lazily, the form may have missed the probe's answer: ask the app.
        caps = getattr(self.app, "capabilities", None)
        error = getattr(self.app, "probe_error", None)
        if caps is not None:
            self.call_later(self.set_capabilities, caps)
        elif error:
            self.call_later(self.set_probe_failed, error)
        self.validate_all()

    def on_resize(self) -> None:
        self.set_class(self.size.width >= 110, "-wide")

    # mode -----------------------------------------------------------------------
    def _mode_hint(self) -> str:
        if self.sweep:
            return "comma lists, e.g. 2,4,8 · one child per point · w: back to single runs"
        return "w switches to a sweep (qubits, layers, batch sizes, threads as lists)"

    def set_mode(self, sweep: bool) -> None:
        """Single runs or a sweep; the grid's selection and shared fields are kept."""
        self.sweep = sweep
        self.set_class(sweep, "-sweep")
        title = "Sweep — time and cost per step" if sweep else "Workload and session — single runs"
        self.query_one("#fields-title", Label).update(title)
        self.query_one("#mode-line", Static).update(self._mode_hint())
        if self.fields_ready:
            self.query_one("#start", Button).label = "Start sweep" if sweep else "Start runs"
            focused = self.app.focused
            if isinstance(focused, Input) and focused.id and self._hidden(focused.id[6:]):
                first = SWEEP_FIELDS[0].key if sweep else "seed"
                self.query_one(f"#field-{first}", Input).focus()
        self.validate_all()

    def _hidden(self, key: str) -> bool:
        f = next((f for f in FIELDS if f.key == key), None)
        if f is None:
            return False
        if f.slurm and not self.slurm:
            return True
        return bool(f.mode) and f.mode != ("sweep" if self.sweep else "run")

    def active_fields(self) -> list[FieldDef]:
        return [f for f in FIELDS if not self._hidden(f.key)]

    # capabilities ---------------------------------------------------------------
    async def set_capabilities(self, caps: Any) -> None:
        self.caps = caps
        self.probe_error = None
        box = self.query_one("#probe-box", Vertical)
        await box.remove_children()
        devices = list(caps.usable_devices())
        if not devices:
            await box.mount(Static("the probe found no usable PennyLane device", id="probe-status"))
        else:
            grid = ComboGrid(caps, id="combo-grid")
            await box.mount(grid)
            self._default_selection(grid)
            focused = self.app.focused
            visible = getattr(self.app, "_active_tab", lambda: "setup")() == "setup"
            if visible and (focused is None or not isinstance(focused, (Input, Button))):
                grid.query(ComboCell).first().focus()
        self.validate_all()

    def _default_selection(self, grid: ComboGrid) -> None:
        """Pre-select the forum's question so a first Start does something useful."""
        for dev, method in (("default.qubit", "backprop"),):
            grid.select(dev, method)
        self.validate_all()

    async def set_probe_failed(self, error: str) -> None:
        self.probe_error = error
        box = self.query_one("#probe-box", Vertical)
        await box.remove_children()
        await box.mount(
            Static(
                Text(
                    visible(f"probe failed: {error}\nctrl+p → 'Re-probe devices' to retry"), style="bold red"
                ),
                id="probe-status",
            )
        )
        self.validate_all()

    async def set_probing(self) -> None:
        self.caps = None
        box = self.query_one("#probe-box", Vertical)
        await box.remove_children()
        await box.mount(Static("probing PennyLane devices…", id="probe-status"))
        await box.mount(LoadingIndicator(id="probe-spinner"))
        self.validate_all()

    # validation -----------------------------------------------------------------
    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.validate_all()

    @on(Input.Blurred)
    def _blurred(self, event: Input.Blurred) -> None:
        """A required field left empty gets its default back (the placeholder says so)."""
        key = (event.input.id or "").removeprefix("field-")
        f = next((f for f in FIELDS if f.key == key), None)
        if f is not None and not f.optional and not event.value.strip():
            event.input.value = f.default

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.request_start()

    @on(ComboCell.Toggled)
    def _toggled(self, event: ComboCell.Toggled) -> None:
        event.stop()
        self.validate_all()

    @on(ComboFocused)
    def _combo_focused(self, event: ComboFocused) -> None:
        event.stop()
        hint = self.query_one("#combo-hint", Static)
        hint.update(Text(visible(event.note)))  # PennyLane's reason, as written: escaped, no markup
        hint.set_class(event.reason is not None, "-refused")

    @property
    def fields_ready(self) -> bool:
        return bool(self.query("#start"))

    def values(self) -> dict[str, str]:
        return {f.key: self.query_one(f"#field-{f.key}", Input).value for f in FIELDS}

    def set_value(self, key: str, value: str) -> None:
        self.query_one(f"#field-{key}", Input).value = value

    def grid(self) -> ComboGrid | None:
        grids = self.query(ComboGrid)
        return grids.first() if grids else None

    def validate_all(self) -> bool:
        if not self.fields_ready:
            return False  # FieldsBlock validates once it is mounted
        values = self.values()
        slurm = values["executor"].strip().lower() == "slurm"
        if slurm != self.slurm:
            self.slurm = slurm
            self.set_class(slurm, "-slurm")
        errors: dict[str, str] = {}
        for f in self.active_fields():
            raw = values[f.key]
            if f.optional and not raw.strip():
                continue
            try:
                parse_field(f.key, raw)
            except ConfigError as exc:
                errors[f.key] = str(exc)
        self._planned = []
        if not errors:
            try:
                self._planned = self._plan(values)
            except ConfigError as exc:
                key = exc.field.replace("-", "_")
                if self.sweep and key in AXES:
                    key = f"sweep_{key}"
                errors[key] = str(exc)
        self.errors = errors
        for f in FIELDS:
            self.query_one(f"#field-{f.key}", Input).set_class(f.key in errors, "-invalid")
        self.query_one("#form-errors", Static).update(
            Text("\n".join(f"✗ {msg}" for msg in errors.values()))
        )
        runs, problem = self._run_count_and_problem()
        valid = not problem
        self.query_one("#start", Button).disabled = not valid
        where = " as one SLURM job array" if self.slurm and runs else ""
        note = problem or f"{self._count_text(runs)}{where} — ctrl+r or enter starts"
        if self.busy_note and valid:
            note = self.busy_note
        self.query_one("#start-note", Static).update(note)
        self.post_message(FormValidity(valid, runs, problem))
        return valid

    def _count_text(self, runs: int) -> str:
        text = f"{runs} run{'s' if runs != 1 else ''}"
        if self.sweep and runs:
            grid = self.grid()
            combos = len(grid.selected()) if grid else 0
            points = len({s.params for s in self._planned})
            repeat = repeat_count(self.values()["repeat"])
            text += f" ({combos} comb. × {points} point{'s' if points != 1 else ''}"
            text += f" × {repeat} rep.)" if repeat > 1 else ")"
        return text

    def _plan(self, values: dict[str, str]) -> list[RunSpec]:
        """The runs the form describes (the selection filters devices × methods)."""
        grid = self.grid()
        selected = grid.selected() if grid else []
        repeat = repeat_count(values["repeat"])
        timeout = FIELD_PARSERS["timeout"](values["timeout"]) if values["timeout"].strip() else None
        if not self.sweep and values["command"].strip():
            # `qtui exec` runs: the selection overrides the script's device x method.
            command = parse_command(split_command(values["command"]))
            combos = selected or [(SCRIPT_CHOICE, SCRIPT_CHOICE)]
            params = exec_params(command)
            return [
                RunSpec(device=d, diff_method=m, params=params, repeat_index=r,
                        timeout_s=timeout, command=command, cwd=os.getcwd())
                for r in range(repeat)
                for d, m in combos
            ]
        if not self.sweep:
            params = build_params(
                {f.key: values[f.key] for f in self.active_fields() if f.key not in SESSION_FIELDS}
            )
            # combinations interleaved across repeats: slow drift of the machine
            # is spread over every combination
            return [
                RunSpec(device=d, diff_method=m, params=params, repeat_index=r, timeout_s=timeout)
                for r in range(repeat)
                for d, m in selected
            ]
        axes: dict[str, list[int]] = {}
        for name in AXES:
            raw = values[f"sweep_{name}"]
            if raw.strip():
                axes[name] = parse_axis(name, raw)
        single = {k: values[k] for k in ("seed", "samples", "noise", "lr", "workload")}
        base = base_params(
            single, axes, parse_steps(values["steps"]), FIELD_PARSERS["warmup"](values["warmup"])
        )
        devices = list(dict.fromkeys(d for d, _ in selected))
        methods = list(dict.fromkeys(m for _, m in selected))
        return [
            spec
            for spec in expand(devices, methods, axes, base, repeat=repeat, timeout_s=timeout)
            if (spec.device, spec.diff_method) in selected
        ]

    def _run_count_and_problem(self) -> tuple[int, str]:
        grid = self.grid()
        selected = grid.selected() if grid else []
        runs = len(self._planned)
        if self.errors:
            n = len(self.errors)
            return runs, f"fix {n} field{'s' if n > 1 else ''} to start"
        if self.caps is None:
            return runs, (
                "probe failed — see above"
                if self.probe_error
                else "waiting for the capability probe…"
            )
        if not selected and not (runs and not self.sweep and self.values()["command"].strip()):
            return runs, "select at least one combination (space on a cell)"
        return runs, ""

    # start ----------------------------------------------------------------------
    @on(Button.Pressed, "#start")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.request_start()

    def build_specs(self) -> tuple[list[RunSpec], float, list[dict[str, str]]]:
        """The runs this form describes, the sampling interval and the refusals."""
        values = self.values()
        specs = self._plan(values)
        interval = FIELD_PARSERS["interval"](values["interval"])
        grid = self.grid()
        devices = {s.device for s in specs}
        refused = [x for x in (grid.refusals() if grid else []) if x["device"] in devices]
        return specs, interval, refused

    def slurm_options(self) -> Any:
        """The SLURM options the form describes (``SlurmOptions``), or None for local runs."""
        values = self.values()
        if values["executor"].strip().lower() != "slurm":
            return None
        from qtui.cluster.slurm_options import SlurmOptions, set_field

        opts = SlurmOptions(cluster=cluster())
        for key, flag in SLURM_FLAGS.items():
            text = values[key].strip()
            if text:
                set_field(opts, flag, text.split() if key == "slurm_extra" else text)
        opts.exclusive = parse_yes_no("exclusive", values["exclusive"])
        return opts

    def request_start(self) -> bool:
        if not self.validate_all():
            # Say why nothing started: a bell alone reads as a lost key press.
            why = self._run_count_and_problem()[1] if self.fields_ready else ""
            self.app.bell()
            self.app.notify(
                f"not started: {why or 'the form is still loading, try again'}",
                severity="warning",
                timeout=4,
            )
            return False
        specs, interval, refused = self.build_specs()
        auto = str(self.values()["repeat"]).strip().lower() == AUTO
        self.post_message(
            StartRequested(specs, interval, refused, auto_repeat=auto, slurm=self.slurm_options())
        )
        return True


def _tooltip(f: FieldDef, command: str) -> str:
    if f.key == "executor":
        return "executor: local (a child of qtui, one at a time) or slurm (one job array)"
    if f.key == "command":
        return ("command: a script to run instead of the workload, as `qtui exec`: "
                "python train.py --epochs 3; the selected combinations replace its "
                "device and diff method, none selected keeps its own")
    if f.key == "time_limit":
        return "SLURM time limit per job, in minutes (as --time-limit)"
    if f.key == "exclusive":
        return "exclusive: yes (one run per node: timings not shared) or no"
    if f.key == "slurm_extra":
        return "other sbatch options, KEY=VALUE words: account=abc qos=short"
    if f.slurm:
        return f"{f.label}: checked with the same rules as `{command} --executor slurm`"
    return f"{f.label}: checked as you type with the same rules as `{command}`"


def _placeholder(f: FieldDef) -> str:
    """What an empty field shows: words, never a bare value that looks typed in."""
    if f.key == "sweep_threads":
        return "library default"
    if f.key == "partition":
        return "the cluster's default"
    if f.key == "slurm_extra":
        return "KEY=VALUE … (account=abc)"
    if f.key == "command":
        return "none: the workload above (or: python train.py args)"
    return "none" if f.optional else f"empty → default {f.default}"
