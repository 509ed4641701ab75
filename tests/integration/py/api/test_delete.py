"""end-9, end-10: deleting tags, manifests and blobs."""

from .client import MD5_DIGEST, sha256

REPO = "it/del"


def test_delete(reg, image, img_repo):
    image.push(reg, REPO, "one", "two", "three")
    base = f"/v2/{REPO}/manifests"

    r = reg.delete(f"{base}/one")
    assert r.status == 202, f"DELETE a tag\n{r}"
    r = reg.get(f"{base}/one")
    assert r.error == (404, "MANIFEST_UNKNOWN"), f"deleted tag is still there\n{r}"
    r = reg.get(f"{base}/{image.digest}")
    assert r.status == 200, f"manifest gone by digest after its tag was deleted\n{r}"
    r = reg.get(f"{base}/two")
    assert r.status == 200, f"other tags touched\n{r}"
    r = reg.delete(f"{base}/one")
    assert r.error == (404, "MANIFEST_UNKNOWN"), f"DELETE the deleted tag again\n{r}"

    r = reg.delete(f"{base}/{image.digest}")
    assert r.status == 202, f"DELETE a manifest by digest\n{r}"
    r = reg.get(f"{base}/{image.digest}")
    assert r.error == (404, "MANIFEST_UNKNOWN"), f"deleted manifest still there by digest\n{r}"
    r = reg.get(f"{base}/two")
    assert r.error == (404, "MANIFEST_UNKNOWN"), f"tag 'two' of the deleted manifest still there\n{r}"
    r = reg.head(f"{base}/three")
    assert r.status == 404, f"tag 'three' of the deleted manifest still there\n{r}"
    r = reg.get(f"/v2/{REPO}/tags/list")
    assert (r.json() or {}).get("tags") == [], f"tags left\n{r}"
    r = reg.delete(f"{base}/{image.digest}")
    assert r.error == (404, "MANIFEST_UNKNOWN"), f"DELETE the deleted manifest again\n{r}"
    r = reg.delete(f"/v2/it/never/pushed/manifests/{image.digest}")
    assert r.status == 404 and r.error_code, f"want 404 with an OCI error envelope\n{r}"

    layer = sha256(image.layer)
    r = reg.delete(f"/v2/{REPO}/blobs/{layer}")
    assert (r.status, r.header("Docker-Content-Digest")) == (202, layer), f"DELETE a blob\n{r}"
    r = reg.head(f"/v2/{REPO}/blobs/{layer}")
    assert r.status == 404, f"deleted blob still there (HEAD)\n{r}"
    r = reg.get(f"/v2/{REPO}/blobs/{layer}")
    assert r.error == (404, "BLOB_UNKNOWN"), f"deleted blob still there (GET)\n{r}"
    r = reg.delete(f"/v2/{REPO}/blobs/{layer}")
    assert r.error == (404, "BLOB_UNKNOWN"), f"DELETE the deleted blob again\n{r}"
    r = reg.head(f"/v2/{img_repo}/blobs/{layer}")
    assert r.status == 200, f"the same blob in another repository is gone\n{r}"
    r = reg.delete(f"/v2/{REPO}/blobs/{MD5_DIGEST}")
    assert r.error == (400, "DIGEST_INVALID"), str(r)
