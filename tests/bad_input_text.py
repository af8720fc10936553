"""Bad input, round two (issue 21): text: control characters, multi-line messages, --slurm-extra and SLURM fields.

Rows for ``test_bad_input.py``'s table: each ``Bad`` must give exit 2, one
stderr line naming its field, nothing on stdout, no child and no file changed.
``tests/test_control_text.py`` also checks that none of their error lines
carries a raw control character (the value is echoed escaped, ``\\x1b``).

The SLURM rows are the sbatch script injection: ``--slurm-extra
$'comment=a\\ntouch PWNED #'`` split the ``#SBATCH`` line, so bash ran ``touch``
and sbatch stopped reading ``#SBATCH`` lines there.  Every SLURM option goes
into that script, so every one refuses a control character.
"""

from __future__ import annotations

from bad_input_types import Bad, Valid

SLURM = ("run", "--executor", "slurm")
ESC_TITLE = "\x1b]0;pwned\x07"
ESC_CLEAR = "\x1b[2J"
CONTROL = "control character"

BAD: list[Bad] = [
    # --slurm-extra: the key, the value, every kind of control character
    Bad((*SLURM, "--slurm-extra", "comment=a\ntouch PWNED #"), "slurm-extra", CONTROL),
    Bad((*SLURM, "--slurm-extra", "comment=a\rb"), "slurm-extra", CONTROL),
    Bad((*SLURM, "--slurm-extra", f"comment={ESC_TITLE}"), "slurm-extra", CONTROL),
    Bad((*SLURM, "--slurm-extra", f"comment={ESC_CLEAR}"), "slurm-extra", CONTROL),
    Bad((*SLURM, "--slurm-extra", "comment=a\tb"), "slurm-extra", CONTROL),
    Bad((*SLURM, "--slurm-extra", "comment=a\x0bb"), "slurm-extra", CONTROL),
    Bad((*SLURM, "--slurm-extra", "comment=a\x7fb"), "slurm-extra", CONTROL),
    Bad((*SLURM, "--slurm-extra", "comment=a\x9bb"), "slurm-extra", CONTROL),
    Bad((*SLURM, "--slurm-extra", "comment=ends with a newline\n"), "slurm-extra", CONTROL),
    Bad((*SLURM, "--slurm-extra", "\ncomment=a"), "slurm-extra", CONTROL),
    Bad((*SLURM, "--slurm-extra", "comm\nent=a"), "slurm-extra", CONTROL),
    Bad((*SLURM, "--slurm-extra", "account=abc", "--slurm-extra", "comment=x\ny"),
        "slurm-extra", CONTROL),
    Bad(("sweep", "--executor", "slurm", "--slurm-extra", "comment=a\nb"), "slurm-extra", CONTROL),
    # the other SLURM fields
    Bad((*SLURM, "--partition", "gpu\n#SBATCH --time=9999"), "partition", CONTROL),
    Bad((*SLURM, "--partition", "gpu\n"), "partition", CONTROL),
    Bad((*SLURM, "--partition", f"gpu{ESC_CLEAR}"), "partition", CONTROL),
    Bad((*SLURM, "--jobs-dir", "jobs\ntouch PWNED"), "jobs-dir", CONTROL),
    Bad((*SLURM, "--jobs-dir", f"jobs{ESC_TITLE}"), "jobs-dir", CONTROL),
    Bad((*SLURM, "--jobs-dir", "jobs\r"), "jobs-dir", CONTROL),
    Bad((*SLURM, "--mem", "4G\n"), "mem", CONTROL),
    Bad((*SLURM, "--time-limit", "60\n#SBATCH --exclusive"), "time-limit", CONTROL),
    Bad(("sweep", "--executor", "slurm", "--partition", "a\x1b[2Jb"), "partition", CONTROL),
    # names that come back in an error line: refused, and echoed escaped
    Bad(("run", "--workload", f"mod{ESC_TITLE}:build"), "workload", "module:function"),
    Bad(("run", "--workload", "mod:build\nsecond"), "workload", "module:function"),
    Bad(("run", "--device", f"default.qubit{ESC_CLEAR}"), "device", "unknown or unusable"),
    Bad(("run", "--diff-method", f"backprop{ESC_TITLE}"), "diff-method", "unknown method"),
    Bad(("sweep", "--combos", f"default.qubit+{ESC_CLEAR}"), "combos", ""),
    Bad(("run", "--workload-path", f"no-such{ESC_TITLE}"), "workload-path", "not a folder"),
    Bad(("run", f"--foo{ESC_CLEAR}"), "--foo", "unknown option"),
    Bad(("report", f"missing{ESC_TITLE}.json"), "missing\\x1b]0;pwned\\x07.json", "no such file"),
    Bad(("compare", f"a{ESC_CLEAR}.json", "good.json"), "a\\x1b[2J.json", "no such file"),
    Bad(("compare", "good.json", "b\n.json"), "b\\n.json", "no such file"),
    Bad(("watch", "--once", f"log{ESC_CLEAR}.jsonl"), "log\\x1b[2J.jsonl", ""),
]
VALID: list[Valid] = [
    Valid(("run", "--device", "default.qubit\n"),
          "a list item is trimmed of surrounding white space, a trailing newline included: "
          "nothing of it reaches a run",
          lambda specs, tmp: [s.device for s in specs] == ["default.qubit"]),
]
