"""One reachability check for every download in the course: fail fast, through the user's proxy.

Used by :mod:`tfnotes.data` (before a Keras download), :mod:`tfnotes.bert` (tfhub.dev) and
:mod:`tfnotes.prefetch`. Imports only the standard library and :mod:`tfnotes.env`.

The probe goes where the real download would go. Keras' ``get_file``, TF Hub and TFDS download with
urllib, which takes its proxy from ``HTTPS_PROXY`` / ``HTTP_PROXY`` (either case) unless the host
matches ``NO_PROXY`` (``urllib.request.getproxies`` / ``proxy_bypass``). So: with no proxy, a TCP
connection to the host; through a proxy, a connection to the proxy and, for ``https`` URLs, an HTTP
``CONNECT host:port`` that the proxy must answer with 2xx (it does so only after reaching the host);
for ``http`` URLs a ``HEAD`` of the URL via the proxy, answered with any status but 502/503/504 (the
proxy's "could not reach it"). DNS look-up, connect and the proxy's answer all run in a daemon
thread, so a hanging resolver or a proxy that accepts and never answers costs at most ``timeout``
seconds.
"""

from __future__ import annotations

import base64
import socket
import threading
import urllib.parse
import urllib.request
from typing import NamedTuple

from . import env

#: Proxy answers meaning "I could not reach the host" (for a plain-HTTP probe through the proxy).
_GATEWAY_FAILURES = {502, 503, 504}


class Route(NamedTuple):
    """How a URL would be fetched: ``proxy`` is ``None`` for a direct connection."""

    url: str
    host: str
    port: int
    proxy: str | None

    def describe(self) -> str:
        """``"host"`` or ``"host via proxy proxyhost:port"`` for messages (no credentials)."""
        if self.proxy is None:
            return self.host
        parts = urllib.parse.urlsplit(self.proxy)
        return f"{self.host} via proxy {parts.hostname}:{parts.port or 80}"


def route(url: str) -> Route:
    """Return the :class:`Route` urllib would take for ``url`` (environment proxies and
    ``no_proxy``)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and urllib.request.proxy_bypass(host):
        proxy = None
    if proxy and "://" not in proxy:
        proxy = "http://" + proxy
    return Route(url, host, port, proxy or None)


def _status_line(sock: socket.socket) -> int:
    """Read the proxy's answer up to the end of its headers; return the HTTP status code (0 if
    malformed)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    first = data.split(b"\r\n", 1)[0].split()
    return (
        int(first[1])
        if len(first) >= 2 and first[0].startswith(b"HTTP/") and first[1].isdigit()
        else 0
    )


def _through_proxy(r: Route, timeout: float) -> bool:
    proxy = urllib.parse.urlsplit(r.proxy)
    headers = [f"Host: {r.host}:{r.port}"]
    if proxy.username:
        user = urllib.parse.unquote(proxy.username)
        password = urllib.parse.unquote(proxy.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers.append(f"Proxy-Authorization: Basic {token}")
    https = urllib.parse.urlsplit(r.url).scheme == "https"
    request = f"CONNECT {r.host}:{r.port} HTTP/1.1" if https else f"HEAD {r.url} HTTP/1.1"
    with socket.create_connection((proxy.hostname, proxy.port or 80), timeout=timeout) as sock:
        sock.sendall(("\r\n".join([request, *headers, "Connection: close"]) + "\r\n\r\n").encode())
        status = _status_line(sock)
    if https:
        return 200 <= status < 300
    return status != 0 and status not in _GATEWAY_FAILURES


def can_reach(url: str, timeout: float | None = None) -> bool:
    """Return True if ``url``'s host answers within ``timeout`` seconds, the way a download would
    reach it.

    Direct: a TCP connection to the host. Through the environment's proxy: see the module docstring.
    ``timeout`` defaults to ``$TFNOTES_NET_TIMEOUT`` (3 s); ``TFNOTES_OFFLINE=1`` → False without
    any probe. Never raises for network errors (they mean False) and never takes much longer than
    ``timeout``.
    """
    if env.offline():
        return False
    timeout = env.net_timeout() if timeout is None else timeout
    r = route(url)
    result = []

    def probe():
        try:
            if r.proxy is None:
                with socket.create_connection((r.host, r.port), timeout=timeout):
                    result.append(True)
            else:
                result.append(_through_proxy(r, timeout))
        except (OSError, ValueError):
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True, name=f"tfnotes-probe-{r.host}")
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])
