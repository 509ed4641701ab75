#!/usr/bin/env python3
"""HTTP client and sink for bench/run.sh (plain HTTP, keep-alive, stdlib only).

Every timed command prints one line of JSON on stdout: {"seconds": ..., ...}.
Errors (a non-2xx answer, a short body) raise and exit non-zero, so a broken
registry never produces a number.

  push-blobs  --base URL --repo R --count N --size BYTES --seed S [--out FILE]
              N distinct blobs, sequential, monolithic POST ?digest= (falls
              back to PUT on the Location when the server answers 202, as the
              distribution spec lets a registry do).
  pull-blobs  --base URL --repo R --digests FILE --threads T
              GETs every digest in FILE, T threads, one keep-alive connection each.
  push-image  --base URL --repo R --tag T
              the empty blob, then a small OCI image (config {} + one 1 KiB
              layer + manifest) under tag T.
  push-tags   --base URL --repo R --count N --threads T
              N distinct small manifests (same config/layer, an annotation
              naming the tag), PUT by tag t00000..., T threads.
  list-tags   --base URL --repo R --reps N [--page N]
              N times: GET tags/list (whole list, or pages of --page following Link).
  sink        --port P --dir D
              PUT sink: hashes (sha256), writes, fsyncs, answers 201.
"""
import argparse
import hashlib
import http.client
import http.server
import json
import os
import random
import re
import sys
import threading
import time
import urllib.parse

