"""The mutation test's JIRA: a small fake Jira Cloud changed through its own helpers, which change it
the way Jira shows each change (tests/fakes/jira.py names the documents). References are issue ids.

What Jira does not have, or does differently, and how this adapter follows it:
- labels are free text with no rename operation, so `rename_label` is not supported;
- a sub-task cannot be moved on its own (it moves with its parent) and moving a parent moves its
  sub-tasks, so `move_item` moves only issues that are neither: for others it changes nothing;
- a parent is an issue of the same project that is not itself a sub-task (one level, as Jira's
  sub-tasks): other `set_parent` requests change nothing;
- deleting an issue deletes its sub-tasks and their comments too.
"""
from __future__ import annotations

from tests.fakes.jira import PEOPLE, STATUSES, FakeJira
from tests.mutation.adapter import OPERATIONS, MutationAdapter


def body(text: str) -> list:
    """The fake's neutral body (rendered as ADF on Cloud) for one paragraph of text."""
    return [("p", [("t", text)])]


class Adapter(MutationAdapter):
    source = "jira"
    projects = ("ACME", "OPS")
    supports = OPERATIONS - {"rename_label"}

    def __init__(self, fake: FakeJira):
        super().__init__()
        self.fake = fake

    @classmethod
    def start(cls) -> Adapter:
        # 8 ACME issues (ACME-4 has 25 comments, ACME-8 45: longer than the 20 a search embeds) and 3 in OPS
        return cls(FakeJira(cloud=True, size=8, page_cap=5, seed=12).start())

    def stop(self) -> None:
        self.fake.stop()

    def config(self) -> dict[str, str]:
        user, token = self.fake.credentials
        return {"base_url": self.fake.url, "user_email": user, "api_token": token}

    def items(self, project: str) -> list[str]:
        return [i["id"] for i in self.fake.issues[project]]

    def comments(self, item: str) -> list[str]:
        return [c["id"] for c in self.fake.issue(item)["comments"]]

    def labels(self) -> list[str]:
        return sorted({label for issues in self.fake.issues.values() for i in issues for label in i["labels"]})

    def _children(self, item: str) -> list[dict]:
        key = self.fake.issue(item)["key"]
        return [i for issues in self.fake.issues.values() for i in issues if i["parent"] == key]

    # -- changes -----------------------------------------------------------------------
    def add_item(self, project: str, title: str) -> None:
        self.fake.create(project, title)

    def edit_title(self, item: str, title: str) -> None:
        self.fake.edit(item, summary=title)

    def edit_body(self, item: str, text: str) -> None:
        self.fake.edit(item, description=body(text))

    def set_state(self, item: str, n: int) -> None:
        self.fake.edit(item, status=STATUSES[n % len(STATUSES)])

    def set_assignee(self, item: str, n: int | None) -> None:
        self.fake.edit(item, assignee=None if n is None else n % len(PEOPLE))

    def set_labels(self, item: str, labels: list[str]) -> None:
        self.fake.edit(item, labels=sorted(set(labels)))

    def set_parent(self, item: str, parent: str | None) -> None:
        if parent is None:
            self.fake.edit(item, parent=None)
            return
        target = self.fake.issue(parent)
        if target["parent"] or self._children(item) or target["project"] != self.fake.issue(item)["project"]:
            return  # Jira allows one level of sub-tasks within a project
        self.fake.edit(item, parent=target["key"])

    def add_comment(self, item: str, text: str) -> None:
        self.fake.add_comment(item, body(text))

    def edit_comment(self, item: str, comment: str, text: str) -> None:
        self.fake.edit_comment(item, comment, body(text))

    def delete_comment(self, item: str, comment: str) -> None:
        self.fake.delete_comment(item, comment)
        self._deleted.add(comment)

    def delete_item(self, item: str) -> None:
        for issue in self.fake.delete_issue(item):
            self._deleted.add(issue["id"])
            self._deleted.update(c["id"] for c in issue["comments"])

    def move_item(self, item: str, project: str) -> None:
        issue = self.fake.issue(item)
        if issue["parent"] or self._children(item) or issue["project"] == project:
            return  # sub-tasks move with their parent; see the module docstring
        self.fake.move(item, project)
