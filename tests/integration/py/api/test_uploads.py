"""end-5, end-6, end-13 and session cancel: chunked uploads, their errors,
and clients that vanish halfway through a body."""

import os
import time

import pytest

from .client import MD5_DIGEST, OCTET, sha256, sha512

REPO = "it/chunk"


def octet(**extra):
    h = dict(OCTET)
    h.update(extra)
    return h


def test_chunked_upload(reg):
    data = os.urandom(50)
    d = sha256(data)
    r, loc = reg.start_upload(REPO)
    assert r.status == 202, str(r)
    uuid = r.header("Docker-Upload-UUID")
    assert uuid, f"no Docker-Upload-UUID\n{r}"
    assert loc == f"/v2/{REPO}/blobs/uploads/{uuid}", f"Location does not end in the upload UUID\n{r}"

    r = reg.patch(loc, headers=octet(**{"Content-Range": "0-9"}), data=data[:10])
    assert r.status == 202, str(r)
    assert r.header("Range") == "0-9", str(r)
    assert r.header("Location"), f"PATCH answers no Location\n{r}"
    loc = r.header("Location")

    r = reg.get(loc)
    assert r.status == 204, str(r)
    assert r.header("Range") == "0-9", str(r)
    assert r.header("Location") == loc, str(r)
    assert r.header("Docker-Upload-UUID") == uuid, str(r)

    # Docker-style streamed PATCH: no Content-Range, chunked transfer encoding.
    r = reg.patch(loc, headers=octet(), data=iter([data[10:30]]))
    assert r.status == 202, str(r)
    assert r.header("Range") == "0-29", str(r)
    # And streamed with a Content-Length.
    r = reg.patch(loc, headers=octet(), data=data[30:40])
    assert r.status == 202, str(r)
    assert r.header("Range") == "0-39", str(r)

    # The final PUT carries the last chunk.
    r = reg.put(f"{loc}?digest={d}", headers=octet(**{"Content-Range": "40-49"}), data=data[40:])
    assert r.status == 201, str(r)
    assert r.header("Location") == f"/v2/{REPO}/blobs/{d}", str(r)
    assert r.header("Docker-Content-Digest") == d, str(r)
    r = reg.get(f"/v2/{REPO}/blobs/{d}")
    assert r.body == data, f"chunked blob does not pull back identical\n{r}"
    r = reg.get(loc)
    assert r.error == (404, "BLOB_UPLOAD_UNKNOWN"), f"status of a completed upload\n{r}"


@pytest.mark.parametrize(
    "content_range,start,end",
    [("20-29", 20, 30), ("0-9", 0, 10), ("10-29", 30, 40)],
    ids=["out-of-order", "repeated", "range-disagrees-with-10-byte-body"],
)
def test_patch_refused_after_first_chunk(reg, content_range, start, end):
    """After a PATCH of 0-9, these are 416 and the session stays at 0-9."""
    data = os.urandom(50)
    _, loc = reg.start_upload(REPO)
    r = reg.patch(loc, headers=octet(**{"Content-Range": "0-9"}), data=data[:10])
    assert (r.status, r.header("Range")) == (202, "0-9"), str(r)
    loc = r.header("Location")
    r = reg.patch(loc, headers=octet(**{"Content-Range": content_range}), data=data[start:end])
    assert r.status == 416 and r.error_code, f"want 416 with an OCI error envelope\n{r}"
    assert r.header("Range") == "0-9", f"a refused PATCH should tell the current Range\n{r}"
    reg.delete(loc)


def test_final_put_without_body_sha512(reg):
    data = os.urandom(300)
    d = sha512(data)
    _, loc = reg.start_upload(REPO)
    r = reg.patch(loc, headers=octet(**{"Content-Range": "0-299"}), data=data)
    assert (r.status, r.header("Range")) == (202, "0-299"), str(r)
    r = reg.put(f"{r.header('Location')}?digest={d}", data=b"")
    assert r.status == 201, str(r)
    r = reg.get(f"/v2/{REPO}/blobs/{d}")
    assert r.body == data, f"chunked sha512 blob does not pull back identical\n{r}"


def test_final_put_wrong_digest_publishes_nothing(reg):
    data = os.urandom(64)
    other = sha256(b"something else")
    _, loc = reg.start_upload(REPO)
    r = reg.patch(loc, headers=octet(), data=data)
    r = reg.put(f"{r.header('Location') or loc}?digest={other}", data=b"")
    assert r.error == (400, "DIGEST_INVALID"), str(r)
    r = reg.head(f"/v2/{REPO}/blobs/{other}")
    assert r.status == 404, f"blob available under the claimed digest\n{r}"
    r = reg.head(f"/v2/{REPO}/blobs/{sha256(data)}")
    assert r.status == 404, f"blob available under the real digest\n{r}"


