"""Shared fixtures: an isolated cache, a loopback Enrichr server, small synthetic libraries.

Nothing here touches the network or the user's cache: every test gets its own
``GSEA_PLUS_CACHE``, and downloads go to a real HTTP server on 127.0.0.1 that serves
the GMT files of ``../shared/data/benchmark`` under Enrichr's URL layout.
"""

from __future__ import annotations

import contextlib
import http.server
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

#: The shared reference data beside the repository (never copied into it).
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BENCHMARK = SHARED / "benchmark"

HAVE_SHARED = BENCHMARK.is_dir() and any(BENCHMARK.glob("*.gmt"))
#: Mark for tests that read ../shared/data: skipped with a reason when it is absent, and
#: selectable with ``-m shared_data`` / ``-m "not shared_data"``.
requires_shared = pytest.mark.shared_data


def pytest_collection_modifyitems(config, items):
    if HAVE_SHARED:
        return
    skip = pytest.mark.skip(
        reason=f"shared reference data not found at {BENCHMARK} "
        "(the 'shared' folder beside the repository)"
    )
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


def benchmark_gmts() -> list:
    """The benchmark GMT files, for parametrize (one skipped placeholder when absent)."""
    if HAVE_SHARED:
        return sorted(BENCHMARK.glob("*.gmt"))
    reason = f"shared reference data not found at {BENCHMARK}"
    return [pytest.param(None, id="no-shared-data", marks=pytest.mark.skip(reason=reason))]


#: The console script installed next to the interpreter that runs the tests.
GSEA_PLUS_EXE = Path(sys.executable).parent / "gsea-plus"

# A small library whose numbers are easy to check by hand.
#   universe (library genes) = G1..G12  -> N = 12 by default
TINY_SETS = {
    "T_alpha": ["G1", "G2", "G3", "G4"],
    "T_beta": ["G3", "G4", "G5", "G6", "G7", "G8"],
    "T_gamma": ["G9", "G10"],
    "T_delta": ["G11", "G12", "G1"],
    "T_big": [f"G{i}" for i in range(1, 11)],
}


def gmt_text(sets: dict[str, list[str]]) -> str:
    """GMT text for ``{term: genes}`` (empty description column)."""
    return "".join(f"{t}\t\t" + "\t".join(g) + "\n" for t, g in sets.items())


