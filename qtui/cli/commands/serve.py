"""``qtui serve``: the qtui TUI in a web browser, through textual-serve.

For users who can forward a port but have no good terminal.  Each browser
tab gets its own ``qtui`` process.  Binds to 127.0.0.1 by default: the TUI
starts processes on this machine, so serving it on other interfaces
(``--host 0.0.0.0``) is refused unless ``--public`` says that is intended.
Arguments after ``--`` are passed to the served qtui, e.g.
``qtui serve -- watch run.jsonl``.

A secret token guards it: every start makes a new one (or takes ``--token``,
or the ``QTUI_SERVE_TOKEN`` environment variable, which other users cannot
read in the process list the way they can read a command line) and prints
the URL that carries it.  Any request without the token, the page and its
websocket included, gets 403 Forbidden; once the page is open a cookie
carries the token for the page's own requests.  Anyone with the URL can
drive the TUI (start runs, read history): do not share it.

Over SSH, from your own machine:

    ssh -L 8000:127.0.0.1:8000 you@node     (then, on the node:)
    qtui serve --port 8000

and open the printed http://127.0.0.1:8000/?token=... URL in your browser.
Through another local port (ssh -L 9000:127.0.0.1:8000 ...), tell the page
where it is reached: qtui serve --public-url http://127.0.0.1:9000.  The served qtui is started with the
current directory off Python's module path, so files where you run it are
never imported in its place.

The served command is checked here before the server starts (``serve -- run
--epochs abc`` is refused in one line, as ``qtui run --epochs abc`` is), and
``--public-url`` must be an http:// or https:// URL.  The token never reaches a
log line: the request log prints ``<token>`` in its place.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import importlib
import io
import ipaddress
import logging
import os
import re
import secrets
import shlex
import socket
import sys
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from qtui.cli.commands.report import description
from qtui.cli.errors import fail
from qtui.core.config import ConfigError
from qtui.engine.pycmd import python_command

#: Environment variable that sets the token (not visible in ``ps`` like --token is).
TOKEN_ENV = "QTUI_SERVE_TOKEN"
#: Cookie that carries the token for the page's own requests (static files, websocket).
COOKIE = "qtui_serve_token"
#: Shortest token accepted from --token or the environment.
MIN_TOKEN_CHARS = 16
_TOKEN_RE = re.compile(r"^[A-Za-z0-9._~-]+$")


#: What the request log shows where the token was.
REDACTED = "<token>"


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8, ::1, and an IPv4-mapped loopback (``::ffff:127.0.0.1``)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def parse_public_url(text: str) -> str:
    """``--public-url``: an http:// or https:// URL with a host (the page's own links and
    its websocket are made from it); ``ConfigError`` otherwise."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise ConfigError("public-url", "must be an http:// or https:// URL without spaces or "
                          f"control characters, got {text!r}")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigError("public-url", f"must be an http:// or https:// URL, got {text!r}")
    if not parts.hostname:
        raise ConfigError("public-url", f"needs a host (http://HOST:PORT), got {text!r}")
    return text


def check_served(qtui_args: list[str]) -> None:
    """The served qtui's own checks, run here before the server starts.

    The words are parsed by qtui's parser (a parse error is its one line and
    ``SystemExit(2)``), then the command's ``check(args)`` (run, sweep, exec: every
    check that needs no device probe) raises ``ConfigError``.  ``--help`` or
    ``--version`` in them is for the browser: nothing is printed here.
    """
    from qtui.cli.main import build_parser

    words = qtui_args[1:] if qtui_args[:1] == ["--"] else list(qtui_args)
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            args = build_parser().parse_args(words)
        except SystemExit as exc:
            if exc.code in (0, None):
                return
            raise
    command = getattr(args, "command", None)
    if command and not getattr(args, "broken_command", False):
        check = getattr(importlib.import_module(f"qtui.cli.commands.{command}"), "check", None)
        if check is not None:
            check(args)


class _Redact(logging.Formatter):
    """Every log line with the token, wherever it sits (the request line, a Referer, a
    traceback), written as ``<token>``."""

    def __init__(self, token: str) -> None:
        super().__init__("%(message)s")
        self.token = token

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace(self.token, REDACTED)


