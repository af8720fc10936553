"""Shared fixtures.  ``real_events``: one small real session, recorded (``tests/real_session.py``)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import real_session
from warm_executor import warm_executor  # noqa: F401 - the shared fork server (session fixture)

from qtui.core import events as ev

TESTS = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    """A suite started with SIGINT ignored (``nohup … &``, a background job of a
    script) would pass that on to every qtui the tests start, and the Ctrl-C
    tests could not deliver their signal.  The tests send SIGINT only to their
    own children, so this process restores the default: the children start with
    a terminal's disposition and the Ctrl-C tests run (rather than being skipped)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def _private_user_folders(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the history DB, probe cache and theme choice of the test run out of ~/."""
    base = tmp_path_factory.mktemp("qtui-user")
    for var in ("QTUI_DATA_DIR", "QTUI_CACHE_DIR", "QTUI_CONFIG_DIR"):
        os.environ[var] = str(base / var.lower())


@pytest.fixture(scope="session")
def real_events() -> list[ev.Event]:
    """A real session, recorded (``tests/real_session.py``): backprop ×2, lightning
    adjoint ×1, a failing run, a refusal."""
    return real_session.load()


@pytest.fixture(autouse=True)
def _ui_tests_private_dirs(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each app test gets its own config and data folders (theme choice, history)."""
    if request.module.__name__.rpartition(".")[2].startswith("test_ui_"):
        monkeypatch.setenv("QTUI_CONFIG_DIR", str(tmp_path / "config"))
        monkeypatch.setenv("QTUI_DATA_DIR", str(tmp_path / "data"))