#: The name :func:`tiny_server` serves ``TINY_SETS`` under, and the bytes it serves.
TINY = "Tiny_Library_2024"
TINY_BODY = gmt_text(TINY_SETS).encode()


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    """A private cache per test, no offline default, fresh in-process memos and logging."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("GSEA_PLUS_CACHE", str(cache))
    monkeypatch.delenv("GSEA_PLUS_OFFLINE", raising=False)
    monkeypatch.delenv("GSEA_PLUS_MAX_DOWNLOAD_BYTES", raising=False)
    monkeypatch.delenv("GSEA_PLUS_TIMEOUT", raising=False)
    monkeypatch.delenv("GSEA_PLUS_DEADLINE", raising=False)
    monkeypatch.delenv("GSEA_PLUS_MAX_INFLATE_BYTES", raising=False)
    # Anything that would reach the real Enrichr goes to a closed loopback port instead.
    monkeypatch.setenv("GSEA_PLUS_ENRICHR_URL", "http://127.0.0.1:9/Enrichr")
    monkeypatch.setenv("GSEA_PLUS_HUB_URL", "http://127.0.0.1:9")
    import gsea_plus.library as library
    import gsea_plus.library.download as download

    monkeypatch.setattr(download, "BACKOFF", 0.0)
    library._MEMO.clear()
    yield cache
    library._MEMO.clear()
    # The CLI configures the gsea_plus logger (own handler, no propagation); undo it so
    # caplog sees records in later tests.
    logger = logging.getLogger("gsea_plus")
    for h in list(logger.handlers):
        logger.removeHandler(h)
    logger.propagate = True
    logger.setLevel(logging.NOTSET)


@pytest.fixture
def cache_root() -> Path:
    """The per-test cache directory (``GSEA_PLUS_CACHE``)."""
    return Path(os.environ["GSEA_PLUS_CACHE"])


def cache_files(root: Path) -> list[str]:
    """Every regular file under the cache (relative paths), hidden .part files included."""
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def tiny_gmt(tmp_path) -> Path:
    """The :data:`TINY_SETS` library as a GMT file."""
    path = tmp_path / "tiny.gmt"
    path.write_text(gmt_text(TINY_SETS))
    return path


# --------------------------------------------------------------------------- loopback Enrichr


class DripLog:
    """How far each dripped answer got: a test waits for it instead of timing the client.

    A client that gives up at its deadline shuts its socket, and the server's next write
    fails; the drip then ends before its last byte. ``wait()`` returns ``(sent, total)``
    of the first drip that ended (or None after ``timeout`` seconds).
    """

    def __init__(self) -> None:
        self.ended: list[tuple[int, int]] = []
        self._done = threading.Event()

    def run(self, write, data: bytes, pause: float) -> None:
        sent = 0
        try:
            for i in range(len(data)):
                write(data[i : i + 1])
                sent = i + 1
                time.sleep(pause)
        finally:
            self.ended.append((sent, len(data)))
            self._done.set()

    def wait(self, timeout: float = 60.0) -> tuple[int, int] | None:
        return self.ended[0] if self._done.wait(timeout) else None


def _write_flush(wfile):
    def write(chunk: bytes) -> None:
        wfile.write(chunk)
        wfile.flush()

    return write


class FakeEnrichr:
    """State of the loopback server: what it serves, which faults it plays, what it saw.

    ``faults[name]`` is a list of modes used one per request (the last one sticks), e.g.
    ``["500", "ok"]`` fails once then succeeds, ``["500"]`` always fails.

    Modes: ``ok``, ``500``, ``404``, ``truncated`` (Content-Length larger than the body,
    then close), ``stall`` (sleep before answering), ``stall_body`` (headers and half the
    body, then sleep), ``html`` (a non-GMT page), ``empty`` (200 with no body),
    ``chunked`` (no Content-Length), ``gzip`` (``Content-Encoding: gzip``).

    Integrity modes: ``drip`` (Content-Length, then one byte every ``drip_s`` seconds),
    ``drip_headers`` (the status line and headers themselves dripped), ``cut_nolength``
    (no Content-Length, the body cut mid-row, then the connection closed),
    ``cut_nolength_gzip`` (the same with a gzip body), ``html_tabs`` (an HTML page holding
    tab-separated rows, served as text/plain), ``html_type`` (the real body but
    ``Content-Type: text/html``), ``json`` (a JSON error document as text/plain),
    ``raw_gzip`` (the body gzip-compressed without Content-Encoding, as a file server
    would send a .gmt.gz).
    """

    def __init__(self, root: Path | None):
        self.root = root
        self.extra: dict[str, bytes] = {}
        self.faults: dict[str, list[str]] = {}
        self.requests: list[str] = []
        self.stall_s = 2.0
        self.drip_s = 0.05
        self.url = ""
        self._lock = threading.Lock()
        self.drips = DripLog()

    def body(self, name: str) -> bytes | None:
        if name in self.extra:
            return self.extra[name]
        if self.root is not None:
            path = self.root / f"{name}.gmt"
            if path.is_file():
                return path.read_bytes()
        return None

    def next_mode(self, name: str) -> str:
        with self._lock:
            modes = self.faults.get(name)
            if not modes:
                return "ok"
            return modes.pop(0) if len(modes) > 1 else modes[0]

    def count(self, name: str | None = None) -> int:
        """Requests seen (for one library name, or all)."""
        if name is None:
            return len(self.requests)
        return sum(1 for r in self.requests if f"libraryName={name}" in r)


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "FakeEnrichr/1"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):  # noqa: N802
        state: FakeEnrichr = self.server.state  # type: ignore[attr-defined]
        state.requests.append(self.path)
        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path != "/Enrichr/geneSetLibrary" or query.get("mode") != ["text"]:
            return self._send(400, b"bad request")
        name = query.get("libraryName", [""])[0]
        mode = state.next_mode(name)
        body = state.body(name)
        try:
            if mode == "500":
                return self._send(500, b"internal error")
            if mode == "404" or body is None:
                return self._send(404, b"not found")
            if mode == "stall":
                time.sleep(state.stall_s)
                return self._send(200, body)
            if mode == "stall_body":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                time.sleep(state.stall_s)
                self.wfile.write(body[len(body) // 2 :])
                return None
            if mode == "truncated":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + 1000))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return None
            if mode == "html":
                return self._send(200, b"<html><body><h1>Maintenance</h1></body></html>\n")
            if mode == "empty":
                return self._send(200, b"")
            if mode == "gzip":  # compressed on the wire, Content-Length of the gzip bytes
                import gzip

                packed = gzip.compress(body)
                self.send_response(200)
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(packed)))
                self.end_headers()
                self.wfile.write(packed)
                return None
            if mode == "drip":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.flush()
                # ends when the body does or the client leaves
                state.drips.run(_write_flush(self.wfile), body, state.drip_s)
                return None
            if mode == "drip_headers":
                head = (
                    f"HTTP/1.0 200 OK\r\nContent-Length: {len(body)}\r\n"
                    "X-Padding: " + "x" * 400 + "\r\n\r\n"
                ).encode()
                state.drips.run(_write_flush(self.wfile), head, state.drip_s)
                self.wfile.write(body)
                return None
            if mode in ("cut_nolength", "cut_nolength_gzip"):
                import gzip

                cut = body[: len(body) // 2]
                assert not cut.endswith(b"\n"), "pick a body whose middle is inside a row"
                if mode == "cut_nolength_gzip":
                    packed = gzip.compress(body)
                    cut = packed[: len(packed) - 12]
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(cut)
                self.wfile.flush()
                self.close_connection = True
                return None
            if mode == "html_tabs":
                page = (
                    b"<!DOCTYPE html>\n<html><head><title>Enrichr</title></head><body>\n<pre>\n"
                    + body
                    + b"</pre>\n</body></html>\n"
                )
                return self._send(200, page)
            if mode == "html_type":
                return self._send(200, body, content_type="text/html; charset=utf-8")
            if mode == "json":
                return self._send(200, b'{"error": "library not found", "status": 500}\n')
            if mode == "raw_gzip":
                import gzip

                return self._send(200, gzip.compress(body), content_type="application/gzip")
            if mode == "chunked":
                self.send_response(200)
                self.end_headers()  # HTTP/1.0, no length: body ends when the socket closes
                self.wfile.write(body)
                return None
            return self._send(200, body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeouts)
            return None

    def _send(self, code: int, body: bytes, content_type: str = "text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # client disconnects are expected
        pass


@contextlib.contextmanager
def loopback(state, handler, monkeypatch, env: str, suffix: str = ""):
    """Serve ``handler`` (with ``server.state = state``) on 127.0.0.1, port 0, in a thread.

    ``state.url`` is set to the server's URL (plus ``suffix``) and exported as ``env``.
    """
    server = _Server(("127.0.0.1", 0), handler)
    server.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{suffix}"
    monkeypatch.setenv(env, state.url)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def enrichr(monkeypatch):
    """A real HTTP server on 127.0.0.1 (port 0) speaking Enrichr's text endpoint."""
    state = FakeEnrichr(BENCHMARK if BENCHMARK.is_dir() else None)
    with loopback(state, _Handler, monkeypatch, "GSEA_PLUS_ENRICHR_URL", "/Enrichr"):
        yield state


