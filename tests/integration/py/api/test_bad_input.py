"""Malformed repository names, digests and tags."""

import pytest

from .client import MD5_DIGEST, OCI_MANIFEST, OCTET, ZERO_DIGEST

LONG = "a" * 300


@pytest.mark.parametrize(
    "name", ["../x", "A/b", LONG, "%2e%2e", "x/%2e%2e/y", "a//b", "a/", "-a", "a..b", "UPPER"],
    ids=lambda n: n[:20],
)
def test_invalid_name_tags_list(reg, name):
    r = reg.get(f"/v2/{name}/tags/list")
    assert r.error == (400, "NAME_INVALID"), str(r)


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/v2/A/b/manifests/latest"),
        ("POST", "/v2/../x/blobs/uploads/"),
        ("GET", f"/v2/%2e%2e/blobs/{ZERO_DIGEST}"),
        ("GET", f"/v2/{LONG}/blobs/{ZERO_DIGEST}"),
        ("GET", f"/v2/it/{LONG[:100]}/{LONG[:100]}/tags/list"),  # 204 characters, over berth's 200
    ],
    ids=["manifest", "start-upload", "blob", "300-char-name-blob", "204-char-name"],
)
def test_invalid_name(reg, method, path):
    r = reg.req(method, path)
    assert r.error == (400, "NAME_INVALID"), str(r)


def test_name_of_200_characters_is_valid(reg):
    r = reg.get(f"/v2/{LONG[:200]}/tags/list")
    assert r.error == (404, "NAME_UNKNOWN"), str(r)


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:1234",
        "sha256:" + "A" * 64,
        "sha256:" + "g" * 64,
        MD5_DIGEST,
        "sha257:" + "0" * 64,
        "sha256",
        "sha256:",
        ":" + "0" * 64,
        "sha512:" + "0" * 64,
    ],
    ids=lambda d: d[:16],
)
def test_invalid_blob_digest(reg, img_repo, digest):
    r = reg.get(f"/v2/{img_repo}/blobs/{digest}")
    assert r.error == (400, "DIGEST_INVALID"), str(r)


def test_head_blob_md5(reg, img_repo):
    r = reg.head(f"/v2/{img_repo}/blobs/{MD5_DIGEST}")
    assert r.status == 400, str(r)


@pytest.mark.parametrize(
    "ref",
    [MD5_DIGEST, "sha256:zzz", "-bad", "t" * 129, "t" * 128],
    ids=["md5-digest", "malformed-sha256", "invalid-tag", "129-char-tag", "128-char-tag-valid"],
)
def test_manifest_reference_naming_nothing(reg, img_repo, ref):
    """A reference that is neither a tag nor a digest names no manifest: 404."""
    r = reg.get(f"/v2/{img_repo}/manifests/{ref}")
    assert r.error == (404, "MANIFEST_UNKNOWN"), str(r)


@pytest.mark.parametrize(
    "ref", [MD5_DIGEST, "sha256:zzz", "b@d"], ids=["md5-digest", "malformed-sha256", "invalid-tag"]
)
def test_head_manifest_reference_naming_nothing(reg, img_repo, ref):
    r = reg.head(f"/v2/{img_repo}/manifests/{ref}")
    assert r.status == 404, str(r)


def test_single_post_md5(reg, img_repo):
    r = reg.post(f"/v2/{img_repo}/blobs/uploads/?digest={MD5_DIGEST}", headers=OCTET, data=b"x")
    assert r.error == (400, "DIGEST_INVALID"), str(r)


@pytest.mark.parametrize("tag", ["-bad", ".bad", "bad%20tag", "t" * 129, "b@d"], ids=lambda t: t[:12])
def test_put_manifest_invalid_tag(reg, image, img_repo, tag):
    r = reg.put_manifest(img_repo, tag, image.manifest, OCI_MANIFEST)
    assert r.status == 400 and r.error_code, f"want 400 with an OCI error envelope\n{r}"
