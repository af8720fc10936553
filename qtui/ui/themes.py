"""Themes from ``themes/*.toml`` turned into Textual ``Theme`` objects, and the
persisted theme choice.

Themes are plain TOML files so a user can read one, copy it into
``<config dir>/themes/`` and edit it (the way posting loads user themes).  The
choice made with ``--theme`` or from the command palette is written to
``<config dir>/ui.json`` so the next session opens with it.  ``QTUI_CONFIG_DIR``
overrides the config dir (tests use it so they never touch a real home).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.theme import Theme

from qtui.core.paths import config_dir

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10 with the tomli backport
    import tomli as tomllib  # type: ignore[no-redef]

DEFAULT_THEME = "dark"
#: Used when a theme file has no [series] table: distinct on dark and light.
DEFAULT_SERIES = ["#4EA1FF", "#FFB454", "#5FD787", "#FF6AC1", "#B48EFF", "#4DD0E1", "#FF5F5F"]
_THEME_KEYS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)


@dataclass
class QtuiTheme:
    """A Textual theme plus the per-run plot colours that Textual themes lack."""

    theme: Theme
    series: list[str] = field(default_factory=lambda: list(DEFAULT_SERIES))
    path: Path | None = None


def bundled_theme_dir() -> Path:
    """The bundled themes: package data ``qtui/themes`` (a link to the top-level
    ``themes/`` in a checkout, real files in a wheel), found with
    ``importlib.resources`` so ``pip install --user``, venvs and editable
    installs all find them."""
    from importlib.resources import as_file, files

    with as_file(files("qtui") / "themes") as path:
        return Path(path)


def theme_dirs() -> list[Path]:
    """Bundled first, then the user's, so a user file of the same name overrides."""
    return [bundled_theme_dir(), config_dir() / "themes"]


def parse_theme(data: dict[str, Any], path: Path | None = None) -> QtuiTheme:
    """Build a theme from a TOML table; raises ``ValueError`` naming what is wrong."""
    name = data.get("name") or (path.stem if path else None)
    if not isinstance(name, str) or not name:
        raise ValueError("theme needs a name")
    if not isinstance(data.get("primary"), str):
        raise ValueError(f"theme {name!r} needs a primary colour")
    kwargs = {k: data[k] for k in _THEME_KEYS if isinstance(data.get(k), str)}
    variables = data.get("variables") or {}
    theme = Theme(
        name=name,
        dark=bool(data.get("dark", True)),
        variables={str(k): str(v) for k, v in variables.items()},
        **kwargs,
    )
    series = (data.get("series") or {}).get("colors") or DEFAULT_SERIES
    return QtuiTheme(theme=theme, series=[str(c) for c in series], path=path)


def load_themes() -> tuple[dict[str, QtuiTheme], list[str]]:
    """Every readable theme file, and a message per file that could not be used."""
    themes: dict[str, QtuiTheme] = {}
    problems: list[str] = []
    for folder in theme_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                with path.open("rb") as fh:
                    qt = parse_theme(tomllib.load(fh), path)
            except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:
                problems.append(f"theme {path}: {exc}")
                continue
            themes[qt.theme.name] = qt
    return themes, problems


def unknown_theme(name: str, loaded: dict[str, QtuiTheme]) -> str:
    """The one line for a theme name that is not a theme: qtui's, then Textual's own."""
    from textual.theme import BUILTIN_THEMES

    textual = ", ".join(sorted(set(BUILTIN_THEMES) - set(loaded)))
    return (f"unknown theme {name!r}; available: {', '.join(sorted(loaded))}, "
            f"or Textual's own ({textual})")


def check_theme(name: str) -> str:
    """``--theme NAME``, checked before the TUI starts: a theme's name (never a path), one
    of the bundled and user theme files or Textual's own; ``ValueError`` otherwise."""
    from textual.theme import BUILTIN_THEMES

    loaded, _ = load_themes()
    if name in loaded or name in BUILTIN_THEMES:
        return name
    raise ValueError(unknown_theme(name, loaded))


def _settings_path() -> Path:
    return config_dir() / "ui.json"


def load_settings() -> dict[str, Any]:
    try:
        data = json.loads(_settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_setting(key: str, value: Any) -> None:
    """Best effort: an unwritable config dir must never break the UI."""
    data = load_settings()
    data[key] = value
    path = _settings_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


def saved_theme() -> str | None:
    name = load_settings().get("theme")
    return name if isinstance(name, str) else None


def install(app: Any, requested: str | None, persist: bool) -> tuple[dict[str, QtuiTheme], list[str]]:
    """Register every theme with ``app`` and select the requested (else saved, else
    default) one; returns the themes and the problems to tell the user."""
    loaded, problems = load_themes()
    for qt in loaded.values():
        app.register_theme(qt.theme)
    wanted = requested or saved_theme() or DEFAULT_THEME
    if wanted not in app.available_themes:
        if requested:
            problems.append(unknown_theme(requested, loaded))
        wanted = DEFAULT_THEME if DEFAULT_THEME in loaded else "textual-dark"
    app.theme = wanted
    if requested and persist and wanted == requested:
        save_setting("theme", wanted)
    return loaded, problems