@pytest.fixture
def tiny_server(enrichr):
    """The loopback Enrichr serving ``TINY_SETS`` as library ``TINY``."""
    enrichr.extra[TINY] = TINY_BODY
    return enrichr


class FakeHub:
    """A loopback model hub: ``files[path]`` served at ``/{path}``, with fault modes.

    ``faults[path]`` is a list of modes used one per request (the last one sticks):
    ``ok``, ``500``, ``404``, ``html`` (a 200 login page as text/html), ``html_plain``
    (the same page without the HTML content type), ``stall`` (sleep ``stall_s`` before
    answering), ``drip`` (one byte every ``drip_s`` seconds), ``slow`` (``ok``, but
    after ``stall_s`` seconds: for concurrent downloads that overlap).
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.faults: dict[str, list[str]] = {}
        self.requests: list[str] = []
        self.stall_s = 2.0
        self.drip_s = 0.05
        self.url = ""
        self._lock = threading.Lock()
        self.drips = DripLog()

    def next_mode(self, path: str) -> str:
        with self._lock:
            self.requests.append(path)
            modes = self.faults.get(path)
            if not modes:
                return "ok"
            return modes.pop(0) if len(modes) > 1 else modes[0]

    def count(self, path: str) -> int:
        """Requests seen for one path."""
        return sum(1 for r in self.requests if r == path)

    def publish(self, repo_id: str, directory: Path) -> None:
        """Serve the files of a checkpoint directory as ``repo_id`` on this hub."""
        for f in directory.iterdir():
            self.files[f"{repo_id}/resolve/main/{f.name}"] = f.read_bytes()


_LOGIN_PAGE = b"<!DOCTYPE html>\n<html><body>Please log in</body></html>\n"


class _HubHandler(http.server.BaseHTTPRequestHandler):
    server_version = "FakeHub/1"

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        hub: FakeHub = self.server.state  # type: ignore[attr-defined]
        path = urlparse(self.path).path.lstrip("/")
        mode = hub.next_mode(path)
        body = hub.files.get(path)
        try:
            if mode == "500":
                return self._send(500, b"internal error")
            if mode == "html":
                return self._send(200, _LOGIN_PAGE, "text/html; charset=utf-8")
            if mode == "html_plain":
                return self._send(200, _LOGIN_PAGE, "application/octet-stream")
            if mode == "404" or body is None:
                return self._send(404, b"not found")
            if mode in ("stall", "slow"):
                time.sleep(hub.stall_s)
                return self._send(200, body)
            if mode == "drip":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                hub.drips.run(_write_flush(self.wfile), body, hub.drip_s)
                return None
            return self._send(200, body)
        except (BrokenPipeError, ConnectionResetError):
            return None

    def _send(self, code: int, body: bytes, content_type: str = "application/octet-stream"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def fake_hub(monkeypatch):
    """A loopback model hub (``GSEA_PLUS_HUB_URL`` points at it)."""
    state = FakeHub()
    with loopback(state, _HubHandler, monkeypatch, "GSEA_PLUS_HUB_URL"):
        yield state


@pytest.fixture
def closed_port() -> str:
    """An Enrichr base URL on a loopback port nobody listens on."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/Enrichr"


