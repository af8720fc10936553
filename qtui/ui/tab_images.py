"""Full-content SVG images of each tab, for the export (issue 10, item 18).

A screenshot of the terminal shows only the viewport: at 80×24 the results
table is scrolled, the queue cut and the recommendation starts mid-sentence.
Here a second, headless copy of the app is drawn off-screen at a size that
fits each tab's content (the results table's widest row, every queue row,
the whole recommendation) and each tab is saved as its own SVG.

The copy runs in a thread with its own event loop, on a deep copy of the
live state (the live app keeps folding events meanwhile); it shows the same
panels through the same code, so the images are what the tabs show.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from pathlib import Path
from typing import Any

from qtui.report import results as results_model
from qtui.ui.tabs import BY_ID, TABS

#: The tabs imaged, in the tab bar's order: all but the setup form.
IMAGED = tuple(tab.id for tab in TABS if tab.id != "setup")
BASE = (160, 48)
MAX_LINES = 400


def tab_sizes(state: Any, gpu: bool) -> dict[str, tuple[int, int]]:
    """A terminal size per tab that fits its content (never smaller than 160×48)."""
    combos, rec, _ = state.analysis()
    model = results_model.from_results(combos)
    label = max((len(r.label) for r in model.rows), default=12)
    table_w = label + 4 + sum(
        max([len(c.title)] + [len(r.cells[c.key].shown) + 2 for r in model.rows]) + 2
        for c in model.columns
    )
    n_runs, n_combos = len(state.runs()), len(model.rows)
    from qtui.analysis.recommend import describe

    rec_lines = len(describe(rec)) * 2 + 4
    width = min(400, max(BASE[0], table_w))
    queue, table = n_runs + 4, n_combos + 5  # rows, header, border, a scrollbar's line
    height = max(
        BASE[1],
        int(queue / 0.35) + 2,  # the queue may take 35 % of the screen
        int(table / 0.5) + 2,  # the results table half
        queue + table + rec_lines + 6,
    )
    sizes = {tab: BASE for tab in IMAGED}
    sizes["results"] = (width, min(MAX_LINES, height))
    sizes["warnings"] = (BASE[0], min(MAX_LINES, max(BASE[1], len(state.warnings) * 2 + 12)))
    if not gpu:
        del sizes["gpu"]
    return sizes


async def _draw(app: Any, sizes: dict[str, tuple[int, int]]) -> dict[str, str]:
    from qtui.ui.form_capabilities import StaticCapabilities

    off = type(app)(  # the app's own class: no import of qtui.ui.app from here
        theme=app.theme,
        isolation=app.isolation,
        capabilities=app.capabilities or StaticCapabilities([]),
        gpu=bool(getattr(app, "_gpu", False)),
        record_history=False,
        persist_theme=False,
    )
    off.state = copy.deepcopy(app.state)
    off.state.set_palette(off.series_colors())
    out: dict[str, str] = {}
    async with off.run_test(size=BASE) as pilot:
        for tab, size in sizes.items():
            await pilot.resize_terminal(*size)
            await pilot.press(BY_ID[tab].key)
            for _ in range(60):
                await pilot.pause(0.05)
                if off.panels_drawn() and off._active_tab() == tab:
                    break
            await pilot.pause(0.1)
            out[tab] = off.export_screenshot(title=f"qtui {tab}")
    return out


def render_tabs(app: Any) -> dict[str, str]:
    """SVG text per tab, drawn off-screen (blocks for a few seconds)."""
    sizes = tab_sizes(app.state, bool(getattr(app, "_gpu", False)))
    result: dict[str, str] = {}
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.update(asyncio.run(_draw(app, sizes)))
        except BaseException as exc:  # noqa: BLE001 - boundary: re-raised on the caller's thread
            error.append(exc)

    thread = threading.Thread(target=run, name="qtui-tab-images", daemon=True)
    thread.start()
    thread.join(60)
    if error:
        raise error[0]
    return result


def write_tab_images(app: Any, folder: Path, stem: str, force: bool) -> list[Path]:
    """``<stem>-<tab>.svg`` for every tab, full content; existing files need ``force``."""
    images = render_tabs(app)
    paths = []
    for tab, svg in images.items():
        path = folder / f"{stem}-{tab}.svg"
        if path.exists() and not force:
            raise FileExistsError(f"{path} already exists; tick 'overwrite' to replace it")
        path.write_text(svg, encoding="utf-8")
        paths.append(path)
    return paths
