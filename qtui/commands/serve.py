"""``qtui serve``: the qtui TUI in a web browser, through textual-serve.

For users who can forward a port (``ssh -L 8000:127.0.0.1:8000 node``) but
have no good terminal.  Each browser tab gets its own ``qtui`` process.
Binds to 127.0.0.1 by default: the TUI starts processes on this machine, so
serving it on other interfaces (``--host 0.0.0.0``) is refused unless
``--public`` says that is intended.  Arguments after ``--`` are passed to the
served qtui, e.g. ``qtui serve -- watch run.jsonl``.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import socket
import sys
from typing import Any

from qtui.commands.report import description, fail


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the TUI in a browser (textual-serve), on 127.0.0.1 by default",
        description=description(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--public",
        action="store_true",
        help="allow a non-loopback --host (anyone who reaches it can start runs)",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL browsers use, when it differs (a proxy, a forwarded port)",
    )
    p.add_argument("qtui_args", nargs=argparse.REMAINDER, help="arguments for the served qtui")
    p.set_defaults(func=handler)


def served_command(qtui_args: list[str]) -> str:
    extra = [a for a in qtui_args if a != "--"] if qtui_args[:1] == ["--"] else list(qtui_args)
    return shlex.join([sys.executable, "-m", "qtui", *extra])


def handler(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        return fail(f"--port must be between 1 and 65535, got {args.port}")
    if not is_loopback(args.host) and not args.public:
        return fail(
            f"refusing to serve on {args.host}: it is reachable from other machines and the "
            "TUI can start processes here; add --public if that is intended"
        )
    try:
        from textual_serve.server import Server
    except ImportError:
        return fail("qtui serve needs textual-serve (pip install textual-serve)")
    # Fail early and clearly when the port is taken, rather than deep in aiohttp.
    try:
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((args.host.strip("[]"), args.port))
    except OSError as exc:
        return fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    host_for_url = args.host
    if not is_loopback(args.host) and args.host in ("0.0.0.0", "::"):
        host_for_url = socket.getfqdn()
    if ":" in host_for_url and not host_for_url.startswith("["):
        host_for_url = f"[{host_for_url}]"
    url = args.public_url or f"http://{host_for_url}:{args.port}"
    command = served_command(args.qtui_args or [])
    server = Server(command, host=args.host, port=args.port, title="qtui", public_url=url)
    print(f"qtui: serving the TUI at {url} (Ctrl+C to stop)", flush=True)
    if not is_loopback(args.host):
        print("qtui: warning: --public: anyone who can reach this address can start runs",
              file=sys.stderr, flush=True)
    try:
        server.serve()
    except OSError as exc:
        return fail(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}")
    return 0
