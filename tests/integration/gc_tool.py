#!/usr/bin/env python3
"""A small OCI distribution client for the storage lifecycle tests
(gc_test.sh, gc_race_test.sh, gc_crash_test.sh): pushes images made of
random layers with monolithic uploads, deletes, verifies that an image is
fully pullable (manifest and every blob fetched and sha256-checked, index
children followed), and calls the admin API (POST /v2/_berth/gc,
GET /v2/_berth/usage). Standard library only; one keep-alive connection per
thread.

Content is deterministic: image I of seed S always has the same bytes, so
the same images can be pushed again into another storage root.

    gc_tool.py --base URL [--cacert FILE] COMMAND ...

Commands print JSON (one object per line) and exit 0 on success, 1 when a
request got an unexpected answer or a verification failed, 2 on misuse.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import socket
import ssl
import sys
import tarfile
import gzip
import io
import threading
import time
import urllib.parse

OCI_M = "application/vnd.oci.image.manifest.v1+json"
OCI_I = "application/vnd.oci.image.index.v1+json"
OCI_C = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"
ACCEPT = ", ".join([OCI_M, OCI_I,
                    "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json"])


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def rbytes(seed, n):
    """n pseudo-random bytes, the same for the same seed."""
    return random.Random(seed).randbytes(n)


class HttpError(Exception):
    def __init__(self, what, status, body):
        super().__init__(f"{what}: HTTP {status}: {body[:300]!r}")
        self.what, self.status, self.body = what, status, body

    def code(self):
        """The first OCI error code of the body, or ''."""
        try:
            return json.loads(self.body)["errors"][0]["code"]
        except Exception:
            return ""


def quickack(conn):
    """ACK the answer's first segment at once. berth writes the head and the
    body of an answer separately without TCP_NODELAY, so with Nagle on its
    side and delayed ACKs on ours every blob GET after the first on a
    keep-alive connection waits ~40 ms (reported as a berth bug); this keeps
    the tests fast. Linux only; harmless elsewhere."""
    try:
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    except (AttributeError, OSError):
        pass


class Client:
    def __init__(self, base, cacert=None, timeout=60):
        u = urllib.parse.urlsplit(base)
        self.https = u.scheme == "https"
        self.host, self.port = u.hostname, u.port
        self.timeout = timeout
        self.ctx = ssl.create_default_context(cafile=cacert) if self.https else None
        self.local = threading.local()

    def _conn(self):
        c = getattr(self.local, "c", None)
        if c is None:
            if self.https:
                c = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                                timeout=self.timeout)
            else:
                c = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.local.c = c
        return c

    def close(self):
        c = getattr(self.local, "c", None)
        if c is not None:
            c.close()
            self.local.c = None

    def req(self, method, path, body=None, headers=None):
        """(status, headers with lower-case names, body). A request on a
        reused keep-alive connection that the server had closed is sent
        once more on a new connection; any other failure raises."""
        for attempt in (0, 1):
            fresh = getattr(self.local, "c", None) is None
            c = self._conn()
            try:
                c.request(method, path, body=body, headers=headers or {})
                quickack(c)
                r = c.getresponse()
                data = r.read()
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                if hdrs.get("connection", "").lower() == "close":
                    self.close()
                return r.status, hdrs, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if fresh or attempt:
                    raise
            except Exception:
                self.close()
                raise
        raise AssertionError("unreachable")

    # ---- blobs
    def put_blob(self, repo, data, digest=None):
        """Monolithic upload (POST ?digest=). Raises HttpError unless 201."""
        d = digest or sha(data)
        st, _, body = self.req("POST", f"/v2/{repo}/blobs/uploads/?digest={d}", data,
                               {"Content-Type": "application/octet-stream",
                                "Content-Length": str(len(data))})
        if st != 201:
            raise HttpError(f"upload {repo}@{d}", st, body)
        return d

    def head_blob(self, repo, d):
        return self.req("HEAD", f"/v2/{repo}/blobs/{d}")[0]

    def get_blob(self, repo, d):
        st, _, body = self.req("GET", f"/v2/{repo}/blobs/{d}")
        return st, body

    # ---- manifests
    def put_manifest(self, repo, ref, body, media_type):
        st, h, b = self.req("PUT", f"/v2/{repo}/manifests/{ref}", body,
                            {"Content-Type": media_type})
        if st != 201:
            raise HttpError(f"manifest {repo}:{ref}", st, b)
        return h.get("docker-content-digest", sha(body))

    def get_manifest(self, repo, ref):
        st, h, b = self.req("GET", f"/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
        return st, h, b

    def delete_manifest(self, repo, ref):
        return self.req("DELETE", f"/v2/{repo}/manifests/{ref}")[0]

    # ---- admin
    def gc(self, dry_run=False):
        st, _, b = self.req("POST", "/v2/_berth/gc" + ("?dry_run=true" if dry_run else ""))
        return st, b

    def usage(self, ns=None):
        st, _, b = self.req("GET", "/v2/_berth/usage" + (f"?namespace={ns}" if ns else ""))
        return st, b

    # ---- verification
    def verify(self, repo, ref, digest=None, depth=0):
        """Problems (strings) found while pulling repo:ref fully: the
        manifest (its digest checked when known), its config and layers (each
        sha256-checked), and for an index every child, recursively. []: the
        image pulls."""
        problems = []
        st, _, body = self.get_manifest(repo, ref)
        if st != 200:
            return [f"{repo}:{ref}: manifest status {st}"]
        if digest and sha(body) != digest:
            return [f"{repo}:{ref}: manifest content hashes to {sha(body)}, not {digest}"]
        try:
            m = json.loads(body)
        except ValueError:
            return [f"{repo}:{ref}: manifest is not JSON"]
        if "manifests" in m:
            if depth > 2:
                return [f"{repo}:{ref}: index nested too deep"]
            for c in m["manifests"]:
                problems += self.verify(repo, c["digest"], c["digest"], depth + 1)
            return problems
        for desc in [m.get("config")] + m.get("layers", []):
            if not desc:
                continue
            st, data = self.get_blob(repo, desc["digest"])
            if st != 200:
                problems.append(f"{repo}:{ref}: blob {desc['digest']} status {st}")
            elif sha(data) != desc["digest"]:
                problems.append(f"{repo}:{ref}: blob {desc['digest']} content hashes to {sha(data)}")
            elif len(data) != desc["size"]:
                problems.append(f"{repo}:{ref}: blob {desc['digest']} has {len(data)} bytes, not {desc['size']}")
        return problems


# ---- image construction

def image_manifest(config, layers, subject=None, artifact_type=None):
    """(manifest bytes, {digest: bytes} of its blobs)."""
    blobs = {sha(config): config}
    m = {"schemaVersion": 2, "mediaType": OCI_M,
         "config": {"mediaType": OCI_C, "digest": sha(config), "size": len(config)},
         "layers": []}
    for l in layers:
        blobs[sha(l)] = l
        m["layers"].append({"mediaType": LAYER, "digest": sha(l), "size": len(l)})
    if artifact_type:
        m["artifactType"] = artifact_type
    if subject:
        m["subject"] = subject
    return json.dumps(m, separators=(",", ":")).encode(), blobs


def make_image(seed, index, layers=2, layer_size=262144, shared_seed=None, shared_size=262144,
               subject=None):
    """Image `index` of set `seed`: a config, `layers` random layers, and one
    layer shared by every image of `shared_seed` (when given)."""
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Labels": {"seed": str(seed), "index": str(index)}},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    ls = [rbytes(f"{seed}/{index}/{j}", layer_size) for j in range(layers)]
    if shared_seed is not None:
        ls.append(rbytes(f"shared/{shared_seed}", shared_size))
    return image_manifest(config, ls, subject=subject)


def push(client, repo, ref, manifest, blobs, media_type=OCI_M, skip_existing=False, uploaded=None):
    """Uploads the blobs (config first), then puts the manifest under `ref`
    (a tag, or None: by digest). Returns the manifest digest. `uploaded`
    (a dict), when given, gets digest -> size of each blob that got its 201."""
    for d, data in blobs.items():
        if skip_existing and client.head_blob(repo, d) == 200:
            continue
        client.put_blob(repo, data, d)
        if uploaded is not None:
            uploaded[d] = len(data)
    return client.put_manifest(repo, ref or sha(manifest), manifest, media_type)


def record(repo, ref, manifest, blobs, extra=None):
    r = {"repo": repo, "ref": ref, "digest": sha(manifest), "manifest_size": len(manifest),
         "blobs": {d: len(b) for d, b in blobs.items()}}
    if extra:
        r.update(extra)
    return r


def parse_indices(s):
    out = []
    for part in s.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += range(int(a), int(b) + 1)
        elif part:
            out.append(int(part))
    return out


def emit(o):
    print(json.dumps(o), flush=True)


def fail_http(e, uploaded=None):
    """Prints the failed request (and the blobs uploaded before it)."""
    emit({"error": str(e), "status": e.status, "body": e.body.decode("utf-8", "replace"),
          "code": e.code(), "blobs": uploaded or {}})
    return 1


# ---- commands

def cmd_push_images(c, a):
    """Images seed/I for I in --indices, tagged PREFIX<I>, in REPO; one
    record line per image (also to --out)."""
    out = open(a.out, "a") if a.out else None
    threads = max(1, a.threads)
    indices = parse_indices(a.indices)
    lock = threading.Lock()
    errors = []

    def work(part):
        try:
            for i in part:
                m, blobs = make_image(a.seed, i, a.layers, a.layer_size, a.shared_seed, a.shared_size)
                tag = f"{a.prefix}{i}" if a.prefix else None
                push(c, a.repo, tag, m, blobs)
                r = record(a.repo, tag, m, blobs, {"index": i})
                with lock:
                    if out:
                        out.write(json.dumps(r) + "\n")
                    if not a.quiet:
                        emit(r)
                if a.sleep:
                    time.sleep(a.sleep)
        except HttpError as e:
            with lock:
                errors.append(e)
        finally:
            c.close()

    ts = [threading.Thread(target=work, args=(indices[k::threads],)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if out:
        out.close()
    if errors:
        return fail_http(errors[0])
    return 0


def cmd_push_image(c, a):
    subject = None
    if a.subject:
        st, _, body = c.get_manifest(a.repo, a.subject)
        if st != 200:
            emit({"error": f"subject {a.subject}: status {st}"})
            return 1
        subject = {"mediaType": OCI_M, "digest": sha(body), "size": len(body)}
    m, blobs = make_image(a.seed, a.index, a.layers, a.layer_size, a.shared_seed, a.shared_size,
                          subject=subject)
    uploaded = {}
    try:
        push(c, a.repo, a.ref, m, blobs, uploaded=uploaded)
    except HttpError as e:
        return fail_http(e, uploaded)
    emit(record(a.repo, a.ref, m, blobs))
    return 0


def cmd_push_index(c, a):
    """An index of N child images (pushed by digest), put under REF."""
    children, allblobs, kids = [], {}, []
    try:
        for k in range(a.children):
            m, blobs = make_image(a.seed, k, a.layers, a.layer_size)
            push(c, a.repo, None, m, blobs)
            allblobs.update(blobs)
            kids.append(sha(m))
            children.append({"mediaType": OCI_M, "digest": sha(m), "size": len(m),
                             "platform": {"architecture": ["amd64", "arm64", "s390x", "ppc64le"][k % 4],
                                          "os": "linux"}})
        idx = json.dumps({"schemaVersion": 2, "mediaType": OCI_I, "manifests": children},
                         separators=(",", ":")).encode()
        c.put_manifest(a.repo, a.ref, idx, OCI_I)
    except HttpError as e:
        return fail_http(e)
    emit({"repo": a.repo, "ref": a.ref, "digest": sha(idx), "children": kids,
          "blobs": {d: len(b) for d, b in allblobs.items()}})
    return 0


def cmd_push_blob(c, a):
    data = rbytes(a.seed, a.size)
    try:
        d = c.put_blob(a.repo, data)
    except HttpError as e:
        return fail_http(e)
    emit({"repo": a.repo, "digest": d, "size": len(data)})
    return 0


def cmd_verify(c, a):
    p = c.verify(a.repo, a.ref, a.digest)
    emit({"repo": a.repo, "ref": a.ref, "ok": not p, "problems": p})
    return 0 if not p else 1


def cmd_verify_file(c, a):
    """Every record of FILE (selected by --indices when given) pulls fully,
    by tag (when it has one) and by digest."""
    sel = set(parse_indices(a.indices)) if a.indices else None
    ok = bad = 0
    problems = []
    for line in open(a.file):
        r = json.loads(line)
        if sel is not None and r.get("index") not in sel:
            continue
        p = c.verify(r["repo"], r["digest"], r["digest"])
        if r.get("ref"):
            p += c.verify(r["repo"], r["ref"], r["digest"])
        if p:
            bad += 1
            problems += p
        else:
            ok += 1
    emit({"ok": ok, "bad": bad, "problems": problems[:20]})
    return 0 if bad == 0 else 1


def cmd_status(c, a):
    print(c.get_manifest(a.repo, a.ref)[0])
    return 0


def cmd_blob_status(c, a):
    print(c.head_blob(a.repo, a.digest))
    return 0


def cmd_delete(c, a):
    print(c.delete_manifest(a.repo, a.ref))
    return 0


def cmd_delete_file(c, a):
    """Deletes (by digest) the records of FILE selected by --indices."""
    sel = set(parse_indices(a.indices))
    codes = {}
    for line in open(a.file):
        r = json.loads(line)
        if r.get("index") in sel:
            st = c.delete_manifest(r["repo"], r["digest"])
            codes[st] = codes.get(st, 0) + 1
    emit({"deleted": codes})
    return 0 if set(codes) <= {202} else 1


def cmd_gc(c, a):
    st, body = c.gc(a.dry_run)
    try:
        o = json.loads(body)
    except ValueError:
        o = {"raw": body.decode("utf-8", "replace")}
    o["http_status"] = st
    emit(o)
    return 0 if st == 200 else 1


def cmd_usage(c, a):
    st, body = c.usage(a.namespace)
    try:
        o = json.loads(body)
    except ValueError:
        o = {"raw": body.decode("utf-8", "replace")}
    o["http_status"] = st
    emit(o)
    return 0 if st == 200 else 1


def cmd_fill_garbage(c, a):
    """For the crash test: N untagged manifests pushed by digest (each a
    config and one small unique layer, plus --shared-from's shared layer),
    and L blob links no manifest references, in REPO, with T threads.
    Records go to --out (kind manifest / link)."""
    out = open(a.out, "a")
    lock = threading.Lock()
    errors = []
    shared = rbytes(f"shared/{a.shared_seed}", a.shared_size) if a.shared_seed is not None else None

    def work(k):
        try:
            for i in range(k, a.manifests, a.threads):
                config = json.dumps({"garbage": a.seed, "i": i}).encode()
                layers = [rbytes(f"{a.seed}/g/{i}", a.layer_size)]
                if shared is not None:
                    layers.append(shared)
                m, blobs = image_manifest(config, layers)
                push(c, a.repo, None, m, blobs, skip_existing=shared is not None)
                r = record(a.repo, None, m, blobs, {"kind": "manifest"})
                with lock:
                    out.write(json.dumps(r) + "\n")
            for i in range(k, a.links, a.threads):
                data = rbytes(f"{a.seed}/l/{i}", a.layer_size)
                d = c.put_blob(a.repo, data)
                with lock:
                    out.write(json.dumps({"repo": a.repo, "kind": "link", "digest": d,
                                          "blobs": {d: len(data)}}) + "\n")
        except HttpError as e:
            with lock:
                errors.append(e)
        finally:
            c.close()

    ts = [threading.Thread(target=work, args=(k,)) for k in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.close()
    if errors:
        return fail_http(errors[0])
    return 0


def cmd_check_crash(c, a):
    """For the crash test: every record of --kept pulls fully (by tag and by
    digest); of --garbage (a random sample of --sample, 0: all), every
    manifest that is still served has all its blobs (sha256-checked): no
    half-deleted image shows. Prints counts."""
    kept_ok = kept_bad = 0
    problems = []
    for line in open(a.kept):
        r = json.loads(line)
        p = c.verify(r["repo"], r["digest"], r["digest"])
        if r.get("ref"):
            p += c.verify(r["repo"], r["ref"], r["digest"])
        if p:
            kept_bad += 1
            problems += p
        else:
            kept_ok += 1
    g_present = g_gone = g_half = 0
    if a.garbage and os.path.exists(a.garbage):
        rows = [json.loads(l) for l in open(a.garbage)]
        rows = [r for r in rows if r.get("kind") == "manifest"]
        if a.sample and len(rows) > a.sample:
            rows = random.sample(rows, a.sample)
        for r in rows:
            st, _, _ = c.get_manifest(r["repo"], r["digest"])
            if st == 404:
                g_gone += 1
                continue
            if st != 200:
                g_half += 1
                problems.append(f"{r['repo']}@{r['digest']}: manifest status {st}")
                continue
            p = c.verify(r["repo"], r["digest"], r["digest"])
            if p:
                # The manifest may have been deleted between the two GETs only
                # if a GC runs; the check runs with none under way.
                g_half += 1
                problems += p
            else:
                g_present += 1
    emit({"kept_ok": kept_ok, "kept_bad": kept_bad, "garbage_present": g_present,
          "garbage_gone": g_gone, "garbage_half": g_half, "problems": problems[:20]})
    return 0 if kept_bad == 0 and g_half == 0 else 1


def cmd_make_layout(c, a):
    """An OCI image layout DIR with one image tagged TAG: a gzip tar layer
    holding SIZE random (incompressible) bytes, and its config; prints the
    manifest digest and the blob sizes."""
    os.makedirs(os.path.join(a.dir, "blobs", "sha256"), exist_ok=True)
    payload = rbytes(a.seed, a.size)
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        info = tarfile.TarInfo("data.bin")
        info.size = len(payload)
        info.mtime = 0
        info.mode = 0o644
        t.addfile(info, io.BytesIO(payload))
    tar = tbuf.getvalue()
    layer = gzip.compress(tar, compresslevel=1, mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [sha(tar)]}}).encode()
    m = {"schemaVersion": 2, "mediaType": OCI_M,
         "config": {"mediaType": OCI_C, "digest": sha(config), "size": len(config)},
         "layers": [{"mediaType": LAYER + "+gzip", "digest": sha(layer), "size": len(layer)}]}
    mb = json.dumps(m, separators=(",", ":")).encode()
    for b in (layer, config, mb):
        with open(os.path.join(a.dir, "blobs", "sha256", sha(b)[7:]), "wb") as f:
            f.write(b)
    with open(os.path.join(a.dir, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            {"mediaType": OCI_M, "digest": sha(mb), "size": len(mb),
             "annotations": {"org.opencontainers.image.ref.name": a.tag}}]}, f)
    with open(os.path.join(a.dir, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    emit({"digest": sha(mb), "blobs": {sha(layer): len(layer), sha(config): len(config)}})
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default=os.environ.get("BASE", ""))
    p.add_argument("--cacert", default=None)
    sub = p.add_subparsers(dest="cmd", required=True)

    def image_opts(s):
        s.add_argument("--seed", default="s")
        s.add_argument("--layers", type=int, default=2)
        s.add_argument("--layer-size", type=int, default=262144)
        s.add_argument("--shared-seed", default=None)
        s.add_argument("--shared-size", type=int, default=262144)

    s = sub.add_parser("push-images"); image_opts(s)
    s.add_argument("repo"); s.add_argument("--indices", required=True)
    s.add_argument("--prefix", default="img"); s.add_argument("--out")
    s.add_argument("--threads", type=int, default=1); s.add_argument("--sleep", type=float, default=0)
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(fn=cmd_push_images)
    s = sub.add_parser("push-image"); image_opts(s)
    s.add_argument("repo"); s.add_argument("ref", nargs="?")
    s.add_argument("--index", type=int, default=0); s.add_argument("--subject")
    s.set_defaults(fn=cmd_push_image)
    s = sub.add_parser("push-index"); image_opts(s)
    s.add_argument("repo"); s.add_argument("ref"); s.add_argument("--children", type=int, default=2)
    s.set_defaults(fn=cmd_push_index)
    s = sub.add_parser("push-blob")
    s.add_argument("repo"); s.add_argument("--seed", default="b"); s.add_argument("--size", type=int, default=262144)
    s.set_defaults(fn=cmd_push_blob)
    s = sub.add_parser("verify")
    s.add_argument("repo"); s.add_argument("ref"); s.add_argument("--digest")
    s.set_defaults(fn=cmd_verify)
    s = sub.add_parser("verify-file")
    s.add_argument("file"); s.add_argument("--indices")
    s.set_defaults(fn=cmd_verify_file)
    s = sub.add_parser("status"); s.add_argument("repo"); s.add_argument("ref")
    s.set_defaults(fn=cmd_status)
    s = sub.add_parser("blob-status"); s.add_argument("repo"); s.add_argument("digest")
    s.set_defaults(fn=cmd_blob_status)
    s = sub.add_parser("delete"); s.add_argument("repo"); s.add_argument("ref")
    s.set_defaults(fn=cmd_delete)
    s = sub.add_parser("delete-file"); s.add_argument("file"); s.add_argument("--indices", required=True)
    s.set_defaults(fn=cmd_delete_file)
    s = sub.add_parser("gc"); s.add_argument("--dry-run", action="store_true")
    s.set_defaults(fn=cmd_gc)
    s = sub.add_parser("usage"); s.add_argument("namespace", nargs="?")
    s.set_defaults(fn=cmd_usage)
    s = sub.add_parser("fill-garbage")
    s.add_argument("repo"); s.add_argument("--out", required=True); s.add_argument("--seed", default="g")
    s.add_argument("--manifests", type=int, default=1000); s.add_argument("--links", type=int, default=500)
    s.add_argument("--layer-size", type=int, default=1024); s.add_argument("--threads", type=int, default=4)
    s.add_argument("--shared-seed", default=None); s.add_argument("--shared-size", type=int, default=4096)
    s.set_defaults(fn=cmd_fill_garbage)
    s = sub.add_parser("check-crash")
    s.add_argument("--kept", required=True); s.add_argument("--garbage")
    s.add_argument("--sample", type=int, default=0)
    s.set_defaults(fn=cmd_check_crash)
    s = sub.add_parser("make-layout")
    s.add_argument("dir"); s.add_argument("tag"); s.add_argument("--size", type=int, default=4 << 20)
    s.add_argument("--seed", default="layout")
    s.set_defaults(fn=cmd_make_layout)
    a = p.parse_args()
    c = Client(a.base, a.cacert)
    try:
        return a.fn(c, a)
    except (OSError, http.client.HTTPException) as e:
        emit({"error": f"{type(e).__name__}: {e}"})
        return 1


if __name__ == "__main__":
    sys.exit(main())
