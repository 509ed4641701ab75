"""end-1: the base endpoint, and HTTP/1.0 keep-alive."""

import socket
import ssl

import pytest

from .client import RawReader


@pytest.mark.parametrize("path", ["/v2/", "/v2"])
def test_base_endpoint(reg, path):
    r = reg.get(path)
    assert r.status == 200, str(r)
    assert r.header("Docker-Distribution-Api-Version") == "registry/2.0", str(r)


def test_http10_keepalive(reg):
    """RFC 9112 §9.3: an HTTP/1.0 client keeps the connection only when the
    answer says "Connection: keep-alive"; otherwise it waits for the close
    (ab -k hung on berth, which kept the connection without saying so)."""
    s = reg.connect()
    reader = RawReader(s)
    got = []
    for method in ("GET", "HEAD"):
        s.sendall(f"{method} /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: Keep-Alive\r\n\r\n".encode())
        status, hdrs, _ = reader.answer(head_only=method == "HEAD")
        got.append(f"{status}/{hdrs.get('connection', 'none').lower()}")
    s.sendall(b"GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    status, hdrs, _ = reader.answer()
    got.append(f"{status}/{hdrs.get('connection', 'none').lower()}")
    try:
        got.append("eof" if s.recv(1) == b"" else "more")
    except (socket.timeout, TimeoutError):
        got.append("still-open")
    except (ssl.SSLError, OSError):
        got.append("eof")
    s.close()
    assert got == ["200/keep-alive", "200/keep-alive", "200/close", "eof"], (
        "HTTP/1.0 GET and HEAD with Connection: Keep-Alive, then a plain HTTP/1.0 GET, on one connection"
    )
