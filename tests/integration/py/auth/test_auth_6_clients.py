"""6. Real clients with credentials: skopeo copy/inspect/delete, podman
login/push/pull, buildah push, each in and out of the user's namespace, and
public/. auth_test.sh made the OCI layouts (oci.sh) and the private
container configuration (no /etc or $HOME read). Sequences, in order."""

import os

import pytest

from auth_http import cred, expect_denied, expect_ok, need_tool, out_json, run


# ---------------------------------------------------------------- skopeo

@pytest.fixture(scope="module")
def sk(t):
    need_tool(t, "skopeo")

    def copy(creds, src, dst, label, pull=False):
        flags = ["--src-cert-dir", t.certdir, "--src-creds", creds] if pull else \
            ["--dest-cert-dir", t.certdir, "--dest-creds", creds]
        return run(["skopeo", "copy", *flags, src, dst], label=label)

    def other(cmd, creds, ref, label):
        c = ["--no-creds"] if creds is None else ["--creds", creds]
        return run(["skopeo", cmd, "--cert-dir", t.certdir, *c, ref], label=label)
    return copy, other


def img(t, name):
    return "docker://%s/%s" % (t.registry, name)


def test_skopeo_copy_as_alice_to_alice(t, sk):
    r = sk[0](cred(t, "alice"), "oci:%s:v1" % t.oci1, img(t, "alice/hello:v1"), "sk-push-alice")
    expect_ok(r)


def test_skopeo_inspect_as_alice_gives_the_pushed_digest(t, sk):
    r = sk[1]("inspect", cred(t, "alice"), img(t, "alice/hello:v1"), "sk-inspect-alice")
    assert out_json(r, "Digest") == t.oci1_digest, r.why("expected digest " + t.oci1_digest)


@pytest.mark.parametrize("case,creds,dst", [
    ("as alice to bob/hello:v1", None, "bob/hello:v1"),
    ("with a wrong password", "alice:wrong", "alice/hello:v2"),
])
def test_skopeo_copy_denied(t, sk, case, creds, dst):
    r = sk[0](creds or cred(t, "alice"), "oci:%s:v1" % t.oci1, img(t, dst), "sk-push-denied")
    expect_denied(r, case + ": expected a failure saying denied or unauthorized")


def test_skopeo_copy_as_bob_same_blobs_as_alice(t, sk):
    # the blobs are alice/hello's, which bob may not read
    r = sk[0](cred(t, "bob"), "oci:%s:v1" % t.oci1, img(t, "bob/hello:v1"), "sk-push-bob")
    expect_ok(r)


def test_skopeo_inspect_alice_as_bob_denied(t, sk):
    r = sk[1]("inspect", cred(t, "bob"), img(t, "alice/hello:v1"), "sk-inspect-bob-alice")
    expect_denied(r)


def test_skopeo_delete_alice_as_bob_fails(t, sk):
    r = sk[1]("delete", cred(t, "bob"), img(t, "alice/hello:v1"), "sk-del-bob")
    expect_denied(r)


def test_alice_image_still_there_after_bob_attempt(t, sk):
    r = sk[1]("inspect", cred(t, "alice"), img(t, "alice/hello:v1"), "sk-inspect-alice2")
    assert out_json(r, "Digest") == t.oci1_digest, r.why()


def test_skopeo_delete_as_alice(t, sk):
    r = sk[1]("delete", cred(t, "alice"), img(t, "alice/hello:v1"), "sk-del-alice")
    expect_ok(r)


def test_after_alice_delete_image_gone(t, sk):
    r = sk[1]("inspect", cred(t, "alice"), img(t, "alice/hello:v1"), "sk-inspect-alice3")
    assert r.rc != 0, r.why("still there")


def test_bob_image_same_digest_untouched(t, sk):
    r = sk[1]("inspect", cred(t, "bob"), img(t, "bob/hello:v1"), "sk-inspect-bob")
    assert out_json(r, "Digest") == t.oci1_digest, r.why()


# public/: admin pushes, everybody pulls, nobody else pushes

def test_skopeo_copy_as_admin_to_public(t, sk):
    r = sk[0](cred(t, "admin"), "oci:%s:v1" % t.oci2, img(t, "public/base:v1"), "sk-push-public")
    expect_ok(r)


