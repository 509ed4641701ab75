"""7. The reference registry (docker-registry 2.8.2, started by auth_test.sh
with `auth: token` pointing at berth): its challenge names berth; berth's
tokens are accepted and a tampered one refused; skopeo as alice into alice/
(ok) and bob/ (denied); berth's token used by hand against it."""

import pytest

import auth_jwt as jwt
from auth_http import expect_denied, expect_ok, expect_status, need_tool, out_json, request, run, tok


@pytest.fixture(scope="module")
def ref(t):
    need_tool(t, "docker-registry")
    if not t.ref:
        pytest.fail("docker-registry did not start (auth_test.sh; its log: ref.log in the work folder)")
    return "https://" + t.ref


def test_challenge_points_at_berth(t, ref):
    r = request("GET", ref + "/v2/alice/ref/tags/list", t.cacert)
    expect_status(r, 401)
    want = 'Bearer realm="%s",service="berth",scope="repository:alice/ref:pull"' % t.token_url
    assert r.challenge == want, r.why("expected WWW-Authenticate: " + want)


def test_berth_login_token_accepted(t, ref, login_token):
    expect_status(request("GET", ref + "/v2/", t.cacert, bearer=login_token), 200)


def test_berth_tampered_token_refused(t, ref, login_token):
    expect_status(request("GET", ref + "/v2/", t.cacert, bearer=jwt.tamper(login_token)), 401)


def skopeo(t, *args, label):
    need_tool(t, "skopeo")
    return run(["skopeo", *args], label=label)


def test_skopeo_copy_as_alice_to_alice(t, ref):
    r = skopeo(t, "copy", "--dest-cert-dir", t.certdir, "--dest-creds", "alice:" + t.password("alice"),
               "oci:%s:v1" % t.oci1, "docker://%s/alice/ref:v1" % t.ref, label="ref-push-alice")
    expect_ok(r)


def test_pushed_digest(t, ref):
    r = skopeo(t, "inspect", "--cert-dir", t.certdir, "--creds", "alice:" + t.password("alice"),
               "docker://%s/alice/ref:v1" % t.ref, label="ref-inspect")
    assert out_json(r, "Digest") == t.oci1_digest, r.why("expected " + t.oci1_digest)


def test_skopeo_copy_as_alice_to_bob_denied(t, ref):
    r = skopeo(t, "copy", "--dest-cert-dir", t.certdir, "--dest-creds", "alice:" + t.password("alice"),
               "oci:%s:v1" % t.oci1, "docker://%s/bob/ref:v1" % t.ref, label="ref-push-bob")
    expect_denied(r)


def test_bob_cannot_read_alice(t, ref):
    r = skopeo(t, "inspect", "--cert-dir", t.certdir, "--creds", "bob:" + t.password("bob"),
               "docker://%s/alice/ref:v1" % t.ref, label="ref-inspect-bob")
    expect_denied(r)


def test_berth_token_by_hand_lists_tags(t, ref):
    r = request("GET", ref + "/v2/alice/ref/tags/list", t.cacert, bearer=tok(t, "alice", "repository:alice/ref:pull"))
    expect_status(r, 200)
    assert r.json().get("tags") == ["v1"], r.why()
