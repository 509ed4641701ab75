"""8. Hostile input and credential lifecycle (main berth): `berth user
passwd|del` revoke refresh tokens in tokens.db at once; a user file replaced
by hand ends them too (credential generation); a re-created name does not
inherit them; an old password stops logging in (login cache); names like
alice/../bob/x are never granted and are logged; a user name with a newline
cannot forge an audit line; a bad token.refresh_ttl stops start-up; a
schema-1 tokens.db is upgraded. The tests are one sequence, in this order."""

import os
import shutil
import sqlite3
import time

import pytest

import auth_jwt as jwt
from auth_http import berth, expect_status, log_text, refresh, token_get

REREAD = 1.5  # the token server re-reads the user file within a second
rt = {}


def user_cmd(t, action, name, password=None, file=None):
    """`berth user` on the main root's user file (named by the main berth's
    settings: in a cluster the refresh tokens are in PostgreSQL), or on FILE
    with -f (the tokens.db beside it)."""
    args = ["user", action, name]
    if password is not None:
        args.append("--password-stdin")
    if file:
        args += ["-f", file]
    r = berth(t, *args, env=None if file else t.root_env, stdin=None if password is None else password + "\n",
              label="user " + action + " " + name)
    r.said = r.out + r.err
    return r


def add_user(t, name):
    return berth(t, "user", "add", name, "--password-stdin", "-f", os.path.join(t.root, "htpasswd"),
                 stdin=name + "pass\n", label="user add " + name)


def offline(t, user, password):
    return token_get(t, "%s:%s" % (user, password), offline_token="true").json().get("refresh_token") or ""


def test_user_add_dave_erin_frank(t):
    for u in ("dave", "erin", "frank"):
        r = add_user(t, u)
        assert r.rc == 0, r.why()
    time.sleep(REREAD)


def test_refresh_tokens_for_dave_erin_frank(t):
    for u in ("dave", "erin", "frank"):
        rt[u] = offline(t, u, u + "pass")
    assert all(rt.get(u) for u in ("dave", "erin", "frank")), "refresh tokens: %s" % rt


def test_dave_refresh_token_works(t):
    expect_status(refresh(t, rt["dave"]), 200)


def test_dave_password_login_works_and_is_cached(t):
    expect_status(token_get(t, "dave:davepass"), 200)


# passwd: revoked in tokens.db at once (no wait for the file re-read)

def test_passwd_revokes_refresh_token(t):
    r = user_cmd(t, "passwd", "dave", "davenew")
    assert "revoked 1 refresh token(s) of 'dave'" in r.said, r.why()


def test_right_after_passwd_old_refresh_token_401(t):
    expect_status(refresh(t, rt["dave"]), 401)


def test_after_passwd_old_password_401(t):
    # the login cache does not keep it
    time.sleep(REREAD)
    expect_status(token_get(t, "dave:davepass"), 401)


def test_after_passwd_new_password_200(t):
    expect_status(token_get(t, "dave:davenew"), 200)


# A password changed by editing the user file, with no tokens.db beside the
# edited copy: nothing is revoked in the database, yet the token server
# refuses the token, since the credential generation changed.

def test_passwd_on_a_copy_revokes_nothing(t):
    copy = os.path.join(t.work, "htpasswd.copy")
    shutil.copy(os.path.join(t.root, "htpasswd"), copy)
    r = user_cmd(t, "passwd", "erin", "erinnew", file=copy)
    assert "password changed" in r.said and "revoked" not in r.said, r.why()


def test_erin_refresh_token_works_before_the_file_is_replaced(t):
    expect_status(refresh(t, rt["erin"]), 200)


def test_user_file_replaced_by_hand_ends_refresh_token(t):
    new = os.path.join(t.root, "htpasswd.new")
    shutil.copy(os.path.join(t.work, "htpasswd.copy"), new)
    os.rename(new, os.path.join(t.root, "htpasswd"))
    time.sleep(REREAD)
    expect_status(refresh(t, rt["erin"]), 401)


def test_logged_as_a_changed_credential(t):
    assert 'user=erin result=denied reason="credential changed' in log_text(t.root_log), t.root_log


# del, then the same name again with the same password

