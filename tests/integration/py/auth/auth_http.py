"""HTTP and process helpers of the auth suite. Every request goes on a new
connection (as curl's did in the shell suite), so that behind HAProxy
(BERTH_TARGET=cluster) consecutive requests alternate nodes. A Reply knows
the request that produced it, so a failed assertion shows the request, the
status and the start of the body (Reply.why)."""

import json
import os
import subprocess
import time
from dataclasses import dataclass, field

import pytest
import requests
from requests.adapters import HTTPAdapter


@dataclass
class Target:
    """What auth_test.sh started, read from its AUTH_* environment."""
    base: str            # registry, https://127.0.0.1:PORT
    token_url: str       # the main token server's /token
    cacert: str          # CA of the main berth's TLS certificate
    certdir: str         # a folder holding ca.crt, for skopeo/podman/buildah
    root: str            # the main root: keys/, htpasswd (shared in a cluster)
    root_log: str        # the main berth's log (both nodes' in a cluster)
    root_env: dict       # what berth commands need to act on the main stores
    main_pid: int        # the main berth (node 1 in a cluster)
    work: str            # the shell suite's temporary folder
    berth_bin: str
    credentials: dict    # user -> password on the main berth
    other_token_url: str  # `berth token` of service "other" on the same root, or ""
    rl_token_url: str    # the rate-limit berth's /token, or ""
    rl_cacert: str
    rl_credentials: dict
    rl_log: str
    ref: str             # the reference registry's host:port, or ""
    registry: str        # the registry as host:port, for clients
    oci1: str            # OCI layouts made by oci.sh, and oci1's manifest digest
    oci1_digest: str
    oci2: str
    tools: dict = field(default_factory=dict)  # client name -> installed

    @staticmethod
    def from_env():
        e = os.environ

        def creds(name):
            return dict(w.split(":", 1) for w in e.get(name, "").split())

        root_env = {}
        if e.get("AUTH_ROOT_ENV"):
            with open(e["AUTH_ROOT_ENV"]) as f:
                root_env = dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)
        base = e["AUTH_BASE"]
        return Target(
            base=base, token_url=e["AUTH_TOKEN_URL"], cacert=e["AUTH_CACERT"],
            certdir=e["AUTH_CERTDIR"], root=e["AUTH_ROOT"], root_log=e["AUTH_ROOT_LOG"],
            root_env=root_env, main_pid=int(e.get("AUTH_MAIN_PID", "0")), work=e["AUTH_WORK"],
            berth_bin=e["AUTH_BERTH_BIN"], credentials=creds("AUTH_CREDENTIALS"),
            other_token_url=e.get("AUTH_OTHER_TOKEN_URL", ""),
            rl_token_url=e.get("AUTH_RL_TOKEN_URL", ""), rl_cacert=e.get("AUTH_RL_CACERT", ""),
            rl_credentials=creds("AUTH_RL_CREDENTIALS"), rl_log=e.get("AUTH_RL_LOG", ""),
            ref=e.get("AUTH_REF", ""), registry=base.split("://", 1)[1],
            oci1=e.get("AUTH_OCI1", ""), oci1_digest=e.get("AUTH_OCI1_DIGEST", ""),
            oci2=e.get("AUTH_OCI2", ""),
            tools={t: e.get("AUTH_HAVE_" + t.upper().replace("-", "_")) == "1"
                   for t in ("skopeo", "podman", "buildah", "docker-registry")})

    def password(self, user):
        return self.credentials[user]


class _SourceAdapter(HTTPAdapter):
    """Connects from a given local address (curl --interface)."""

    def __init__(self, source):
        self._source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self._source, 0)
        super().init_poolmanager(*args, **kwargs)


class Reply:
    """A response (or a connection failure: status 0) with its request."""

    def __init__(self, method, url, auth_note, resp=None, error=None):
        self.method, self.url, self.auth_note = method, url, auth_note
        self.resp, self.error = resp, error
        self.status = resp.status_code if resp is not None else 0
        self.headers = resp.headers if resp is not None else {}
        self.text = resp.text if resp is not None else ""

    def json(self):
        try:
            v = self.resp.json()
            return v if isinstance(v, dict) else {}
        except (ValueError, AttributeError):
            return {}

    def header(self, name):
        return self.headers.get(name)

    @property
    def challenge(self):
        return self.headers.get("WWW-Authenticate")

    @property
    def token(self):
        return self.json().get("token") or ""

    def why(self, what=""):
        """The request and the answer, for an assertion message."""
        req = "%s %s%s" % (self.method, self.url, " [" + self.auth_note + "]" if self.auth_note else "")
        if self.resp is None:
            ans = "no answer (%s)" % self.error
        else:
            ans = "%d" % self.status
            if self.challenge:
                ans += ", WWW-Authenticate: " + self.challenge
            body = self.text.replace("\n", " ")
            ans += ", body: " + (body[:300] + ("..." if len(body) > 300 else "") if body else "(empty)")
        return "%s%s\n  -> %s" % (what + "\n  " if what else "", req, ans)


def request(method, url, cacert, *, auth=None, bearer=None, params=None, data=None,
            headers=None, source=None, scheme="Bearer"):
    """One request on a fresh connection, 30 s at most. AUTH = (user,
    password) for Basic; BEARER a token ("" = none)."""
    headers = dict(headers or {})
    note = ""
    if bearer:
        headers["Authorization"] = "%s %s" % (scheme, bearer)
        note = "%s %s..." % (scheme, bearer[:16])
    if auth:
        note = "Basic %s" % auth[0].encode("unicode_escape").decode()
    with requests.Session() as s:
        if source:
            s.mount("https://", _SourceAdapter(source))
        try:
            r = s.request(method, url, params=params, data=data, headers=headers, auth=auth,
                          verify=cacert, timeout=30, allow_redirects=False)
        except requests.RequestException as e:
            return Reply(method, url, note, error=e)
    # The URL as sent, query included, but without form bodies (passwords).
    return Reply(method, r.request.url, note, resp=r)


