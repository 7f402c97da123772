"""The vendor fakes of tests/fakes, each served from a process of its own.

The fakes are Python HTTP servers; in the measuring process they would compete for its GIL
and distort every figure, so each runs in a child process and answers commands on its standard input:
read its request counters, reset them, change the per-request latency, stop (end of input).
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

VENDORS = ("jira", "github", "gitlab", "servicenow")

# The project each vendor's fake holds the N benchmark items in.
PROJECTS = {"jira": "ACME", "github": "acme/web", "gitlab": "acme/web-app", "servicenow": "incident"}
GITHUB_TOKEN = "ghp_fake_token_0123456789"
GITLAB_TOKEN = "glpat-good-token"


def github_repos(count: int) -> list[str]:
    """The benchmark repository, and more of the same size for the scale-out run."""
    return [PROJECTS["github"]] + [f"{PROJECTS['github']}-{i}" for i in range(2, count + 1)]


def build(vendor: str, n: int, latency: float, projects: int = 1):
    """A fake holding exactly `n` importable items (with comments) in `PROJECTS[vendor]`
    (GitHub: in each of `projects` repositories)."""
    if vendor == "jira":
        from tests.fakes.jira import FakeJira

        return FakeJira(cloud=True, size=n, latency=latency)
    if vendor == "github":
        from tests.fakes.github import GitHubFake

        return GitHubFake(sizes={repo: n for repo in github_repos(projects)}, token=GITHUB_TOKEN, pr_every=0,
                          anonymous=True,
                          latency=latency)
    if vendor == "gitlab":
        from tests.fakes.gitlab import FakeGitLab

        return FakeGitLab(projects={PROJECTS[vendor]: n}, token=GITLAB_TOKEN, latency=latency)
    if vendor == "servicenow":
        from tests.fakes.servicenow import FakeServiceNow

        return FakeServiceNow(sizes={"incident": n}, hide_every=0, latency=latency)
    raise ValueError(f"unknown vendor {vendor!r}: one of {', '.join(VENDORS)}")


def source_config(vendor: str, url: str) -> dict[str, str]:
    """What our importer needs to read the fake (the same settings a user types in)."""
    from tests.fakes.jira import CLOUD_AUTH

    return {
        "jira": {"base_url": url, "user_email": CLOUD_AUTH[0], "api_token": CLOUD_AUTH[1]},
        "github": {"token": GITHUB_TOKEN, "api_url": url},
        "gitlab": {"token": GITLAB_TOKEN, "url": url},
        "servicenow": {"instance": url, "username": "svc.import", "password": "s3cret!"},
    }[vendor]


def _serve(vendor: str, n: int, latency: float, projects: int) -> None:
    """The child's loop: one JSON command a line on stdin, one JSON answer a line on stdout."""
    fake = build(vendor, n, latency, projects).start()
    if vendor == "gitlab":
        _render_graphql(fake)
    truth = fake.ground_truth(PROJECTS[vendor])
    comments = truth["comments"] if isinstance(truth["comments"], int) else len(truth["comments"])
    _answer({"url": fake.url, "comments": comments})
    for line in sys.stdin:
        command, arg = json.loads(line)
        if command == "counters":
            with fake._lock:
                _answer(dict(fake.requests))
        elif command == "reset":
            with fake._lock:
                fake.requests.clear()
                fake.log.clear()  # the log grows by a tuple a request: keep the fake's memory flat
            _answer(None)
        elif command == "latency":
            fake.latency = arg
            _answer(None)
        elif command == "touch":  # edit `arg` items of the benchmark project, as its vendor shows an edit
            _answer(_touch(fake, vendor, arg))
        else:
            break
    fake.stop()


def _touch(fake, vendor: str, n: int) -> int:
    """Edit n items of the benchmark project through the fake's own helper; how many it edited."""
    project = PROJECTS[vendor]
    if vendor == "jira":  # at 10,000 issues the generated `updated` times run years ahead: edit after them
        latest = max(i["updated"] for i in fake.issues[project])
        return len(fake.touch(n, project, at=max(latest, datetime.now(UTC)) + timedelta(minutes=1)))
    if vendor == "github":
        return len(fake.touch(project, n)[1])
    if vendor == "gitlab":
        return len(fake.touch(n, project))
    return len(fake.touch(project, n))


def _render_graphql(fake) -> None:
    """Answer our connector's GraphQL issue query once over the whole project, so that no measurement
    pays the fake's one-off rendering (the REST rows are rendered by the untimed read every vendor gets)."""
    from importers.gitlab.graphql import EPIC, ISSUES_QUERY, NESTED_NOTES, PAGE_SIZE
    from tests.fakes.server import Request

    after = None
    while True:
        variables = {"project": PROJECTS["gitlab"], "first": PAGE_SIZE, "after": after, "updatedAfter": None,
                     "notes": NESTED_NOTES}
        body = json.dumps({"query": ISSUES_QUERY.replace("EPIC", EPIC), "variables": variables}).encode()
        answer = json.loads(fake.graphql.answer(Request("POST", "/api/graphql", {}, {}, body)).encode())
        info = answer["data"]["project"]["issues"]["pageInfo"]
        if not info["hasNextPage"]:
            return
        after = info["endCursor"]


def _answer(value: Any) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


@dataclass
class FakeProcess:
    """A running fake in its own process (`python -m bench.fakes`); use as a context manager."""

    vendor: str
    n: int
    latency: float = 0.0
    projects: int = 1

    def __enter__(self) -> FakeProcess:
        self._process = subprocess.Popen([sys.executable, "-m", "bench.fakes", self.vendor, str(self.n),
                                          str(self.latency), str(self.projects)], cwd=ROOT, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True)
        hello = json.loads(self._process.stdout.readline() or "null")
        if not hello:
            raise RuntimeError(f"the {self.vendor} fake did not start")
        self.url: str = hello["url"]
        self.comments: int = hello["comments"]
        return self

    def _ask(self, command: str, arg: Any = None) -> Any:
        self._process.stdin.write(json.dumps([command, arg]) + "\n")
        self._process.stdin.flush()
        return json.loads(self._process.stdout.readline())

    def counters(self) -> dict[str, int]:
        return self._ask("counters")

    def requests(self) -> int:
        return sum(self.counters().values())

    def reset(self) -> None:
        self._ask("reset")

    def touch(self, n: int) -> int:
        """Edit n items of the benchmark project (a catch-up run then has them to bring); how many were edited."""
        return self._ask("touch", n)

    def set_latency(self, seconds: float) -> None:
        self.latency = seconds
        self._ask("latency", seconds)

    @property
    def pid(self) -> int:
        return self._process.pid

    def __exit__(self, *exc) -> None:
        try:
            self._process.stdin.close()
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