TIMEOUT = 120
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class Conn:
    """One keep-alive connection to BASE (http://host:port)."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)

    def request(self, method, target, body=None, headers=None, want=(200,)):
        h = dict(headers or {})
        if body is not None:
            h.setdefault("Content-Length", str(len(body)))
        self.c.request(method, target, body=body, headers=h)
        r = self.c.getresponse()
        data = r.read()
        if r.status not in want:
            raise RuntimeError(f"{method} {target}: {r.status} {data[:300]!r}")
        return r, data


def path_of(location):
    """Location may be absolute (the reference registry) or a path (berth)."""
    u = urllib.parse.urlsplit(location)
    return u.path + ("?" + u.query if u.query else "")


def push_blob(conn, repo, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    r, _ = conn.request("POST", f"/v2/{repo}/blobs/uploads/?digest={digest}", body=data,
                        headers={"Content-Type": "application/octet-stream"}, want=(201, 202))
    if r.status == 202:
        loc = path_of(r.getheader("Location"))
        sep = "&" if "?" in loc else "?"
        conn.request("PUT", f"{loc}{sep}digest={digest}", body=data,
                     headers={"Content-Type": "application/octet-stream"}, want=(201,))
    return digest


def cmd_push_blobs(a):
    rnd = random.Random(a.seed)
    blobs = [rnd.randbytes(a.size) for _ in range(a.count)]
    conn = Conn(a.base)
    t0 = time.monotonic()
    digests = [push_blob(conn, a.repo, b) for b in blobs]
    dt = time.monotonic() - t0
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(digests) + "\n")
    print(json.dumps({"seconds": dt, "count": a.count}))


def run_threads(n, work):
    errors = []

    def wrap(i):
        try:
            work(i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.monotonic() - t0
    if errors:
        raise errors[0]
    return dt


def cmd_pull_blobs(a):
    digests = [d for d in open(a.digests).read().split() if d]
    total = [0] * a.threads

    def work(i):
        conn = Conn(a.base)
        for d in digests[i::a.threads]:
            _, body = conn.request("GET", f"/v2/{a.repo}/blobs/{d}")
            total[i] += len(body)

    dt = run_threads(a.threads, work)
    print(json.dumps({"seconds": dt, "count": len(digests), "bytes": sum(total)}))


def image_parts(conn, repo):
    config = b"{}"
    layer = random.Random(7).randbytes(1024)
    cd = push_blob(conn, repo, config)
    ld = push_blob(conn, repo, layer)
    return cd, len(config), ld, len(layer)


def manifest(cd, cs, ld, ls, annotation=None):
    m = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": ls}],
    }
    if annotation:
        m["annotations"] = {"bench.tag": annotation}
    return json.dumps(m, separators=(",", ":")).encode()


def cmd_push_image(a):
    conn = Conn(a.base)
    push_blob(conn, a.repo, b"")  # the empty blob, for the HEAD workload
    body = manifest(*image_parts(conn, a.repo))
    conn.request("PUT", f"/v2/{a.repo}/manifests/{a.tag}", body=body,
                 headers={"Content-Type": OCI_MANIFEST}, want=(201,))
    print(json.dumps({"digest": "sha256:" + hashlib.sha256(body).hexdigest(), "size": len(body)}))


def cmd_push_tags(a):
    parts = image_parts(Conn(a.base), a.repo)
    tags = [f"t{i:05d}" for i in range(a.count)]
    bodies = {t: manifest(*parts, annotation=t) for t in tags}

    def work(i):
        conn = Conn(a.base)
        for t in tags[i::a.threads]:
            conn.request("PUT", f"/v2/{a.repo}/manifests/{t}", body=bodies[t],
                         headers={"Content-Type": OCI_MANIFEST}, want=(201,))

    dt = run_threads(a.threads, work)
    print(json.dumps({"seconds": dt, "count": a.count}))


LINK_RE = re.compile(r"<([^>]+)>")


def cmd_list_tags(a):
    conn = Conn(a.base)
    first = f"/v2/{a.repo}/tags/list" + (f"?n={a.page}" if a.page else "")
    requests = 0
    tags = 0
    t0 = time.monotonic()
    for _ in range(a.reps):
        target, tags = first, 0
        while target:
            r, body = conn.request("GET", target)
            requests += 1
            tags += len(json.loads(body).get("tags") or [])
            link = r.getheader("Link")
            target = path_of(LINK_RE.search(link).group(1)) if (a.page and link) else None
    dt = time.monotonic() - t0
    print(json.dumps({"seconds": dt, "requests_per_rep": requests / a.reps, "tags": tags}))


def cmd_sink(a):
    class Sink(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_PUT(self):  # noqa: N802 - http.server naming
            n = int(self.headers["Content-Length"])
            h = hashlib.sha256()
            buf = bytearray(1 << 20)
            mv = memoryview(buf)
            path = os.path.join(a.dir, "sink.data")
            with open(path, "wb") as f:
                while n > 0:
                    got = self.rfile.readinto(mv[: min(n, len(buf))])
                    if not got:
                        raise ConnectionError("short body")
                    h.update(mv[:got])
                    f.write(mv[:got])
                    n -= got
                f.flush()
                os.fsync(f.fileno())
            os.unlink(path)
            body = ("sha256:" + h.hexdigest()).encode()
            self.send_response(201)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 - readiness probe
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", a.port), Sink).serve_forever()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("push-blobs", "pull-blobs", "push-image", "push-tags", "list-tags"):
        s = sub.add_parser(name)
        s.add_argument("--base", required=True)
        s.add_argument("--repo", required=True)
        s.add_argument("--count", type=int, default=1)
        s.add_argument("--size", type=int, default=1024)
        s.add_argument("--seed", type=int, default=1)
        s.add_argument("--out")
        s.add_argument("--digests")
        s.add_argument("--threads", type=int, default=1)
        s.add_argument("--tag", default="small")
        s.add_argument("--reps", type=int, default=1)
        s.add_argument("--page", type=int, default=0)
    s = sub.add_parser("sink")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--dir", required=True)
    a = p.parse_args()
    {"push-blobs": cmd_push_blobs, "pull-blobs": cmd_pull_blobs, "push-image": cmd_push_image,
     "push-tags": cmd_push_tags, "list-tags": cmd_list_tags, "sink": cmd_sink}[a.cmd](a)


if __name__ == "__main__":
    main()
