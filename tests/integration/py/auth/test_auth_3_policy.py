"""3. Policy: own namespace, alice2/, a repository named "alice", public/,
bob/, catalog, admin, "*", the reserved namespace (mtce, set by
auth_test.sh); then the whole user x namespace x action matrix."""

import pytest

import auth_jwt as jwt
from auth_http import expect_status, tok, token_get


POLICY = [
    ("alice: all in alice/, nothing in alice2/ or 'alice', pull in public/, nothing in bob/, no catalog",
     "alice", ["repository:alice/app:pull,push,delete", "repository:alice2/app:pull,push", "repository:alice:pull,push",
               "repository:public/base:pull,push,delete", "repository:bob/app:pull,push,delete", "registry:catalog:*"],
     "repository:alice/app:delete,pull,push repository:public/base:pull"),
    ("alice: '*' in a nested repository of her namespace", "alice", ["repository:alice/deep/nested/app:*"],
     "repository:alice/deep/nested/app:*"),
    ("alice asking registry:catalog:* gets nothing", "alice", ["registry:catalog:*"], ""),
    ("bob: own namespace and public pull, not alice/", "bob",
     ["repository:bob/app:pull,push", "repository:alice/app:pull", "repository:public/base:pull"],
     "repository:bob/app:pull,push repository:public/base:pull"),
    ("admin: everything, incl. registry:catalog:* and the reserved namespace", "admin",
     ["repository:bob/app:pull,push,delete", "repository:alice/app:*", "registry:catalog:*",
      "repository:public/base:push", "repository:mtce/tools:push"],
     "registry:catalog:* repository:alice/app:* repository:bob/app:delete,pull,push "
     "repository:mtce/tools:push repository:public/base:push"),
    ("mtce (reserved namespace mtce): nothing in mtce/, pull in public/", "mtce",
     ["repository:mtce/tools:pull,push", "repository:public/base:pull"], "repository:public/base:pull"),
    ("alice: nothing in the reserved namespace", "alice", ["repository:mtce/tools:pull"], ""),
]


@pytest.mark.parametrize("case,user,scopes,granted", POLICY, ids=[p[0] for p in POLICY])
def test_grants(t, case, user, scopes, granted):
    r = token_get(t, user, scopes)
    expect_status(r, 200, case)
    assert jwt.grants(r.token) == granted, r.why(case)


def test_account_param_does_not_change_the_subject(t):
    # alice sending account=bob: the token is still alice's (sub, grants)
    r = token_get(t, "alice", ["repository:bob/app:pull,push", "repository:alice/app:pull"], account="bob")
    expect_status(r, 200)
    assert (jwt.claims(r.token).get("sub"), jwt.grants(r.token)) == ("alice", "repository:alice/app:pull"), r.why()


def test_resource_class_accepted(t):
    # repository(plugin): the class is accepted and the pull granted
    assert jwt.grants(tok(t, "alice", "repository(plugin):alice/app:pull")).endswith(":alice/app:pull")


# The matrix: one token per user asking every action in every namespace;
# each cell is a case of its own, so a broken rule names its cell.
USERS = ["alice", "bob", "admin", "mtce"]
NAMESPACES = ["alice", "bob", "alice2", "public", "mtce"]
ACTIONS = ["pull", "push", "delete"]
RESERVED = {"mtce"}


def allowed(user, namespace, action):
    if user == "admin":
        return True
    if namespace == "public":
        return action == "pull"
    return namespace == user and namespace not in RESERVED


_matrix_tokens = {}


def matrix_token(t, user):
    if user not in _matrix_tokens:
        _matrix_tokens[user] = tok(t, user, *["repository:%s/app:%s" % (ns, ",".join(ACTIONS)) for ns in NAMESPACES])
    return _matrix_tokens[user]


CELLS = [(u, ns, a) for u in USERS for ns in NAMESPACES for a in ACTIONS]


@pytest.mark.parametrize("user,namespace,action", CELLS, ids=["%s %s %s/" % c for c in CELLS])
def test_matrix(t, user, namespace, action):
    token = matrix_token(t, user)
    assert token, "no token for %s" % user
    granted = [a for e in jwt.claims(token).get("access") or []
               if e.get("name") == namespace + "/app" for a in e.get("actions", [])]
    want = allowed(user, namespace, action)
    assert (action in granted) == want, "%s %s %s in %s/app; the token grants %s" % (
        user, "may" if want else "may not", action, namespace, jwt.grants(token) or "nothing")
