"""The subject field and end-12: the referrers API (listing, artifactType
filter, paging, errors). Each scenario has a repository of its own."""

import json
import os

import pytest

from .client import OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, sha256
from .conftest import image_manifest, index_of

SIG = "application/vnd.example.sig"
EMPTY_CONFIG = b"{}"
SBOM_CONFIG = json.dumps({"sbom": True}).encode()
SBOM_CONFIG_MT = "application/vnd.example.sbom.config+json"


class Referrers:
    """A repository holding the test image (v1) as subject, and builders of
    manifests referring to it."""

    def __init__(self, reg, image, repo):
        self.reg, self.image, self.repo = reg, image, repo
        image.push(reg, repo, "v1")
        reg.push_blob(repo, EMPTY_CONFIG)
        reg.push_blob(repo, SBOM_CONFIG)
        self.subject = {"mediaType": OCI_MANIFEST, "digest": image.digest, "size": len(image.manifest)}

    def sig(self, signer, subject=None):
        return image_manifest(
            OCI_MANIFEST, OCI_EMPTY, EMPTY_CONFIG, SIG, self.image.layer,
            subject=subject or self.subject, artifactType=SIG, annotations={"org.example.signer": signer},
        )

    def sbom(self):
        """Without artifactType: the config media type stands in."""
        return image_manifest(
            OCI_MANIFEST, SBOM_CONFIG_MT, SBOM_CONFIG, "application/vnd.example.sbom", self.image.layer,
            subject=self.subject,
        )

    def bundle(self):
        """An index can refer too."""
        bundle = "application/vnd.example.bundle"
        return index_of(OCI_INDEX, OCI_MANIFEST, self.image.manifest, subject=self.subject, artifactType=bundle)

    def put(self, ref, body, media_type=OCI_MANIFEST):
        """PUTs a referrer: 201 and OCI-Subject naming the subject."""
        r = self.reg.put_manifest(self.repo, ref, body, media_type)
        want = json.loads(body)["subject"]["digest"]
        assert (r.status, r.header("OCI-Subject")) == (201, want), str(r)
        return sha256(body)

    def list(self, query=""):
        return self.reg.get(f"/v2/{self.repo}/referrers/{self.image.digest}{query}")


def digests(r):
    return [m["digest"] for m in (r.json() or {}).get("manifests", [])]


def test_list_and_filter(reg, image):
    ref = Referrers(reg, image, "it/ref")
    sig_body = ref.sig("alice")
    sig = ref.put(sha256(sig_body), sig_body)
    r = reg.put_manifest(ref.repo, "v1", image.manifest, OCI_MANIFEST)
    assert r.status == 201 and "OCI-Subject" not in r.headers, f"PUT without subject answers OCI-Subject\n{r}"
    sbom_body = ref.sbom()
    sbom = ref.put("sbom", sbom_body)  # by tag

    r = ref.list()
    assert r.status == 200, str(r)
    assert r.header("Content-Type") == OCI_INDEX, str(r)
    doc = r.json() or {}
    assert (doc.get("schemaVersion"), doc.get("mediaType")) == (2, OCI_INDEX), f"not an index\n{r}"
    assert sorted(digests(r)) == sorted([sig, sbom]), str(r)
    by_digest = {m["digest"]: m for m in doc["manifests"]}
    d = by_digest[sig]
    assert (d["mediaType"], d["size"], d.get("artifactType"), d.get("annotations", {}).get("org.example.signer")) == (
        OCI_MANIFEST, len(sig_body), SIG, "alice"), f"referrer descriptor\n{r}"
    assert by_digest[sbom].get("artifactType") == SBOM_CONFIG_MT, f"referrer without artifactType\n{r}"
    assert "OCI-Filters-Applied" not in r.headers, f"unfiltered list with OCI-Filters-Applied\n{r}"

    r = ref.list(f"?artifactType={SIG}")
    assert r.status == 200, str(r)
    assert r.header("OCI-Filters-Applied") == "artifactType", str(r)
    assert digests(r) == [sig], str(r)
    r = ref.list("?artifactType=application/vnd.example.none")
    assert (r.status, len(digests(r)), r.header("OCI-Filters-Applied")) == (200, 0, "artifactType"), str(r)

    # Nobody refers to the signature.
    r = reg.get(f"/v2/{ref.repo}/referrers/{sig}")
    assert (r.status, digests(r), r.header("Content-Type")) == (200, [], OCI_INDEX), str(r)

    # Deleting a referrer removes it from the list.
    r = reg.delete(f"/v2/{ref.repo}/manifests/{sbom}")
    assert r.status == 202, str(r)
    r = ref.list()
    assert sbom not in digests(r), f"deleted referrer still listed\n{r}"


