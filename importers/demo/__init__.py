"""The demo source: realistic, deterministic projects that need no credentials.

Every item is computed from (project, index) with a seeded generator, so any page can be
produced on its own (resume, retry) and tests know the ground truth exactly. Sizes: small
(50 items a project), medium (1,500), large (100,000), or a number. The default demo is clean:
every item is valid, so a first demo ends "Succeeded". Failures are a choice of their own:
- the `failures` setting (the console's "demo with failures"): that many items a project fail
  validation on the first read and come through when the job's failed items are retried, as if
  someone had fixed them at the source, so the failure report and "Retry failed items" can be shown;
- DEMO_INVALID_ITEMS (default 0): items a project that fail validation on every read, for tests
  of a cause that remains (set it back to 0 and retry: "the cause is fixed").
DEMO_REVISION > 0 changes every 7th item, to exercise updates and incremental runs, and
DEMO_PAGE_DELAY (seconds a page, default 0) paces the read like a slow vendor, so a test or a
demo can watch an import run whatever the machine's speed.
"""
from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from ..base import Cursor, Setting, Source
from ..errors import ConfigError, validation_reason
from ..model import Comment, ItemFailure, Page, Person, Project, WorkItem
from ..numbers import env_number, env_whole, whole_number
from ..words import counted
from .settings import (
    COMMENT_SENTENCES,
    DESCRIPTIONS,
    LABELS,
    NOUNS,
    PAGE_SIZE,
    PEOPLE,
    PRIORITY_MAP,
    PROJECTS,
    SIZES,
    STATUS_MAP,
    TYPES,
    VERBS,
)

EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def parse_size(value: str | int | None) -> int:
    text = str(value or "small").strip().lower()
    if text in SIZES:
        return SIZES[text]
    try:
        size = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        size = -1
    if size < 0 or size > 5_000_000:
        raise ConfigError(f"demo size {value!r} is not valid: use small, medium, large or a number of items",
                          field="config.size")
    return size


def kept_sizes(kept: Mapping[str, Mapping[str, str]]) -> str:
    """"ACME 1 item, OPS 5,000 items": the size each demo project of the workspace was last imported at (`kept`:
    project -> its kept settings), for the projects that kept one. ConfigError for a kept size that is not one."""
    return ", ".join(f"{project} {counted(parse_size(settings.get('size')), 'items')}"
                     for project, settings in kept.items() if settings.get("size"))


def parse_failures(value: str | int | None) -> int:
    """The `failures` setting: a whole number of items a project, 0 to 1,000."""
    failures = whole_number(str(value or "0").strip())
    if failures is None or failures > 1_000:
        raise ConfigError(f"demo failures {value!r} is not valid: use a whole number of items from 0 to 1,000",
                          field="config.failures")
    return failures


ID_PAGE = 5_000  # ids a page of the id listing (JIRA's id-only search pages as many)


def parse_pace(value: str | int | None) -> float | None:
    """The `pace` setting: items a second, 1 to 100,000; None (empty) reads as fast as the machine can."""
    text = str(value or "").strip()
    if not text:
        return None
    pace = whole_number(text.replace("_", "").replace(",", ""))
    if pace is None or not 1 <= pace <= 100_000:
        raise ConfigError(f"demo pace {value!r} is not valid: use a whole number of items a second from 1 to "
                          f"100,000, or leave it empty", field="config.pace")
    return float(pace)


def _person(index: int) -> Person:
    name, email = PEOPLE[index % len(PEOPLE)]
    return Person(source="demo", external_id=f"u{index % len(PEOPLE)}", display_name=name,
                  email=email, username=email.split("@")[0])