def test_del_revokes_refresh_token(t):
    r = user_cmd(t, "del", "frank")
    assert "revoked 1 refresh token(s) of 'frank'" in r.said, r.why()


def test_after_del_refresh_token_401(t):
    expect_status(refresh(t, rt["frank"]), 401)


def test_frank_recreated_with_the_same_password(t):
    r = add_user(t, "frank")
    assert r.rc == 0, r.why()
    time.sleep(REREAD)


def test_recreated_frank_does_not_inherit_the_old_refresh_token(t):
    expect_status(refresh(t, rt["frank"]), 401)


def test_recreated_frank_logs_in(t):
    expect_status(token_get(t, "frank:frankpass"), 200)


def test_recreated_frank_new_refresh_token_works(t):
    expect_status(refresh(t, offline(t, "frank", "frankpass")), 200)


# Token names outside the OCI grammar are never granted, even to an admin.

@pytest.fixture(scope="module")
def names(t):
    return token_get(t, "admin", ["repository:alice/../bob/x:push", "repository:alice/ok:push",
                                  "repository:Alice/Upper:pull"])


def test_admin_asks_for_bad_names_200(names):
    expect_status(names, 200)


def test_only_the_good_name_granted(names):
    assert jwt.grants(names.token) == "repository:alice/ok:push", names.why()


def test_the_dropped_name_is_logged(t, names):
    assert 'dropped="repository:alice/../bob/x:push"' in log_text(t.root_log), t.root_log


# Log injection through the user name (no login needed), scope and account.
EVIL = "x\naudit token user=admin admin=true"


@pytest.fixture(scope="module")
def evil(t):
    return token_get(t, EVIL + ":pw", account="a\nb\x1b[31m")


def test_user_name_with_newline_401(evil):
    expect_status(evil, 401)


def test_no_forged_audit_line(t, evil):
    forged = [l for l in log_text(t.root_log).splitlines() if l.startswith("audit token user=admin")]
    assert not forged, forged


def test_the_name_is_logged_escaped_on_one_line(t, evil):
    assert "user=x\\naudit token user=admin admin=true result=denied" in log_text(t.root_log), t.root_log


def test_no_esc_byte_in_the_log(t, evil):
    assert "\x1b" not in log_text(t.root_log), t.root_log


# Configuration of the new keys: bad values stop start-up with exit 2.

@pytest.fixture(scope="module")
def bad_ttl(t):
    return berth(t, "token", env={"BERTH_STORAGE_ROOT": os.path.join(t.work, "cfgroot"),
                                  "BERTH_TOKEN_REFRESH_TTL": "0"}, label="token refresh_ttl=0")


def test_refresh_ttl_0_refused_at_start_up(bad_ttl):
    assert bad_ttl.rc == 2, bad_ttl.why("expected exit 2")


def test_refresh_ttl_error_names_the_key(bad_ttl):
    assert "token.refresh_ttl" in bad_ttl.out + bad_ttl.err, bad_ttl.why()


# A tokens.db from before credential generations is upgraded; its tokens are revoked.

@pytest.fixture(scope="module")
def old_db(t):
    root = os.path.join(t.work, "oldroot")
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, "tokens.db")
    db = sqlite3.connect(path)
    db.executescript("""CREATE TABLE refresh_tokens (hash TEXT PRIMARY KEY, subject TEXT NOT NULL,
      service TEXT NOT NULL, admin INTEGER NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO refresh_tokens VALUES ('h', 'alice', 'berth', 0, 1);""")
    db.commit()
    db.close()
    r = berth(t, "revoke-tokens", "--user", "nobody", env={"BERTH_STORAGE_ROOT": root}, label="upgrade")
    return r, path


def test_schema_1_tokens_db_opens(old_db):
    assert old_db[0].rc == 0, old_db[0].why()


def test_schema_1_upgraded_old_tokens_gone(old_db):
    d = sqlite3.connect(old_db[1])
    got = (d.execute("PRAGMA user_version").fetchone()[0], d.execute("SELECT count(*) FROM refresh_tokens").fetchone()[0])
    d.close()
    assert got == (3, 0), "schema version, tokens: %s" % (got,)
