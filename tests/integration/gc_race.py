#!/usr/bin/env python3
"""Driver of gc_race_test.sh: pushes, deletes and collections at once.

- pushers: each manifest is a unique config and 2 layers picked from a shared
  set of --shared blobs, in one of --repos repositories, under a unique tag;
  every 5th is an index of two such images pushed by digest (untagged, so
  collectable until the index refers to them).
  A pusher HEADs each blob and uploads it when missing (as real clients do),
  then puts the manifest. A collection may remove a link between the HEAD (or
  the upload) and the PUT, since gc.delay is 0: the PUT then answers
  MANIFEST_BLOB_UNKNOWN and the pusher uploads again and retries, up to
  --attempts times (the design allows that); any other answer is an error.
- deleters: delete random acknowledged manifests by digest (keeping about a
  third of them), each marked "deleting" before the DELETE is sent.
- pullers: pull random acknowledged manifests that are not being deleted;
  a manifest that is served must have all its blobs (sha256-checked).
- one thread calls POST /v2/_berth/gc in a loop.

Stops after --max-pushes acknowledged manifest pushes or --seconds. Then, with
nothing else running, every acknowledged and not deleted manifest must pull
fully, by tag and by digest. Prints one JSON line of counts; exit 0 when no
problem was seen.
"""
import argparse
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gc_tool import OCI_I, OCI_M, Client, HttpError, image_manifest, sha  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--cacert")
    p.add_argument("--pushers", type=int, default=4)
    p.add_argument("--deleters", type=int, default=2)
    p.add_argument("--pullers", type=int, default=1)
    p.add_argument("--repos", type=int, default=3)
    p.add_argument("--shared", type=int, default=20)
    p.add_argument("--blob-size", type=int, default=16384)
    p.add_argument("--max-pushes", type=int, default=2000)
    p.add_argument("--seconds", type=float, default=90)
    p.add_argument("--attempts", type=int, default=100,
                   help="PUT attempts per manifest (each after re-uploading what is missing)")
    p.add_argument("--keep", type=float, default=0.35, help="share of acknowledged manifests left undeleted")
    p.add_argument("--no-gc", action="store_true", help="no collector thread (a baseline)")
    p.add_argument("--out", required=True, help="file for the acknowledged manifests (JSON lines)")
    a = p.parse_args()

    c = Client(a.base, a.cacert, timeout=60)
    rnd = random.Random()
    shared = [rnd.randbytes(a.blob_size) for _ in range(a.shared)]
    repos = [f"race/r{i}" for i in range(a.repos)]
    lock = threading.Lock()
    acked = []          # dicts: repo, tag, digest, blobs
    deleting = set()    # digests whose DELETE was (or is being) sent
    deleted = set()     # digests whose DELETE answered 202
    problems = []
    stats = {"pushes": 0, "push_attempts": 0, "blob_uploads": 0, "blob_unknown_retries": 0,
             "gave_up": 0, "deletes": 0, "pulls": 0, "pull_skipped": 0, "gc_runs": 0,
             "gc_errors": 0, "gc_manifests": 0, "gc_links": 0, "gc_blobs": 0, "push_errors": 0,
             "max_attempts": 0, "index_pushes": 0, "gave_up_index": 0, "max_attempts_index": 0}
    stop = threading.Event()
    deadline = time.monotonic() + a.seconds

    def bump(k, n=1):
        with lock:
            stats[k] += n

    def problem(s):
        with lock:
            if len(problems) < 200:
                problems.append(s)

    def pusher(tid):
        r = random.Random(tid)
        n = 0
        try:
            while not stop.is_set():
                with lock:
                    if stats["pushes"] >= a.max_pushes or time.monotonic() > deadline:
                        stop.set()
                        break
                n += 1
                repo = r.choice(repos)
                tag = f"p{tid}-{n}"
                # Every 5th push is an index of 2 images pushed by digest:
                # untagged until the index refers to them, so a collection
                # may remove a child before the index's PUT.
                children = []
                nkids = 2 if n % 5 == 0 else 0
                for k in range(max(1, nkids)):
                    config = json.dumps({"pusher": tid, "n": n, "k": k, "r": r.random()}).encode()
                    children.append(image_manifest(config, r.sample(shared, 2)))
                if nkids:
                    idx = json.dumps({"schemaVersion": 2, "mediaType": OCI_I, "manifests": [
                        {"mediaType": OCI_M, "digest": sha(cm), "size": len(cm)} for cm, _ in children]},
                        separators=(",", ":")).encode()
                    m, mtype = idx, OCI_I
                    blobs = {}
                    for _, cb in children:
                        blobs.update(cb)
                else:
                    m, blobs = children[0]
                    mtype = OCI_M
                ok = False
                for attempt in range(a.attempts):
                    try:
                        for cm, cb in children:
                            for d, data in cb.items():
                                if c.head_blob(repo, d) != 200:
                                    c.put_blob(repo, data, d)
                                    bump("blob_uploads")
                            if nkids and c.req("HEAD", f"/v2/{repo}/manifests/{sha(cm)}",
                                               headers={"Accept": OCI_M})[0] != 200:
                                c.put_manifest(repo, sha(cm), cm, OCI_M)
                        bump("push_attempts")
                        got = c.put_manifest(repo, tag, m, mtype)
                        if got != sha(m):
                            problem(f"PUT {repo}:{tag}: Docker-Content-Digest {got}, expected {sha(m)}")
                        ok = True
                        break
                    except HttpError as e:
                        if e.status == 400 and e.code() == "MANIFEST_BLOB_UNKNOWN":
                            bump("blob_unknown_retries")
                            continue
                        problem(f"PUT {repo}:{tag}: {e}")
                        bump("push_errors")
                        break
                if ok and nkids:
                    bump("index_pushes")
                with lock:
                    k = "max_attempts_index" if nkids else "max_attempts"
                    stats[k] = max(stats[k], attempt + 1)
                if ok:
                    with lock:
                        acked.append({"repo": repo, "tag": tag, "digest": sha(m),
                                      "blobs": {d: len(b) for d, b in blobs.items()}})
                        stats["pushes"] += 1
                elif attempt == a.attempts - 1:
                    bump("gave_up_index" if nkids else "gave_up")
        except Exception as e:  # a transport error: berth died or hung
            problem(f"pusher {tid}: {type(e).__name__}: {e}")
            stop.set()
        finally:
            c.close()

    def deleter(tid):
        r = random.Random(1000 + tid)
        try:
            while not stop.is_set():
                with lock:
                    live = len(acked) - len(deleting)
                    target = None
                    if len(acked) > 10 and live > a.keep * len(acked):
                        cand = acked[r.randrange(len(acked))]
                        if cand["digest"] not in deleting:
                            target = cand
                            deleting.add(cand["digest"])
                if target is None:
                    time.sleep(0.005)
                    continue
                st = c.delete_manifest(target["repo"], target["digest"])
                if st == 202:
                    with lock:
                        deleted.add(target["digest"])
                        stats["deletes"] += 1
                else:
                    problem(f"DELETE {target['repo']}@{target['digest']}: status {st}")
        except Exception as e:
            problem(f"deleter {tid}: {type(e).__name__}: {e}")
            stop.set()
        finally:
            c.close()

    def puller(tid):
        r = random.Random(2000 + tid)
        try:
            while not stop.is_set():
                with lock:
                    if not acked:
                        target = None
                    else:
                        target = acked[r.randrange(len(acked))]
                        if target["digest"] in deleting:
                            target = None
                if target is None:
                    time.sleep(0.005)
                    continue
                bump("pulls")
                pr = c.verify(target["repo"], target["digest"], target["digest"])
                if pr:
                    with lock:
                        racing = target["digest"] in deleting
                    if racing:
                        bump("pull_skipped")   # deleted while we pulled: allowed
                    else:
                        problem(f"pull during the run: {pr}")
        except Exception as e:
            problem(f"puller {tid}: {type(e).__name__}: {e}")
            stop.set()
        finally:
            c.close()

    def collector():
        try:
            while not stop.is_set():
                st, body = c.gc()
                if st != 200:
                    bump("gc_errors")
                    problem(f"POST /v2/_berth/gc: status {st}: {body[:200]!r}")
                    if stats["gc_errors"] > 5:
                        stop.set()
                    time.sleep(0.2)
                    continue
                o = json.loads(body)
                with lock:
                    stats["gc_runs"] += 1
                    stats["gc_manifests"] += o.get("manifests_deleted", 0)
                    stats["gc_links"] += o.get("links_deleted", 0)
                    stats["gc_blobs"] += o.get("blobs_deleted", 0)
        except Exception as e:
            problem(f"collector: {type(e).__name__}: {e}")
            stop.set()
        finally:
            c.close()

    threads = [threading.Thread(target=pusher, args=(i,)) for i in range(a.pushers)]
    threads += [threading.Thread(target=deleter, args=(i,)) for i in range(a.deleters)]
    threads += [threading.Thread(target=puller, args=(i,)) for i in range(a.pullers)]
    if not a.no_gc:
        threads += [threading.Thread(target=collector)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.seconds + 120)
    hung = sum(t.is_alive() for t in threads)
    if hung:
        problem(f"{hung} threads still running {a.seconds + 120:.0f} s after the end")
    stats["seconds"] = round(time.monotonic() - t0, 1)

    # Final check, nothing else running.
    survivors = [x for x in acked if x["digest"] not in deleting]
    final_ok = final_bad = 0
    for x in survivors:
        pr = c.verify(x["repo"], x["digest"], x["digest"]) + c.verify(x["repo"], x["tag"], x["digest"])
        if pr:
            final_bad += 1
            problem(f"final: {pr}")
        else:
            final_ok += 1
    gone_bad = 0
    for x in acked:
        if x["digest"] in deleted and c.get_manifest(x["repo"], x["digest"])[0] != 404:
            gone_bad += 1
            problem(f"final: deleted {x['repo']}@{x['digest']} is still served")
    with open(a.out, "w") as f:
        for x in acked:
            x = dict(x, deleted=x["digest"] in deleting)
            f.write(json.dumps(x) + "\n")
    stats.update({"acked": len(acked), "survivors": len(survivors), "final_ok": final_ok,
                  "final_bad": final_bad, "deleted_still_served": gone_bad,
                  "problems": len(problems), "first_problems": problems[:10]})
    print(json.dumps(stats), flush=True)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