def test_subject_not_pushed_yet(reg, image):
    """A subject that does not exist (yet) is allowed."""
    ref = Referrers(reg, image, "it/ref-orphan")
    ghost = sha256(b"not pushed yet")
    orphan = ref.sig("nobody", subject={"mediaType": OCI_MANIFEST, "digest": ghost, "size": 123})
    ref.put("orphan", orphan)
    r = reg.get(f"/v2/{ref.repo}/referrers/{ghost}")
    assert (r.status, digests(r)) == (200, [sha256(orphan)]), str(r)


def test_index_referrer_and_paging(reg, image):
    """Paging: n and last as for tags, a Link while more remain."""
    # A repository of this run's own: the counts below are exact.
    ref = Referrers(reg, image, f"it/ref-page-{os.urandom(4).hex()}")
    sig = ref.put(sha256(ref.sig("alice")), ref.sig("alice"))
    sbom = ref.put("sbom", ref.sbom())
    bundle = ref.put("refidx", ref.bundle(), OCI_INDEX)
    r = ref.list("?artifactType=application/vnd.example.bundle")
    first = (r.json() or {}).get("manifests", [{}])[0]
    assert (first.get("digest"), first.get("mediaType")) == (bundle, OCI_INDEX), f"index referrer and its type\n{r}"

    everyone = sorted([sig, sbom, bundle])
    r = ref.list("?n=1")
    assert (r.status, len(digests(r))) == (200, 1), str(r)
    want = f'</v2/{ref.repo}/referrers/{image.digest}?last={everyone[0].replace(":", "%3A")}&n=1>; rel="next"'
    assert r.header("Link") == want, str(r)
    walked, url, pages = [], f"/v2/{ref.repo}/referrers/{image.digest}?n=1", 0
    while url and pages < 10:
        r = reg.get(url)
        walked += digests(r)
        pages += 1
        url = r.link_next()
    assert walked == everyone, "referrers paged with n=1 via Link: every referrer once, in digest order"
    assert pages == 3, "referrers n=1: three pages"
    r = ref.list("?n=3")
    assert "Link" not in r.headers, f"exactly n referrers, and a Link\n{r}"
    r = ref.list()
    assert "Link" not in r.headers, f"fewer than the server's page size, and a Link\n{r}"
    r = ref.list("?n=1&artifactType=application/vnd.example.bundle")
    assert (digests(r), "Link" in r.headers) == ([bundle], False), f"filter matching one, n=1\n{r}"

    # A second signature, so that the filtered list has two pages.
    sig2 = ref.sig("bob")
    ref.put(sha256(sig2), sig2)
    r = ref.list(f"?n=1&artifactType={SIG}")
    assert "artifactType=application%2Fvnd.example.sig" in r.header("Link"), f"a filtered page drops its filter\n{r}"
    r = reg.get(r.link_next() or "/no-link")
    doc = r.json() or {}
    got = (len(doc.get("manifests", [])), (doc.get("manifests") or [{}])[0].get("artifactType"),
           r.header("OCI-Filters-Applied"), "Link" in r.headers)
    assert got == (1, SIG, "artifactType", False), f"following it: the other signature, filtered, last page\n{r}"


@pytest.mark.parametrize(
    "ref,query,error",
    [
        (None, "?n=x", "PAGINATION_NUMBER_INVALID"),
        ("sha256:1234", "", "DIGEST_INVALID"),
        ("v1", "", "DIGEST_INVALID"),
    ],
    ids=["n=x", "invalid-digest", "tag-not-digest"],
)
def test_referrers_bad_request(reg, image, img_repo, ref, query, error):
    r = reg.get(f"/v2/{img_repo}/referrers/{ref or image.digest}{query}")
    assert r.error == (400, error), str(r)