@pytest.mark.parametrize("query", ["", f"?digest={MD5_DIGEST}"], ids=["no-digest", "md5"])
def test_final_put_bad_digest(reg, query):
    _, loc = reg.start_upload(REPO)
    r = reg.put(loc + query, headers=octet(), data=os.urandom(64))
    assert r.error == (400, "DIGEST_INVALID"), str(r)


def test_cancel_session(reg):
    _, loc = reg.start_upload(REPO)
    r = reg.delete(loc)
    assert r.status == 204, str(r)
    r = reg.get(loc)
    assert r.error == (404, "BLOB_UPLOAD_UNKNOWN"), f"status of a cancelled session\n{r}"
    r = reg.delete(loc)
    assert r.error == (404, "BLOB_UPLOAD_UNKNOWN"), f"cancelling again\n{r}"
    r = reg.patch(loc, headers=octet(), data=os.urandom(64))
    assert r.error == (404, "BLOB_UPLOAD_UNKNOWN"), f"PATCH of a cancelled session\n{r}"


UNKNOWN = f"/v2/{REPO}/blobs/uploads/0123456789abcdef0123456789abcdef"
BLOB64 = os.urandom(64)


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("PUT", f"{UNKNOWN}?digest={sha256(BLOB64)}", BLOB64),
        ("PATCH", UNKNOWN, BLOB64),
        ("GET", UNKNOWN, None),
        ("GET", f"/v2/{REPO}/blobs/uploads/not-an-upload-id", None),
        ("DELETE", UNKNOWN, None),
    ],
    ids=["put", "patch", "get", "get-malformed-id", "delete"],
)
def test_unknown_session(reg, method, path, body):
    r = reg.req(method, path, headers=octet() if body else None, data=body)
    assert r.error == (404, "BLOB_UPLOAD_UNKNOWN"), str(r)


def test_session_belongs_to_its_repository(reg):
    _, loc = reg.start_upload(REPO)
    r = reg.get(f"/v2/it/other/blobs/uploads/{loc.rsplit('/', 1)[1]}")
    assert r.error == (404, "BLOB_UPLOAD_UNKNOWN"), f"a session used through another repository\n{r}"
    reg.delete(loc)


# -- clients that vanish mid-body --


def send_and_vanish(reg, head, body, linger=0.0):
    """Opens TLS, sends HEAD and BODY (less than HEAD declares), closes."""
    s = reg.connect()
    s.sendall(head.encode() + body)
    if linger:
        time.sleep(linger)
    s.close()


def test_partial_bodies(reg):
    data = os.urandom(100000)
    d = sha256(data)
    repo = "it/half"

    # A final PUT that stops halfway.
    _, loc = reg.start_upload(repo)
    send_and_vanish(
        reg,
        f"PUT {loc}?digest={d} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
        "Content-Length: 100000\r\n\r\n",
        data[:50000],
        linger=0.2,
    )
    r = reg.get("/v2/")
    assert r.status == 200, f"server does not answer after a client vanished mid-body\n{r}"
    r = reg.head(f"/v2/{repo}/blobs/{d}")
    assert r.status == 404, f"half-sent blob is stored\n{r}"
    r = reg.get(loc)
    assert (r.status, r.header("Range")) == (204, "0-0"), f"session not rolled back to empty\n{r}"

    # A PATCH that stops halfway after one good chunk: the good chunk stays.
    r = reg.patch(loc, headers=octet(**{"Content-Range": "0-999"}), data=data[:1000])
    assert (r.status, r.header("Range")) == (202, "0-999"), str(r)
    send_and_vanish(
        reg,
        f"PATCH {loc} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Range: 1000-1999\r\nContent-Length: 1000\r\n"
        "Content-Type: application/octet-stream\r\n\r\n",
        data[:500],
    )
    time.sleep(0.2)
    r = reg.get(loc)
    assert (r.status, r.header("Range")) == (204, "0-999"), f"abandoned PATCH not rolled back to the good chunk\n{r}"
    r = reg.put(f"{loc}?digest={d}", headers=octet(**{"Content-Range": "1000-99999"}), data=data[1000:])
    assert r.status == 201, f"the session cannot be completed\n{r}"
    r = reg.get(f"/v2/{repo}/blobs/{d}")
    assert r.body == data, f"completed blob is not the full content\n{r}"

    # A monolithic POST that stops halfway.
    other = os.urandom(50000)
    od = sha256(other)
    send_and_vanish(
        reg,
        f"POST /v2/{repo}/blobs/uploads/?digest={od} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50000\r\n"
        "Content-Type: application/octet-stream\r\n\r\n",
        other[:25000],
    )
    r = reg.head(f"/v2/{repo}/blobs/{od}")
    assert r.status == 404, f"half-sent single POST is stored\n{r}"
    r = reg.get("/v2/")
    assert r.status == 200, f"server not alive at the end\n{r}"
