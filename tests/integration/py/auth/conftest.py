"""Fixtures of the auth suite (tests/integration/auth_test.sh starts berth,
the users and the other servers, then runs pytest here with AUTH_*
variables naming them; see auth_http.Target). The files run in name order,
and tests within a file in order: the credential-lifecycle and rate-limit
files are sequences whose later steps rely on the earlier ones."""

import pytest

import auth_http


@pytest.fixture(scope="session")
def t():
    """The berth(s) under test."""
    return auth_http.Target.from_env()


@pytest.fixture(scope="session")
def login_token(t):
    """alice's login token (no scope), used by several sections."""
    r = auth_http.token_get(t, "alice", account="alice")
    auth_http.expect_status(r, 200, "alice's login token")
    return r.token


@pytest.fixture(scope="session")
def other_token(t):
    """A token of the token server of service "other" on the same root."""
    if not t.other_token_url:
        pytest.fail("the token server of service other did not start (auth_test.sh)")
    r = auth_http.token_get(t, "alice", url=t.other_token_url, service="other")
    auth_http.expect_status(r, 200, "login at the token server of service other")
    return r.token


def pytest_terminal_summary(terminalreporter):
    if auth_http.TIMINGS:
        terminalreporter.write_line("# timings")
        for line in auth_http.TIMINGS:
            terminalreporter.write_line("  " + line)
