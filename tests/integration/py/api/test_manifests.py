"""end-3, end-7: pushing and pulling manifests (OCI and Docker, by tag and by
digest), the manifests berth refuses, the 4 MiB size limit and the memory
budget for manifest bodies."""

import json
import os
import time

import pytest

from .client import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_LAYER,
    OCI_MANIFEST,
    ZERO_DIGEST,
    RawReader,
    send_watching,
    sha256,
    sha512,
)
from .conftest import image_manifest, index_of, padded_manifest

REPO = "it/img"


@pytest.fixture(scope="module")
def blobs(reg, image):
    image.push_blobs(reg, REPO)


def test_put_and_pull_by_tag_and_digest(reg, image, blobs):
    r = reg.put_manifest(REPO, "v1", image.manifest, OCI_MANIFEST)
    assert r.status == 201, str(r)
    assert r.header("Docker-Content-Digest") == image.digest, f"not the sha256 of the exact bytes\n{r}"
    assert r.header("Location") == f"/v2/{REPO}/manifests/{image.digest}", str(r)

    for ref, headers in (("v1", {"Accept": OCI_MANIFEST}), (image.digest, None)):
        r = reg.get(f"/v2/{REPO}/manifests/{ref}", headers=headers)
        assert r.status == 200, str(r)
        assert r.body == image.manifest, f"not the exact pushed bytes\n{r}"
        assert r.header("Content-Type") == OCI_MANIFEST, str(r)
        assert r.header("Docker-Content-Digest") == image.digest, str(r)

    for ref in ("v1", image.digest):
        r = reg.head(f"/v2/{REPO}/manifests/{ref}")
        assert r.status == 200, str(r)
        assert r.header("Content-Length") == str(len(image.manifest)), str(r)
        assert r.header("Docker-Content-Digest") == image.digest, str(r)
        assert r.header("Content-Type") == OCI_MANIFEST, str(r)


@pytest.mark.parametrize("ref", ["nope", ZERO_DIGEST], ids=["tag", "digest"])
def test_unknown_manifest(reg, blobs, ref):
    r = reg.get(f"/v2/{REPO}/manifests/{ref}")
    assert r.error == (404, "MANIFEST_UNKNOWN"), str(r)
    if ref == "nope":
        r = reg.head(f"/v2/{REPO}/manifests/{ref}")
        assert r.status == 404, str(r)


def test_manifest_of_unknown_repository(reg):
    r = reg.get("/v2/it/nosuchrepo/manifests/v1")
    assert r.status == 404 and r.error_code, f"want 404 with an OCI error envelope\n{r}"


@pytest.mark.parametrize("algo", [sha256, sha512], ids=["sha256", "sha512"])
def test_put_by_own_digest(reg, image, blobs, algo):
    m = image.manifest_with(annotations={"by": "digest"})
    d = algo(m)
    r = reg.put_manifest(REPO, d, m, OCI_MANIFEST)
    assert (r.status, r.header("Docker-Content-Digest")) == (201, d), str(r)
    r = reg.get(f"/v2/{REPO}/manifests/{d}")
    assert r.body == m, f"GET by that digest does not return the exact bytes\n{r}"


def test_tag_moves_to_last_push(reg, image, blobs):
    other = image.manifest_with(annotations={"by": "digest"})
    reg.put_manifest(REPO, "moving", other, OCI_MANIFEST)
    reg.put_manifest(REPO, "moving", image.manifest, OCI_MANIFEST)
    r = reg.get(f"/v2/{REPO}/manifests/moving")
    assert (r.status, r.header("Docker-Content-Digest")) == (200, image.digest), str(r)


def test_blobs_must_be_in_the_repository(reg, image, blobs):
    r = reg.put_manifest("it/b", "v1", image.manifest, OCI_MANIFEST)
    assert r.error == (400, "MANIFEST_BLOB_UNKNOWN"), f"blobs only in another repository\n{r}"


def docker_image(image):
    config = {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}}
    config = json.dumps(config).encode()
    return config, image_manifest(DOCKER_MANIFEST, DOCKER_CONFIG, config, DOCKER_LAYER, image.layer)


