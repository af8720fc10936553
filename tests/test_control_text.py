"""Text from a run never reaches a terminal or an export with its control characters raw.

Issue 21, item 2: a warning or exception carrying ``ESC]0;pwned BEL`` (retitles
the window) or ``ESC[2J`` (clears the screen) went raw to the terminal from the
run failure lines, the results' warnings, ``qtui report`` and the TUI's Warnings
tab.  A real workload (``tests/workloads/control_text.py``) raises and warns with
such text through the real CLI; every view of it is checked for a raw control
character.  The JSON summary keeps the text as data (JSON escapes it itself).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import bad_input_text
import pytest
from bad_input_types import Bad
from cli_in_process import QtuiCli
from test_bad_input import _main, sandbox  # noqa: F401 - the table's sandbox fixture
from test_ui_data import fixed_caps
from ui_helpers import screenshots_of_tabs

from qtui.core import events as ev
from qtui.core.safe_text import one_line, visible
from qtui.ui.app import QtuiApp
from qtui.ui.screens.run_detail import RunDetailScreen
from qtui.ui.widgets.run_queue import RunQueue
from tests.workloads.control_text import HOSTILE

REPO = Path(__file__).resolve().parents[1]

#: C0 but newline and tab, DEL, C1: what must never be shown raw.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def raw(text: str) -> list[str]:
    """The raw control characters in ``text``, with a little context each."""
    return [repr(text[max(0, m.start() - 20): m.end() + 20]) for m in RAW.finditer(text)]


# --- the one sanitiser ------------------------------------------------------------------


def test_visible_escapes_every_control_character_but_the_layout() -> None:
    assert visible("a\x1b]0;pwned\x07b") == "a\\x1b]0;pwned\\x07b"
    assert visible("\x1b[2J") == "\\x1b[2J"
    assert visible("\x9b31m\x7f\x00") == "\\x9b31m\\x7f\\x00"
    assert visible("fake\rOK") == "fake\\rOK"
    assert visible("line\r\nnext\tcol") == "line\nnext\tcol"  # the layout is kept
    assert visible("plain [bold] ünïcødé ✓") == "plain [bold] ünïcødé ✓"
    everything = "".join(map(chr, range(0x200)))
    assert raw(visible(everything)) == []


def test_one_line_escapes_the_newlines_too() -> None:
    assert one_line("a\nb\tc\x1b[2J") == "a\\nb\\tc\\x1b[2J"
    assert one_line("ends with a newline\n") == "ends with a newline"
    assert "\n" not in one_line(HOSTILE) and raw(one_line(HOSTILE)) == []


# --- through the real CLI ---------------------------------------------------------------

#: The tests below read the hostile run's files: one xdist group keeps them on the worker
#: that made them, in order (spread over workers they skipped, checking nothing).
pytestmark = pytest.mark.xdist_group("control_text")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("control-text")
    return {"base": base, "json": base / "s.json", "events": base / "e.jsonl"}


def run_env(session: dict[str, Path]) -> dict[str, str]:
    return {"QTUI_DATA_DIR": str(session["base"] / "data"), "COLUMNS": "200"}


def test_a_hostile_run_reaches_no_terminal_raw(
    qtui_cli: QtuiCli, session: dict[str, Path]
) -> None:
    proc = qtui_cli(
        "run", "--device", "default.qubit,lightning.qubit", "--diff-method", "adjoint",
        "--workload", "workloads.control_text:warns_and_raises", "--epochs", "1",
        "--samples", "20", "--json", str(session["json"]), "--events", str(session["events"]),
        cwd=REPO, env=run_env(session),
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert raw(proc.stdout) == [] and raw(proc.stderr) == []
    assert "\\x1b]0;pwned\\x07boom\\x1b[2J" in proc.stdout  # shown, escaped
    last = proc.stderr.splitlines()[-1]
    assert "\\x1b]0;pwned" in last  # the message's first line, escaped
    # the JSON summary keeps the text as data: JSON escapes it itself
    text = session["json"].read_text(encoding="utf-8")
    assert "\x1b" not in text and "\\u001b]0;pwned\\u0007boom" in text
    summary = json.loads(text)
    messages = [w["message"] for r in summary["runs"] for w in r["warnings"]]
    assert f"warning {HOSTILE}" in messages
    assert "\x9b" not in text and "\\u009b31m" in text  # JSON leaves C1 raw: qtui does not


@pytest.mark.parametrize("fmt", ["md", "csv", "html"])
def test_the_exports_carry_no_raw_control_character(
    qtui_cli: QtuiCli, session: dict[str, Path], fmt: str
) -> None:
    if not session["json"].exists():
        pytest.skip("needs the hostile run above")
    out = session["base"] / f"report.{fmt}"
    proc = qtui_cli("report", str(session["json"]), "-o", str(out), "--force",
                    env=run_env(session))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    if fmt == "html":  # plotly.js, embedded, has a PNG signature in a string: not a run's text
        text = re.sub(r'<script type="text/javascript">.*?</script>', "", text, count=1, flags=re.S)
    assert raw(text) == [], fmt
    assert "\\x1b]0;pwned" in text


def test_report_watch_compare_and_history_print_no_raw_control_character(
    qtui_cli: QtuiCli, session: dict[str, Path]
) -> None:
    if not session["json"].exists():
        pytest.skip("needs the hostile run above")
    s, e = str(session["json"]), str(session["events"])
    for argv in (
        ("report", s), ("report", s, "-f", "csv"), ("report", e),
        ("watch", "--once", e), ("compare", s, s), ("history",),
    ):
        proc = qtui_cli(*argv, env=run_env(session))
        assert proc.returncode == 0, (argv, proc.stderr)
        assert raw(proc.stdout) == [] and raw(proc.stderr) == [], argv
    sid = json.loads(session["json"].read_text())["session_id"]
    proc = qtui_cli("history", sid, env=run_env(session))
    assert proc.returncode == 0, proc.stderr
    assert raw(proc.stdout) == [] and raw(proc.stderr) == []


def test_a_hostile_workload_check_error_is_one_escaped_line(
    qtui_cli: QtuiCli, session: dict[str, Path]
) -> None:
    proc = qtui_cli("run", "--workload", "workloads.control_text:check_fails", "--epochs", "1",
                    "--samples", "20", cwd=REPO, env=run_env(session))
    assert proc.returncode == 2, proc.stderr
    assert raw(proc.stdout) == [] and raw(proc.stderr) == []
    # one error line (a first probe of this machine's devices may say so before it)
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("qtui: probing")]
    assert len(errors) == 1, proc.stderr
    assert "\\x1b]0;pwned" in proc.stderr and "\\nsecond line" in proc.stderr  # repr's escapes


async def test_the_tui_draws_no_raw_control_character(session: dict[str, Path]) -> None:
    if not session["events"].exists():
        pytest.skip("needs the hostile run above")
    decoded = [ev.decode(line)[0] for line in session["events"].read_bytes().splitlines()]
    events = [e for e in decoded if e is not None]
    failed = next(e.run_id for e in events if isinstance(e, ev.RunFailed))
    app = QtuiApp(capabilities=fixed_caps(), events=events, gpu=False,
                  record_history=False, persist_theme=False)
    async with app.run_test(size=(200, 50)) as pilot:
        seen = await screenshots_of_tabs(pilot)
        await pilot.press("3")  # the queue: enter on the failed run opens its detail
        await pilot.pause(0.3)
        queue = app.query_one(RunQueue)
        queue.focus()
        for _ in range(5):
            if queue.selected_run == failed:
                break
            await pilot.press("down")
            await pilot.pause(0.05)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, RunDetailScreen)
        seen.append(app.export_screenshot())
        text = "\n".join(seen)
        assert raw(text) == []
        assert "pwned" in seen[2] and "pwned" in seen[-1]  # the Warnings tab, the run's error
        assert app.is_running


# --- the argv rows: refused, and the value echoed escaped ---------------------------------


@pytest.mark.parametrize("case", bad_input_text.BAD, ids=lambda c: ascii(c.argv)[:80])
def test_a_refused_value_is_echoed_escaped(
    case: Bad, sandbox: dict[str, object], capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    assert _main(case.argv) == 2
    out, err = capsys.readouterr()
    assert raw(out) == [] and raw(err) == [], err


def test_slurm_options_read_back_from_a_manifest_refuse_a_control_character() -> None:
    """``set_field`` refuses it from the CLI and the form; options read back from a jobs
    folder's manifest (re-attach) are checked again before they become #SBATCH lines."""
    from qtui.cluster.slurm_options import SlurmOptions
    from qtui.core.config import ConfigError

    fine = SlurmOptions.from_dict({"extra": {"comment": "a b"}, "partition": "gpu"})
    assert fine.submitit_parameters()["slurm_additional_parameters"]["comment"] == "a b"
    for data in ({"extra": {"comment": "a\ntouch PWNED #"}}, {"partition": "gpu\n"},
                 {"extra": {"comm\x1bent": "x"}}, {"mem": "4G\r"}):
        with pytest.raises(ConfigError, match="control character"):
            SlurmOptions.from_dict(data).submitit_parameters()
