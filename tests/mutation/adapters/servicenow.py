"""The mutation test's ServiceNow: a small fake instance changed through its own helpers, the way the
Table API shows each change (tests/fakes/servicenow.py). References are sys_ids; the projects are
two tables.

What ServiceNow does not have, or does differently, and how this adapter follows it:
- journal entries (comments, work notes) are append-only in the activity stream: no edit, so
  `edit_comment` is not supported; an administrator can delete a sys_journal_field row (a record of
  its own, tests/fakes/servicenow.py `delete`), which writes no other record: the ticket's
  sys_updated_on stays (`delete_comment`);
- a ticket cannot move to another table (an incident stays an incident), so `move_item` is not;
- a ticket has one category, not labels: `set_labels` sets the category to the first label (none:
  empty), and there is no rename of a category's value, so `rename_label` is not supported;
- a parent is an incident's `parent_incident` (change requests' `parent` is not set by the fake):
  `set_parent` on a change request changes nothing;
- every change stamps the ticket's sys_updated_on, adding a comment included (it is written
  through the ticket); deleting a ticket leaves its journal rows orphaned, never read again;
- deleting a ticket clears the references to it in other tickets, ServiceNow's default cascade rule
  ("Clear: deleting a record clears references", docs: Configure cascade delete rules), and those
  tickets are updated by it. (`FakeServiceNow.delete` alone leaves references dangling, as rule
  "None" or a script does: the edge issue 13 imports as "no parent, with a note".)
"""
from __future__ import annotations

from tests.fakes.servicenow import PEOPLE, STATES, FakeServiceNow, sys_id
from tests.mutation.adapter import OPERATIONS, MutationAdapter


class Adapter(MutationAdapter):
    source = "servicenow"
    projects = ("incident", "change_request")
    supports = OPERATIONS - {"edit_comment", "move_item", "rename_label"}

    def __init__(self, fake: FakeServiceNow):
        super().__init__()
        self.fake = fake

    @classmethod
    def start(cls) -> Adapter:
        # 8 incidents (the one at index 3 has the first as its parent) and 4 change requests
        return cls(FakeServiceNow(sizes={"incident": 8, "change_request": 4}, hide_every=0, seed=12).start())

    def stop(self) -> None:
        self.fake.stop()

    def config(self) -> dict[str, str]:
        return {"instance": self.fake.url, "username": self.fake.username, "password": self.fake.password}

    def items(self, project: str) -> list[str]:
        return [row["sys_id"] for row in self.fake.data[project]]

    def comments(self, item: str) -> list[str]:
        return [j["sys_id"] for j in self.fake.data["sys_journal_field"] if j["element_id"] == item]

    def _edit(self, item: str, **values: str) -> None:
        row = self.fake.record(item)
        assert row is not None, item
        row.update(values)
        self.fake.bump(row)

    # -- changes -----------------------------------------------------------------------
    def add_item(self, project: str, title: str) -> None:
        self.fake.create(project, title)

    def edit_title(self, item: str, title: str) -> None:
        self._edit(item, short_description=title)

    def edit_body(self, item: str, body: str) -> None:
        self._edit(item, description=body)

    def set_state(self, item: str, n: int) -> None:
        table = next(t for t in self.projects if any(r["sys_id"] == item for r in self.fake.data[t]))
        states = list(STATES[table])
        self._edit(item, state=states[n % len(states)])

    def set_assignee(self, item: str, n: int | None) -> None:
        self._edit(item, assigned_to="" if n is None else sys_id("user", PEOPLE[n % len(PEOPLE)][0]))

    def set_labels(self, item: str, labels: list[str]) -> None:
        self._edit(item, category=labels[0] if labels else "")

    def set_parent(self, item: str, parent: str | None) -> None:
        if "parent_incident" in (self.fake.record(item) or {}):
            self._edit(item, parent_incident=parent or "")

    def add_comment(self, item: str, body: str) -> None:
        row = self.fake.record(item)
        assert row is not None, item
        table = next(t for t in self.projects if any(r is row for r in self.fake.data[t]))
        self.fake.add_journal(table, row, body, author=PEOPLE[1][0])
        self.fake.bump(row)

    def delete_comment(self, item: str, comment: str) -> None:
        self._deleted.add(comment)
        self.fake.delete(comment)  # the ticket is not written: no bump

    def delete_item(self, item: str) -> None:
        self._deleted.update([item, *self.comments(item)])
        self.fake.delete(item)
        for table in self.projects:
            for row in self.fake.data[table]:
                cleared = {ref: "" for ref in ("parent_incident", "problem_id", "rfc") if row.get(ref) == item}
                if cleared:
                    self._edit(row["sys_id"], **cleared)
