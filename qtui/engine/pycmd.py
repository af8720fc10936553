"""How qtui starts a Python child: never with the current directory on ``sys.path``.

``python -m module`` puts the current directory first on ``sys.path``, so a
``sklearn.py`` or a ``qtui/`` folder wherever the user happens to stand would
be imported by the child instead of the installed package, and run with the
user's rights (issue 11, item 11).  Every child qtui starts (the run child, the
capability probe, the workload check, the app that ``qtui serve`` serves) is
built here:

* Python 3.11+: ``python -P -m module`` (``-P``: no unsafe path entry).  Not
  ``PYTHONSAFEPATH``: an environment variable would also change the Python
  subprocesses a workload starts on its own.
* Python 3.10: ``python -c <bootstrap> module ...``; the bootstrap drops the
  ``''`` entry that ``-c`` adds *before* it imports anything, then runs the
  module with ``runpy`` exactly as ``-m`` would.

``PYTHONPATH`` and site-packages are left as they are (``-I`` would drop them,
and with them editable installs and test setups).  The user's own workload
module is found through an explicit search path instead (``--workload-path``,
``qtui.engine.workload.load_builder``).
"""

from __future__ import annotations

import sys

#: Runs ``sys.argv[1]`` as ``__main__`` like ``-m`` does, without the cwd on sys.path.
BOOTSTRAP = (
    "import sys\n"
    "if sys.path and sys.path[0] in ('', '.'):\n"
    "    del sys.path[0]\n"
    "import runpy\n"
    "sys.argv[:] = sys.argv[1:]\n"
    "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
)


def python_command(module: str, *args: str, safe_path: bool | None = None) -> list[str]:
    """argv that runs ``python -m module args...`` with the current directory off ``sys.path``.

    ``safe_path`` forces one form (tests); by default ``-P`` where the
    interpreter has it (3.11+), the bootstrap otherwise.
    """
    if safe_path is None:
        safe_path = sys.version_info >= (3, 11)
    if safe_path:
        return [sys.executable, "-P", "-m", module, *args]
    return [sys.executable, "-c", BOOTSTRAP, module, *args]