# --------------------------------------------------------------------------- running the CLI


@pytest.fixture
def run_cli(monkeypatch, capsysbinary):
    """Run ``gsea-plus ARGS`` in-process through ``run_app`` (the console script's wrapper).

    Returns ``(exit code, stdout bytes, stderr text)``.
    """
    from gsea_plus.cli import app
    from gsea_plus.cli.common import run_app

    def run(*args: str, stdin: bytes | None = None):
        monkeypatch.setattr(sys, "argv", ["gsea-plus", *map(str, args)])
        if stdin is not None:
            import io

            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = run_app(app)
        out, err = capsysbinary.readouterr()
        return code, out, err.decode()

    return run


def run_exe(*args, stdin=None, env=None, cwd=None, stdout=None, timeout=180):
    """Run the installed console script: ``(exit code, stdout bytes, stderr text)``.

    ``stdout`` redirects the child's stdout (a file, a device) instead of capturing it.
    """
    proc = subprocess.run(
        [str(GSEA_PLUS_EXE), *map(str, args)],
        input=stdin,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        env=env or subprocess_env(),
        cwd=cwd,
        timeout=timeout,
    )
    return proc.returncode, proc.stdout, proc.stderr.decode()


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess run of the console script."""
    env = dict(os.environ)
    env.update(extra)
    env.pop("COLUMNS", None)
    env["PYTHONWARNINGS"] = "error"
    return env


def assert_one_error_line(code: int, err: str, *needles: str) -> None:
    """The error contract: non-zero exit, one ``gsea-plus: error:`` line, no traceback."""
    assert code != 0, err
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("gsea-plus: error:")]
    assert len(errors) == 1, err
    for needle in needles:
        assert needle.lower() in errors[0].lower(), errors[0]


def report_table(text: str, table_id: str = "results-table") -> dict:
    """The rows an HTML report's table embeds, decoded as the page's script decodes them.

    Returns ``rows``, ``specs`` (the columns as the page shows them), ``columns`` (name ->
    values, dictionary-encoded text expanded) and ``flags`` (``sig``, ``rep``).
    """
    import base64
    import gzip
    import json
    import re

    block = text[text.index(f'id="{table_id}"') :]
    m = re.search(
        r'<script type="application/json" class="table-data" '
        r'data-encoding="([^"]+)">(.*?)</script>',
        block,
        re.S,
    )
    assert m, f"no data for {table_id}"
    raw = m.group(2)
    if m.group(1) == "gzip-base64":
        raw = gzip.decompress(base64.b64decode(raw)).decode("utf-8")
    data = json.loads(raw)
    columns = {}
    for spec in data["columns"]:
        values = data["values"].get(spec["name"])
        if isinstance(values, dict):
            values = [values["dict"][c] for c in values["codes"]]
        columns[spec["name"]] = values
    return {
        "rows": data["rows"],
        "specs": data["columns"],
        "columns": columns,
        "flags": data["flags"],
    }
