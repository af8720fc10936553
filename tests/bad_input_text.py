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
    # --slurm-setup, --account, --qos, --slurm-flag (issue 22): a setup line is shell
    # (run before the job's python), the rest become #SBATCH lines
    Bad((*SLURM, "--slurm-setup", ""), "slurm-setup", "empty line"),
    Bad((*SLURM, "--slurm-setup", "  "), "slurm-setup", "empty line"),
    Bad((*SLURM, "--slurm-setup", "module load a\ntouch PWNED"), "slurm-setup", CONTROL),
    Bad((*SLURM, "--slurm-setup", "module load a", "--slurm-setup", f"echo {ESC_TITLE}"),
        "slurm-setup", CONTROL),
    Bad(("sweep", "--executor", "slurm", "--slurm-setup", "echo a\rb"), "slurm-setup", CONTROL),
    Bad((*SLURM, "--account", ""), "account", "letters, digits"),
    Bad((*SLURM, "--account", "a b"), "account", "letters, digits"),
    Bad((*SLURM, "--account", "proj;touch PWNED"), "account", "letters, digits"),
    Bad((*SLURM, "--account", "proj\n#SBATCH --time=9999"), "account", CONTROL),
    Bad((*SLURM, "--qos", "a,b"), "qos", "letters, digits"),
    Bad((*SLURM, "--qos", f"high{ESC_CLEAR}"), "qos", CONTROL),
    Bad((*SLURM, "--slurm-extra", "qos=a b"), "slurm-extra", "letters, digits"),
    Bad((*SLURM, "--account", "a", "--slurm-extra", "account=b"), "slurm-extra", "given twice"),
    Bad((*SLURM, "--slurm-flag", ""), "slurm-flag", "sbatch option name"),
    Bad((*SLURM, "--slurm-flag", "No-Requeue"), "slurm-flag", "sbatch option name"),
    Bad((*SLURM, "--slurm-flag", "hold=1"), "slurm-flag", "sbatch option name"),
    Bad((*SLURM, "--slurm-flag", "exclusive"), "slurm-flag", "qtui's own flag"),
    Bad((*SLURM, "--slurm-flag", "array"), "slurm-flag", "qtui's own flag"),
    Bad((*SLURM, "--slurm-flag", "job_name"), "slurm-flag", "qtui's own flag"),
    Bad((*SLURM, "--slurm-flag", "account"), "slurm-flag", "takes a value"),
    Bad((*SLURM, "--slurm-extra", "requeue=1", "--slurm-flag", "requeue"), "slurm-flag", "given twice"),
    Bad((*SLURM, "--slurm-flag", "no-requeue\n"), "slurm-flag", CONTROL),
    Bad((*SLURM, "--slurm-flag", f"hold{ESC_TITLE}"), "slurm-flag", CONTROL),
    Bad(("run", "--slurm-setup", "module load a"), "slurm-setup", "needs --executor slurm"),
    Bad(("sweep", "--account", "a"), "account", "needs --executor slurm"),
    Bad(("run", "--qos", "q"), "qos", "needs --executor slurm"),
    Bad(("sweep", "--slurm-flag", "hold"), "slurm-flag", "needs --executor slurm"),
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
