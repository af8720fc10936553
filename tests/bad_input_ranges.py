"""Bad input, round two (issue 21): ranges every run survives, environment variables, serve and exec.

Rows for ``test_bad_input.py``'s table: each ``Bad`` must give exit 2, one
stderr line naming its field, nothing on stdout, no child and no file changed.

The bounds and their reasons live in ``qtui.core.config`` (noise, lr, layers),
``qtui.ui.themes`` (--theme), ``qtui.session.exec_spec`` (a Python script) and
``qtui.cli.commands.serve`` (--public-url, the command after --).
"""

from __future__ import annotations

import math
from pathlib import Path

from bad_input_types import Bad, Valid

from qtui.core.config import INT64_MAX, LR_LIMIT, NOISE_MAX, max_layers

HERE = Path(__file__).resolve().parent
#: A shell script, executable, with a ``#!/bin/sh`` line: not Python.
SHELL = str(HERE / "scripts" / "not_python.sh")
#: A Python script without the ``.py`` suffix, named by its ``#!/usr/bin/env python3`` line.
SHEBANG = str(HERE / "scripts" / "python_shebang")
#: An ordinary Python script.
SCRIPT = str(HERE / "scripts" / "hybrid_train.py")

#: More layers than fit with 20 qubits, though fewer than the 1-qubit cap of the field.
LAYERS_20Q = str(max_layers(20) + 1)

BAD: list[Bad] = [
    # noise: at least 0 and at most NOISE_MAX (1e38 made NaN data)
    Bad(("run", "--noise", "1e308"), "noise", f"at most {NOISE_MAX:g}"),
    Bad(("run", "--noise", "1e38"), "noise", "loss is NaN"),
    Bad(("run", "--noise", str(NOISE_MAX * 10)), "noise", "the moons span"),
    Bad(("run", "--noise=-1e-300"), "noise", "at least 0"),  # argparse: -1e-300 alone is a flag
    Bad(("run", "--noise=-inf"), "noise", "finite"),
    Bad(("sweep", "--noise", "1e300"), "noise", f"at most {NOISE_MAX:g}"),
    # lr: positive and less than LR_LIMIT
    Bad(("run", "--lr", "1e308"), "lr", f"less than {LR_LIMIT:g}"),
    Bad(("run", "--lr", str(LR_LIMIT)), "lr", f"less than {LR_LIMIT:g}"),
    Bad(("run", "--lr", "1e39"), "lr", "float32"),
    Bad(("run", "--lr", "-0.0"), "lr", "positive"),
    Bad(("run", "--lr", "1e-400"), "lr", "positive"),  # underflows to 0
    Bad(("sweep", "--lr", "1e7"), "lr", "less than"),
    # layers: what a circuit of the node's memory can hold
    Bad(("run", "--layers", str(INT64_MAX)), "layers", "at most"),
    Bad(("run", "--layers", str(max_layers() + 1)), "layers", f"at most {max_layers()}"),
    Bad(("run", "--layers", "1" + "0" * 40), "layers", "KiB each"),
    Bad(("run", "--qubits", "20", "--layers", LAYERS_20Q), "layers", "with 20 qubits"),
    Bad(("sweep", "--layers", f"1,{INT64_MAX}"), "layers", "at most"),
    Bad(("sweep", "--qubits", "2,20", "--layers", LAYERS_20Q), "layers", "with 20 qubits"),
    Bad(("sweep", "--qubits", "20", "--layers", f"1,{LAYERS_20Q}"), "layers", "this machine holds"),
    # --theme: a name among the themes, never a path
    Bad(("--theme", "../../etc/passwd"), "theme", "available: "),
    Bad(("--theme", "nosuch"), "theme", "unknown theme 'nosuch'"),
    Bad(("--theme", ""), "theme", "available: "),
    Bad(("--theme", "nosuch", "devices"), "theme", "high-contrast"),
    Bad(("--theme", "dark\x1b[2J"), "theme", "\\x1b"),
    # exec: Python scripts only
    Bad(("exec", "--", SHELL), "command", "not a Python script"),
    Bad(("exec", "--", "python", SHELL), "command", "not a Python script"),
    Bad(("exec", "--repeat", "2", "--", SHELL, "arg"), "command", ".py name or a python #! line"),
    # serve: http(s) public URL; the served command checked before the server starts
    Bad(("serve", "--public-url", "javascript:alert(1)"), "public-url", "http:// or https://"),
    Bad(("serve", "--public-url", "ftp://example.org/"), "public-url", "http:// or https://"),
    Bad(("serve", "--public-url", "http://"), "public-url", "host"),
    Bad(("serve", "--public-url", ""), "public-url", "http:// or https://"),
    Bad(("serve", "--public-url", "https://x\ny/"), "public-url", "\\n"),
    Bad(("serve", "--", "run", "--epochs", "abc"), "epochs", "whole number"),
    Bad(("serve", "--", "run", "--noise", "1e308"), "noise", "at most"),
    Bad(("serve", "--", "sweep", "--layers", "0"), "layers", "at least 1"),
    Bad(("serve", "--", "nosuchcommand"), "command", "unknown command"),
    Bad(("serve", "--", "--theme", "nosuch"), "theme", "available: "),
    Bad(("serve", "--", "run", "--bogus"), "--bogus", "unknown option for qtui run"),
    Bad(("serve", "--", "exec", "--", SHELL), "command", "not a Python script"),
]


VALID: list[Valid] = [
    Valid(("run", "--noise", "-0.0"), "-0 is 0 (make_moons refuses a minus sign, -0.0 too)",
          lambda specs, tmp: len(specs) == 1 and specs[0].params.noise == 0.0
          and math.copysign(1.0, specs[0].params.noise) == 1.0),
    Valid(("run", "--noise", str(NOISE_MAX)), "the noise cap itself is allowed",
          lambda specs, tmp: [s.params.noise for s in specs] == [NOISE_MAX]),
    Valid(("run", "--lr", "999999.9"), "just under the lr limit",
          lambda specs, tmp: [s.params.lr for s in specs] == [999999.9]),
    Valid(("run", "--qubits", "20", "--layers", str(max_layers(20))),
          "the layer cap for 20 qubits itself fits",
          lambda specs, tmp: [s.params.layers for s in specs] == [max_layers(20)]),
    Valid(("exec", "--", SHEBANG), "a script named by a python #! line, without .py",
          lambda specs, tmp: [s.command[0] for s in specs] == [SHEBANG]),
    Valid(("exec", "--", "python", SCRIPT), "a .py script",
          lambda specs, tmp: [s.command[0] for s in specs] == [SCRIPT]),
]
