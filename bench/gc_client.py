#!/usr/bin/env python3
"""HTTP client for bench/gc.sh (plain HTTP, keep-alive, stdlib only).

Every command prints one line of JSON on stdout. Errors (an unexpected
status, a wrong digest) raise and exit non-zero, so a broken registry never
produces a number.

The content is a function of (--seed, repository, manifest, blob) only, so
the same command gives both registries the same images. Repository r is
PREFIX/rNNNNN. Manifest i of a repository is an OCI image manifest whose
config is blob 0 and whose layers are blobs 1..B-1 of that manifest, every
blob distinct (B = --blobs, default 10). With the default 10 manifests per
repository:

  i = 0..4   kept: tag v<i>
  i = 5..7   deleted: pushed as tag v<i>, then DELETE /manifests/<digest>
  i = 8, 9   untagged: pushed as tag "latest" one after the other, then tag
             "latest" moves to manifest 4, so 8 and 9 have no tag left

so half of the manifests, and their blobs, are garbage. (With other counts,
the first half are kept, the next 30 % deleted, the rest untagged.)

  populate  --base URL --repos N [--per-repo M] [--blobs B] [--size BYTES]
            [--prefix P] [--seed S] [--procs P] [--threads T] [--upload post|postput]
            [--skip-delete] [--only-delete]
            pushes everything (P processes of T threads, each thread whole
            repositories), then does the deletions in a second pass. post:
            one POST ?digest= with the body (monolithic, berth); postput:
            POST, then PUT <Location>?digest= with the body (what docker does;
            what the reference 2.8 needs).
  delete-kept --base URL --repos N --index I [...]
            DELETE /manifests/<digest> of kept manifest I (1..4) in every
            repository: fresh garbage for a round of the GC-under-load test.
  latency   --base URL --path PATH --method HEAD|GET [--accept A] --seconds S [--threads T] [--rate R]
            T loops for S seconds, each a process with one keep-alive
            connection (no GIL shared between them); p50/p99/max of the
            client-side latencies (ms). --rate R: R requests/s in all, paced
            (open loop, latencies counted from when a request was due if the
            server held it up); 0: closed loops, as fast as they go.
  push-rate --base URL --repo R --seconds S [--threads T] [--size BYTES] [--upload ...]
            distinct random blobs, as many as fit in S seconds; blobs/s and
            p50/p99/max of one push (its POST, or POST + PUT).
  verify    --base URL --repos N [--sample K] [--gone-kept N] [--expect-gone]
            every K-th repository: counts the kept manifests that answer GET
            by tag with their digest (manifests_ok, else manifests_bad) and
            their blobs that answer HEAD 200 (blobs_ok, else blobs_missing);
            with --expect-gone, the blobs of the garbage manifests that answer
            HEAD 404 (blobs_gone, else blobs_not_gone). --gone-kept N: kept
            manifests 1..N were deleted since (delete-kept).
  gc        --base URL [--probe PATH]
            one POST /v2/_berth/gc; its JSON answer (without the tags and
            manifests lists) plus the client's wall seconds; {"unsupported":
            STATUS} when berth answers 404 or 405 (no GC API). --probe: meanwhile HEAD PATH every 10 ms on another
            connection and count the answers that are not 200.
  gc-loop   --base URL --stop FILE [--max-seconds S]
            POST /v2/_berth/gc back to back until FILE exists; every run's
            wall seconds and the sums of the counts.
"""
import argparse
import hashlib
import http.client
import json
import multiprocessing
import os
import random
import threading
import time
import urllib.parse

TIMEOUT = 600
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCTET = "application/octet-stream"


class Conn:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)

    def request(self, method, target, body=None, headers=None, want=(200,)):
        h = dict(headers or {})
        if body is not None:
            h.setdefault("Content-Length", str(len(body)))
        try:
            self.c.request(method, target, body=body, headers=h)
            r = self.c.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A keep-alive connection the server closed: once more on a new one.
            self.c.close()
            self.c = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
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


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(conn, repo, data, digest, upload):
    if upload == "post":
        r, _ = conn.request("POST", f"/v2/{repo}/blobs/uploads/?digest={digest}", body=data,
                            headers={"Content-Type": OCTET}, want=(201,))
    else:
        r, _ = conn.request("POST", f"/v2/{repo}/blobs/uploads/", want=(202,))
        loc = path_of(r.getheader("Location"))
        r, _ = conn.request("PUT", f"{loc}{'&' if '?' in loc else '?'}digest={digest}", body=data,
                            headers={"Content-Type": OCTET}, want=(201,))
    got = r.getheader("Docker-Content-Digest")
    if got is not None and got != digest:
        raise RuntimeError(f"Docker-Content-Digest {got}, expected {digest}")


