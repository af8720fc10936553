"""The bad-input corpus (issue 11): every subcommand and every form field, as a table.

Each bad case runs ``qtui.cli.main.main(argv)`` in this process and must give exit
2, exactly one stderr line ``qtui: error: <field>...`` naming the field,
nothing on stdout, no child process started (``subprocess.Popen`` is
refused) and no file written.  The probe is replaced by a fixed capability
matrix, so validation that needs device names runs without a child too.

Cases marked ``VALID`` are accepted on purpose; each says what happens
instead (its check runs on the runs that would have started, which are
captured, not run).  The form's fields go through the form's own parser
(``qtui.ui.widgets.run_form.parse_field``), the one the TUI validates with.

``python3 -m pytest tests/test_bad_input.py -q`` prints the corpus size.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bad_input_lost
import bad_input_paths
import bad_input_ranges
import bad_input_text
import pytest
from bad_input_types import Bad, Valid

from qtui.analysis.fold import SessionSummary
from qtui.analysis.summary_builder import document
from qtui.cli import main as cli
from qtui.core.config import (
    DIFF_METHODS,
    MAX_REPEAT,
    SEED_MAX,
    THREADS_AUTO,
    ConfigError,
    RunSpec,
    max_layers,
    max_qubits,
    max_samples,
    max_threads,
)
from qtui.session.capabilities import Capabilities, DeviceInfo, MethodSupport

HUGE = "9" * 30
FULLWIDTH_ONE = "\uff11"  # "１": int() takes it
ARABIC_42 = "\u0664\u0662"  # "٤٢"


# --- the table ------------------------------------------------------------------


def _int_flag(cmd: str, flag: str, name: str, minimum: int, too_big: str = HUGE) -> list[Bad]:
    below = str(minimum - 1)
    return [
        Bad((cmd, flag, "abc"), name, "whole number"),
        Bad((cmd, flag, "1.5"), name, "whole number"),
        Bad((cmd, flag, FULLWIDTH_ONE), name, "ASCII digits"),
        Bad((cmd, flag, "1_0"), name, "whole number"),
        Bad((cmd, flag, below), name, f"at least {minimum}"),
        Bad((cmd, flag, too_big), name, "at most"),
        Bad((cmd, flag), name, "needs a value"),
    ]


def _float_flag(cmd: str, flag: str, name: str, low: str, says_low: str) -> list[Bad]:
    return [
        Bad((cmd, flag, "abc"), name, "must be a number"),
        Bad((cmd, flag, "nan"), name, "finite"),
        Bad((cmd, flag, "inf"), name, "finite"),
        Bad((cmd, flag, "\uff11.\uff15"), name, "ASCII digits"),
        Bad((cmd, flag, low), name, says_low),
        Bad((cmd, flag), name, "needs a value"),
    ]


RUN: list[Bad] = [
    *_int_flag("run", "--seed", "seed", 0),
    Bad(("run", "--seed", str(SEED_MAX + 1)), "seed", f"at most {SEED_MAX}"),
    Bad(("run", "--seed", str(2**64)), "seed", "32 bits"),
    Bad(("run", "--seed", ARABIC_42), "seed", "ASCII digits"),
    *_int_flag("run", "--samples", "samples", 2),
    Bad(("run", "--samples", "1000000000000000"), "samples", "KiB per sample"),
    Bad(("run", "--samples", str(max_samples() + 1)), "samples", f"at most {max_samples()}"),
    *_int_flag("run", "--batch-size", "batch-size", 1),
    Bad(("run", "--batch-size", "300"), "batch-size", "must not exceed the sample count (200)"),
    Bad(("run", "--samples", "10", "--batch-size", "11"), "batch-size", "sample count (10)"),
    *_int_flag("run", "--epochs", "epochs", 1),
    *_int_flag("run", "--qubits", "qubits", 1),
    Bad(("run", "--qubits", "100000000000"), "qubits", "16*2^n bytes"),
    Bad(("run", "--qubits", str(max_qubits() + 1)), "qubits", f"at most {max_qubits()}"),
    *_int_flag("run", "--layers", "layers", 1),
    *_int_flag("run", "--threads", "threads", 0),
    Bad(("run", "--threads", str(max_threads() + 1)), "threads", "per logical CPU"),
    Bad(("run", "--threads", "automatic"), "threads", "or auto: the CPUs free at the run's start"),
    Bad(("run", "--threads", "-1"), "threads", "or auto"),
    *_float_flag("run", "--noise", "noise", "-0.1", "at least 0"),
    *_float_flag("run", "--lr", "lr", "0", "positive"),
    Bad(("run", "--lr", "-1"), "lr", "positive"),
    Bad(("run", "--repeat", "0"), "repeat", "at least 1"),
    Bad(("run", "--repeat", "abc"), "repeat", "whole number"),
    Bad(("run", "--repeat", str(MAX_REPEAT + 1)), "repeat", f"at most {MAX_REPEAT}"),
    Bad(("run", "--repeat", FULLWIDTH_ONE), "repeat", "ASCII digits"),
    Bad(("run", "--repeat", "autox"), "repeat", "whole number"),
    Bad(("run", "--target-ci", "5"), "target-ci", "needs --repeat auto"),
    Bad(("run", "--repeat", "3", "--max-repeats", "5"), "max-repeats", "needs --repeat auto"),
    Bad(("run", "--max-time", "60"), "max-time", "needs --repeat auto"),
    Bad(("run", "--repeat", "auto", "--target-ci", "0"), "target-ci", "positive number"),
    Bad(("run", "--repeat", "auto", "--target-ci", "80"), "target-ci", "between 0.1 and 50"),
    Bad(("run", "--repeat", "auto", "--target-ci", "nan"), "target-ci", ""),
    Bad(("run", "--repeat", "auto", "--max-repeats", "2"), "max-repeats", "at least 3"),
    Bad(("run", "--repeat", "auto", "--max-repeats", "x"), "max-repeats", "whole number"),
    Bad(("run", "--repeat", "auto", "--max-time", "0"), "max-time", "positive number"),
    Bad(("run", "--repeat", "auto", "--max-time", "-5"), "max-time", ""),
    Bad(("sweep", "--repeat", "auto", "--max-repeats", "20000"), "max-repeats", "at most"),
    Bad(("sweep", "--target-ci", "5"), "target-ci", "needs --repeat auto"),
    Bad(("run", "--executor", "cloud"), "executor", "local, slurm"),
    Bad(("run", "--executor"), "executor", "needs a value"),
    Bad(("run", "--partition", "gpu"), "partition", "needs --executor slurm"),
    Bad(("run", "--jobs-dir", "folder"), "jobs-dir", "needs --executor slurm"),
    Bad(("run", "--executor", "slurm", "--partition", "a b"), "partition", "letters, digits"),
    Bad(("run", "--executor", "slurm", "--time-limit", "0"), "time-limit", "at least 1"),
    Bad(("run", "--executor", "slurm", "--time-limit", "1.5"), "time-limit", "whole number"),
    Bad(("run", "--executor", "slurm", "--time-limit", HUGE), "time-limit", "at most"),
    Bad(("run", "--executor", "slurm", "--cpus-per-task", "0"), "cpus-per-task", "at least 1"),
    Bad(("run", "--executor", "slurm", "--mem", "lots"), "mem", "500M, 4G"),
    Bad(("run", "--executor", "slurm", "--mem", "0"), "mem", "500M, 4G"),
    Bad(("run", "--executor", "slurm", "--gpus", "-1"), "gpus", "at least 0"),
    Bad(("run", "--executor", "slurm", "--array-parallelism", "0"), "array-parallelism", "at least 1"),
    Bad(("run", "--executor", "slurm", "--runs-per-job", "0"), "runs-per-job", "at least 1"),
    Bad(("run", "--executor", "slurm", "--runs-per-job", "two"), "runs-per-job", "whole number"),
    Bad(("run", "--runs-per-job", "4"), "runs-per-job", "needs --executor slurm"),
    Bad(("run", "--executor", "slurm", "--slurm-extra", "account"), "slurm-extra", "KEY=VALUE"),
    Bad(("run", "--executor", "slurm", "--slurm-extra", "account="), "slurm-extra", "KEY=VALUE"),
    Bad(("run", "--executor", "slurm", "--slurm-extra", "time=5"), "slurm-extra", "qtui's own flag"),
    Bad(("run", "--executor", "slurm", "--slurm-extra", "Bad Key=1"), "slurm-extra", "not an sbatch option"),
    Bad(("run", "--executor", "slurm", "--jobs-dir", "existing.json"), "jobs-dir", "not a folder"),
    Bad(("run", "--timeout", "0"), "timeout", "positive"),
    Bad(("run", "--timeout", "-5"), "timeout", "positive"),
    Bad(("run", "--timeout", "soon"), "timeout", "must be a number"),
    Bad(("run", "--timeout", "inf"), "timeout", "finite"),
    Bad(("run", "--timeout", "nan"), "timeout", "finite"),
    Bad(("run", "--interval", "0"), "interval", "positive"),
    Bad(("run", "--interval", "0.001"), "interval", "between 0.01 and 10"),
    Bad(("run", "--interval", "20"), "interval", "between 0.01 and 10"),
    Bad(("run", "--interval", "fast"), "interval", "must be a number"),
    Bad(("run", "--device", ""), "device", "at least one value"),
    Bad(("run", "--device", ","), "device", "is empty"),
    Bad(("run", "--device", "default.qubit,,default.qubit"), "device", "item 2"),
    Bad(("run", "--device", "default.qubit,"), "device", "is empty"),
    Bad(("run", "--device", "default.qubit,default.qubit"), "device", "listed twice"),
    Bad(("run", "--device", "no.such.device"), "device", "available: default.qubit"),
    Bad(("run", "--device", "default.qutrit"), "device", "unavailable here"),
    Bad(("run", "--device", "Default.Qubit"), "device", "unknown or unusable"),
    Bad(("run", "--diff-method", "magic"), "diff-method", "allowed: backprop"),
    Bad(("run", "--diff-method", ""), "diff-method", "at least one value"),
    Bad(("run", "--diff-method", "backprop,,adjoint"), "diff-method", "is empty"),
    Bad(("run", "--diff-method", "backprop,backprop"), "diff-method", "--repeat"),
    Bad(("run", "--diff-method", "Backprop"), "diff-method", "unknown method"),
    Bad(("run", "--device", "lightning.qubit", "--diff-method", "backprop"), "diff-method",
        "no requested combination can run here"),
    Bad(("run", "--workload", "nope"), "workload", "module:function"),
    Bad(("run", "--workload", "a b:c"), "workload", "module:function"),
    Bad(("run", "--workload", ":build"), "workload", "module:function"),
    Bad(("run", "--workload", "pkg:1x"), "workload", "module:function"),
    Bad(("run", "--workload-path", "no-such-folder"), "workload-path", "not a folder"),
    Bad(("run", "--workload-path", "existing.json"), "workload-path", "not a folder"),
    Bad(("run", "--json", "existing.json"), "json", "--force"),
    Bad(("run", "--events", "existing.json"), "events", "--force"),
    Bad(("run", "--json", "folder"), "json", "is a folder"),
    Bad(("run", "--events", "missing/e.jsonl"), "events", "does not exist"),
    Bad(("run", "--json", "same.json", "--events", "same.json"), "events", "same file"),
    Bad(("sweep", "--json", "same.json", "--events", "same.json"), "events", "same file"),
    Bad(("run", "--foo"), "--foo", "unknown option for qtui run"),
    Bad(("run", "-x"), "-x", "unknown option"),
    Bad(("run", "extra"), "extra", "unexpected argument for qtui run"),
    Bad(("run", "--force=1"), "force", "takes no value"),
    Bad(("run", "--allow-foreign-device=yes"), "allow-foreign-device", "takes no value"),
    Bad(("run", "--json"), "json", "needs a value"),
]

SWEEP: list[Bad] = [
    Bad(("sweep", "--combos", ""), "combos", "at least one value"),
    Bad(("sweep", "--combos", "default.qubit"), "combos", "device+method"),
    Bad(("sweep", "--combos", "default.qubit+"), "combos", "device+method"),
    Bad(("sweep", "--combos", "+backprop"), "combos", "device+method"),
    Bad(("sweep", "--combos", "default.qubit+magic"), "combos", "unknown method"),
    Bad(("sweep", "--combos", "default.qubit+backprop,default.qubit+backprop"), "combos", "twice"),
    Bad(("sweep", "--combos", "default.qubit+backprop,,lightning.qubit+adjoint"), "combos", "empty"),
    Bad(("sweep", "--combos", "no.such+backprop"), "device", "unknown or unusable"),
    Bad(("sweep", "--combos", "lightning.qubit+backprop"), "diff-method", "no requested combination"),
    Bad(("sweep", "--qubits", "2,,4"), "qubits", "item 2"),
    Bad(("sweep", "--qubits", "2,4,2"), "qubits", "twice"),
    Bad(("sweep", "--qubits", "4,04"), "qubits", "twice"),
    Bad(("sweep", "--qubits", "0,2"), "qubits", "at least 1"),
    Bad(("sweep", "--qubits", "two"), "qubits", "whole number"),
    Bad(("sweep", "--qubits", f"2,{max_qubits() + 1}"), "qubits", "16*2^n bytes"),
    Bad(("sweep", "--qubits", f"2,{FULLWIDTH_ONE}"), "qubits", "ASCII digits"),
    Bad(("sweep", "--qubits", ""), "qubits", "at least one value"),
    Bad(("sweep", "--layers", "0"), "layers", "at least 1"),
    Bad(("sweep", "--layers", "1,,2"), "layers", "empty"),
    Bad(("sweep", "--batch-size", "5,500"), "batch-size", "sample count (200)"),
    Bad(("sweep", "--batch-size", "5,5"), "batch-size", "twice"),
    Bad(("sweep", "--threads", "0"), "threads", "at least 1"),
    Bad(("sweep", "--threads", "1,-2"), "threads", "at least 1"),
    Bad(("sweep", "--threads", f"1,{max_threads() + 1}"), "threads", "per logical CPU"),
    Bad(("sweep", "--threads", "1,auto"), "threads", "auto stands alone"),
    Bad(("sweep", "--threads", "x"), "threads", "or auto alone"),
    Bad(("sweep", "--steps", "0"), "steps", "at least 1"),
    Bad(("sweep", "--steps", "abc"), "steps", "whole number"),
    Bad(("sweep", "--warmup", "-1"), "warmup", "at least 0"),
    Bad(("sweep", "--repeat", "0"), "repeat", "at least 1"),
    Bad(("sweep", "--timeout", "0"), "timeout", "positive"),
    Bad(("sweep", "--interval", "0"), "interval", "positive"),
    Bad(("sweep", "--seed", ARABIC_42), "seed", "ASCII digits"),
    Bad(("sweep", "--samples", "1"), "samples", "at least 2"),
    Bad(("sweep", "--lr", "0"), "lr", "positive"),
    Bad(("sweep", "--noise", "-1"), "noise", "at least 0"),
    Bad(("sweep", "--workload", "x"), "workload", "module:function"),
    Bad(("sweep", "--device", ""), "device", "at least one value"),
    Bad(("sweep", "--device", "default.qubit,,lightning.qubit"), "device", "empty"),
    Bad(("sweep", "--diff-method", "magic"), "diff-method", "unknown method"),
    Bad(("sweep", "--json", "existing.json"), "json", "--force"),
    Bad(("sweep", "--qubits", ",".join(str(q) for q in range(1, 11)), "--layers",
         ",".join(str(n) for n in range(1, 101)), "--repeat", "100"), "sweep", "at most 100000"),
    Bad(("sweep", "--no-exclusive"), "exclusive", "needs --executor slurm"),
    Bad(("sweep", "--executor", "slurm", "--mem", "4X"), "mem", "500M, 4G"),
    Bad(("sweep", "--allow-foreign-device=1"), "allow-foreign-device", "takes no value"),
    Bad(("sweep", "--foo"), "--foo", "unknown option for qtui sweep"),
    Bad(("sweep", "extra"), "extra", "unexpected argument"),
    Bad(("sweep", "--steps"), "steps", "needs a value"),
]

REPORT: list[Bad] = [
    Bad(("report",), "file", "required"),
    Bad(("report", "-f", "xyz", "good.json"), "format", "allowed: json, md, csv, html"),
    Bad(("report", "good.json", "-o", "x.weird"), "output", ".json, .md, .csv, .html"),
    Bad(("report", "good.json", "-o", "noext"), "output", "give -f"),
    Bad(("report", "good.json", "-o", ""), "output", "needs a file name"),
    Bad(("report", "good.json", "-f", "all"), "output", "needs -o FOLDER"),
    Bad(("report", "good.json", "-f", "html"), "output", "give -o OUT.html"),
    Bad(("report", "good.json", "-o"), "output", "needs a value"),
    Bad(("report", "missing.json"), "missing.json", "no such file"),
    Bad(("report", "folder"), "folder", "is a folder"),
    Bad(("report", "notjson.json"), "notjson.json", "not valid JSON"),
    Bad(("report", "strtimes.json"), "strtimes.json", "results[0].times[0]"),
    Bad(("report", "good.json", "-o", "existing.json"), "existing.json", "--force"),
    Bad(("report", "good.json", "-o", "missing/out.md"), "cannot write", "does not exist"),
    Bad(("report", "good.json", "--bogus"), "--bogus", "unknown option for qtui report"),
    Bad(("report", "good.json", "extra"), "extra", "unexpected argument"),
]

COMPARE: list[Bad] = [
    Bad(("compare",), "A.json", "required"),
    Bad(("compare", "good.json"), "B.json", "required"),
    Bad(("compare", "--threshold", "abc", "good.json", "good.json"), "threshold", "must be a number"),
    Bad(("compare", "--threshold", "0", "good.json", "good.json"), "threshold", "fraction"),
    Bad(("compare", "--threshold", "-1", "good.json", "good.json"), "threshold", "fraction"),
    Bad(("compare", "--threshold", "10", "good.json", "good.json"), "threshold", "fraction"),
    Bad(("compare", "--threshold", "nan", "good.json", "good.json"), "threshold", "finite"),
    Bad(("compare", "--threshold", "\uff10.\uff11", "good.json", "good.json"), "threshold", "ASCII"),
    Bad(("compare", "missing.json", "good.json"), "missing.json", "no such file"),
    Bad(("compare", "good.json", "strtimes.json"), "strtimes.json", "expected `float | null`"),
    Bad(("compare", "good.json", "notjson.json"), "notjson.json", "not valid JSON"),
    Bad(("compare", "good.json", "good.json", "third.json"), "third.json", "unexpected argument"),
    Bad(("compare", "--bogus", "good.json", "good.json"), "--bogus", "unknown option"),
]

HISTORY: list[Bad] = [
    Bad(("history", "--db", "hist.db", "-n", "abc"), "limit", "whole number"),
    Bad(("history", "--db", "hist.db", "-n", "0"), "limit", "at least 1"),
    Bad(("history", "--db", "hist.db", "-n", "-5"), "limit", "at least 1"),
    Bad(("history", "--db", "hist.db", "-n", FULLWIDTH_ONE), "limit", "ASCII digits"),
    Bad(("history", "--db", "hist.db", "-n"), "limit", "needs a value"),
    Bad(("history", "--db", "missing/h.db"), "db", "does not exist"),
    Bad(("history", "--db", "folder"), "db", "is a folder"),
    Bad(("history", "--db", ""), "db", "is a folder"),
    Bad(("history", "--db", "hist.db", "--summary"), "--summary", "needs a SESSION_ID"),
    Bad(("history", "--db", "hist.db", "zzzz"), "session", "no session 'zzzz'"),
    Bad(("history", "--db", "hist.db", "--import", "missing.jsonl"), "missing.jsonl", "no such"),
    Bad(("history", "--db", "hist.db", "--import", "folder"), "folder", "is a folder"),
    Bad(("history", "--db", "hist.db", "a", "b"), "b", "unexpected argument for qtui history"),
    Bad(("history", "--bogus"), "--bogus", "unknown option for qtui history"),
]

WATCH: list[Bad] = [
    Bad(("watch",), "log", "required"),
    Bad(("watch", "--jobs-dir", "missing"), "jobs-dir", "does not exist"),
    Bad(("watch", "--jobs-dir", "folder"), "jobs-dir", "holds no qtui jobs"),
    Bad(("watch", "--jobs-dir", "existing.json"), "jobs-dir", "is not a folder"),
    Bad(("watch", "x.jsonl", "--jobs-dir", "folder"), "jobs-dir", "not both"),
    Bad(("watch", "--json", "o.json", "x.jsonl"), "json", "needs --jobs-dir"),
    Bad(("watch", "--interval", "abc", "x.jsonl"), "interval", "must be a number"),
    Bad(("watch", "--interval", "0", "x.jsonl"), "interval", "between 0.01 and 10"),
    Bad(("watch", "--interval", "100", "x.jsonl"), "interval", "between 0.01 and 10"),
    Bad(("watch", "--interval", "nan", "x.jsonl"), "interval", "finite"),
    Bad(("watch", "--interval", "\uff11", "x.jsonl"), "interval", "ASCII"),
    Bad(("watch", "--interval"), "interval", "needs a value"),
    Bad(("watch", "folder"), "folder", "is a folder"),
    Bad(("watch", "--once", "missing.jsonl"), "missing.jsonl", "no such file"),
    Bad(("watch", "--bogus", "x.jsonl"), "--bogus", "unknown option for qtui watch"),
    Bad(("watch", "x.jsonl", "y.jsonl"), "y.jsonl", "unexpected argument"),
]

SERVE: list[Bad] = [
    Bad(("serve", "--port", "abc"), "port", "whole number"),
    Bad(("serve", "--port", "0"), "--port", "between 1 and 65535"),
    Bad(("serve", "--port", "70000"), "--port", "between 1 and 65535"),
    Bad(("serve", "--port", "\u0668\u0660\u0660\u0660"), "port", "ASCII digits"),
    Bad(("serve", "--port"), "port", "needs a value"),
    Bad(("serve", "--host"), "host", "needs a value"),
    Bad(("serve", "--token", "short"), "--token", "at least 16"),
    Bad(("serve", "--token", "has spaces in it, sixteen+"), "--token", "A-Z a-z 0-9"),
    Bad(("serve", "--bogus"), "--bogus", "unknown option for qtui serve"),
]

DEVICES: list[Bad] = [
    Bad(("devices", "extra"), "extra", "unexpected argument for qtui devices"),
    Bad(("devices", "--bogus"), "--bogus", "unknown option for qtui devices"),
    Bad(("devices", "--refresh=1"), "refresh", "takes no value"),
    Bad(("devices", "--json=yes"), "json", "takes no value"),
]

TOP: list[Bad] = [
    Bad(("nosuchcommand",), "command", "commands: run, exec, devices, sweep"),
    Bad(("RUN",), "command", "unknown command 'RUN'"),
    Bad(("--theme",), "theme", "needs a value"),
    Bad(("--isolation", "bogus"), "isolation", "allowed: process"),
    Bad(("--bogus",), "--bogus", "unknown option for qtui"),
]

#: A script that exists (``qtui exec`` checks the path before anything starts).
SCRIPT = str(Path(__file__).resolve().parent / "scripts" / "hybrid_train.py")

EXEC: list[Bad] = [
    Bad(("exec",), "command", "give the script to run after --"),
    Bad(("--isolation", "thread", "exec", "--", "python", "x.py"), "isolation", "process (the default) or spawn"),
    Bad(("--isolation", "spawn", "sweep", "--executor", "slurm"), "isolation", "local runs only"),
    Bad(("--isolation", "thread", "run", "--executor", "slurm"), "isolation", "local runs only"),
    Bad(("exec", "--partition", "gpu", "--", "python", "x.py"), "partition", "needs --executor slurm"),
    Bad(("exec", "--executor", "slurm", "--time-limit", "0", "--", "python", "x.py"), "time-limit", "at least 1"),
    Bad(("exec", "--"), "command", "give the script to run after --"),
    Bad(("exec", "--", "python"), "command", "give the script after python"),
    Bad(("exec", "--", "nosuch.py"), "command", "no such script: 'nosuch.py'"),
    Bad(("exec", "--", "python", "nosuch.py"), "command", "no such script"),
    Bad(("exec", "--", "folder"), "command", "is not a file"),
    Bad(("exec", "--", "python", "-u", SCRIPT), "command", "interpreter options (-u)"),
    Bad(("exec", "--", "python", "-m", "mod"), "command", "interpreter options (-m)"),
    Bad(("exec", "--", "python2.1", SCRIPT), "command", "no interpreter 'python2.1'"),
    Bad(("exec", "--", "-x", SCRIPT), "command", "put -- before the script"),
    Bad(("exec", "--foo", "--", SCRIPT), "--foo", "unknown option for qtui exec"),
    Bad(("exec", "--device", "", "--", SCRIPT), "device", "at least one value"),
    Bad(("exec", "--device", "no.such.device", "--", SCRIPT), "device", "available: default.qubit"),
    Bad(("exec", "--device", "default.qutrit", "--", SCRIPT), "device", "unavailable here"),
    Bad(("exec", "--device", "default.qubit,default.qubit", "--", SCRIPT), "device", "listed twice"),
    Bad(("exec", "--diff-method", "magic", "--", SCRIPT), "diff-method", "allowed: backprop"),
    Bad(("exec", "--diff-method", "adjoint,adjoint", "--", SCRIPT), "diff-method", "--repeat"),
    Bad(("exec", "--device", "lightning.qubit", "--diff-method", "backprop", "--", SCRIPT),
        "diff-method", "no requested combination can run here"),
    Bad(("exec", "--repeat", "0", "--", SCRIPT), "repeat", "at least 1"),
    Bad(("exec", "--target-ci", "5", "--", SCRIPT), "target-ci", "needs --repeat auto"),
    Bad(("exec", "--timeout", "0", "--", SCRIPT), "timeout", "positive"),
    Bad(("exec", "--timeout", "nan", "--", SCRIPT), "timeout", "finite"),
    Bad(("exec", "--interval", "20", "--", SCRIPT), "interval", "between 0.01 and 10"),
    Bad(("exec", "--threads", "x", "--", SCRIPT), "threads", "whole number"),
    Bad(("exec", "--threads", str(max_threads() + 1), "--", SCRIPT), "threads", "per logical CPU"),
    Bad(("exec", "--threads", "many", "--", SCRIPT), "threads", "or auto"),
    Bad(("exec", "--no-loss-capture=1", "--", SCRIPT), "no-loss-capture", "takes no value"),
    Bad(("exec", "--json", "existing.json", "--", SCRIPT), "json", "--force"),
    Bad(("exec", "--json", "same.json", "--events", "same.json", "--", SCRIPT), "events",
        "same file"),
]

#: Issue 21's second round, one module per class of input (paths and files, text,
#: nothing lost, ranges and serve), so the table grows without one file holding all.
ROUND_TWO: list[Bad] = [
    *bad_input_paths.BAD, *bad_input_text.BAD, *bad_input_lost.BAD, *bad_input_ranges.BAD,
]

BAD: list[Bad] = [
    *RUN, *SWEEP, *REPORT, *COMPARE, *HISTORY, *WATCH, *SERVE, *DEVICES, *TOP, *EXEC, *ROUND_TWO,
]


def _one_run(**params: Any) -> Callable[[list[RunSpec], Path], bool]:
    def check(specs: list[RunSpec], tmp: Path) -> bool:
        return len(specs) == 1 and all(
            getattr(specs[0].params, k) == v for k, v in params.items()
        )

    return check


VALID: list[Valid] = [
    Valid(("run", "--epochs", " 3 "), "surrounding spaces are ignored", _one_run(epochs=3)),
    Valid(("run", "--epochs", "+3"), "a leading + is allowed", _one_run(epochs=3)),
    Valid(("run", "--lr", "1e-2"), "floats take an ASCII exponent", _one_run(lr=0.01)),
    Valid(("run", "--seed", str(SEED_MAX)), "the largest seed numpy takes", _one_run(seed=SEED_MAX)),
    Valid(("run", "--qubits", str(max_qubits())), "the qubit limit itself fits",
          _one_run(qubits=max_qubits())),
    Valid(("run", "--dev", "default.qubit"), "argparse's unambiguous prefixes (--dev = --device)",
          _one_run()),
    Valid(("run", "--diff-method", "backprop, adjoint"), "spaces after commas are ignored",
          lambda specs, tmp: [s.diff_method for s in specs] == ["backprop", "adjoint"]),
    Valid(("run", "--device", "lightning.qubit,default.qubit", "--diff-method", "backprop"),
          "a refused pair is listed and not run when another pair can run",
          lambda specs, tmp: [s.combo for s in specs] == ["default.qubit+backprop"]),
    Valid(("run", "--repeat", "2", "--device", "default.qubit", "--diff-method", "backprop,adjoint"),
          "repeats are interleaved A B A B",
          lambda specs, tmp: [s.diff_method for s in specs] == ["backprop", "adjoint"] * 2),
    Valid(("run", "--allow-foreign-device", "--repeat", "2"),
          "--allow-foreign-device reaches every run's spec (and so the child)",
          lambda specs, tmp: len(specs) == 2 and all(
              RunSpec.from_dict(s.to_dict()).allow_foreign_device for s in specs)),
    Valid(("sweep", "--qubits", "2,4", "--allow-foreign-device"),
          "--allow-foreign-device reaches every sweep point",
          lambda specs, tmp: bool(specs) and all(s.allow_foreign_device for s in specs)),
    Valid(("run",), "without --allow-foreign-device a foreign run fails (the spec says so)",
          lambda specs, tmp: not specs[0].allow_foreign_device
          and "allow_foreign_device" not in specs[0].to_dict()),
    Valid(("sweep", "--qubits", "8,2,4"), "axis values are sorted",
          lambda specs, tmp: [s.params.qubits for s in specs]
          == sorted(s.params.qubits for s in specs) and {s.params.qubits for s in specs} == {2, 4, 8}),
    Valid(("report", "good.json", "-o", "out.weird", "-f", "md"),
          "-f names the format, so any file name goes",
          lambda specs, tmp: (tmp / "out.weird").read_text().startswith("#")),
    Valid(("report", "good.json", "-o", "out.htm"), ".htm is HTML",
          lambda specs, tmp: (tmp / "out.htm").read_text().lstrip().lower().startswith("<!doctype")),
    Valid(("history", "--db", "new.db", "-n", "5"),
          "a new database is created in an existing folder",
          lambda specs, tmp: (tmp / "new.db").is_file()),
    Valid(("compare", "good.json", "good.json", "--json"), "comparing a summary with itself",
          lambda specs, tmp: True),
    Valid(("exec", "--device", "default.qubit,lightning.qubit", "--diff-method", "adjoint",
           "--repeat", "2", "--", "python", SCRIPT, "--steps", "3"),
          "a device x method matrix over a script, --repeat as in run; the script's "
          "arguments are its own",
          lambda specs, tmp: [(s.device, s.diff_method, s.command[1:]) for s in specs]
          == [("default.qubit", "adjoint", ("--steps", "3")),
              ("lightning.qubit", "adjoint", ("--steps", "3"))] * 2),
    Valid(("exec", SCRIPT, "--device", "x"),
          "without --, every word from the script on is the script's (--device x is its own)",
          lambda specs, tmp: [(s.device, s.command[1:]) for s in specs]
          == [("script", ("--device", "x"))]),
    Valid(("exec", "--no-loss-capture", "--", SCRIPT), "loss capture off",
          lambda specs, tmp: [s.loss_capture for s in specs] == [False]),
    Valid(("run", "--threads", " Auto "), "--threads auto: the pools get the CPUs free at the "
          "run's start (qtui.core.cpu_fit), written as \"auto\"",
          lambda specs, tmp: len(specs) == 1 and specs[0].params.threads == THREADS_AUTO
          and specs[0].to_dict()["params"]["threads"] == "auto"),
    Valid(("sweep", "--threads", "auto"), "auto alone in a sweep: every point's pools fit",
          lambda specs, tmp: bool(specs) and all(s.params.threads == THREADS_AUTO for s in specs)),
    Valid(("exec", "--threads", "auto", "--", SCRIPT), "auto for a script as for a workload",
          lambda specs, tmp: [s.params.threads for s in specs] == [THREADS_AUTO]),
    Valid(("devices", "--json", "--json"), "a repeated switch is still the switch",
          lambda specs, tmp: True),
]
VALID += [*bad_input_paths.VALID, *bad_input_text.VALID, *bad_input_lost.VALID, *bad_input_ranges.VALID]


# --- the sandbox --------------------------------------------------------------------


def _capabilities() -> Capabilities:
    """default.qubit: every method; lightning.qubit: backprop refused; default.qutrit unusable."""
    every = {m: MethodSupport(True, resolved="backprop" if m == "best" else None) for m in DIFF_METHODS}
    lightning = dict(every)
    lightning["backprop"] = MethodSupport(False, reason="QuantumFunctionError: no backprop here")
    lightning["best"] = MethodSupport(True, resolved="adjoint")
    return Capabilities(devices={
        "default.qubit": DeviceInfo("default.qubit", True, methods=every),
        "lightning.qubit": DeviceInfo("lightning.qubit", True, methods=lightning),
        "default.qutrit": DeviceInfo("default.qutrit", False, reason="not a qubit device"),
    })


def _files(*roots: Path) -> set[str]:
    """Every file under the roots (SQLite's -wal/-shm side files of an opened db aside)."""
    out: set[str] = set()
    for root in roots:
        for dirpath, _, names in os.walk(root):
            out |= {
                os.path.join(dirpath, n) for n in names if not n.endswith(("-wal", "-shm"))
            }
    return out


def _special_files(tmp: Path, data: Path) -> None:
    """What ``bad_input_paths`` names: a FIFO, a socket, symlinks, the data folder."""
    import socket

    os.mkfifo(tmp / "fifo")
    s = socket.socket(socket.AF_UNIX)
    s.bind("sock")  # relative: the cwd is tmp, and a socket's path must be short
    s.close()
    (tmp / "dangling.json").symlink_to("nowhere.json")
    (tmp / "link.json").symlink_to("existing.json")
    (tmp / "fifolink.json").symlink_to("fifo")
    data.mkdir()
    (tmp / "qtui-data").symlink_to(data, target_is_directory=True)


#: A thread that dies with a traceback (the early fork server's start) fails the row.
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """cwd with the files the table names; no child can start; runs are captured."""
    from qtui.store.history_db import HistoryDB

    monkeypatch.chdir(tmp_path)
    data = tmp_path.parent / f"{tmp_path.name}-data"
    monkeypatch.setenv("QTUI_DATA_DIR", str(data))
    good = document(SessionSummary()).to_builtins()
    (tmp_path / "good.json").write_text(json.dumps(good))
    strtimes = {**good, "results": [{"label": "a", "times": ["1.0", "2.0"], "mean": 1.5}]}
    (tmp_path / "strtimes.json").write_text(json.dumps(strtimes))
    (tmp_path / "notjson.json").write_text("{not json")
    (tmp_path / "existing.json").write_text("keep me")
    (tmp_path / "folder").mkdir()
    HistoryDB(tmp_path / "hist.db").close()
    _special_files(tmp_path, data)

    def no_child(*args: Any, **kwargs: Any) -> Any:
        command = args[0] if args else kwargs.get("args")
        if "qtui.engine.forkserver_main" in (command or []):
            # run/sweep start the fork server in the background once their flags parse
            # (issue 24): here the system refuses it, the product's documented fallback
            raise OSError(errno.EPERM, "no child in the bad-input table")
        raise AssertionError(f"a child was started: {args[:1]}")

    started: list[RunSpec] = []

    def capture(specs: list[RunSpec], **kwargs: Any) -> int:
        started.extend(specs)
        return 0

    caps = _capabilities()
    monkeypatch.setattr(subprocess, "Popen", no_child)
    monkeypatch.setattr("qtui.cli.combos.get_capabilities", lambda refresh=False: caps)
    monkeypatch.setattr("qtui.session.capabilities.load_capabilities", lambda refresh=False, **kw: caps)
    monkeypatch.setattr("qtui.cli.console_session.run_session", capture)
    monkeypatch.setenv("COLUMNS", "120")
    yield {"tmp": tmp_path, "data": data, "started": started}


def _main(argv: tuple[str, ...]) -> int:
    try:
        return cli.main(list(argv))
    except SystemExit as exc:  # main returns codes; a stray exit is still read
        return int(exc.code or 0)


def _id(case: Bad | Valid) -> str:
    """The case's argv; the round-two databases' folder (a fresh temporary one per
    process) reads ``<dbs>``, so every xdist worker collects the same ids."""
    text = " ".join(a if a else "''" for a in case.argv).replace(str(bad_input_lost.FILES), "<dbs>")
    return text[:80].encode("ascii", "backslashreplace").decode()


@pytest.mark.parametrize("case", BAD, ids=_id)
def test_bad_input_is_one_line_exit_2_and_nothing_starts(
    case: Bad, sandbox: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    before = _files(sandbox["tmp"], sandbox["data"])
    rc = _main(case.argv)
    out, err = capsys.readouterr()
    assert rc == 2, (rc, out, err)
    lines = err.splitlines()
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith(f"qtui: error: {case.field}"), line
    assert case.says in line, line
    assert out == ""
    assert sandbox["started"] == []
    assert _files(sandbox["tmp"], sandbox["data"]) == before


@pytest.mark.parametrize("case", VALID, ids=_id)
def test_documented_valid_input(
    case: Valid, sandbox: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    rc = _main(case.argv)
    out, err = capsys.readouterr()
    assert rc == 0, (rc, err)
    assert "error" not in err, err
    assert case.check(sandbox["started"], sandbox["tmp"]), (case.behaviour, sandbox["started"])


# --- every form field -------------------------------------------------------------

#: Bad text per form field key; the error must name the field (CLI spelling).
FORM_BAD: dict[str, tuple[str, list[str]]] = {
    "sweep_qubits": ("qubits", ["", "2,,4", "2,4,2", "0", "two", f"2,{max_qubits() + 1}", FULLWIDTH_ONE]),
    "sweep_layers": ("layers", ["", "0", "1,,2", "1,1", "x", f"1,{max_layers() + 1}"]),
    "sweep_batch_size": ("batch-size", ["", "0", "5,5", "5,,6", "1.5"]),
    "sweep_threads": ("threads", ["0", "1,1", f"{max_threads() + 1}", "1,", "1,auto", "autox"]),
    "steps": ("steps", ["0", "-1", "abc", FULLWIDTH_ONE]),
    "warmup": ("warmup", ["-1", "abc", HUGE]),
    "seed": ("seed", ["-1", str(SEED_MAX + 1), ARABIC_42, "4.2", ""]),
    "samples": ("samples", ["1", "1000000000000000", "abc"]),
    "noise": ("noise", ["-0.1", "nan", "abc", "1e308", "1e38", "-1e-300"]),
    "batch_size": ("batch-size", ["0", "abc", HUGE]),
    "epochs": ("epochs", ["0", FULLWIDTH_ONE, "1_000", ""]),
    "lr": ("lr", ["0", "-1", "inf", "\uff11.\uff15", "1e308", "1e6", "-0.0"]),
    "qubits": ("qubits", ["0", "100000000000", "2.0"]),
    "layers": ("layers", ["0", "abc", "9223372036854775807", str(max_layers() + 1)]),
    "repeat": ("repeat", ["0", str(MAX_REPEAT + 1), "x"]),
    "timeout": ("timeout", ["0", "nan", "soon"]),
    "interval": ("interval", ["0", "0.001", "11"]),
    "workload": ("workload", ["nope", "", "a b:c"]),
    "executor": ("executor", ["pbs", "", "local slurm"]),
    "command": ("command", ["nosuch.py", "python", "python -u x.py", "python 'unbalanced",
                            "python2.1 x.py", "-x", "folder-that-is-not-there/",
                            bad_input_ranges.SHELL, f"python {bad_input_ranges.SHELL}"]),
    "partition": ("partition", ["a b", "x;y"]),
    "time_limit": ("time-limit", ["0", "abc", "1.5"]),
    "exclusive": ("exclusive", ["maybe", ""]),
    "slurm_extra": ("slurm-extra", ["account", "exclusive=yes", "Bad=1", "time=5"]),
}
FORM_CASES = [(key, text) for key, (_, texts) in FORM_BAD.items() for text in texts]


def test_the_form_table_covers_every_form_field() -> None:
    from qtui.ui.widgets.run_form import FIELDS

    assert {f.key for f in FIELDS} == set(FORM_BAD)


@pytest.mark.parametrize(("key", "text"), FORM_CASES, ids=lambda v: repr(v)[:40])
def test_form_field_refuses_with_the_cli_words(key: str, text: str) -> None:
    from qtui.ui.widgets.run_form import parse_field

    with pytest.raises(ConfigError) as info:
        parse_field(key, text)
    assert info.value.field == FORM_BAD[key][0]
    assert "\n" not in str(info.value)


def test_corpus_size() -> None:
    """The figure the README quotes: bad inputs across the CLI and the form, plus valid ones."""
    assert len(BAD) + len(FORM_CASES) >= 150
    commands = {c.argv[0] for c in BAD if not c.argv[0].startswith("-")}
    assert {"run", "sweep", "devices", "report", "compare", "history", "watch", "serve"} <= commands
    print(f"\nbad-input corpus: {len(BAD)} CLI + {len(FORM_CASES)} form = "
          f"{len(BAD) + len(FORM_CASES)} refused, {len(VALID)} documented valid")
