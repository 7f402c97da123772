"""Catch-up runs converge (issue 12), proven against every source's fake by Hypothesis' stateful testing.

For each source with an adapter (tests/mutation/adapters/<source>.py), a sequence starts a small
fake, imports its two projects, then applies random changes (those the vendor has: edit titles,
bodies, states, assignees, labels, parents; add, edit and delete comments; add, delete and move
items; rename labels) and runs the default catch-up import (`duplicates=update`, `deletions=mark`,
incremental from the last success) after each. At the end of the sequence the catch-up store must
equal a fresh full import of the fake as it is then, item by item and comment by comment, plus soft
deletes: every item or comment the store marks deleted is one the sequence deleted.

Imports run through the jobs API on a real RQ worker (in-process, forking its work horse) into
SQLite files of the test's own. Bounded: MUTATION_SEQUENCES sequences (default 3) of up to
MUTATION_STEPS steps (default 5) a source, deterministic (derandomized) so CI runs the same ones;
set MUTATION_SEQUENCES=50 for a long local run.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import string
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

import tests.mutation.adapters as adapter_package
from tests.mutation import snapshot
from tests.mutation.adapter import MutationAdapter

SEQUENCES = int(os.environ.get("MUTATION_SEQUENCES", "3"))
STEPS = int(os.environ.get("MUTATION_STEPS", "5"))
TEXT = st.text(alphabet=string.ascii_letters + string.digits + " .,!?-", min_size=1, max_size=24).filter(str.strip)
LABELS = st.lists(st.sampled_from(["backend", "ui", "bug-bash", "perf", "docs"]), max_size=3, unique=True)
RAN: dict[str, int] = {}  # source -> sequences run, for the report at the end


def adapters() -> dict[str, type[MutationAdapter]]:
    """Every `Adapter` in tests/mutation/adapters/, by its source name."""
    found = {}
    for module in pkgutil.iter_modules(adapter_package.__path__):
        adapter = importlib.import_module(f"{adapter_package.__name__}.{module.name}").Adapter
        found[adapter.source] = adapter
    return found


def _machine(adapter_class: type[MutationAdapter], run_worker, folder: Path) -> type[RuleBasedStateMachine]:
    from jobs import api

    def run(url: str, config: dict[str, str], **options) -> dict:
        """One import of both projects into the store at `url`, on a real worker; its progress document."""
        previous = os.environ["DATABASE_URL"]
        os.environ["DATABASE_URL"] = url
        try:
            job_id = api.start_import(adapter_class.source, list(adapter_class.projects), config=config, **options)
            run_worker()
            return api.status(job_id)
        finally:
            os.environ["DATABASE_URL"] = previous

    class Convergence(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.adapter = adapter_class.start()
            self.store = f"sqlite:///{folder / uuid.uuid4().hex}.db"
            self.steps: list[str] = []
            self._catch_up("first import")

        def _catch_up(self, step: str) -> None:
            self.steps.append(step)
            doc = run(self.store, self.adapter.config())
            assert doc["status"] == "succeeded", f"after {self.steps}: {doc['status']}: {doc['error']}"

        def _items(self) -> list[str]:
            return [ref for project in self.adapter.projects for ref in self.adapter.items(project)]

        def _with_comments(self) -> list[str]:
            return [ref for ref in self._items() if self.adapter.comments(ref)]

        def _can(self, operation: str) -> bool:
            return operation in self.adapter.supports

        # -- the changes ------------------------------------------------------------------
        @precondition(lambda self: self._can("add_item"))
        @rule(data=st.data(), title=TEXT)
        def add_item(self, data, title):
            project = data.draw(st.sampled_from(self.adapter.projects), label="project")
            self.adapter.add_item(project, title)
            self._catch_up(f"add_item({project!r}, {title!r})")

        @precondition(lambda self: self._can("edit_title") and self._items())
        @rule(data=st.data(), title=TEXT)
        def edit_title(self, data, title):
            item = data.draw(st.sampled_from(self._items()), label="item")
            self.adapter.edit_title(item, title)
            self._catch_up(f"edit_title({item!r}, {title!r})")

        @precondition(lambda self: self._can("edit_body") and self._items())
        @rule(data=st.data(), body=TEXT)
        def edit_body(self, data, body):
            item = data.draw(st.sampled_from(self._items()), label="item")
            self.adapter.edit_body(item, body)
            self._catch_up(f"edit_body({item!r}, {body!r})")

        @precondition(lambda self: self._can("set_state") and self._items())
        @rule(data=st.data(), n=st.integers(0, 20))
        def set_state(self, data, n):
            item = data.draw(st.sampled_from(self._items()), label="item")
            self.adapter.set_state(item, n)
            self._catch_up(f"set_state({item!r}, {n})")

        @precondition(lambda self: self._can("set_assignee") and self._items())
        @rule(data=st.data(), n=st.none() | st.integers(0, 20))
        def set_assignee(self, data, n):
            item = data.draw(st.sampled_from(self._items()), label="item")
            self.adapter.set_assignee(item, n)
            self._catch_up(f"set_assignee({item!r}, {n})")

        @precondition(lambda self: self._can("set_labels") and self._items())
        @rule(data=st.data(), labels=LABELS)
        def set_labels(self, data, labels):
            item = data.draw(st.sampled_from(self._items()), label="item")
            self.adapter.set_labels(item, labels)
            self._catch_up(f"set_labels({item!r}, {labels!r})")

        @precondition(lambda self: self._can("set_parent") and self._items())
        @rule(data=st.data())
        def set_parent(self, data):
            project = data.draw(st.sampled_from([p for p in self.adapter.projects if self.adapter.items(p)]))
            item = data.draw(st.sampled_from(self.adapter.items(project)), label="item")
            others = [ref for ref in self.adapter.items(project) if ref != item]
            parent = data.draw(st.none() | st.sampled_from(others) if others else st.none(), label="parent")
            self.adapter.set_parent(item, parent)
            self._catch_up(f"set_parent({item!r}, {parent!r})")

        @precondition(lambda self: self._can("add_comment") and self._items())
        @rule(data=st.data(), body=TEXT)
        def add_comment(self, data, body):
            item = data.draw(st.sampled_from(self._items()), label="item")
            self.adapter.add_comment(item, body)
            self._catch_up(f"add_comment({item!r}, {body!r})")

        @precondition(lambda self: self._can("edit_comment") and self._with_comments())
        @rule(data=st.data(), body=TEXT)
        def edit_comment(self, data, body):
            item = data.draw(st.sampled_from(self._with_comments()), label="item")
            comment = data.draw(st.sampled_from(self.adapter.comments(item)), label="comment")
            self.adapter.edit_comment(item, comment, body)
            self._catch_up(f"edit_comment({item!r}, {comment!r}, {body!r})")

        @precondition(lambda self: self._can("delete_comment") and self._with_comments())
        @rule(data=st.data())
        def delete_comment(self, data):
            item = data.draw(st.sampled_from(self._with_comments()), label="item")
            comment = data.draw(st.sampled_from(self.adapter.comments(item)), label="comment")
            self.adapter.delete_comment(item, comment)
            self._catch_up(f"delete_comment({item!r}, {comment!r})")

        @precondition(lambda self: self._can("delete_item") and self._items())
        @rule(data=st.data())
        def delete_item(self, data):
            item = data.draw(st.sampled_from(self._items()), label="item")
            self.adapter.delete_item(item)
            self._catch_up(f"delete_item({item!r})")

        @precondition(lambda self: self._can("move_item") and self._items())
        @rule(data=st.data())
        def move_item(self, data):
            source, target = data.draw(st.permutations(self.adapter.projects), label="from, to")
            if not self.adapter.items(source):
                source, target = target, source
            item = data.draw(st.sampled_from(self.adapter.items(source)), label="item")
            self.adapter.move_item(item, target)
            self._catch_up(f"move_item({item!r}, {target!r})")

        @precondition(lambda self: self._can("rename_label") and self.adapter.labels())
        @rule(data=st.data(), new=st.sampled_from(["renamed", "backend-2", "ui-v2"]))
        def rename_label(self, data, new):
            old = data.draw(st.sampled_from(sorted(self.adapter.labels())), label="label")
            self.adapter.rename_label(old, new)
            self._catch_up(f"rename_label({old!r}, {new!r})")

        # -- the proof --------------------------------------------------------------------
        def teardown(self) -> None:
            try:
                fresh_store = f"sqlite:///{folder / uuid.uuid4().hex}.db"
                doc = run(fresh_store, self.adapter.config(), incremental=False)
                assert doc["status"] == "succeeded", f"fresh import: {doc['status']}: {doc['error']}"
                caught_up = snapshot.read(self.store, adapter_class.source)
                fresh = snapshot.read(fresh_store, adapter_class.source)
                lines = snapshot.differences(caught_up.items, fresh.items, "item")
                lines += snapshot.differences(caught_up.comments, fresh.comments, "comment")
                deleted = self.adapter.deleted_ids()
                lines += [f"item {eid} soft-deleted, but the sequence never deleted it"
                          for eid in sorted(caught_up.deleted_items - deleted)]
                lines += [f"comment {eid} soft-deleted, but the sequence never deleted it"
                          for eid in sorted(caught_up.deleted_comments - deleted)]
                assert not lines, f"after {self.steps}:\n" + "\n".join(lines[:40])
                RAN[adapter_class.source] = RAN.get(adapter_class.source, 0) + 1
            finally:
                self.adapter.stop()

    return Convergence


@pytest.mark.parametrize("source", sorted(adapters()))
def test_catch_up_runs_leave_the_workspace_equal_to_a_fresh_import(source, run_worker, tmp_path):
    machine = _machine(adapters()[source], run_worker, tmp_path)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=SEQUENCES, stateful_step_count=STEPS, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck), print_blob=False))
    assert RAN.get(source, 0) >= 1
    print(f"\nmutation test: {source}: {RAN[source]} sequences of up to {STEPS} changes converged")
