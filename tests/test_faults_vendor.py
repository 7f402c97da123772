"""Vendor faults: each fake answers 5% of requests with 503 and 2% with its own 429, at random
(seeded), over a whole import through RQ and the store. Every connector must end with exactly
the fake's ground truth. 2,000 items a connector by default, 10,000 with SOAK=1; at the smaller
size a connector makes only a few dozen requests, so one 429 and one 503 are also scripted on
its listing route to make sure both kinds are met.
"""
from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from store.schema import comments, work_items
from tests.fakes.github import GitHubFake
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.jira import FakeJira
from tests.fakes.servicenow import FakeServiceNow

SIZE = 10_000 if os.environ.get("SOAK") else 2_000
FAULTS = {"rate_5xx": 0.05, "rate_429": 0.02, "seed": 5}


def _jira():
    fake = FakeJira(size=SIZE, **FAULTS)
    user, token = fake.credentials
    truth = fake.ground_truth("ACME")
    return fake, "ACME", "search", lambda: {"base_url": fake.url, "user_email": user, "api_token": token}, \
        truth["items"], truth["comments"]


def _github():
    fake = GitHubFake(sizes={"acme/big": SIZE * 5 // 4}, **FAULTS)  # every 5th number is a pull request
    truth = fake.ground_truth("acme/big")
    return fake, "acme/big", "/issues", lambda: {"token": fake.token, "api_url": fake.url}, \
        len(truth["items"]), len(truth["comments"])


def _gitlab():
    fake = FakeGitLab(projects={"acme/big": SIZE}, **FAULTS)
    truth = fake.ground_truth("acme/big")
    def config() -> dict:  # read once the fake has started
        return {"token": fake.token, "url": fake.url}

    return fake, "acme/big", "/issues", config, truth["items"], truth["comments"]


def _servicenow():
    fake = FakeServiceNow(sizes={"incident": SIZE * 11 // 10}, **FAULTS)  # every 11th is hidden from the user
    truth = fake.ground_truth("incident")
    def config() -> dict:
        return {"instance": fake.url, "username": fake.username, "password": fake.password}

    return fake, "incident", "/table/incident", config, \
        truth["items"], truth["comments"]


@pytest.mark.parametrize("source, build", [("jira", _jira), ("github", _github), ("gitlab", _gitlab),
                                           ("servicenow", _servicenow)])
def test_import_through_5xx_and_429_ends_with_exact_counts(source, build, run_import, engine):
    fake, project, listing, config, items, comment_count = build()
    fake.answer_next(listing, fake.rate_limited_response())
    fake.fail_next(listing, 503)
    with fake:
        doc = run_import(source, [project], config=config())
    print(f"\n{source}: {items} items, {fake.total_requests} requests, injected {dict(fake.injected)}")

    assert fake.injected[503] > 0 and sum(fake.injected.values()) > fake.injected[503]  # both kinds happened
    assert doc["status"] == "succeeded", doc["error"]
    assert (doc["processed"], doc["created"], doc["failed"]) == (items, items, 0)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(work_items)).scalar() == items
        assert conn.execute(select(func.count(func.distinct(comments.c.external_id)))).scalar() == comment_count
        assert conn.execute(select(func.count()).select_from(comments)).scalar() == comment_count


def test_a_client_hanging_up_is_no_error_of_the_fake_but_its_own_bugs_still_are(capsys):
    """A worker killed mid-import, or a reader process that leaves at once, resets its kept-alive connections:
    a vendor's server takes that as routine, and so does the fake; the stdlib's server printed each reset
    as a traceback into the test output (seen in CI under load). A fake's own exception is still printed."""
    with GitHubFake(sizes={"acme/web": 1}) as fake:
        server = fake._server
        assert server is not None
        for hangup in (ConnectionResetError(104, "Connection reset by peer"), BrokenPipeError(32, "Broken pipe")):
            try:
                raise hangup
            except OSError:
                server.handle_error(None, ("127.0.0.1", 40000))
        assert capsys.readouterr().err == ""
        try:
            raise KeyError("a bug in a route")
        except KeyError:
            server.handle_error(None, ("127.0.0.1", 40000))
        err = capsys.readouterr().err
        assert "Traceback" in err and "a bug in a route" in err