class DemoSource(Source):
    name = "demo"
    label = "Demo"
    item_noun = "items"
    kept_settings = ("size",)
    settings = (
        Setting("size", "Size", "DEMO_SIZE", required=False, default="small",
                help="small (50 items a project), medium (1,500), large (100,000) or a number"),
        Setting("failures", "Items that fail the first read", "DEMO_FAILURES", required=False, default="0",
                help="items a project that fail validation on the first read and succeed when retried"),
        Setting("pace", "Items a second", "DEMO_PACE", required=False, default="",
                help="read at most this many items a second, in pages of half a second, as a slow vendor would, "
                     "so an audience sees the import run; empty: as fast as the machine reads"),
    )

    def __init__(self, config=None, on_wait=None):
        super().__init__(config, on_wait)
        self.size = parse_size(self.config.get("size"))
        self.invalid = env_whole("DEMO_INVALID_ITEMS", 0, low=0)
        self.first_read_failures = parse_failures(self.config.get("failures"))
        self.revision = env_whole("DEMO_REVISION", 0, low=0)
        self.page_size = env_whole("DEMO_PAGE_SIZE", PAGE_SIZE)
        self.page_delay = env_number("DEMO_PAGE_DELAY", 0.0, low=0.0)  # the tests' pace: seconds a page
        pace = parse_pace(self.config.get("pace"))
        if pace is not None:  # two pages a second, so progress moves in steps an audience can follow
            self.page_size = max(1, min(PAGE_SIZE, round(pace / 2)))
            self.page_delay = self.page_size / pace

    @classmethod
    def configured_from_env(cls, environ=None) -> bool:
        return True

    @classmethod
    def default_project(cls, environ=None) -> str | None:
        return PROJECTS[0][0]

    def check(self) -> str:
        return self._account(f"{counted(self.size, 'items')} a project")

    def check_kept(self, kept: Mapping[str, Mapping[str, str]]) -> str:
        """"demo workspace (as imported before: ACME 300 items, OPS 5,000 items; a new project 50, ...)": a workspace
        that holds demo projects reads each at its kept size when no size is chosen, not at the default."""
        sizes = kept_sizes(kept)
        if not sizes:
            return self.check()
        return self._account(f"as imported before: {sizes}; a new project {self.size:,}")

    def _account(self, sizes: str) -> str:
        failing = f", {self.first_read_failures:,} failing the first read" if self.first_read_failures else ""
        return f"demo workspace ({sizes}{failing}, no credentials needed)"

    def projects(self) -> list[Project]:
        return [Project(source="demo", key=key, name=name, description=desc) for key, name, desc in PROJECTS]

    @classmethod
    def known_projects(cls) -> tuple[str, ...]:
        return tuple(key for key, _, _ in PROJECTS)

    # -- deterministic generation --------------------------------------------------------
    def _invalid_indexes(self, project: str, first_read: bool = True) -> set[int]:
        """Items that fail validation: the persistent ones, plus on a first read the `failures` ones.
        One seeded draw serves both, so the persistent ones are among the first-read ones."""
        drawn_count = min(max(self.invalid, self.first_read_failures), self.size)
        drawn = random.Random(f"invalid:{project}:{self.size}").sample(range(self.size), drawn_count)
        return set(drawn[:max(self.invalid, self.first_read_failures if first_read else 0)])

    def _changed(self, index: int) -> bool:
        return self.revision > 0 and index % 7 == self.revision % 7

    def _updated_at(self, index: int) -> datetime:
        created = EPOCH + timedelta(minutes=7 * index)
        updated = created + timedelta(hours=index % 72)
        if self._changed(index):
            # after every unrevised item, so an incremental run picks up exactly the revised ones
            updated = EPOCH + timedelta(minutes=7 * self.size, days=4, hours=self.revision)
        return updated

    def _item(self, project: str, index: int, invalid: set[int]) -> tuple[WorkItem | ItemFailure, list[Comment]]:
        rng = random.Random(f"{project}:{index}")
        key = f"{project}-{index + 1}"
        external_id = f"{project.lower()}-{index + 1}"
        created = EPOCH + timedelta(minutes=7 * index)
        source_status = rng.choice(list(STATUS_MAP))
        title = f"{rng.choice(VERBS)} {rng.choice(NOUNS)}"
        if self._changed(index):
            title += f" (revised r{self.revision})"
            source_status = "Done"
        if index in invalid:
            title = "   "  # deliberately invalid: a blank title fails validation
        parent = f"{project}-{index - index % 10 + 1}" if index % 10 and rng.random() < 0.3 else None
        updated = self._updated_at(index)
        comments = [
            Comment(
                source="demo",
                external_id=f"{external_id}-c{n}",
                item_external_id=external_id,
                author=_person(rng.randrange(len(PEOPLE))),
                body=rng.choice(COMMENT_SENTENCES),
                created_at=created + timedelta(hours=n + 1),
            )
            for n in range(rng.choice((0, 0, 1, 1, 2, 3)))
        ]
        description = rng.choice(DESCRIPTIONS)  # drawn in this order, so every item stays as it always was
        kind = "sub-task" if parent else rng.choice(TYPES)
        priority = rng.choice(list(PRIORITY_MAP))
        try:
            item = WorkItem(
                source="demo",
                external_id=external_id,
                key=key,
                project=project,
                title=title,
                description=description,
                type=kind,
                source_type=kind,
                status=STATUS_MAP[source_status],
                source_status=source_status,
                state=source_status,
                priority=PRIORITY_MAP[priority],
                source_priority=priority,
                labels=sorted(set(rng.sample(LABELS, rng.randint(0, 3)))),
                assignee=_person(rng.randrange(len(PEOPLE))) if rng.random() < 0.8 else None,
                reporter=_person(rng.randrange(len(PEOPLE))),
                created_at=created,
                updated_at=updated,
                closed_at=updated if STATUS_MAP[source_status].value in ("done", "cancelled") else None,
                url=f"https://demo.acgs2.example/{project}/{index + 1}",
                parent_key=parent,
            )
        except ValidationError as exc:
            reason = validation_reason(exc)
            return ItemFailure(external_id=external_id, key=key, reason=reason), []
        return item, comments

    def _indexes(self, since: datetime | None) -> Iterator[int]:
        for index in range(self.size):
            if since is None or self._updated_at(index) >= since:
                yield index

    def _pages(self, project: str, indexes: Iterable[int], start: int, first_read: bool = True) -> Iterator[Page]:
        invalid = self._invalid_indexes(project, first_read)
        page = Page()
        last = start
        for index in indexes:
            if index < start:
                continue
            result, comments = self._item(project, index, invalid)
            if isinstance(result, ItemFailure):
                page.failures.append(result)
            else:
                page.items.append(result)
                page.comments.extend(comments)
            last = index + 1
            if page.size >= self.page_size:
                page.cursor = {"next_index": last}
                time.sleep(self.page_delay)
                yield page
                page = Page()
        if page.size:
            page.cursor = {"next_index": last}
            time.sleep(self.page_delay)
            yield page

    # -- the contract --------------------------------------------------------------------
    def estimate(self, project: str, since: datetime | None = None) -> int | None:
        self.check_project(project)
        if since is None:
            return self.size
        return sum(1 for _ in self._indexes(since))

    def read(self, project: str, cursor: Cursor | None = None, since: datetime | None = None) -> Iterator[Page]:
        self.check_project(project)
        start = int((cursor or {}).get("next_index", 0))
        return self._pages(project, self._indexes(since), start)

    def item_ids(self, project: str) -> Iterator[list[str]]:
        """Every item's id, as a vendor's id-only route lists them (5,000 a page, failed items included), at no
        pace: the deletion sweep after a paced read re-read the whole project as slowly (a one-click demo sat at
        "99.9%, 50 / 50" for half its run)."""
        self.check_project(project)
        ids = [f"{project.lower()}-{index + 1}" for index in range(self.size)]
        for start in range(0, len(ids), ID_PAGE):
            yield ids[start:start + ID_PAGE]

    def fetch(self, project: str, external_ids: Iterable[str], keys: object = None) -> Iterator[Page]:
        self.check_project(project)
        prefix = f"{project.lower()}-"
        indexes = sorted(
            number - 1 for e in external_ids
            if e.startswith(prefix) and 0 < (number := whole_number(e[len(prefix):]) or 0) <= self.size
        )
        return self._pages(project, indexes, 0, first_read=False)  # a retry: first-read failures are fixed

    def ground_truth(self, project: str) -> dict[str, int]:
        """Exact counts a full import of `project` must produce (for tests and the tour)."""
        items = comments = 0
        people: set[str] = set()
        invalid = self._invalid_indexes(project)
        for index in range(self.size):
            result, cs = self._item(project, index, invalid)
            if isinstance(result, WorkItem):
                items += 1
                comments += len(cs)
                people.update(p.match_key for p in (result.assignee, result.reporter) if p)
                people.update(c.author.match_key for c in cs if c.author)
        return {"items": items, "comments": comments, "people": len(people), "invalid": len(invalid)}