@pytest.mark.parametrize("kind", ["oci-index", "docker-schema2", "docker-list"])
def test_other_manifest_types(reg, image, blobs, kind):
    dconfig, docker = docker_image(image)
    if kind == "oci-index":
        tag, mt, m = "multi", OCI_INDEX, index_of(OCI_INDEX, OCI_MANIFEST, image.manifest)
    elif kind == "docker-schema2":
        reg.push_blob(REPO, dconfig)
        tag, mt, m = "docker", DOCKER_MANIFEST, docker
    else:
        reg.push_blob(REPO, dconfig)
        assert reg.put_manifest(REPO, "docker", docker, DOCKER_MANIFEST).status == 201
        tag, mt, m = "dlist", DOCKER_LIST, index_of(DOCKER_LIST, DOCKER_MANIFEST, docker)
    r = reg.put_manifest(REPO, tag, m, mt)
    assert (r.status, r.header("Docker-Content-Digest")) == (201, sha256(m)), str(r)
    r = reg.get(f"/v2/{REPO}/manifests/{tag}")
    assert r.header("Content-Type") == mt, str(r)
    assert r.body == m, f"not the exact pushed bytes\n{r}"


# -- refused manifests --

SCHEMA1 = json.dumps(
    {"schemaVersion": 1, "name": REPO, "tag": "old", "architecture": "amd64", "fsLayers": [], "history": []}, indent=2
).encode()


@pytest.mark.parametrize(
    "media_type,body",
    [
        ("application/vnd.docker.distribution.manifest.v1+prettyjws", SCHEMA1),
        ("application/vnd.docker.distribution.manifest.v1+json", SCHEMA1),
        (OCI_MANIFEST, b"this is { not json"),
        (OCI_MANIFEST, json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}).encode()),
    ],
    ids=["docker-schema1-signed", "docker-schema1-unsigned", "not-json", "mediaType-contradicts-Content-Type"],
)
def test_invalid_manifest(reg, blobs, media_type, body):
    tag = "old" if b'"schemaVersion": 1' in body else "bad"
    r = reg.put_manifest(REPO, tag, body, media_type)
    assert r.error == (400, "MANIFEST_INVALID"), str(r)


@pytest.mark.parametrize("missing", ["layer", "config", "index-child"])
def test_manifest_blob_unknown(reg, image, blobs, missing):
    absent = os.urandom(99)
    nolayer = image_manifest(OCI_MANIFEST, OCI_CONFIG, image.config, OCI_LAYER, absent)
    if missing == "layer":
        mt, m = OCI_MANIFEST, nolayer
    elif missing == "config":
        mt, m = OCI_MANIFEST, image_manifest(OCI_MANIFEST, OCI_CONFIG, absent, OCI_LAYER, image.layer)
    else:
        mt, m = OCI_INDEX, index_of(OCI_INDEX, OCI_MANIFEST, nolayer)
    r = reg.put_manifest(REPO, "bad", m, mt)
    assert r.error == (400, "MANIFEST_BLOB_UNKNOWN"), str(r)
    r = reg.get(f"/v2/{REPO}/manifests/bad")
    assert r.error == (404, "MANIFEST_UNKNOWN"), f"a refused manifest left its tag behind\n{r}"


def test_put_by_a_digest_not_its_own(reg, image, blobs):
    r = reg.put_manifest(REPO, ZERO_DIGEST, image.manifest, OCI_MANIFEST)
    assert r.error == (400, "DIGEST_INVALID"), str(r)


# -- size limit: a valid manifest of exactly 4 MiB is accepted, one byte more is 413 --

LIMIT = 4194304


@pytest.fixture(scope="module")
def over_manifest(image):
    return padded_manifest(image, LIMIT + 1)


def test_manifest_of_4_mib(reg, blobs, max_manifest):
    assert len(max_manifest) == LIMIT, "test manifest is not 4194304 bytes"
    r = reg.put_manifest(REPO, "max", max_manifest, OCI_MANIFEST)
    assert (r.status, r.header("Docker-Content-Digest")) == (201, sha256(max_manifest)), str(r)
    r = reg.get(f"/v2/{REPO}/manifests/max")
    assert r.body == max_manifest, f"4 MiB manifest does not pull back identical\n{r}"