def expect_status(reply, status, what=""):
    assert reply.status == status, reply.why("%sexpected %s, got %s" % (
        what + ": " if what else "", status, reply.status))


# ---------------------------------------------------------------- token server

def scope_params(scopes, service="berth", **more):
    """Query or form pairs: service (None: left out), one scope= per scope."""
    p = [("service", service)] if service is not None else []
    p += [("scope", s) for s in scopes]
    p += list(more.items())
    return p


def token_get(t, user=None, scopes=(), url=None, cacert=None, source=None, **params):
    """GET /token with Basic USER (its password from the target, or given as
    "user:password"), scopes and other query parameters."""
    auth = None
    if user is not None:
        name, _, pw = user.partition(":")
        auth = (name, pw if _ else t.password(name))
    return request("GET", url or t.token_url, cacert or t.cacert, auth=auth,
                   params=scope_params(scopes, **params), source=source)


def tok(t, user, *scopes):
    """A token of USER for SCOPES (service berth), or "" ."""
    return token_get(t, user, scopes).token


class BerthDied(AssertionError):
    pass


def alive(pid):
    """Running (a zombie does not count)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def token_post(t, data, url=None, headers=None):
    """POST /token (form). Fails loudly when the main berth died meanwhile
    (POST /token once crashed it: FormSink::Finish, fixed in d90161a)."""
    r = request("POST", url or t.token_url, t.cacert, data=data, headers=headers)
    if url is None and t.main_pid:
        time.sleep(0.05)
        if not alive(t.main_pid):
            raise BerthDied(r.why("berth (pid %d) died during POST /token; its log: %s"
                                  % (t.main_pid, t.root_log)))
    return r


def refresh(t, refresh_token, **more):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token,
            "service": "berth", "client_id": "auth-test"}
    data.update(more)
    return token_post(t, {k: v for k, v in data.items() if v is not None})


# ---------------------------------------------------------------- registry

def reg(t, token, method, path, **kw):
    """A registry request with that bearer token ("" = none)."""
    return request(method, t.base + path, t.cacert, bearer=token, **kw)


def challenge(t, scope=None, error=None):
    """The exact WWW-Authenticate berth sends."""
    c = 'Bearer realm="%s",service="berth"' % t.token_url
    if scope:
        c += ',scope="%s"' % scope
    if error:
        c += ',error="%s"' % error
    return c


# ---------------------------------------------------------------- commands

@dataclass
class Ran:
    argv: list
    rc: int
    out: str
    err: str

    def why(self, what=""):
        tail = (self.err.strip().splitlines() or ["(empty)"])[-4:]
        return "%s%s\n  -> rc=%d, stdout: %s\n  stderr: %s" % (
            what + "\n  " if what else "", " ".join(self.argv), self.rc,
            self.out.strip()[:200] or "(empty)", "\n          ".join(l[:200] for l in tail))

    @property
    def denied(self):
        """Failed and said why ("denied" or "unauthorized"), as a client does."""
        low = self.err.lower()
        return self.rc != 0 and ("denied" in low or "unauthorized" in low)


TIMINGS = []


def run(argv, *, env=None, stdin=None, cwd=None, timeout=120, label=None):
    """A command, bounded in time, its output kept; elapsed time recorded."""
    t0 = time.monotonic()
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=full_env,
                           cwd=cwd, timeout=timeout)
        r = Ran(list(argv), p.returncode, p.stdout, p.stderr)
    except subprocess.TimeoutExpired as e:
        r = Ran(list(argv), 124, str(e.stdout or ""), "timed out after %d s" % timeout)
    TIMINGS.append("%-34s %7.2f s  rc=%d" % (label or os.path.basename(argv[0]) + " " + argv[1],
                                            time.monotonic() - t0, r.rc))
    # Into a *.log of the work folder, where lib.sh looks for sanitizer
    # reports (a berth command under make integration-asan).
    if os.environ.get("AUTH_WORK"):
        with open(os.path.join(os.environ["AUTH_WORK"], "logs", "commands.log"), "a") as f:
            f.write("$ %s\n%s%s" % (" ".join(argv), r.out, r.err))
    return r


def berth(t, *args, env=None, stdin=None, label=None):
    """A berth command, run in the work folder (no berth.yaml read there)."""
    return run([t.berth_bin, *args], env=env, stdin=stdin, cwd=t.work, timeout=30, label=label)


def log_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""



def need_tool(t, name):
    """A missing client is a failure, not a skip (as in the shell suite)."""
    if not t.tools.get(name):
        pytest.fail("%s is installed (scripts/install-deps.sh --test)" % name)


def out_json(ran, key):
    """KEY of the JSON object (or first of a list) a command printed."""
    try:
        v = json.loads(ran.out)
        return (v[0] if isinstance(v, list) else v).get(key)
    except (ValueError, IndexError, AttributeError):
        return None


def cred(t, user):
    """USER:PASSWORD on the main berth, as clients take it."""
    return "%s:%s" % (user, t.password(user))


def expect_ok(ran, what=""):
    assert ran.rc == 0, ran.why(what or "expected exit status 0")


def expect_denied(ran, what=""):
    assert ran.denied, ran.why(what or "expected a failure saying denied or unauthorized")