# ---------------------------------------------------------------- the content
def repo_name(a, r):
    return f"{a.prefix}/r{r:05d}"


def blob(a, r, i, b):
    """Blob b of manifest i of repository r: --size bytes, distinct for every (seed, r, i, b)."""
    head = f"{a.seed}/{r}/{i}/{b}/".encode()
    rnd = random.Random(hashlib.sha256(head).digest())
    return head + rnd.randbytes(max(0, a.size - len(head)))


def image(a, r, i):
    """The blobs of manifest i (config first) and the manifest's body."""
    blobs = [blob(a, r, i, b) for b in range(a.blobs)]
    m = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha(blobs[0]), "size": len(blobs[0])},
        "layers": [{"mediaType": OCI_LAYER, "digest": sha(x), "size": len(x)} for x in blobs[1:]],
    }
    return blobs, json.dumps(m, separators=(",", ":")).encode()


def kinds(m):
    """Manifest index -> 'kept' | 'deleted' | 'untagged' (see the module doc)."""
    n_kept = m // 2
    n_del = (m * 3 + 9) // 10 if m >= 4 else m - n_kept
    out = []
    for i in range(m):
        out.append("kept" if i < n_kept else "deleted" if i < n_kept + n_del else "untagged")
    return out


def put_manifest(conn, repo, ref, body):
    r, _ = conn.request("PUT", f"/v2/{repo}/manifests/{ref}", body=body,
                        headers={"Content-Type": OCI_MANIFEST}, want=(201,))
    got = r.getheader("Docker-Content-Digest")
    if got is not None and got != sha(body):
        raise RuntimeError(f"manifest digest {got}, expected {sha(body)}")


def push_repo(a, conn, r):
    repo = repo_name(a, r)
    k = kinds(a.per_repo)
    bodies = {}
    stats = {"blobs": 0, "bytes": 0, "manifests": 0}
    for i in range(a.per_repo):
        blobs, body = image(a, r, i)
        for x in blobs:
            push_blob(conn, repo, x, sha(x), a.upload)
            stats["blobs"] += 1
            stats["bytes"] += len(x)
        put_manifest(conn, repo, "latest" if k[i] == "untagged" else f"v{i}", body)
        stats["manifests"] += 1
        bodies[i] = body
    if "untagged" in k and "kept" in k:
        last_kept = max(i for i in range(a.per_repo) if k[i] == "kept")
        put_manifest(conn, repo, "latest", bodies[last_kept])  # the untagged ones lose "latest"
    return stats


def delete_repo(a, conn, r):
    repo = repo_name(a, r)
    n = 0
    for i, kind in enumerate(kinds(a.per_repo)):
        if kind == "deleted":
            _, body = image(a, r, i)
            conn.request("DELETE", f"/v2/{repo}/manifests/{sha(body)}", want=(202,))
            n += 1
    return n


