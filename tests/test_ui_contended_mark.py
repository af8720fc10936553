"""⚠ marks the contended combination's name in the app too (issue 23, item 8): the
README says ⚠ marks the combination in every view, and the TUI marked only its
Other-load cell.  A real contended sweep (tests/data/sweep_notes.json) in the app's
results table, the same ``Row.marked_label`` the console and the exports use."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult

from qtui.core.summary_schema import Summary
from qtui.report import results as model
from qtui.ui.widgets.results_table import ResultsTable

DATA = Path(__file__).parent / "data"


class _One(App[None]):
    def compose(self) -> ComposeResult:
        yield ResultsTable(id="t")


async def test_a_contended_combination_is_marked_on_its_name() -> None:
    summary = Summary.loads((DATA / "sweep_notes.json").read_bytes())
    rows = model.from_results(summary.results).rows
    marked = {r.label for r in rows if r.marked_label != r.label}
    assert marked, "the recorded sweep has contended combinations"
    app = _One()
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.query_one(ResultsTable)
        table.update_data(summary.results)
        await pilot.pause()
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    for row in rows:
        want = row.marked_label
        assert any(n.endswith(want) for n in names), (want, names)
