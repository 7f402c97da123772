"""The mutation test's GitLab: a small fake GitLab changed the way GitLab shows each change
(tests/fakes/gitlab.py). References are the issues' and notes' global ids; the projects are two.

How GitLab shows changes, and what this adapter follows:
- editing an issue (title, description, state, assignees, labels) moves its `updated_at`;
- saving a note, new or edited, touches its issue (app/models/note.rb: `after_save :touch_noteable`);
  deleting one does not (no such hook on destroy): the catch-up finds it through `recheck_comments`;
- a move closes the original, keeps it with `moved_to_id`, and creates a new issue with copies of the
  notes (`FakeGitLab.move`); the original keeps its notes at GitLab, so the workspace keeps them on
  the original while the new issue is not stored and, once it is, holds them once, on the new issue:
  never a soft delete (nothing the sequence deleted), so a run that counted them gone fails the test;
- GitLab issues have no parent issue (epics and tasks aside): `set_parent` is not supported;
- renaming a label changes the label, not the issues (their `updated_at` stays), so a catch-up that
  reads changed issues cannot see it: `rename_label` is left out until a label listing is read.
"""
from __future__ import annotations

from tests.fakes.dataset import Row
from tests.fakes.gitlab import WEB, FakeGitLab
from tests.mutation.adapter import OPERATIONS, MutationAdapter

PROJECTS = ("acme/web-app", "acme/ops")


class Adapter(MutationAdapter):
    source = "gitlab"
    projects = PROJECTS
    supports = OPERATIONS - {"set_parent", "rename_label"}

    def __init__(self, fake: FakeGitLab):
        super().__init__()
        self.fake = fake

    @classmethod
    def start(cls) -> Adapter:
        return cls(FakeGitLab({PROJECTS[0]: 8, PROJECTS[1]: 5}, seed=12).start())

    def stop(self) -> None:
        self.fake.stop()

    def config(self) -> dict[str, str]:
        return {"token": self.fake.token, "url": self.fake.url}

    def items(self, project: str) -> list[str]:
        return [str(i["id"]) for i in self.fake.issues[project] if not i.get("moved_to_id")]

    def _issue(self, item: str) -> tuple[str, dict]:
        for path, issues in self.fake.issues.items():
            for issue in issues:
                if str(issue["id"]) == item:
                    return path, issue
        raise KeyError(item)

    def _notes(self, item: str) -> list[dict]:
        path, issue = self._issue(item)
        return self.fake.notes.setdefault((path, issue["iid"]), [])

    def comments(self, item: str) -> list[str]:
        return [str(n["id"]) for n in self._notes(item) if not n["system"]]

    def _edit(self, item: str, **values) -> None:
        _, issue = self._issue(item)
        with self.fake._lock:
            issue.update(values, updated_at=self.fake._now())

    # -- changes -----------------------------------------------------------------------
    def add_item(self, project: str, title: str) -> None:
        issues = self.fake.issues[project]
        pid = self.fake.projects[project]["id"]
        iid = max((i["iid"] for i in issues), default=0) + 1
        now = self.fake._now()
        template = issues[0] if issues else next(i for rows in self.fake.issues.values() for i in rows)
        issue = Row({**template, "id": pid * 100_000 + iid, "iid": iid, "project_id": pid, "title": title,
                     "description": "", "state": "opened", "closed_at": None, "closed_by": None, "labels": [],
                     "milestone": None, "assignees": [], "assignee": None, "epic": None, "confidential": False,
                     "created_at": now, "updated_at": now, "user_notes_count": 0, "moved_to_id": None,
                     "web_url": f"{WEB}/{project}/-/issues/{iid}"})
        issues.append(issue)
        self.fake.notes[(project, iid)] = []
        self.fake.truth[project][iid] = "todo"

    def edit_title(self, item: str, title: str) -> None:
        self._edit(item, title=title)

    def edit_body(self, item: str, body: str) -> None:
        self._edit(item, description=body)

    def set_state(self, item: str, n: int) -> None:
        closed = n % 2 == 1
        self._edit(item, state="closed" if closed else "opened", closed_at=self.fake._now() if closed else None)

    def set_assignee(self, item: str, n: int | None) -> None:
        people = [] if n is None else [self.fake._embedded(self.fake.users[n % len(self.fake.users)])]
        self._edit(item, assignees=people, assignee=people[0] if people else None)

    def set_labels(self, item: str, labels: list[str]) -> None:
        self._edit(item, labels=sorted(labels))

    def add_comment(self, item: str, body: str) -> None:
        _, issue = self._issue(item)
        with self.fake._lock:
            self.fake._note_id += 1
            now = self.fake._now()
            self._notes(item).append(Row({
                "id": self.fake._note_id, "type": None, "attachment": None, "system": False, "body": body,
                "author": self.fake._embedded(self.fake.users[1]), "created_at": now, "updated_at": now,
                "noteable_id": issue["id"], "noteable_type": "Issue", "noteable_iid": issue["iid"],
                "resolvable": False, "confidential": False, "internal": False}))
            issue.update(user_notes_count=issue["user_notes_count"] + 1, updated_at=now)  # after_save touches it

    def edit_comment(self, item: str, comment: str, body: str) -> None:
        _, issue = self._issue(item)
        note = next(n for n in self._notes(item) if str(n["id"]) == comment)
        with self.fake._lock:
            now = self.fake._now()
            note.update(body=body, updated_at=now)
            issue["updated_at"] = now  # after_save touches the issue

    def delete_comment(self, item: str, comment: str) -> None:
        _, issue = self._issue(item)
        notes = self._notes(item)
        with self.fake._lock:
            notes.remove(next(n for n in notes if str(n["id"]) == comment))
            issue["user_notes_count"] -= 1  # the issue's updated_at stays: no touch on destroy
        self._deleted.add(comment)

    def delete_item(self, item: str) -> None:
        path, issue = self._issue(item)
        self._deleted.update([item, *self.comments(item)])
        self.fake.delete(path, issue["iid"])

    def move_item(self, item: str, project: str) -> None:
        path, issue = self._issue(item)
        if path == project:
            return
        self.fake.move(path, issue["iid"], project)
