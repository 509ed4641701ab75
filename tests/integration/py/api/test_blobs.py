"""end-2, end-4a/b, end-6, end-11: monolithic uploads, pulling blobs back
(whole and by Range), cross-repository mounts."""

import os

import pytest

from .client import OCTET, ZERO_DIGEST, sha256, sha512

REPO = "it/mono"


@pytest.mark.parametrize(
    "mode,algo,size",
    [
        ("post-then-put", sha256, 1000),
        ("single-post", sha256, 4321),
        ("post-then-put", sha512, 777),
        ("single-post", sha512, 555),
    ],
    ids=lambda v: v.__name__ if callable(v) else str(v),
)
def test_monolithic_upload(reg, mode, algo, size):
    data = os.urandom(size)
    d = algo(data)
    if mode == "post-then-put":
        r, loc = reg.start_upload(REPO)
        assert r.status == 202, str(r)
        assert loc.startswith(f"/v2/{REPO}/blobs/uploads/") and len(loc) > len(f"/v2/{REPO}/blobs/uploads/"), (
            f"Location is not a session of {REPO}\n{r}"
        )
        r = reg.put(f"{loc}?digest={d}", headers=OCTET, data=data)
    else:
        r = reg.post(f"/v2/{REPO}/blobs/uploads/?digest={d}", headers=OCTET, data=data)
    assert r.status == 201, str(r)
    assert r.header("Location") == f"/v2/{REPO}/blobs/{d}", str(r)
    assert r.header("Docker-Content-Digest") == d, str(r)

    r = reg.head(f"/v2/{REPO}/blobs/{d}")
    assert r.status == 200, str(r)
    assert r.header("Content-Length") == str(size), str(r)
    assert r.header("Docker-Content-Digest") == d, str(r)

    r = reg.get(f"/v2/{REPO}/blobs/{d}")
    assert r.status == 200, str(r)
    assert r.body == data, f"GET does not return the pushed bytes\n{r}"
    assert r.header("Content-Length") == str(size), str(r)
    assert r.header("Docker-Content-Digest") == d, str(r)
    assert r.header("Docker-Distribution-Api-Version") == "registry/2.0", str(r)
    assert r.header("Content-Type") == "application/octet-stream", str(r)


def test_empty_blob(reg):
    """Used by empty layers and artifacts."""
    d = sha256(b"")
    r = reg.post(f"/v2/{REPO}/blobs/uploads/?digest={d}")
    assert r.status == 201, str(r)
    r = reg.head(f"/v2/{REPO}/blobs/{d}")
    assert (r.status, r.header("Content-Length")) == (200, "0"), str(r)


def test_single_post_wrong_digest_stores_nothing(reg):
    """The digest claimed is that of a blob the repository has."""
    claimed = reg.push_blob(REPO, os.urandom(1000))
    data = os.urandom(100)
    r = reg.post(f"/v2/{REPO}/blobs/uploads/?digest={claimed}", headers=OCTET, data=data)
    assert r.error == (400, "DIGEST_INVALID"), str(r)
    r = reg.head(f"/v2/{REPO}/blobs/{sha256(data)}")
    assert r.status == 404, f"blob of a refused single POST is stored\n{r}"


def test_unknown_blob(reg):
    r = reg.get(f"/v2/{REPO}/blobs/{ZERO_DIGEST}")
    assert r.error == (404, "BLOB_UNKNOWN"), str(r)
    r = reg.head(f"/v2/{REPO}/blobs/{ZERO_DIGEST}")
    assert r.status == 404, str(r)


# -- Range requests --


@pytest.fixture(scope="module")
def ranged(reg):
    data = os.urandom(1000)
    return data, reg.push_blob("it/range", data)


@pytest.mark.parametrize(
    "spec,first,last",
    [("bytes=0-9", 0, 9), ("bytes=-5", 995, 999), ("bytes=990-", 990, 999), ("bytes=995-5000", 995, 999)],
    ids=["bytes=0-9", "bytes=-5", "bytes=990-", "bytes=995-5000 (clipped)"],
)
def test_range(reg, ranged, spec, first, last):
    data, d = ranged
    r = reg.get(f"/v2/it/range/blobs/{d}", headers={"Range": spec})
    assert r.status == 206, str(r)
    assert r.header("Content-Range") == f"bytes {first}-{last}/1000", str(r)
    assert r.header("Content-Length") == str(last - first + 1), str(r)
    assert r.body == data[first : last + 1], f"not bytes {first}-{last} of the blob\n{r}"


def test_range_unsatisfiable(reg, ranged):
    _, d = ranged
    r = reg.get(f"/v2/it/range/blobs/{d}", headers={"Range": "bytes=1000-1010"})
    assert r.status == 416 and r.error_code, f"want 416 with an OCI error envelope\n{r}"
    assert r.header("Content-Range") == "bytes */1000", str(r)


# -- end-11: cross-repository mount --


def test_mount(reg):
    data = os.urandom(333)
    d = reg.push_blob("it/a", data)
    r = reg.get(f"/v2/it/b/blobs/{d}")
    assert r.error == (404, "BLOB_UNKNOWN"), f"blob pushed to it/a is known in it/b\n{r}"

    r = reg.post(f"/v2/it/b/blobs/uploads/?mount={d}&from=it/a")
    assert r.status == 201, str(r)
    assert r.header("Location") == f"/v2/it/b/blobs/{d}", str(r)
    assert r.header("Docker-Content-Digest") == d, str(r)
    r = reg.get(f"/v2/it/b/blobs/{d}")
    assert r.body == data, f"mounted blob does not pull from it/b\n{r}"


def test_mount_from_repository_without_the_blob_starts_an_upload(reg):
    d = reg.push_blob("it/a", os.urandom(222))
    r = reg.post(f"/v2/it/c/blobs/uploads/?mount={d}&from=it/nothing")
    assert r.status == 202, str(r)
    assert r.header("Docker-Upload-UUID"), str(r)
    loc = r.header("Location")
    assert loc.rsplit("/", 1)[0] + "/" == "/v2/it/c/blobs/uploads/", f"not an upload session of it/c\n{r}"
    r = reg.head(f"/v2/it/c/blobs/{d}")
    assert r.status == 404, f"blob mounted by the fallback\n{r}"
    reg.delete(loc)


def test_mount_invalid_digest(reg):
    r = reg.post("/v2/it/c/blobs/uploads/?mount=sha256:nothex&from=it/a")
    assert r.error == (400, "DIGEST_INVALID"), str(r)
