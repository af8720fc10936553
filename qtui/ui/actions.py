"""Every app action once: key, action, words, where the footer shows it, when it is enabled.

The key bindings, the footer, the command palette and the help screen are all
built from ``ACTIONS``, so a key cannot say one thing in the footer and
another in the palette or in ``?``.

Footer rule: under 120 columns the footer shows an action only on the tabs in
its ``tabs`` (every key still works on every tab: a hidden alias binding
``key('<action>')`` runs it wherever the footer entry is hidden).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from textual.binding import Binding

from qtui.ui.tabs import TABS


@dataclass(frozen=True)
class Context:
    """What ``when`` predicates read: the app's situation when a key is checked."""

    tab: str
    watching: bool
    runs_busy: bool
    form_valid: bool
    has_gpu: bool


#: ``when(context, parameters)``: True (enabled), False (hidden, key inert) or
#: None (shown greyed out).
When = Callable[[Context, tuple[object, ...]], "bool | None"]


def _always(ctx: Context, params: tuple[object, ...]) -> bool | None:
    return True


def _start(ctx: Context, params: tuple[object, ...]) -> bool | None:
    if ctx.tab != "setup":
        return False
    return True if ctx.form_valid else None


def _cancel(ctx: Context, params: tuple[object, ...]) -> bool | None:
    return ctx.runs_busy


def _tab(ctx: Context, params: tuple[object, ...]) -> bool | None:
    return params[0] != "gpu" or ctx.has_gpu


@dataclass(frozen=True)
class Action:
    """One row of the table.  ``key`` is None for palette-only actions."""

    key: str | None
    action: str  # Textual action string: "cancel_all", "interval(1)", "tab('setup')"
    description: str  # footer and help
    palette: str | None = None  # command palette title; None: not in the palette
    palette_help: str = ""
    key_display: str | None = None
    footer: bool = True  # shown in the footer at all
    tabs: frozenset[str] | None = None  # narrow footer: only on these tabs
    runs: bool = False  # needs a supervisor: disabled (and off the palette) in watch mode
    when: When = _always
    priority: bool = False

    @property
    def name(self) -> str:
        """The action's method name, without parameters: ``interval`` for ``interval(1)``."""
        return self.action.split("(", 1)[0]

    @property
    def parameters(self) -> str:
        """``(1)`` of ``interval(1)``, or ``""``."""
        _, paren, rest = self.action.partition("(")
        return paren + rest

    @property
    def shown_key(self) -> str:
        """Every key of the action as typed: ``space / p``, ``+ / =``."""
        keys = [k.strip() for k in (self.key or "").split(",") if k.strip()]
        return " / ".join(_KEY_NAMES.get(k, k) for k in keys)


_KEY_NAMES = {"question_mark": "?", "plus": "+", "equals_sign": "=", "minus": "-"}


def _tabs(*names: str) -> frozenset[str]:
    return frozenset(names)


ACTIONS: tuple[Action, ...] = (
    Action("q", "quit", "Quit"),
    Action("question_mark", "help", "Help", "Help", "Every key (?)", key_display="?"),
    Action(
        "ctrl+r", "start", "Start runs", "Start runs",
        "Start the runs selected in the form (ctrl+r)",
        tabs=_tabs("setup"), runs=True, when=_start, priority=True,
    ),
    Action(
        "space,p", "toggle_pause", "Pause", "Pause / resume live view",
        "Freeze the panels; data keeps arriving (space / p)",
        key_display="p", tabs=_tabs("monitor", "warnings", "gpu", "phases"),
    ),
    Action(
        "plus,equals_sign", "interval(1)", "Sample slower", "Sampling: slower",
        "Sample the run less often (+)",
        key_display="+", tabs=_tabs("monitor"), runs=True,
    ),
    Action(
        "minus", "interval(-1)", "Sample faster", "Sampling: faster",
        "Sample the run more often (-)",
        key_display="-", tabs=_tabs("monitor"), runs=True,
    ),
    Action(
        "c", "cancel_selected", "Cancel", "Cancel run",
        "Cancel the highlighted or running run (c)",
        tabs=_tabs("monitor", "results", "phases"), runs=True, when=_cancel,
    ),
    Action(
        "C", "cancel_all", "Cancel all", "Cancel all runs",
        "End every run; the session is kept (C)",
        key_display="C", tabs=_tabs("monitor", "results", "phases", "sweep"), runs=True,
        when=_cancel,
    ),
    Action(
        "b", "loss_mode", "Loss view", "Loss: per batch / per epoch", "Toggle the loss plot (b)",
        tabs=_tabs("monitor"),
    ),
    Action(
        "w", "sweep_mode", "Sweep form", "Sweep form / single runs",
        "Switch the setup form between single runs and a sweep (w)",
        tabs=_tabs("setup", "sweep"), runs=True,
    ),
    Action(
        "x", "sweep_axis", "Sweep axis", "Sweep chart: next axis",
        "Draw the sweep against the next swept variable (x)",
        tabs=_tabs("sweep"),
    ),
    Action(
        "e", "export", "Export", "Export session",
        "Summary (JSON, Markdown, CSV, HTML), an SVG of the screen and of each tab (e)",
        tabs=_tabs("setup", "results", "warnings", "gpu", "phases", "sweep"),
    ),
    Action(
        "h", "history", "History", "History", "Past sessions and their results (h)",
        tabs=_tabs("setup", "results", "warnings", "gpu", "phases", "sweep"),
    ),
    Action(
        "t", "change_theme", "Theme",
        tabs=_tabs("setup", "results", "warnings", "gpu"),
    ),
    Action(
        None, "reprobe", "Re-probe devices", "Re-probe devices",
        "Run the capability probe again, ignoring the cache", runs=True,
    ),
    Action(  # priority: it runs before a digit sent in the same burst reaches the field
        "escape", "leave_field", "Leave a text field (digits switch tabs again)", footer=False,
        priority=True,
        palette_help="Escape: out of a text field, to the grid (setup) or the tab bar, "
        "so digits switch tabs again",
    ),
    *(
        Action(
            tab.key, f"tab('{tab.id}')", f"{tab.id.capitalize()} tab (alt+{tab.key} in a text field)",
            f"Show {tab.id} tab",
            f"Switch to the {tab.id} tab ({tab.key})", footer=False, runs=tab.id == "setup",
            when=_tab,
        )
        for tab in TABS
    ),
)

