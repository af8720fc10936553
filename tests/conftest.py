"""Shared fixtures.  ``real_events``: one small real session, recorded (``tests/real_session.py``)."""

from __future__ import annotations

import itertools
import os
import signal
from pathlib import Path

import psutil
import pytest
import real_session
from cli_in_process import qtui_cli  # noqa: F401 - qtui subcommands in this process
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


#: Tests that took 10 s or more on the 2-core machine (``bash scripts/test``'s
#: ``--durations=25``, 4 workers, 2026-12-07).  They are marked ``slow``: they start
#: first, so xdist does not end the run waiting on one of them, and ``scripts/test
#: --fast`` leaves them out; the longest first.  A test file may also mark its own
#: (``pytest.mark.slow``).
SLOW = (
    # SLURM's minute
    "test_slurm_accounting.py::test_a_job_past_its_time_limit_is_timed_out_in_slurms_words_and_by_sacct",
    "test_slurm.py::test_quitting_leaves_the_jobs_running_and_watch_reattaches",
    "test_slurm.py::test_ctrl_c_without_a_terminal_cancels_the_jobs",
    "test_slurm.py::test_a_sweep_is_one_job_array_and_its_summary_has_every_field",
    "test_ui_slurm.py::test_leave_running_then_reattach_from_history_brings_the_results_back",
    "test_session_output.py::test_a_summary_whose_folder_vanished_goes_to_the_data_folder",
    "test_ui_slurm.py::test_quit_with_jobs_in_flight_asks_and_cancel_ends_them",
    "test_ui_run.py::test_tiny_real_run_reaches_every_panel",
    "test_readers_fuzz.py::test_mutated_logs",
    "test_forkserver.py::test_a_server_that_does_not_come_up_means_spawned_runs",
    "test_capabilities.py::test_a_corrupt_cache_is_probed_again",
    "test_executor.py::test_a_file_following_executor_fits_the_seam",
    "test_exec.py::test_the_forum_script_gives_the_forums_losses_and_the_builtin_execution_counts",
    "test_ui_run.py::test_quit_mid_run_asks_then_leaves_no_child",
    "test_cli.py::test_a_real_run_writes_json_and_events",
    "test_slurm.py::test_a_raising_job_and_a_cancelled_job_are_recorded_as_what_they_were",
    "test_cli.py::test_ctrl_c_cancels_saves_and_exits_130",
    "test_faults.py::test_workload_path_finds_a_workload_elsewhere",
    "test_cli.py::test_the_workload_check_passes_a_good_custom_workload_for_every_point",
    "test_slurm.py::test_runs_per_job_share_one_warm_job_and_one_of_them_can_be_cancelled",
    "test_ui_slurm.py::test_a_slurm_batch_shows_its_job_states_and_finishes",
    "test_readme_example.py::test_readme_example_runs",
)
#: Modules that load the CPU on purpose (hogs) or measure time: one xdist group
#: (``--dist loadgroup``), so they run one after another on one worker instead of
#: a hog on one worker skewing a timing on the other.
TIMING_GROUP = frozenset({
    "test_contention.py", "test_sampler.py", "test_event_writer.py", "test_supervisor.py",
})
#: Modules whose tests read the machine's OOM-kill counter (``/proc/vmstat``) while one
#: of them makes the kernel kill a run: one xdist group, so the deliberate OOM kill is
#: never inside another test's run (qtui names a counter that rose as the run's cause).
OOM_GROUP = frozenset({"test_oom_and_server_death.py"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``SLOW`` tests and move every slow test to the front, the longest first;
    put ``TIMING_GROUP`` modules in one xdist group."""
    order: dict[str, int] = {}
    for item in items:
        name = item.nodeid.rpartition("/")[2].split("[")[0]
        if name in SLOW:
            item.add_marker(pytest.mark.slow)
        if name.partition("::")[0] in TIMING_GROUP:
            item.add_marker(pytest.mark.xdist_group("timing"))
        if name.partition("::")[0] in OOM_GROUP:
            item.add_marker(pytest.mark.xdist_group("oom"))
        slow = item.get_closest_marker("slow") is not None
        order[item.nodeid] = (SLOW.index(name) if name in SLOW else len(SLOW)) if slow else 10**6
    items.sort(key=lambda item: order[item.nodeid])


@pytest.fixture(scope="session", autouse=True)
def _private_user_folders(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the history DB, probe cache and theme choice of the test run out of ~/.

    The probe cache is shared by the xdist workers of one run (their base folders
    share a parent): a probe is 3-5 s of CPU, and each worker probed once for
    itself.  The cache is written atomically, so workers that probe at once
    simply agree (``qtui.session.capabilities``)."""
    base = tmp_path_factory.mktemp("qtui-user")
    for var in ("QTUI_DATA_DIR", "QTUI_CONFIG_DIR"):
        os.environ[var] = str(base / var.lower())
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # popen-gwN's parent: this run's, not another run's
    # scripts/test runs pytest twice (the parallel part, then cluster_alone): one folder
    # of its own for both, so the second does not probe the devices again (7-20 s)
    os.environ["QTUI_CACHE_DIR"] = os.environ.get("QTUI_TEST_PROBE_CACHE") or str(shared / "qtui_cache_dir")


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


#: The environment variable every process a test starts inherits, naming the test:
#: the leak guard below finds them by it, and ``scripts/test`` lists any left at the end.
TEST_TAG = "QTUI_TEST_RUN"
_tags = itertools.count(1)


def _tagged(tag: str) -> list[psutil.Process]:
    """Live processes (not this one) whose environment carries ``TEST_TAG=tag``."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and proc.environ().get(TEST_TAG) == tag:
                found.append(proc)
        except psutil.Error:  # gone, or not ours to read
            continue
    return found


@pytest.fixture(autouse=True)
def _nothing_left_behind() -> object:
    """Every process a test started is gone when it ends; any left is killed and
    fails *that* test (it once failed twenty unrelated ones after it).  Processes
    a session-scoped fixture starts (set up before this) carry no tag."""
    tag = f"{os.getpid()}-{next(_tags)}"
    os.environ[TEST_TAG] = tag
    try:
        yield
    finally:
        os.environ.pop(TEST_TAG, None)
    left = _tagged(tag)
    if not left:
        return
    _, alive = psutil.wait_procs(left, timeout=3)  # a child still on its way out
    names = []
    for proc in alive:
        try:
            names.append(f"{proc.pid} {' '.join(proc.cmdline()[:4])}")
            proc.kill()
        except psutil.Error:
            continue
    if names:
        pytest.fail(f"processes this test started were still running (killed now): {names}")

