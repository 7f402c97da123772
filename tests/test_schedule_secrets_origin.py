"""A schedule's kept secrets go only to the server they were booked for, whatever the saved credentials name later.

Regression: `schedule` kept a typed secret (or one from the booking shell's environment) in its encrypted copy but
left out the server URL whenever the saved credentials supplied it ("read afresh each run"). A run takes the copy as
its own settings, whose secrets go wherever the merged URL points: once an admin saved credentials for another
server, every run of alice's schedule sent alice's JIRA API token to that server."""
from __future__ import annotations

import base64

import pytest

from jobs import api, tasks
from tests.fakes.jira import FakeJira


class Recording(FakeJira):
    """A JIRA that keeps every Authorization header it is sent."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen: list[str] = []

    def _valid(self, header: str) -> bool:
        self.seen.append(header)
        return super()._valid(header)


@pytest.fixture
def servers():
    first, other = FakeJira(cloud=True, size=5).start(), Recording(cloud=True, size=5).start()
    yield first, other
    first.stop()
    other.stop()


def test_a_schedules_typed_token_never_goes_to_the_server_saved_later(servers, run_worker):
    first, other = servers
    user, token = first.credentials
    api.save_credentials("jira", {"base_url": first.url, "user_email": user, "api_token": "the-team-token"})
    booked = api.schedule("jira", ["ACME"], 24, config={"api_token": token}, actor="alice")
    api.save_credentials("jira", {"base_url": other.url, "user_email": user, "api_token": "another-token"})

    tasks.run_schedule(booked)
    run_worker()
    alices = "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()
    assert alices not in other.seen


def test_a_schedules_token_keeps_the_default_server_it_was_booked_for(engine):
    # GitHub without api_url is github.com: a GitHub Enterprise URL saved later must not receive the token
    from sqlalchemy import select

    from store.schema import schedules

    api.schedule("github", ["octo/repo"], 24, config={"token": "ghp_alice"}, actor="alice")
    with engine.connect() as conn:
        options = conn.execute(select(schedules.c.options)).scalar_one()
    assert options["config"] == {"api_url": "https://api.github.com"}
