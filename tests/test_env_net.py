"""tfnotes.env (one parser for every switch) and tfnotes.net (one proxy-aware, fail-fast probe); no
import circle."""

import ast
import base64
import pathlib
import re
import socket
import threading
import time

import pytest

from tfnotes import env, net

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROXY_VARS = (
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "all_proxy",
    "ALL_PROXY",
)


# --------------------------------------------------------------------------- env


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1", True),
        ("true", True),
        ("True", True),
        (" YES ", True),
        ("on", True),
        ("0", False),
        ("", False),
        ("false", False),
        ("No", False),
        ("off", False),
    ],
)
def test_flag_values(monkeypatch, raw, expected):
    monkeypatch.setenv("TFNOTES_FULL", raw)
    assert env.flag("TFNOTES_FULL") is expected
    assert env.full_run() is expected


def test_flag_unset_and_typo(monkeypatch):
    monkeypatch.delenv("TFNOTES_OFFLINE", raising=False)
    assert (
        env.flag("TFNOTES_OFFLINE") is False and env.flag("TFNOTES_OFFLINE", default=True) is True
    )
    monkeypatch.setenv("TFNOTES_OFFLINE", "ture")
    with pytest.raises(ValueError, match="TFNOTES_OFFLINE='ture'"):
        env.offline()


def test_numbers(monkeypatch):
    monkeypatch.setenv("TFNOTES_NET_TIMEOUT", "0.5")
    assert env.net_timeout() == 0.5
    for bad in ("0", "-1", "soon"):
        monkeypatch.setenv("TFNOTES_NET_TIMEOUT", bad)
        with pytest.raises(ValueError, match="TFNOTES_NET_TIMEOUT"):
            env.net_timeout()
    monkeypatch.setenv("TFNOTES_SEED", "x")
    with pytest.raises(ValueError, match="TFNOTES_SEED"):
        env.integer("TFNOTES_SEED", 42)


def test_legacy_keras_reads_like_tensorflow(monkeypatch):
    # TensorFlow 2.20 accepts exactly "true", "True" and "1" (tensorflow/__init__.py)
    for raw, expected in (
        ("1", True),
        ("True", True),
        ("true", True),
        ("yes", False),
        ("TRUE", False),
    ):
        monkeypatch.setenv("TF_USE_LEGACY_KERAS", raw)
        assert env.legacy_keras() is expected, raw