def worker(args):
    a, part, what = args
    repos = list(range(part, a.repos, a.procs))
    totals = {"blobs": 0, "bytes": 0, "manifests": 0, "deleted": 0}
    lock = threading.Lock()
    errors = []

    def run(t):
        try:
            conn = Conn(a.base)
            for r in repos[t::a.threads]:
                if what == "push":
                    s = push_repo(a, conn, r)
                else:
                    s = {"deleted": delete_repo(a, conn, r)}
                with lock:
                    for key, v in s.items():
                        totals[key] += v
        except Exception as e:  # noqa: BLE001 - re-raised below
            errors.append(repr(e))

    ts = [threading.Thread(target=run, args=(t,)) for t in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    return totals


def pool_run(a, what):
    t0 = time.monotonic()
    with multiprocessing.Pool(a.procs) as p:
        parts = p.map(worker, [(a, i, what) for i in range(a.procs)])
    dt = time.monotonic() - t0
    out = {k: sum(x.get(k, 0) for x in parts) for k in ("blobs", "bytes", "manifests", "deleted")}
    return dt, out


def cmd_populate(a):
    res = {}
    if not a.only_delete:
        dt, out = pool_run(a, "push")
        res.update(push_seconds=dt, blobs=out["blobs"], blob_bytes=out["bytes"], manifests=out["manifests"],
                   blobs_per_s=out["blobs"] / dt)
    if not a.skip_delete:
        dt, out = pool_run(a, "delete")
        res.update(delete_seconds=dt, deleted=out["deleted"])
    k = kinds(a.per_repo)
    res.update(repos=a.repos, kept=a.repos * k.count("kept"), untagged=a.repos * k.count("untagged"),
               deleted_planned=a.repos * k.count("deleted"), garbage_blobs=a.repos * a.blobs * (a.per_repo - k.count("kept")))
    print(json.dumps(res))


def cmd_delete_kept(a):
    """DELETE kept manifest --index of every repository (fresh garbage)."""
    if kinds(a.per_repo)[a.index] != "kept":
        raise SystemExit(f"manifest {a.index} is not a kept one")
    def work(conn, r):
        _, body = image(a, r, a.index)
        conn.request("DELETE", f"/v2/{repo_name(a, r)}/manifests/{sha(body)}", want=(202,))
    dt = threaded(a, range(a.repos), work)
    print(json.dumps({"seconds": dt, "deleted": a.repos, "garbage_blobs": a.repos * a.blobs}))


def cmd_verify(a):
    """Counts rather than raises: what is wrong after a GC is a finding to report."""
    k = kinds(a.per_repo)
    live = [i for i in range(a.per_repo) if k[i] == "kept" and not 1 <= i <= a.gone_kept]
    dead = [i for i in range(a.per_repo) if i not in live]
    keys = ("manifests_ok", "manifests_bad", "blobs_ok", "blobs_missing", "blobs_gone", "blobs_not_gone")
    counts = dict.fromkeys(keys, 0)
    lock = threading.Lock()
    anything = range(100, 600)

    def work(conn, r):
        repo = repo_name(a, r)
        n = dict.fromkeys(keys, 0)
        for i in live:
            blobs, body = image(a, r, i)
            res, data = conn.request("GET", f"/v2/{repo}/manifests/v{i}", headers={"Accept": OCI_MANIFEST},
                                     want=anything)
            n["manifests_ok" if res.status == 200 and sha(data) == sha(body) else "manifests_bad"] += 1
            for x in blobs:
                res, _ = conn.request("HEAD", f"/v2/{repo}/blobs/{sha(x)}", want=anything)
                n["blobs_ok" if res.status == 200 else "blobs_missing"] += 1
        if a.expect_gone:
            for i in dead:
                for x in image(a, r, i)[0]:
                    res, _ = conn.request("HEAD", f"/v2/{repo}/blobs/{sha(x)}", want=anything)
                    n["blobs_gone" if res.status == 404 else "blobs_not_gone"] += 1
        with lock:
            for key, v in n.items():
                counts[key] += v

    dt = threaded(a, range(0, a.repos, a.sample), work)
    print(json.dumps({"seconds": dt, **counts}))


def threaded(a, items, work):
    items = list(items)
    errors = []

    def run(t):
        try:
            conn = Conn(a.base)
            for x in items[t::a.threads]:
                work(conn, x)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    ts = [threading.Thread(target=run, args=(t,)) for t in range(a.threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    return time.monotonic() - t0


def pct(sorted_v, p):
    if not sorted_v:
        return 0.0
    return sorted_v[min(len(sorted_v) - 1, int(p / 100.0 * len(sorted_v)))]


def latency_worker(args):
    """One closed loop (--rate 0), or one paced loop of --rate/--threads requests/s.

    Paced: request k is due at start + k/rate. Its latency counts from when
    it was due if the previous answer came after that (the server held it
    up: no coordinated omission), else from when it was sent (a late wake-up
    of the client is not the server's)."""
    a, start, stop = args
    headers = {"Accept": a.accept} if a.accept else {}
    conn = Conn(a.base)
    out = []
    pc = time.perf_counter
    period = a.threads / a.rate if a.rate else 0.0
    while time.monotonic() < start:
        time.sleep(0.001)
    base = pc()
    prev_end = base
    k = 0
    while time.monotonic() < stop:
        due = base + k * period
        k += 1
        now = pc()
        if now < due:
            time.sleep(due - now)
        t0 = pc()
        conn.request(a.method, a.path, headers=headers)
        end = pc()
        out.append(end - (due if period and prev_end > due else t0))
        prev_end = end
    return out


def cmd_latency(a):
    """--threads loops, each in a process of its own (no GIL between them)."""
    start = time.monotonic() + 0.2  # once every process is up (CLOCK_MONOTONIC is system-wide)
    with multiprocessing.Pool(a.threads) as p:
        parts = p.map(latency_worker, [(a, start, start + a.seconds)] * a.threads)
    dt = a.seconds
    v = sorted(x for part in parts for x in part)
    print(json.dumps({"requests": len(v), "seconds": dt, "rps": len(v) / dt,
                      "p50_ms": 1000 * pct(v, 50), "p99_ms": 1000 * pct(v, 99),
                      "max_ms": 1000 * (v[-1] if v else 0)}))


def cmd_push_rate(a):
    counts = [0] * a.threads
    lat = [[] for _ in range(a.threads)]
    errors = []
    stop = time.monotonic() + a.seconds
    tag = f"{os.getpid()}-{time.time_ns()}".encode()

    def run(t):
        try:
            conn = Conn(a.base)
            n = 0
            pc = time.perf_counter
            while time.monotonic() < stop:
                data = tag + f"/{t}/{n}/".encode() + os.urandom(max(0, a.size - 40))
                d = sha(data)
                t0 = pc()
                push_blob(conn, a.repo, data, d, a.upload)
                lat[t].append(pc() - t0)
                n += 1
            counts[t] = n
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    ts = [threading.Thread(target=run, args=(t,)) for t in range(a.threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.monotonic() - t0
    if errors:
        raise RuntimeError(errors[0])
    v = sorted(x for part in lat for x in part)
    print(json.dumps({"blobs": sum(counts), "seconds": dt, "blobs_per_s": sum(counts) / dt,
                      "p50_ms": 1000 * pct(v, 50), "p99_ms": 1000 * pct(v, 99),
                      "max_ms": 1000 * (v[-1] if v else 0)}))


class Unsupported(Exception):
    pass


def post_gc(conn):
    r, body = conn.request("POST", "/v2/_berth/gc", body=b"", want=(200, 404, 405))
    if r.status != 200:
        raise Unsupported(r.status)
    return json.loads(body)


def cmd_gc(a):
    conn = Conn(a.base)
    probe = {"ok": 0, "bad": 0, "max_ms": 0.0}
    done = threading.Event()

    def prober():
        pc = Conn(a.base)
        while not done.is_set():
            t0 = time.perf_counter()
            try:
                r, _ = pc.request("HEAD", a.probe, headers={"Accept": OCI_MANIFEST}, want=range(100, 600))
                ok = r.status == 200
            except Exception:  # noqa: BLE001 - a failed probe is what we count
                ok = False
                pc = Conn(a.base)
            probe["ok" if ok else "bad"] += 1
            probe["max_ms"] = max(probe["max_ms"], 1000 * (time.perf_counter() - t0))
            time.sleep(0.01)

    th = threading.Thread(target=prober) if a.probe else None
    if th:
        th.start()
    t0 = time.monotonic()
    try:
        res = post_gc(conn)
    except Unsupported as e:
        res = {"unsupported": e.args[0]}
    finally:
        dt = time.monotonic() - t0
        done.set()
        if th:
            th.join()
    res.pop("tags", None)
    res.pop("manifests", None)
    res["wall_s"] = dt
    if th:
        res["probe"] = probe
    print(json.dumps(res))


def cmd_gc_loop(a):
    conn = Conn(a.base)
    runs = []
    sums = {}
    t_end = time.monotonic() + a.max_seconds
    while not os.path.exists(a.stop) and time.monotonic() < t_end:
        t0 = time.monotonic()
        res = post_gc(conn)
        runs.append(time.monotonic() - t0)
        for k, v in res.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "seconds":
                sums[k] = sums.get(k, 0) + v
    print(json.dumps({"runs": len(runs), "run_s": runs, "busy_s": sum(runs), **sums}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    cmds = {"populate": cmd_populate, "delete-kept": cmd_delete_kept, "latency": cmd_latency,
            "push-rate": cmd_push_rate, "verify": cmd_verify, "gc": cmd_gc, "gc-loop": cmd_gc_loop}
    for name in cmds:
        s = sub.add_parser(name)
        s.add_argument("--base", required=True)
        s.add_argument("--repos", type=int, default=10)
        s.add_argument("--per-repo", type=int, default=10)
        s.add_argument("--blobs", type=int, default=10)
        s.add_argument("--size", type=int, default=256)
        s.add_argument("--prefix", default="gc")
        s.add_argument("--seed", type=int, default=1)
        s.add_argument("--procs", type=int, default=2)
        s.add_argument("--threads", type=int, default=4)
        s.add_argument("--upload", choices=("post", "postput"), default="postput")
        s.add_argument("--skip-delete", action="store_true")
        s.add_argument("--only-delete", action="store_true")
        s.add_argument("--index", type=int, default=1)
        s.add_argument("--path")
        s.add_argument("--method", default="HEAD")
        s.add_argument("--accept")
        s.add_argument("--seconds", type=float, default=5)
        s.add_argument("--repo", default="gc/push")
        s.add_argument("--rate", type=float, default=0)
        s.add_argument("--probe")
        s.add_argument("--sample", type=int, default=1)
        s.add_argument("--gone-kept", type=int, default=0)
        s.add_argument("--expect-gone", action="store_true")
        s.add_argument("--stop")
        s.add_argument("--max-seconds", type=float, default=600)
    a = p.parse_args()
    cmds[a.cmd](a)


if __name__ == "__main__":
    main()
