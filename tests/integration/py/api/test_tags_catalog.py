"""end-8: the tags list and the catalog, sorted and paged (n, last, Link)."""

import os

import pytest

REPO = "it/tags"
ALL = ["1.0", "A", "_x", "latest", "v1", "v10", "v2"]


@pytest.fixture(scope="module")
def tagged(reg, image):
    image.push(reg, REPO, "v2", "latest", "v10", "A", "_x", "1.0", "v1")
    reg.push_blob("it/a", os.urandom(333))  # a repository holding only blobs
    image.push(reg, "it/img", "v1")


def tags(r):
    return (r.json() or {}).get("tags")


def test_tags_list(reg, tagged):
    r = reg.get(f"/v2/{REPO}/tags/list")
    assert r.status == 200, str(r)
    assert (r.json() or {}).get("name") == REPO, str(r)
    assert tags(r) == ALL, f"not every tag, sorted\n{r}"
    assert r.header("Content-Type") == "application/json", str(r)


def test_tags_paged_via_link(reg, tagged):
    r = reg.get(f"/v2/{REPO}/tags/list?n=3")
    assert tags(r) == ["1.0", "A", "_x"], str(r)
    assert r.header("Link") == f'</v2/{REPO}/tags/list?last=_x&n=3>; rel="next"', str(r)
    r = reg.get(r.link_next())
    assert tags(r) == ["latest", "v1", "v10"], str(r)
    assert r.header("Link") == f'</v2/{REPO}/tags/list?last=v10&n=3>; rel="next"', str(r)


@pytest.mark.parametrize(
    "query,want",
    [
        ("?last=v10&n=3", ["v2"]),  # the last page
        ("?last=latest&n=3", ["v1", "v10", "v2"]),  # exactly n remaining
        ("?last=latest", ["v1", "v10", "v2"]),
        ("?n=0", []),
        ("?n=100", ALL),  # n larger than the count
    ],
)
def test_tags_page_without_link(reg, tagged, query, want):
    r = reg.get(f"/v2/{REPO}/tags/list{query}")
    assert (r.status, tags(r)) == (200, want), str(r)
    assert "Link" not in r.headers, f"a Link on the last page\n{r}"


def test_tags_huge_n(reg, tagged):
    """A huge n must not come back as an empty page: all tags, a non-empty
    page with a Link, or a 400 are all acceptable."""
    r = reg.get(f"/v2/{REPO}/tags/list?n=18446744073709551615")
    ok = (r.status == 200 and tags(r) == ALL) or (r.status == 200 and tags(r) and r.header("Link")) or r.status == 400
    assert ok, str(r)


@pytest.mark.parametrize("n", ["abc", "-1"])
def test_tags_bad_n(reg, tagged, n):
    r = reg.get(f"/v2/{REPO}/tags/list?n={n}")
    assert r.status == 400 and r.error_code, f"want 400 with an OCI error envelope\n{r}"


def test_tags_of_unknown_repository(reg):
    r = reg.get("/v2/it/never/pushed/tags/list")
    assert r.error == (404, "NAME_UNKNOWN"), str(r)


def test_tags_of_repository_with_only_blobs(reg, tagged):
    """It exists but has no tags."""
    r = reg.get("/v2/it/a/tags/list")
    assert (r.status, tags(r)) == (200, []), str(r)


def repositories(r):
    return (r.json() or {}).get("repositories")


def test_catalog(reg, tagged):
    r = reg.get("/v2/_catalog")
    assert r.status == 200, str(r)
    repos = repositories(r)
    assert repos == sorted(repos), f"catalog not sorted\n{r}"
    for name in ("it/tags", "it/img", "it/a"):
        assert name in repos, f"catalog lacks {name}\n{r}"

    paged, url, pages = [], "/v2/_catalog?n=2", 0
    while url and pages < 50:
        r = reg.get(url)
        assert len(repositories(r)) <= 2, f"catalog page larger than n=2\n{r}"
        paged += repositories(r)
        url = r.link_next()
        pages += 1
    assert paged == repos, "catalog paged with n=2 via Link does not add up to the full list"

    r = reg.get("/v2/_catalog?n=1")
    assert (repositories(r), "Link" in r.headers) == (repos[:1], True), f"catalog n=1: the first one and a Link\n{r}"
    r = reg.get("/v2/_catalog?n=0")
    assert (r.status, repositories(r)) == (200, []), str(r)
