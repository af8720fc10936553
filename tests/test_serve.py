"""``qtui serve`` needs its token, and never imports a ``qtui/`` from where it runs
(issue 11, items 11 and 12; issue 10, item 3).  A real served instance on a free
loopback port, real HTTP and websocket requests (aiohttp, textual-serve's own).
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from engine_helpers import child_env, stop_server
from test_faults import plant

from qtui.cli.commands.serve import COOKIE, pick_token, url_with_token
from qtui.engine.pycmd import python_command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"nothing listens on {port}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, str, Path]]:
    """``qtui serve`` (no --token) started from a folder with a planted ``qtui/``;
    yields the port, the printed token and the planted modules' record."""
    ran = plant(tmp_path)
    port = _free_port()
    env = child_env()
    env.pop("QTUI_SERVE_TOKEN", None)
    server = subprocess.Popen(
        python_command("qtui", "serve", "--port", str(port)),  # the console script's sys.path
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline().strip()
        m = re.fullmatch(
            rf"qtui: serving the TUI at http://127\.0\.0\.1:{port}/\?token=([\w-]+) \(Ctrl\+C to stop\)",
            first,
        )
        assert m, (first, server.stderr.read() if server.poll() is not None else "")
        _wait_listening(port)
        yield port, m.group(1), ran
    finally:
        stop_server(server)


async def _status(session: aiohttp.ClientSession, url: str, **kw: object) -> int:
    async with session.get(url, allow_redirects=False, **kw) as resp:  # type: ignore[arg-type]
        await resp.read()
        return resp.status


async def _ws_status(session: aiohttp.ClientSession, url: str, **kw: object) -> int:
    try:
        async with session.ws_connect(url, **kw):  # type: ignore[arg-type]
            return 101
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status


def test_without_the_token_every_request_is_403(served: tuple[int, str, Path]) -> None:
    port, token, ran = served
    base = f"http://127.0.0.1:{port}"
    ws = f"ws://127.0.0.1:{port}/ws?width=80&height=24"

    async def check() -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as anon:
            assert await _status(anon, f"{base}/") == 403
            assert await _status(anon, f"{base}/?token=wrong{token}") == 403
            assert await _status(anon, f"{base}/static/js/textual.js") == 403
            assert await _status(anon, f"{base}/download/x") == 403
            assert await _ws_status(anon, ws) == 403
            assert await _ws_status(anon, f"{ws}&token=nope") == 403
            assert not anon.cookie_jar.filter_cookies(base)  # nothing granted

    asyncio.run(check())
    assert not ran.exists()


def test_with_the_token_the_page_and_the_app_work(served: tuple[int, str, Path]) -> None:
    """The printed URL gives 200 and a cookie; with it the page's files and its websocket
    work, the served qtui starts and sends its screen, and nothing planted ran."""
    port, token, ran = served
    base = f"http://127.0.0.1:{port}"

    async def check() -> bytes:
        # unsafe=True: accept cookies from an IP address, as browsers do
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
            async with s.get(f"{base}/?token={token}") as resp:
                assert resp.status == 200
                assert resp.cookies[COOKIE]["httponly"] and resp.cookies[COOKIE]["samesite"] == "Strict"
                body = await resp.text()
            assert f"ws://127.0.0.1:{port}/ws" in body
            assert await _status(s, f"{base}/static/js/textual.js") == 200  # by the cookie
            # another site's page in the same browser: the cookie goes, Origin gives it away
            assert await _ws_status(
                s, f"ws://127.0.0.1:{port}/ws", headers={"Origin": "http://evil.example"}
            ) == 403
            received = b""
            async with s.ws_connect(
                f"ws://127.0.0.1:{port}/ws?width=100&height=30",
                headers={"Origin": base},
            ) as ws:
                deadline = time.monotonic() + 60
                while len(received) < 2000 and time.monotonic() < deadline:
                    try:
                        msg = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
                    except asyncio.TimeoutError:
                        break
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        received += msg.data
                    elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                        break
            return received

    received = asyncio.run(check())
    assert not ran.exists(), ran.read_text()  # the served qtui is the installed one
    assert len(received) >= 2000, received[:500]  # it drew its screen (it did not crash)


def test_token_rules() -> None:
    assert len(pick_token(None)) >= 32 and pick_token(None) != pick_token(None)
    assert pick_token("x" * 16) == "x" * 16
    for bad in ("short", "has space in it 123", "é" * 20):
        with pytest.raises(ValueError):
            pick_token(bad)
    assert url_with_token("http://h:1", "T" * 16) == "http://h:1/?token=" + "T" * 16
    assert url_with_token("https://p/x/?a=1", "T" * 16) == "https://p/x/?a=1&token=" + "T" * 16


def test_a_weak_token_is_one_line_and_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "qtui", "serve", "--token", "abc", "--port", str(_free_port())],
        capture_output=True, text=True, env=child_env(), timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "qtui: error: --token must be at least 16 characters of A-Z a-z 0-9 . _ ~ - (got 3 characters)"
    ]