def log_handler(token: str) -> logging.Handler:
    """The server's log (aiohttp's request log, textual-serve's own): on stderr, redacted,
    without textual-serve's tracebacks with local variables (they would hold the token)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Redact(token))
    return handler


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
    p.add_argument(
        "--token",
        metavar="TOKEN",
        help=f"the secret the URL must carry (default: a new random one each start, or "
        f"${TOKEN_ENV}); at least {MIN_TOKEN_CHARS} characters of A-Z a-z 0-9 . _ ~ -.  "
        f"A command line is visible to other users in ps: prefer ${TOKEN_ENV}",
    )
    p.add_argument("qtui_args", nargs=argparse.REMAINDER, help="arguments for the served qtui")
    p.set_defaults(func=handler)


def served_command(qtui_args: list[str]) -> str:
    """The shell command textual-serve runs per browser tab: ``python -P -m qtui ...``
    (never a ``qtui/`` from the current directory; ``qtui.engine.pycmd``)."""
    extra = [a for a in qtui_args if a != "--"] if qtui_args[:1] == ["--"] else list(qtui_args)
    return shlex.join(python_command("qtui", *extra))


def pick_token(given: str | None) -> str:
    """--token, else $QTUI_SERVE_TOKEN, else a new one; ValueError for a weak or odd one."""
    token = given if given is not None else os.environ.get(TOKEN_ENV)
    if token is None:
        return secrets.token_urlsafe(24)
    source = "--token" if given is not None else TOKEN_ENV
    if len(token) < MIN_TOKEN_CHARS or not _TOKEN_RE.match(token):
        raise ValueError(
            f"{source} must be at least {MIN_TOKEN_CHARS} characters of A-Z a-z 0-9 . _ ~ - "
            f"(got {len(token)} characters)"
        )
    return token


def url_with_token(url: str, token: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({"token": token})) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, parts.fragment))


def make_server(command: str, host: str, port: int, public_url: str, token: str) -> Any:
    """A textual-serve ``Server`` that answers 403 to any request without ``token``.

    The token is accepted from the ``token`` query parameter (the printed URL)
    or from the cookie set when the page is served with it (its static files
    and websocket).  The websocket also needs a same-origin ``Origin`` when a
    browser sends one, so another site open in the same browser cannot use
    the cookie to drive the TUI.
    """
    from aiohttp import web
    from textual_serve.server import Server

    expected = token.encode()

    def allowed(request: web.Request) -> bool:
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(given.encode(), expected):
            return False
        origin = request.headers.get("Origin")
        return not (request.path == "/ws" and origin and urlsplit(origin).netloc != request.host)

    @web.middleware
    async def require_token(request: web.Request, handler: Any) -> web.StreamResponse:
        if not allowed(request):
            raise web.HTTPForbidden(
                text="qtui serve: open the URL that qtui serve printed (it carries the token)\n"
            )
        response: web.StreamResponse = await handler(request)
        if request.query.get("token") and not response.prepared:
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    class TokenServer(Server):  # type: ignore[misc]
        async def _make_app(self) -> web.Application:
            app: web.Application = await super()._make_app()
            app.middlewares.append(require_token)
            return app

        async def on_startup(self, app: web.Application) -> None:
            """Quiet: textual-serve would print the URL without its token."""

        def initialize_logging(self) -> None:
            """The request log, with the token redacted (``log_handler``)."""
            logging.basicConfig(
                level="DEBUG" if self.debug else "INFO", handlers=[log_handler(token)], force=True
            )

    return TokenServer(command, host=host, port=port, title="qtui", public_url=public_url)


def handler(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        return fail(f"--port must be between 1 and 65535, got {args.port}")
    if not is_loopback(args.host) and not args.public:
        return fail(
            f"refusing to serve on {args.host}: it is reachable from other machines and the "
            "TUI can start processes here; add --public if that is intended"
        )
    try:
        token = pick_token(args.token)
    except ValueError as exc:
        return fail(str(exc))
    try:
        if args.public_url is not None:
            parse_public_url(args.public_url)
        check_served(args.qtui_args or [])
    except ConfigError as exc:
        return fail(str(exc))
    except SystemExit as exc:  # the served words' parse error: its one line is said
        return exc.code if isinstance(exc.code, int) else 2
    os.environ.pop(TOKEN_ENV, None)  # the served qtui and its runs do not need it
    try:
        import textual_serve.server  # noqa: F401 - only: is it installed?
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
    server = make_server(command, args.host, args.port, url.rstrip("/"), token)
    print(f"qtui: serving the TUI at {url_with_token(url, token)} (Ctrl+C to stop)", flush=True)
    if not is_loopback(args.host):
        print("qtui: warning: --public: anyone who can reach this address can start runs",
              file=sys.stderr, flush=True)
    try:
        server.serve()
    except OSError as exc:
        return fail(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}")
    return 0