def expect_100_continue_put(reg, path, body):
    """Sends the head of a PUT with Expect: 100-continue, and the body only
    on "100 Continue"; returns the final status (curl's behaviour for large
    bodies, which requests does not have)."""
    s = reg.connect(timeout=20)
    s.sendall(
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {OCI_MANIFEST}\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
    )
    reader = RawReader(s)
    status, hdrs, got = reader.answer()
    if status == "100":
        s.sendall(body)
        status, hdrs, got = reader.answer()
    s.close()
    return status, got


def test_manifest_over_4_mib(reg, blobs, over_manifest):
    assert len(over_manifest) == LIMIT + 1, "test manifest is not 4194305 bytes"
    path = f"/v2/{REPO}/manifests/over"
    status, body = expect_100_continue_put(reg, path, over_manifest)
    try:
        code = json.loads(body)["errors"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        code = None
    assert status == "413" and code, (
        f"want 413 with an OCI error envelope\nPUT {path} (Expect: 100-continue) -> {status}, body {body[:300]!r}"
    )
    # Chunked: no length known up front.
    r = reg.put_manifest(REPO, "over", iter([over_manifest]), OCI_MANIFEST)
    assert r.status == 413 and r.error_code, f"want 413 with an OCI error envelope\n{r}"
    r = reg.get(path)
    assert r.error == (404, "MANIFEST_UNKNOWN"), f"oversized manifest stored\n{r}"


def test_manifest_over_4_mib_without_expect(reg, blobs, over_manifest):
    """Without Expect: 100-continue the server answers before reading the
    body; a client that watches for an answer while it sends (curl, Go) must
    still get to read that 413 (RFC 9112 §9.6 lingering close). Five tries,
    each on a new connection."""
    path = f"/v2/{REPO}/manifests/over"
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {OCI_MANIFEST}\r\n"
        f"Content-Length: {len(over_manifest)}\r\n\r\n"
    ).encode()
    for i in range(5):
        s = reg.connect(timeout=20)
        status, _, body = send_watching(s, head, over_manifest).answer()
        s.close()
        assert status == "413", f"try {i + 1}: PUT {path} without Expect -> {status}, body {body[:300]!r}"


def test_manifest_budget(reg, blobs, max_manifest):
    """Manifest bodies are held in memory within a process-wide budget (64
    MiB, registry/body_budget.hpp). 16 PUTs declaring the largest manifest
    (4 MiB) and stalling after 1 KiB take all of it; the 17th is answered
    429 TOOMANYREQUESTS with Retry-After before it sends its body. When the
    stalled clients vanish the budget comes back and a 4 MiB PUT succeeds.
    Behind HAProxy (BERTH_TARGET=cluster) the budget is per node and the
    stalled PUTs alternate nodes: it takes 16 per node."""
    count = 16 * reg.nodes

    def start(tag):
        s = reg.connect(timeout=20)
        s.sendall(
            f"PUT /v2/it/budget/manifests/{tag} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: {OCI_MANIFEST}\r\nContent-Length: {LIMIT}\r\n\r\n".encode()
            + b"{"
            + b" " * 1023
        )
        return s

    stalled = [start(f"s{i}") for i in range(count)]
    try:
        time.sleep(1)  # every head handled, every claim made
        s = start("over")
        resp = b""
        while b"\r\n\r\n" not in resp or not resp.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            resp += chunk
        s.close()
    finally:
        for t in stalled:
            t.close()
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    try:
        code = json.loads(body)["errors"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        code = None
    status = lines[0].split(" ")[1] if " " in lines[0] else "000"
    assert (status, code, hdrs.get("retry-after")) == ("429", "TOOMANYREQUESTS", "1"), (
        f"stalled 4 MiB manifest PUT {count + 1} -> {resp[:400]!r}"
    )

    # The vanished clients' share comes back (the server sees the
    # connections close while it waits for their bodies).
    for _ in range(10):
        r = reg.put_manifest(REPO, "budget", max_manifest, OCI_MANIFEST)
        if r.status == 201:
            break
        time.sleep(0.5)
    assert r.status == 201, f"a 4 MiB manifest PUT after the stalled clients vanished\n{r}"