def test_a_given_token_is_used(tmp_path: Path) -> None:
    port, token = _free_port(), "my-own-secret-token-42"
    server = subprocess.Popen(
        python_command("qtui", "serve", "--port", str(port)),
        env={**child_env(), "QTUI_SERVE_TOKEN": token},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == (
            f"qtui: serving the TUI at http://127.0.0.1:{port}/?token={token} (Ctrl+C to stop)"
        )
        _wait_listening(port)

        async def check() -> tuple[int, int]:
            async with aiohttp.ClientSession() as s:
                return (
                    await _status(s, f"http://127.0.0.1:{port}/"),
                    await _status(s, f"http://127.0.0.1:{port}/?token={token}"),
                )

        assert asyncio.run(check()) == (403, 200)
    finally:
        stop_server(server)


# --- issue 21, item 8: no token in a log line, mapped loopback, --public-url, the served command


def test_the_token_never_reaches_a_log_line(tmp_path: Path) -> None:
    """The request log printed ``GET /?token=...`` for every request; now ``<token>``,
    in the request line and in a Referer alike, and the log is still there."""
    port, token = _free_port(), "log-secret-token-0123456789"
    server = subprocess.Popen(
        python_command("qtui", "serve", "--port", str(port)),
        env={**child_env(), "QTUI_SERVE_TOKEN": token}, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert token in first  # the URL to open is printed once, on purpose
        _wait_listening(port)

        async def requests() -> list[int]:
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
                return [
                    await _status(s, f"{base}/?token={token}"),
                    await _status(s, f"{base}/static/js/textual.js",
                                  headers={"Referer": f"{base}/?token={token}"}),
                    await _status(s, f"{base}/?token=x{token}x"),
                ]

        assert asyncio.run(requests()) == [200, 200, 403]
    finally:
        server.send_signal(signal.SIGINT)
        try:
            out, err = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            out, err = server.communicate()
    logged = out + err
    assert token not in logged, logged
    assert "GET /?token=<token> " in logged, logged  # the log is there, redacted
    assert "<token>" in "".join(line for line in logged.splitlines() if "textual.js" in line)


def test_an_ipv4_mapped_loopback_is_loopback() -> None:
    from qtui.cli.commands.serve import is_loopback

    for host in ("127.0.0.1", "::1", "[::1]", "localhost", "::ffff:127.0.0.1", "[::ffff:127.0.0.2]"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "::ffff:10.0.0.1", "10.0.0.1", "example.org", "::ffff:0.0.0.0"):
        assert not is_loopback(host), host


def test_serving_on_the_mapped_loopback_needs_no_public(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        python_command("qtui", "serve", "--host", "::ffff:127.0.0.1", "--port", str(port)),
        env=child_env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith(f"qtui: serving the TUI at http://[::ffff:127.0.0.1]:{port}/?token="), (
            first, server.stderr.read() if server.poll() is not None else "")
    finally:
        stop_server(server)


@pytest.mark.parametrize("argv", [
    ("--public-url", "javascript:alert(1)"),
    ("--", "run", "--epochs", "abc"),
])
def test_refused_before_anything_listens(argv: tuple[str, ...]) -> None:
    """A real ``qtui serve``: one line, exit 2, and the port was never bound."""
    port = _free_port()
    proc = subprocess.run(
        [*python_command("qtui", "serve", "--port", str(port)), *argv],
        capture_output=True, text=True, env=child_env(), timeout=60,
    )
    assert proc.returncode == 2, proc
    assert len(proc.stderr.splitlines()) == 1 and proc.stdout == "", proc
    assert proc.stderr.startswith(("qtui: error: public-url", "qtui: error: epochs")), proc.stderr


def test_a_served_help_is_the_browsers() -> None:
    """``serve -- run --help``: the served qtui shows its help in the page; nothing here."""
    from qtui.cli.commands.serve import check_served

    check_served(["--", "run", "--help"])
    check_served(["watch", "x.jsonl"])
    check_served([])