def test_skopeo_pull_public_as_alice(t, sk):
    r = sk[0](cred(t, "alice"), img(t, "public/base:v1"), "oci:%s:v1" % os.path.join(t.work, "back-public"),
              "sk-pull-public", pull=True)
    expect_ok(r)


def test_skopeo_copy_as_alice_to_public_denied(t, sk):
    r = sk[0](cred(t, "alice"), "oci:%s:v1" % t.oci1, img(t, "public/base:v2"), "sk-push-public-alice")
    expect_denied(r)


def test_anonymous_list_tags_public_denied(t, sk):
    # anonymous_pull is off
    r = sk[1]("list-tags", None, img(t, "public/base"), "sk-list-anon")
    expect_denied(r)


# ---------------------------------------------------------------- podman

@pytest.fixture(scope="module")
def pm(t):
    need_tool(t, "podman")
    return lambda *args, label=None: run(["podman", *args], label=label or "podman " + args[0])


def test_podman_login_as_alice(t, pm):
    r = pm("login", "--cert-dir", t.certdir, "-u", "alice", "-p", t.password("alice"), t.registry)
    assert r.rc == 0 and "Login Succeeded" in r.out + r.err, r.why("no 'Login Succeeded'")


def test_podman_login_wrong_password_fails_saying_why(t, pm):
    r = pm("login", "--cert-dir", t.certdir, "-u", "alice", "-p", "wrongpass", t.registry)
    assert r.rc != 0 and "invalid username/password" in r.err, r.why()


def test_podman_push_own_namespace(t, pm):
    # podman pull oci:PATH names the image after PATH, which must be lower
    # case; skopeo writes into the same private storage.
    need_tool(t, "skopeo")
    ref = "%s/alice/podman:v1" % t.registry
    r = run(["skopeo", "copy", "oci:%s:v1" % t.oci1, "containers-storage:" + ref], label="pm-import")
    expect_ok(r, "import into podman's storage")
    r = pm("tag", ref, "%s/bob/podman:v1" % t.registry)
    expect_ok(r)
    r = pm("push", "--cert-dir", t.certdir, "--digestfile", os.path.join(t.work, "pm.digest"), ref)
    expect_ok(r, "push with the credentials of podman login")


def test_podman_push_bob_as_alice_denied(t, pm):
    r = pm("push", "--cert-dir", t.certdir, "%s/bob/podman:v1" % t.registry)
    expect_denied(r)


def test_podman_pull_as_alice_gives_the_pushed_digest(t, pm):
    ref = "%s/alice/podman:v1" % t.registry
    pm("rmi", "-f", ref, "%s/bob/podman:v1" % t.registry)
    r = pm("pull", "--cert-dir", t.certdir, ref)
    expect_ok(r)
    with open(os.path.join(t.work, "pm.digest")) as f:
        pushed = f.read().strip()
    r = pm("image", "inspect", ref)
    assert out_json(r, "Digest") == pushed, r.why("expected " + pushed)


def test_podman_pull_after_logout_denied(t, pm):
    pm("logout", t.registry)
    r = pm("pull", "--cert-dir", t.certdir, "%s/alice/podman:v1" % t.registry)
    expect_denied(r)


# ---------------------------------------------------------------- buildah

@pytest.fixture(scope="module")
def bu(t):
    need_tool(t, "buildah")
    return lambda *args, label=None: run(["buildah", *args], label=label or "buildah " + args[0])


def test_buildah_build_from_scratch(t, bu):
    r = bu("from", "scratch")
    expect_ok(r)
    ctr = r.out.strip().splitlines()[-1]
    path = os.path.join(t.work, "b.txt")
    with open(path, "w") as f:
        f.write("built by buildah %s\n" % t.registry)
    bu("copy", ctr, path, "/b.txt")
    bu("config", "--cmd", "/b.txt", ctr)
    r = bu("commit", "-q", ctr, "localhost/bob/built:v1")
    bu("rm", ctr)
    expect_ok(r, "buildah commit")


@pytest.mark.parametrize("namespace,ok", [("bob", True), ("alice", False)])
def test_buildah_push_as_bob(t, bu, namespace, ok):
    r = bu("push", "--cert-dir", t.certdir, "--creds", cred(t, "bob"), "localhost/bob/built:v1",
           "docker://%s/%s/built:v1" % (t.registry, namespace))
    (expect_ok if ok else expect_denied)(r)
