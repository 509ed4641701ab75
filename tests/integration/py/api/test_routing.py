"""Routing (unknown methods and paths), keep-alive across kinds of answer,
oversized request heads."""

import os

import pytest

from .client import ZERO_DIGEST, sha256


@pytest.mark.parametrize(
    "method,path",
    [
        ("FOO", "/v2/"),
        ("DELETE", "/v2/"),
        ("POST", "/v2/it/img/manifests/v1"),
        ("PATCH", "/v2/it/img/blobs/{digest}"),
        ("PUT", "/v2/it/img/tags/list"),
        ("DELETE", "/v2/it/img/referrers/{digest}"),
        ("POST", "/v2/_catalog"),
        ("GET", "/v2/it/img/blobs/uploads/"),
    ],
)
def test_method_not_allowed(reg, image, img_repo, method, path):
    r = reg.req(method, path.format(digest=image.digest))
    assert r.error == (405, "UNSUPPORTED"), str(r)


@pytest.mark.parametrize(
    "path",
    ["/v3/", "/", "/v2/it/img/nothing/here", "/v2/it/img", "/v2/_catalog/x", "/v2/it/img/manifests/",
     "/v2/it/img/blobs/"],
)
def test_unknown_path(reg, img_repo, path):
    r = reg.get(path)
    assert r.status == 404 and r.error_code, f"want 404 with an OCI error envelope\n{r}"


def test_keep_alive_across_answers(reg, image, img_repo):
    """A blob, an error, a manifest and a plain answer on one connection."""
    s = reg.new_session()
    paths = (
        f"/v2/it/img/blobs/{sha256(image.layer)}", f"/v2/it/img/blobs/{ZERO_DIGEST}", "/v2/it/img/manifests/v1", "/v2/"
    )
    got = [reg.get(p, session=s) for p in paths]
    assert [r.status for r in got] == [200, 404, 200, 200], "\n".join(map(str, got))
    pool = s.get_adapter(reg.base).poolmanager.connection_from_url(reg.base)
    assert pool.num_connections == 1, f"four requests took {pool.num_connections} connections"


def test_header_of_8_kb(reg):
    r = reg.get("/v2/", headers={"X-Medium": "a" * 8000})
    assert r.status == 200, str(r)


one_berth = pytest.mark.skipif(
    os.environ.get("API_TARGET") == "cluster",
    reason="BERTH_TARGET=cluster: HAProxy in front answers an oversized head itself (400, its 16 KiB buffer)",
)


@one_berth
def test_header_of_100_kb(reg):
    """The server answers 431, and the client gets to read it each time
    (lingering close). Five tries."""
    for i in range(5):
        r = reg.get("/v2/", headers={"X-Big": "a" * 100000}, session=reg.new_session())
        assert r.status == 431, f"try {i + 1}\n{r}"


@one_berth
def test_header_just_over_16_kib(reg):
    r = reg.get("/v2/", headers={"X-Big": "a" * 20000})
    assert r.status == 431 and r.error_code, f"want 431 with an OCI error envelope\n{r}"
    r = reg.get("/v2/")
    assert r.status == 200, f"no answer on the next connection after a 431\n{r}"