def test_every_variable_is_registered_and_documented():
    """Each TFNOTES_* name used in code, scripts or notebooks is in env.VARIABLES and in README's
    table."""
    used = set()
    for pattern in ("tfnotes/*.py", "benchmarks/*.py", "course.sh", "*/*.ipynb"):
        for path in ROOT.glob(pattern):
            used |= set(re.findall(r"TFNOTES_[A-Z_]+[A-Z]", path.read_text(encoding="utf-8")))
    assert used <= set(env.VARIABLES), (
        f"not in tfnotes.env.VARIABLES: {sorted(used - set(env.VARIABLES))}"
    )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(TFNOTES_[A-Z_]+)` \|", readme, re.M))
    assert rows == set(env.VARIABLES), (
        f"README variable table differs: {sorted(rows ^ set(env.VARIABLES))}"
    )


# --------------------------------------------------------------------------- no import circle


def _module_imports(path: pathlib.Path, modules: set) -> set:
    """tfnotes modules that ``path`` imports anywhere (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 or (node.module or "").startswith("tfnotes"):
                base = (node.module or "").removeprefix("tfnotes").lstrip(".")
                if base:
                    found.add(base.split(".")[0])
                else:  # from . import a, b: modules or names of the package itself
                    found |= {a.name if a.name in modules else "__init__" for a in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tfnotes."):
                    found.add(alias.name.split(".")[1])
                elif alias.name == "tfnotes":
                    found.add("__init__")
    return found - {path.stem}


def test_no_import_circle():
    files = {p.stem: p for p in (ROOT / "tfnotes").glob("*.py")}
    graph = {name: _module_imports(path, set(files)) for name, path in files.items()}
    assert graph["net"] <= {"env"} and graph["env"] == set()

    def visit(node, stack):
        for nxt in sorted(graph.get(node, ())):
            assert nxt not in stack, "import circle: " + " → ".join(
                stack[stack.index(nxt) :] + [nxt]
            )
            visit(nxt, stack + [nxt])

    for name in graph:
        visit(name, [name])


# --------------------------------------------------------------------------- proxy-aware probe


@pytest.fixture
def no_proxy_env(monkeypatch):
    for name in PROXY_VARS + ("TFNOTES_OFFLINE",):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


class _Proxy:
    """A tiny HTTP proxy on 127.0.0.1: records each request head; answers ``status`` (or nothing:
    black hole)."""

    def __init__(self, status: int | None):
        self.status, self.requests = status, []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            self.requests.append(data.decode())
            if self.status is None:
                self.held.append(conn)  # black hole: never answer, never close
                continue
            conn.sendall(f"HTTP/1.1 {self.status} X\r\n\r\n".encode())
            conn.close()

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def proxy_factory():
    made = []

    def make(status):
        made.append(_Proxy(status))
        return made[-1]

    yield make
    for proxy in made:
        proxy.close()


def test_probe_goes_through_https_proxy(no_proxy_env, proxy_factory):
    proxy = proxy_factory(200)
    no_proxy_env.setenv("HTTPS_PROXY", f"http://user:p%40ss@127.0.0.1:{proxy.port}")
    route = net.route("https://tfhub.dev/google/x")
    assert route.proxy and route.describe() == f"tfhub.dev via proxy 127.0.0.1:{proxy.port}"
    assert net.can_reach("https://tfhub.dev/google/x", timeout=3) is True
    head = proxy.requests[0]
    assert head.startswith("CONNECT tfhub.dev:443 HTTP/1.1\r\n")
    assert f"Proxy-Authorization: Basic {base64.b64encode(b'user:p@ss').decode()}" in head


def test_proxy_that_cannot_reach_the_host_means_unreachable(no_proxy_env, proxy_factory):
    proxy = proxy_factory(502)
    # scheme-less, lower case: as urllib accepts
    no_proxy_env.setenv("https_proxy", f"127.0.0.1:{proxy.port}")
    assert net.can_reach("https://storage.googleapis.com/", timeout=3) is False
    assert proxy.requests and proxy.requests[0].startswith("CONNECT storage.googleapis.com:443 ")


def test_plain_http_through_proxy(no_proxy_env, proxy_factory):
    ok, down = proxy_factory(404), proxy_factory(504)
    no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{ok.port}")
    # the proxy forwarded: any answer
    assert net.can_reach("http://example.invalid/file", timeout=3) is True
    assert ok.requests[0].startswith("HEAD http://example.invalid/file HTTP/1.1")
    no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{down.port}")
    assert net.can_reach("http://example.invalid/file", timeout=3) is False


def test_black_holed_proxy_costs_at_most_the_timeout(no_proxy_env, proxy_factory):
    proxy = proxy_factory(None)
    no_proxy_env.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
    start = time.perf_counter()
    assert net.can_reach("https://tfhub.dev/", timeout=1.0) is False
    assert time.perf_counter() - start < 1.5
    assert proxy.requests  # it was asked, it never answered


def test_no_proxy_bypasses_the_proxy(no_proxy_env, proxy_factory):
    proxy = proxy_factory(200)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        no_proxy_env.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        no_proxy_env.setenv("NO_PROXY", "127.0.0.1,localhost")
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/"
        assert net.route(url).proxy is None
        assert net.can_reach(url, timeout=2) is True  # direct connection to the local listener
        assert proxy.requests == []
    finally:
        listener.close()


def test_offline_switch_skips_the_probe(no_proxy_env, proxy_factory):
    proxy = proxy_factory(200)
    no_proxy_env.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
    no_proxy_env.setenv("TFNOTES_OFFLINE", "true")
    assert net.can_reach("https://tfhub.dev/", timeout=3) is False
    assert proxy.requests == []


def test_loaders_bert_and_prefetch_share_the_probe():
    from tfnotes import bert, data, prefetch

    assert (
        data.can_reach is net.can_reach and bert.can_reach is net.can_reach and prefetch.net is net
    )
