#!/usr/bin/env python3
"""HTTP client for bench/run.sh (keep-alive, stdlib only, http or https).

Every timed command prints one line of JSON on stdout: {"seconds": ..., ...}.
Only the HTTP exchanges are timed, not python's start-up or the making of
test data. Errors (an unexpected status, a short body, a wrong digest) raise
and exit non-zero, so a broken registry never produces a number.

Common options: --base URL (http:// or https://), --cacert FILE (https),
--header 'Name: value' (repeatable; e.g. a bearer token).

  push-file   --repo R --file F --digest D [--chunk BYTES] [--sink]
              one blob from a file. Monolithic (--chunk 0): POST, then PUT
              <Location>&digest=D with the file as body. Chunked: POST, then
              PATCH <Location> per chunk (Content-Range: start-end, following
              each Location), then PUT <Location>&digest=D with no body. The
              body goes out with sendfile(2) on plain HTTP, 1 MiB writes on TLS.
              --sink: one PUT of the whole file to BASE/sink (berth_bench_sink),
              whose 201 body must be the digest.
  push-blobs  --repo R --count N --size BYTES --seed S [--threads T] [--out FILE]
              N distinct random blobs (made and hashed before the clock
              starts), T threads with one keep-alive connection each, every
              blob POST then PUT ?digest= with the body (what docker push does).
  pull-blobs  --repo R --digests FILE --threads T
              GETs every digest in FILE, T threads, one keep-alive connection each.
  push-image  --repo R --tag T
              the empty blob, then a small OCI image (config {} + one 1 KiB
              layer + manifest) under tag T. Prints the manifest and layer digests.
  push-tags   --repo R --count N --threads T
              N distinct small manifests (same config/layer, an annotation
              naming the tag), PUT by tag t00000..., T threads.
  list-tags   --repo R --reps N [--page N]
              N times: GET tags/list (the whole list, or pages of --page
              following Link). The tags are counted on the first listing only;
              later ones just read the bodies, so the client costs little.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import re
import ssl
import threading
import time
import urllib.parse

TIMEOUT = 300
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCTET = "application/octet-stream"


class Conn:
    """One keep-alive connection to BASE, with the extra headers on every request."""

    def __init__(self, a):
        u = urllib.parse.urlsplit(a.base)
        self.tls = u.scheme == "https"
        if self.tls:
            ctx = ssl.create_default_context(cafile=a.cacert)
            self.c = http.client.HTTPSConnection(u.hostname, u.port, timeout=TIMEOUT, context=ctx)
        else:
            self.c = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT)
        self.extra = dict(h.split(": ", 1) for h in (a.header or []))

    def request(self, method, target, body=None, headers=None, want=(200,)):
        h = dict(self.extra)
        h.update(headers or {})
        if body is not None:
            h.setdefault("Content-Length", str(len(body)))
        self.c.request(method, target, body=body, headers=h)
        r = self.c.getresponse()
        data = r.read()
        if r.status not in want:
            raise RuntimeError(f"{method} {target}: {r.status} {data[:300]!r}")
        return r, data

    def request_file(self, method, target, f, offset, count, headers, want):
        """A request whose body is COUNT bytes of file F from OFFSET."""
        c = self.c
        c.putrequest(method, target, skip_accept_encoding=True)
        for k, v in {**self.extra, **headers, "Content-Length": str(count)}.items():
            c.putheader(k, v)
        c.endheaders()
        if self.tls:
            buf = bytearray(1 << 20)
            mv = memoryview(buf)
            f.seek(offset)
            left = count
            while left:
                n = f.readinto(mv[: min(left, len(buf))])
                if not n:
                    raise RuntimeError("short file")
                c.sock.sendall(mv[:n])
                left -= n
        else:
            c.sock.sendfile(f, offset, count)
        r = c.getresponse()
        data = r.read()
        if r.status not in want:
            raise RuntimeError(f"{method} {target}: {r.status} {data[:300]!r}")
        return r, data


def path_of(location):
    """Location may be absolute (the reference registry) or a path (berth)."""
    u = urllib.parse.urlsplit(location)
    return u.path + ("?" + u.query if u.query else "")


def with_digest(loc, digest):
    return f"{loc}{'&' if '?' in loc else '?'}digest={digest}"


def start_upload(conn, repo):
    r, _ = conn.request("POST", f"/v2/{repo}/blobs/uploads/", want=(202,))
    return path_of(r.getheader("Location"))


def check_created(r, digest):
    got = r.getheader("Docker-Content-Digest")
    if got is not None and got != digest:
        raise RuntimeError(f"Docker-Content-Digest {got}, expected {digest}")


def push_blob(conn, repo, data, digest=None):
    """POST, then PUT ?digest= with the body: a monolithic push as docker does it."""
    digest = digest or "sha256:" + hashlib.sha256(data).hexdigest()
    loc = start_upload(conn, repo)
    r, _ = conn.request("PUT", with_digest(loc, digest), body=data,
                        headers={"Content-Type": OCTET}, want=(201,))
    check_created(r, digest)
    return digest


def cmd_push_file(a):
    conn = Conn(a)
    size = os.path.getsize(a.file)
    requests = 0
    with open(a.file, "rb") as f:
        t0 = time.monotonic()
        if a.sink:
            _, body = conn.request_file("PUT", "/sink", f, 0, size, {"Content-Type": OCTET}, (201,))
            if body.decode() != a.digest:
                raise RuntimeError(f"sink digest {body!r}, expected {a.digest}")
        elif not a.chunk:
            loc = start_upload(conn, a.repo)
            r, _ = conn.request_file("PUT", with_digest(loc, a.digest), f, 0, size,
                                     {"Content-Type": OCTET}, (201,))
            check_created(r, a.digest)
        else:
            loc = start_upload(conn, a.repo)
            for off in range(0, size, a.chunk):
                n = min(a.chunk, size - off)
                r, _ = conn.request_file("PATCH", loc, f, off, n,
                                         {"Content-Type": OCTET, "Content-Range": f"{off}-{off + n - 1}"}, (202,))
                loc = path_of(r.getheader("Location"))
                requests += 1
            r, _ = conn.request("PUT", with_digest(loc, a.digest), body=b"", want=(201,))
            check_created(r, a.digest)
        dt = time.monotonic() - t0
    print(json.dumps({"seconds": dt, "bytes": size, "patches": requests}))


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


def cmd_push_blobs(a):
    rnd = random.Random(a.seed)
    blobs = [rnd.randbytes(a.size) for _ in range(a.count)]
    digests = ["sha256:" + hashlib.sha256(b).hexdigest() for b in blobs]
    conns = [Conn(a) for _ in range(a.threads)]

    def work(i):
        for j in range(i, a.count, a.threads):
            push_blob(conns[i], a.repo, blobs[j], digests[j])

    dt = run_threads(a.threads, work)
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(digests) + "\n")
    print(json.dumps({"seconds": dt, "count": a.count}))


def cmd_pull_blobs(a):
    digests = [d for d in open(a.digests).read().split() if d]
    total = [0] * a.threads
    conns = [Conn(a) for _ in range(a.threads)]

    def work(i):
        for d in digests[i::a.threads]:
            _, body = conns[i].request("GET", f"/v2/{a.repo}/blobs/{d}")
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
    conn = Conn(a)
    push_blob(conn, a.repo, b"")  # the empty blob, for the HEAD workload
    parts = image_parts(conn, a.repo)
    body = manifest(*parts)
    conn.request("PUT", f"/v2/{a.repo}/manifests/{a.tag}", body=body,
                 headers={"Content-Type": OCI_MANIFEST}, want=(201,))
    print(json.dumps({"digest": "sha256:" + hashlib.sha256(body).hexdigest(), "size": len(body),
                      "layer": parts[2], "layer_size": parts[3]}))


def cmd_push_tags(a):
    parts = image_parts(Conn(a), a.repo)
    tags = [f"t{i:05d}" for i in range(a.count)]
    bodies = {t: manifest(*parts, annotation=t) for t in tags}
    conns = [Conn(a) for _ in range(a.threads)]

    def work(i):
        for t in tags[i::a.threads]:
            conns[i].request("PUT", f"/v2/{a.repo}/manifests/{t}", body=bodies[t],
                             headers={"Content-Type": OCI_MANIFEST}, want=(201,))

    dt = run_threads(a.threads, work)
    print(json.dumps({"seconds": dt, "count": a.count}))


LINK_RE = re.compile(r"<([^>]+)>")


def cmd_list_tags(a):
    conn = Conn(a)
    first = f"/v2/{a.repo}/tags/list" + (f"?n={a.page}" if a.page else "")
    requests = 0
    tags = 0
    t0 = time.monotonic()
    for rep in range(a.reps):
        target = first
        while target:
            r, body = conn.request("GET", target)
            requests += 1
            if rep == 0:
                tags += len(json.loads(body).get("tags") or [])
            link = r.getheader("Link") if a.page else None
            target = path_of(LINK_RE.search(link).group(1)) if link else None
    dt = time.monotonic() - t0
    print(json.dumps({"seconds": dt, "requests_per_rep": requests / a.reps, "tags": tags}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    cmds = {"push-file": cmd_push_file, "push-blobs": cmd_push_blobs, "pull-blobs": cmd_pull_blobs,
            "push-image": cmd_push_image, "push-tags": cmd_push_tags, "list-tags": cmd_list_tags}
    for name in cmds:
        s = sub.add_parser(name)
        s.add_argument("--base", required=True)
        s.add_argument("--cacert")
        s.add_argument("--header", action="append")
        s.add_argument("--repo", default="bench/x")
        s.add_argument("--count", type=int, default=1)
        s.add_argument("--size", type=int, default=1024)
        s.add_argument("--seed", type=int, default=1)
        s.add_argument("--out")
        s.add_argument("--digests")
        s.add_argument("--threads", type=int, default=1)
        s.add_argument("--tag", default="small")
        s.add_argument("--reps", type=int, default=1)
        s.add_argument("--page", type=int, default=0)
        s.add_argument("--file")
        s.add_argument("--digest")
        s.add_argument("--chunk", type=int, default=0)
        s.add_argument("--sink", action="store_true")
    a = p.parse_args()
    cmds[a.cmd](a)


if __name__ == "__main__":
    main()
