"""The mutation test's GitHub: a small fake GitHub changed the way GitHub's REST API shows each change
(tests/fakes/github.py). References are issue and comment ids; the projects are two repositories.

How GitHub shows changes, and what this adapter follows:
- editing an issue (title, body, state, assignees, labels) or commenting on it moves the issue's
  `updated_at`; editing a comment moves the comment's `updated_at` only, and the repository comment
  listing's `since` finds it (the catch-up joins it to the stored issue by key);
- a deleted issue leaves the issue listing and takes its comments along, its URL answers 410;
- deleting a comment leaves the issue's `updated_at` alone (`delete_comment`: the catch-up run's
  deletion sweep finds it in its GraphQL walk of issue and comment ids, tests/fakes/github_graphql.py,
  which serves the same rows; `stop` checks that the sweeps took that route);
- a transfer (`move_item`) makes a new issue of the target repository (new number and id, comments kept,
  labels only where the target has them) and the old URL answers 301 (tests/fakes/github.py `transfer`).
Left out, and why: renaming a label changes no issue's `updated_at` (`rename_label`); sub-issues are not
mapped to parents by id yet (`set_parent`).
"""
from __future__ import annotations

import random
from datetime import timedelta

from tests.fakes.github import USERS, GitHubFake
from tests.mutation.adapter import OPERATIONS, MutationAdapter

REPOS = ("acme/web", "acme/api")


class Adapter(MutationAdapter):
    source = "github"
    projects = REPOS
    supports = OPERATIONS - {"rename_label", "set_parent"}

    def __init__(self, fake: GitHubFake):
        super().__init__()
        self.fake = fake

    @classmethod
    def start(cls) -> Adapter:
        return cls(GitHubFake(sizes={REPOS[0]: 8, REPOS[1]: 5}, pr_every=0, seed=12).start())

    def stop(self) -> None:
        """Also checks that the catch-up runs swept over GraphQL (importers/github/graphql.py), never
        falling back to the REST listings: a catch-up run reads `since=`, and its sweep then walks GraphQL."""
        try:
            catch_ups = [path for _, path, _ in self.fake.log if "/issues?" in path and "since=" in path]
            refused = [(path, status) for _, path, status in self.fake.log if path == "/graphql" and status != 200]
            assert not refused, f"GraphQL refused: {refused[:3]}"
            assert not catch_ups or self.fake.requests["graphql"] > 0, "the catch-up runs did not sweep over GraphQL"
        finally:
            self.fake.stop()

    def config(self) -> dict[str, str]:
        return {"token": self.fake.token, "api_url": self.fake.url}

    def items(self, project: str) -> list[str]:
        return [str(i["id"]) for i in self.fake.issues[project]]

    def _issue(self, item: str) -> tuple[str, dict]:
        for repo, issues in self.fake.issues.items():
            for issue in issues:
                if str(issue["id"]) == item:
                    return repo, issue
        raise KeyError(item)

    def _comments_of(self, item: str) -> list[dict]:
        repo, issue = self._issue(item)
        return [c for c in self.fake.comments[repo] if c["issue_url"].endswith(f"/issues/{issue['number']}")]

    def comments(self, item: str) -> list[str]:
        return [str(c["id"]) for c in self._comments_of(item)]

    def _now(self) -> str:
        self.fake._clock += timedelta(seconds=1)
        return self.fake._clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _edit(self, item: str, **values) -> None:
        _, issue = self._issue(item)
        with self.fake._data:
            issue.update(values, updated_at=self._now())

    # -- changes -----------------------------------------------------------------------
    def add_item(self, project: str, title: str) -> None:
        with self.fake._data:
            issues = self.fake.issues[project]
            number = self.fake.next_number(project)
            issue = self.fake._issue(random.Random(number), project, self.fake.repos[project]["id"], number)
            now = self._now()
            issue.update(title=title, body="", state="open", state_reason=None, closed_at=None, labels=[],
                         assignee=None, assignees=[], milestone=None, created_at=now, updated_at=now)
            issue.pop("parent_issue_url", None)
            issues.append(issue)

    def edit_title(self, item: str, title: str) -> None:
        self._edit(item, title=title)

    def edit_body(self, item: str, body: str) -> None:
        self._edit(item, body=body)

    def set_state(self, item: str, n: int) -> None:
        states = (("open", None), ("closed", "completed"), ("closed", "not_planned"), ("open", "reopened"))
        state, reason = states[n % len(states)]
        now = self._now()
        self._edit(item, state=state, state_reason=reason, closed_at=now if state == "closed" else None)

    def set_assignee(self, item: str, n: int | None) -> None:
        people = [] if n is None else [self.fake._user(n % len(USERS))]
        self._edit(item, assignee=people[0] if people else None, assignees=people)

    def set_labels(self, item: str, labels: list[str]) -> None:
        self._edit(item, labels=[{"id": 7100 + k, "name": name, "color": "ededed", "description": None,
                                  "default": False} for k, name in enumerate(sorted(labels))])

    def add_comment(self, item: str, body: str) -> None:
        repo, issue = self._issue(item)
        with self.fake._data:
            cid = max((c["id"] for rows in self.fake.comments.values() for c in rows), default=9_000_000) + 1
            now = self._now()
            comment = self.fake._comment(random.Random(cid), repo, issue["number"], cid, self.fake._clock)
            comment.update(body=body, created_at=now, updated_at=now)
            self.fake.comments[repo].append(comment)
            self.fake.recount(repo)
            issue["updated_at"] = now  # a new comment moves its issue's updated_at

    def edit_comment(self, item: str, comment: str, body: str) -> None:
        row = next(c for c in self._comments_of(item) if str(c["id"]) == comment)
        with self.fake._data:
            row.update(body=body, updated_at=self._now())  # the issue's updated_at stays

    def delete_comment(self, item: str, comment: str) -> None:
        repo, _ = self._issue(item)
        self._deleted.add(comment)
        self.fake.delete_comment(repo, int(comment))

    def delete_item(self, item: str) -> None:
        repo, issue = self._issue(item)
        self._deleted.update([item, *self.comments(item)])
        self.fake.delete_issue(repo, issue["number"])

    def move_item(self, item: str, project: str) -> None:
        repo, issue = self._issue(item)
        self.fake.transfer(repo, issue["number"], project)