BY_NAME: dict[str, Action] = {a.name: a for a in ACTIONS if a.name != "tab"}


def bindings() -> list[Binding]:
    """The app's ``BINDINGS``: each keyed action, then a hidden alias for each
    action the narrow footer hides on some tabs (so its key works there)."""
    keyed = [a for a in ACTIONS if a.key]
    out = [
        Binding(
            a.key or "",
            a.action,
            a.description,
            show=a.footer,
            key_display=a.key_display,
            priority=a.priority,
        )
        for a in keyed
        if a.name != "tab"
    ]
    for a in keyed:
        if a.tabs is not None and not a.priority and a.name != "tab":
            args = a.parameters[1:-1] if a.parameters else ""
            alias = f"key('{a.name}'{', ' + args if args else ''})"
            out.append(Binding(a.key or "", alias, show=False))
    out += [Binding(a.key or "", a.action, a.description, show=False) for a in keyed if a.name == "tab"]
    # alt+digit switches tabs from anywhere, a text field included (a plain digit is
    # the field's there): priority, so the field never sees it
    out += [Binding(alt_digit(a.key or ""), a.action, a.description, show=False, priority=True)
            for a in keyed if a.name == "tab"]
    return out


def alt_digit_keys() -> frozenset[str]:
    """Every key an alt+digit tab switch arrives as (a text field must not take them)."""
    return frozenset(k for tab in TABS for k in alt_digit(tab.key).split(","))


def alt_digit(digit: str) -> str:
    """The keys alt+``digit`` arrives as: ``alt+4`` where a terminal reports it so, and
    the key Textual makes of what most terminals send, ESC then the digit, which it
    reads as macOS's Option character (ESC 4 is ``¢``, the key ``cent_sign``)."""
    keys = [f"alt+{digit}"]
    try:
        from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
        from textual.keys import _character_to_key

        char = ANSI_SEQUENCES_KEYS.get(f"\x1b{digit}")
        if isinstance(char, str) and len(char) == 1:
            keys.append(_character_to_key(char))
    except ImportError:  # a Textual without that table: alt+digit as reported
        pass
    return ",".join(keys)


def enabled(name: str, params: tuple[object, ...], ctx: Context) -> bool | None:
    """``check_action``'s answer before the footer rule: True, False, or None (greyed)."""
    action = BY_NAME.get(name)
    if name == "tab":
        if params and params[0] == "setup" and ctx.watching:
            return False
        return _tab(ctx, params)
    if action is None:
        return True
    if action.runs and ctx.watching:
        return False
    return action.when(ctx, params)


def check(name: str, params: tuple[object, ...], ctx: Context, width: int) -> bool | None:
    """The app's ``check_action`` on the main screen: ``enabled``, then the footer rule.

    ``key(...)`` is a hidden alias: it runs wherever its action is enabled.  An
    action the narrow footer hides here answers False (off the footer); its alias
    binding still runs it.
    """
    if name == "key":
        return bool(enabled(str(params[0]), params[1:], ctx))
    answer = enabled(name, params, ctx)
    if answer is False or in_footer(name, ctx.tab, width):
        return answer
    return False


def on_other_screen(name: str, params: tuple[object, ...]) -> bool:
    """Whether the app's ``name`` applies while another screen (history, a comparison,
    a dialog) covers the main one: not the keys of the main screen's tabs (its loss
    view, export, a second history...), which would act on what is hidden and, in the
    covering screen's footer, push its own keys off 80 columns."""
    if name == "key":  # a hidden alias: as its action
        name = str(params[0]) if params else ""
    action = BY_NAME.get(name)
    return name != "leave_field" and (action is None or action.tabs is None)


def in_footer(name: str, tab: str, width: int) -> bool:
    """Whether the footer shows ``name`` on ``tab`` at ``width`` columns."""
    action = BY_NAME.get(name)
    if width >= 120 or action is None or action.tabs is None:
        return True
    return tab in action.tabs


def palette(ctx: Context) -> Iterator[Action]:
    """The actions the command palette offers now (run control not in watch mode,
    the GPU tab only with a GPU)."""
    for a in ACTIONS:
        if a.palette is None:
            continue
        if a.runs and ctx.watching:
            continue
        if a.name == "tab" and _tab(ctx, (a.parameters[2:-2],)) is False:
            continue
        yield a
