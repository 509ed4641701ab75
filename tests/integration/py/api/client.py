"""HTTP client of the API suite: requests to the berth under test, answers
that print as the request, status, headers and the start of the body, so
that a failed assertion says what was sent and what came back.

Paths go on the wire exactly as written (curl --path-as-is): requests would
otherwise remove "../" and decode "%2e", and the name checks need both."""

import hashlib
import json
import os
import select
import socket
import ssl

import requests

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
ZERO_DIGEST = "sha256:" + "0" * 64
MD5_DIGEST = "md5:d41d8cd98f00b204e9800998ecf8427e"
OCTET = {"Content-Type": "application/octet-stream"}

# Request headers worth showing in a failure message.
_SHOWN = ("Content-Type", "Content-Range", "Range", "Accept", "Transfer-Encoding", "Expect")


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha512(data):
    return "sha512:" + hashlib.sha512(data).hexdigest()


class Answer:
    """One exchange. status is 0 when no answer arrived (curl's 000)."""

    def __init__(self, method, path, req_headers, sent, resp=None, failure=None):
        self.method, self.path = method, path
        self.req_headers, self.sent = req_headers, sent
        self.failure = failure
        self.status = resp.status_code if resp is not None else 0
        self.headers = resp.headers if resp is not None else requests.structures.CaseInsensitiveDict()
        self.body = resp.content if resp is not None else b""

    def header(self, name):
        """The header's value, "" when absent (as the shell suite's hdr)."""
        return self.headers.get(name, "")

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def error_code(self):
        """errors[0].code of the OCI error envelope, None without one."""
        doc = self.json()
        try:
            return doc["errors"][0]["code"]
        except (TypeError, KeyError, IndexError):
            return None

    @property
    def error(self):
        """(status, OCI error code): what expect_error compared."""
        return (self.status, self.error_code)

    def link_next(self):
        """The target of Link: <...>; rel="next", None without one."""
        link = self.header("Link")
        if link.startswith("<") and link.endswith('>; rel="next"'):
            return link[1 : -len('>; rel="next"')]
        return None

    def __str__(self):
        shown = ", ".join(f"{k}: {v}" for k, v in self.req_headers.items() if k in _SHOWN)
        first = f"{self.method} {self.path}"
        first += f" [{shown}]" if shown else ""
        if self.sent == "streamed":
            first += " with a streamed body (chunked)"
        elif self.sent:
            first += f" with {self.sent} bytes"
        lines = [first]
        if self.failure:
            lines.append(f"  -> no answer: {self.failure}")
            return "\n".join(lines)
        lines.append(f"  -> {self.status}")
        for k, v in self.headers.items():
            lines.append(f"     {k}: {v[:200]}")
        body = self.body[:300]
        more = f" ... ({len(self.body)} bytes)" if len(self.body) > 300 else ""
        lines.append(f"     body: {body!r}{more}")
        return "\n".join(lines)

    __repr__ = __str__


def _body_len(data):
    if data is None:
        return 0
    if isinstance(data, (bytes, str)):
        return len(data)
    return "streamed"


class Registry:
    """The berth (or HAProxy in front of berths) under test."""

    def __init__(self, base, cacert, nodes=1, target="one"):
        self.base, self.cacert, self.nodes, self.target = base, cacert, nodes, target
        self.port = int(base.rsplit(":", 1)[1])
        self.session = self.new_session()

    @classmethod
    def from_env(cls):
        return cls(
            os.environ["API_BASE"],
            os.environ["API_CACERT"],
            int(os.environ.get("API_NODES", "1")),
            os.environ.get("API_TARGET", "one"),
        )

    def new_session(self):
        s = requests.Session()
        s.verify = self.cacert
        return s

    def req(self, method, path, headers=None, data=None, session=None, timeout=20):
        """Sends METHOD BASE+PATH, PATH as written. Never raises for a
        refused or reset connection: that is Answer.status 0."""
        s = session or self.session
        headers = dict(headers or {})
        prep = s.prepare_request(requests.Request(method, self.base + path, headers=headers, data=data))
        prep.url = self.base + path
        try:
            resp = s.send(prep, timeout=timeout, allow_redirects=False)
        except requests.RequestException as e:
            return Answer(method, path, headers, _body_len(data), failure=f"{type(e).__name__}: {e}")
        return Answer(method, path, headers, _body_len(data), resp)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def head(self, path, **kw):
        return self.req("HEAD", path, **kw)

    def put(self, path, **kw):
        return self.req("PUT", path, **kw)

    def post(self, path, **kw):
        return self.req("POST", path, **kw)

    def patch(self, path, **kw):
        return self.req("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.req("DELETE", path, **kw)

    # -- steps that tests build on (each checks its own outcome) --

    def push_blob(self, repo, data):
        """Monolithic single-POST upload; returns the digest."""
        d = sha256(data)
        r = self.post(f"/v2/{repo}/blobs/uploads/?digest={d}", headers=OCTET, data=data)
        assert r.status == 201, f"push_blob {repo}\n{r}"
        return d

    def start_upload(self, repo):
        """POSTs a new session; returns (answer, its Location)."""
        r = self.post(f"/v2/{repo}/blobs/uploads/")
        return r, r.header("Location")

    def put_manifest(self, repo, ref, data, media_type, headers=None, session=None):
        h = {"Content-Type": media_type}
        h.update(headers or {})
        return self.put(f"/v2/{repo}/manifests/{ref}", headers=h, data=data, session=session)

    # -- raw TLS connections, for what an HTTP library hides --

    def connect(self, timeout=10):
        ctx = ssl.create_default_context(cafile=self.cacert)
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def send_watching(sock, head, body, piece=16384):
    """Sends HEAD then BODY, but stops sending as soon as an answer starts
    to arrive, as curl (and Go's client) do: a server may answer before it
    has read the body. Returns the RawReader to read that answer with."""
    reader = RawReader(sock)
    sock.sendall(head)
    sent = 0
    while sent < len(body):
        readable, writable, _ = select.select([sock], [sock], [], 10)
        if readable or sock.pending():
            # Readable may be TLS alone (a session ticket): only application
            # data, or the end of the connection, is an answer.
            timeout = sock.gettimeout()
            sock.setblocking(False)
            try:
                data = sock.recv(65536)
            except ssl.SSLWantReadError:
                data = None
            except OSError:
                data = b""
            finally:
                sock.settimeout(timeout)
            if data is not None:
                reader.buf += data
                break
        if not writable:
            if not readable:
                break  # neither for 10 s: let the reader time out or not
            continue
        try:
            sent += sock.send(body[sent : sent + piece])
        except OSError:
            break  # the server closed; its answer may still be readable
    return reader


class RawReader:
    """Reads HTTP/1.x answers off a raw connection (Content-Length bodies)."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def answer(self, head_only=False):
        """(status, lower-case headers, body); status "closed" or "short"
        when the connection ended before the head or the body."""
        while b"\r\n\r\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                return "closed", {}, b""
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        length = 0 if head_only else int(hdrs.get("content-length", "0"))
        while len(self.buf) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                return "short", hdrs, self.buf
            self.buf += chunk
        body, self.buf = self.buf[:length], self.buf[length:]
        status = lines[0].split(" ")[1] if " " in lines[0] else "000"
        return status, hdrs, body
