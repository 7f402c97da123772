"""The contract every source answers, so the runner treats all tools alike.

A source checks its connection, lists projects, estimates a project's size, and streams a
project page by page, each page carrying the cursor to resume right after it. A source never
holds a whole project in memory.

Catch-up runs converge (issue 12): after reading what changed, the runner's deletion sweep
(jobs/sweep.py) asks the source three more things, each with a default here that is correct
but may be costly, so a connector overrides it with its API's cheapest complete route:

- `item_ids(project)`, the id listing: every item id that exists in the project now. Stored
  items missing from it are deleted or moved; listed ids not in the store are read with `fetch`.
- `follow_moves(project, ids)`: of the ids the listing lacks, re-read those that still exist
  elsewhere (moved to another project, transferred), so they are updated, not soft-deleted.
- `recheck_comments(project, ids)`: which stored comments still exist (returned as pages of
  comments, so edits are applied too), for comment deletions that do not show as an item change.
- `sweep_notes(project)`: what the job should be told about the routes taken (a fallback).
"""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from .errors import API, CLI, CONSOLE, SETTING_WORDS, ConfigError, NotFoundError, SourceError
from .model import Page, Project, StreamGap, WorkItem
from .redact import Redactor
from .retry import RetryPolicy, WaitListener
from .urls import check_url, origin_of
from .words import listed


@dataclass(frozen=True)
class Setting:
    """One configuration value of a source; `secret` ones are encrypted and never shown. An `account` one names whom
    a secret belongs to (JIRA's email, ServiceNow's user name): public, but sent only where the secret may go."""

    name: str  # key in the config dict, e.g. "api_token"
    label: str  # shown in the credential form
    env: str  # environment variable, e.g. "JIRA_API_TOKEN"
    secret: bool = False
    account: bool = False
    required: bool = True
    default: str = ""
    help: str = ""
    choices: tuple[str, ...] = ()  # the only values it takes (any case), for a setting that is no free text

    @property
    def server_bound(self) -> bool:
        """Sent only to the server its own layer of settings names (jobs/launch.merge_layers): a secret, and the
        account it belongs to. The server's JIRA email went along with a caller's token to the caller's server."""
        return self.secret or self.account

    @property
    def words(self) -> dict[str, str]:
        """How each surface names this setting: the variable on the CLI, `config.NAME` in the HTTP API's body, the
        form's label, quoted, in the console."""
        return {CLI: self.env, API: f"config.{self.name}", CONSOLE: f'"{self.label}"'}


Cursor = dict[str, Any]


class Source(ABC):
    """Base of all connectors. Subclasses set `name`, `label`, `settings`, `default_project_env`."""

    name: ClassVar[str]
    label: ClassVar[str]
    settings: ClassVar[tuple[Setting, ...]] = ()
    item_noun: ClassVar[str] = "issues"
    project_noun: ClassVar[str] = "project"  # what the source calls a project ("table" for ServiceNow)
    # the setting naming the server the secrets are sent to (None: the source has no server)
    url_setting: ClassVar[str | None] = None
    # settings that decide what a project holds (the demo's size): a run not given one reads the project as its last
    # import did (jobs/launch.py kept_settings); read otherwise, the rest of the project looked gone, marked deleted
    kept_settings: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A connector's settings join `SETTING_WORDS`, so every message naming one of their variables (a vendor's
        refusal: "check JIRA_API_TOKEN") reads in the words of the surface that shows it (`SourceError.shown_in`)."""
        super().__init_subclass__(**kwargs)
        SETTING_WORDS.update({setting.env: setting.words for setting in cls.settings})

    def __init__(self, config: dict[str, str] | None = None, on_wait: WaitListener | None = None):
        self.config = {s.name: (config or {}).get(s.name) or s.default for s in self.settings}
        for setting in self.settings:
            if setting.choices:
                self.config[setting.name] = self._chosen(setting)
        secrets = [str(self.config[s.name]) for s in self.settings if s.secret and self.config[s.name]]
        names = [str(self.config[s.name]).strip() for s in self.settings if not s.secret and self.config[s.name]]
        self.retry = RetryPolicy(self.label, on_wait, Redactor(secrets, names))

    # -- configuration -------------------------------------------------------------------
    @classmethod
    def config_from_env(cls, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        env = os.environ if environ is None else environ
        return {s.name: env[s.env] for s in cls.settings if env.get(s.env)}

    @classmethod
    def configured_from_env(cls, environ: Mapping[str, str] | None = None) -> bool:
        found = cls.config_from_env(environ)
        return all(found.get(s.name) or s.default for s in cls.settings if s.required)

    @classmethod
    def origin(cls, config: Mapping[str, str]) -> str | None:
        """The server `config` sends its secrets to, as a normalised origin ("https://host:443"), or None when
        the source has no server setting or `config` names none (and the setting has no default)."""
        if cls.url_setting is None:
            return None
        setting = next(s for s in cls.settings if s.name == cls.url_setting)
        return origin_of(cls.server_url(str(config.get(setting.name) or setting.default or "")))

    def server_address(self) -> str:
        """The server the secrets go to (`url_setting`), checked (`importers.urls.check_url`: a one-line ConfigError
        naming the setting). Connectors build their clients on it, and a launch checks it before the job keeps its
        settings: a URL with a password in it was kept in the clear and shown to every reader of the job list."""
        if self.url_setting is None:
            raise NotImplementedError(f"{self.label} has no server setting")
        setting = next(s for s in self.settings if s.name == self.url_setting)
        return check_url(self.server_url(self.require(setting.name)), setting.env, secret=self.secret_words,
                         **self.where(setting.name))

    @property
    def secret_words(self) -> str:
        """The secret settings' variables, listed ("JIRA_API_TOKEN"): where a secret goes, in messages that each
        surface renders in its own words (`importers.errors.in_words`)."""
        return listed([s.env for s in self.settings if s.secret])

    @classmethod
    def server_url(cls, value: str) -> str:
        """The URL a value of the server setting stands for (a source with short forms widens them)."""
        return value

    @classmethod
    def default_project(cls, environ: dict[str, str] | None = None) -> str | None:
        return None

    def where(self, name: str) -> dict[str, Any]:
        """`field` and `places` of the setting `name` for a ConfigError about it, in each surface's words
        (`Setting.words`)."""
        setting = next(s for s in self.settings if s.name == name)
        return {"field": f"config.{name}", "places": setting.words}

    def _chosen(self, setting: Setting) -> str:
        """The value of a setting with `choices`, lower case. A value it does not take is refused here, naming the
        setting and its values: GitLab's API "soap" was taken and the connection test then blamed the URL."""
        value = str(self.config[setting.name]).strip().lower()
        if value not in setting.choices:
            raise ConfigError(f"{self.label}: {{at}} must be one of {', '.join(setting.choices)}, not "
                              f"{value[:40]!r}", **self.where(setting.name))
        return value

    def require(self, name: str) -> str:
        value = (self.config.get(name) or "").strip()
        if not value:
            setting = next(s for s in self.settings if s.name == name)
            raise ConfigError(f"{self.label}: {setting.label} is missing: {{at}}", field=f"config.{name}", places={
                CLI: f"set {setting.env}", API: f"give config.{name}", CONSOLE: "enter it in the form"})
        return value

    def require_all(self) -> None:
        """Raise ConfigError naming every required setting without a value ("JIRA: Site URL and API token are
        missing: set JIRA_BASE_URL and JIRA_API_TOKEN"), all at once: an import started without one can only fail
        in the worker, so launches and schedules refuse it before queueing."""
        missing = [s for s in self.settings if s.required and not (self.config.get(s.name) or "").strip()]
        if len(missing) == 1:
            self.require(missing[0].name)
        if len(missing) > 1:
            fields = [f"config.{s.name}" for s in missing]
            raise ConfigError(f"{self.label}: {listed([s.label for s in missing])} are missing: {{at}}",
                              field=fields[0], fields=fields, places={
                                  CLI: f"set {listed([s.env for s in missing])}", API: f"give {listed(list(fields))}",
                                  CONSOLE: "enter them in the form"})

    @classmethod
    def known_projects(cls) -> tuple[str, ...] | None:
        """Every project key the source has, where that is a fixed list known without a request (the demo's
        projects, ServiceNow's tables); None, the default, where only the server knows."""
        return None

    @classmethod
    def spelled(cls, name: str) -> str:
        """`name` as the source spells the project, where it tells without a request: a fixed list's entry whatever
        the case typed (the demo's projects, like JIRA keys; ServiceNow's tables, lowercase system names no two of
        which differ by case). An import names its part, and so its stored items, marks and mapping, by it: a
        spelling the user typed made a second project of the same one. Where only the server knows the spelling
        (GitHub's owner/name, GitLab's path) `name` as given: asking costs a request per project at launch."""
        known = cls.known_projects() or ()
        return next((key for key in known if key.lower() == name.lower()), name)

    @classmethod
    def check_project(cls, key: str) -> None:
        """Refuse, without a request, a project this source cannot have: NotFoundError for a key outside
        `known_projects()`, ConfigError (from a connector's override) for one not of its projects' shape, e.g.
        GitHub's owner/name. Launches and schedules call it, so such a name is refused before a job is queued."""
        known = cls.known_projects()
        if known is not None and key not in known:
            raise NotFoundError(f"{cls.label} has no {cls.project_noun} {key[:60]!r} to import: choose one of "
                                f"{', '.join(known)}")

    def check_default_project(self) -> None:
        """Refuse, without a request, a default project setting this source cannot have (`check_project`), naming
        the setting: a connection test with the key "not a key!" passed, and only the import then refused it."""
        key = (self.config.get("default_project") or "").strip()
        if key:
            try:
                self.check_project(key)
            except SourceError as exc:
                raise ConfigError(f"{exc} (the default project, {{at}})", **self.where("default_project")) from None

    def set_wait_listener(self, on_wait: WaitListener | None) -> None:
        self.retry.on_wait = on_wait

    # -- the contract --------------------------------------------------------------------
    @abstractmethod
    def check(self) -> str:
        """Return a description of the account reached, or raise a typed SourceError."""

    def check_kept(self, kept: Mapping[str, Mapping[str, str]]) -> str:
        """`check`, said for a run given none of `kept_settings`, which reads each project of `kept` with the settings
        kept for it: a source whose description names such a setting (the demo's size) says each project's, never
        its default where a project will not be read at it."""
        return self.check()

    @abstractmethod
    def projects(self) -> list[Project]:
        """The projects (repositories, tables) this account can import."""

    @abstractmethod
    def estimate(self, project: str, since: datetime | None = None) -> int | None:
        """How many items `read` will yield, or None if the tool cannot say cheaply."""

    @abstractmethod
    def read(self, project: str, cursor: Cursor | None = None, since: datetime | None = None) -> Iterator[Page]:
        """Stream the project's items page by page, resuming after `cursor` when given."""

    def project(self, key: str) -> Project:
        """The project named `key`; sources override this when a direct lookup is cheaper."""
        self.check_project(key)
        for project in self.projects():
            if project.key == key:
                return project
        raise NotFoundError(f"{self.label} has no project {key!r} visible to this account")

    def fetch(self, project: str, external_ids: Iterable[str],
              keys: Mapping[str, str] | None = None) -> Iterator[Page]:
        """Re-read specific items (failed ones, gaps' items, the deletion sweep's), as pages like `read`
        yields. `keys` gives each id's key where the caller knows it (a failure's, a gap's, a stored
        item's), for sources that can look an item up only by key (GitHub: by number); sources that look
        items up by id ignore it. Default: scan the project and filter, as costly as a full read."""
        wanted = set(external_ids)
        for page in self.read(project):
            items = [i for i in page.items if i.external_id in wanted]
            ids = {i.external_id for i in items}
            yield Page(
                items=items,
                comments=[c for c in page.comments if c.item_external_id in ids],
                failures=[f for f in page.failures if f.external_id in wanted],
                gaps=[g for g in page.gaps if g.item_external_id in ids],
                cursor=page.cursor,
            )

    def fill(self, project: str, gaps: list[StreamGap]) -> Iterator[Page]:
        """Re-read only what `gaps` name (a retry of a job that ended `partial` with unread data).

        Items named by a gap are re-read with their secondary data through `fetch`; a project-wide
        listing that broke off is read on from its `resume` cursor through `read`. Pages may carry
        gaps again where the data is still unreadable. Sources with a cheaper route override this.
        """
        ids = sorted({g.item_external_id for g in gaps if g.item_external_id})
        if ids:
            yield from self.fetch(project, ids, {g.item_external_id: g.key for g in gaps if g.item_external_id})
        for gap in gaps:
            if not gap.item_external_id and gap.resume is not None:
                yield from self.read(project, cursor=gap.resume)

    def internal_counts(self, project: str, since: datetime | None = None) -> dict[str, int]:
        """How many non-public items and comments a read of `project` brings, where the source can
        count them cheaply (a request or two): {"items": n, "comments": m}, a key left out when it
        cannot say. The preview shows them; a dry run counts them exactly. Default: nothing known."""
        return {}
    # -- convergence: what exists at the source now (the deletion sweep, jobs/sweep.py) ------
    def item_ids(self, project: str) -> Iterator[list[str]]:
        """The id listing: every item of `project` that exists at the source now, as pages of
        external ids (the same strings as `WorkItem.external_id`, failed items included).

        It must be complete (an id it leaves out is taken for deleted), and it should be cheap:
        override this with the API's id-only route (JIRA: search with `fields=id`, up to 5,000 ids
        a page; ServiceNow: `sysparm_fields=sys_id` with large pages) and state its cost in the
        docstring. This default reads the whole project, which is correct but as costly as a
        full import. Raises SourceError like `read`."""
        for page in self.read(project):
            yield [i.external_id for i in page.items] + [f.external_id for f in page.failures]

    def follow_moves(self, project: str, external_ids: list[str],
                     keys: Mapping[str, str] | None = None) -> Iterator[Page]:
        """Re-read the items of `external_ids` (stored under `project`, missing from its id
        listing) that still exist elsewhere at the source, as pages like `read` yields. `keys`
        gives each id's stored key, for sources that can look an item up only by key.

        An item yielded here is written as usual (key and project follow the move: a JIRA issue
        moved to OPS keeps its id, so it is yielded with its new key and project; a transferred
        GitHub issue is a new issue of its new repository, yielded with `moved_from_id` set to the
        old id, and the store re-keys the one item). Ids not yielded, as an item's id or its
        `moved_from_id`, are soft-deleted. The default yields nothing: every missing id is a
        deletion. Pages' cursors are ignored."""
        return iter(())

    def recheck_comments(self, project: str, comment_ids: list[str],
                         since: datetime | None = None) -> Iterator[Page] | None:
        """Which of these stored comments (external ids, of live items of `project`) still exist,
        returned as pages of `Comment`s (`items` empty), so the writer also applies their edits, or,
        where comments cannot be edited, as ids in `Page.comments_present` (a listing of ids is cheaper).
        Stored comments not returned are soft-deleted; one that exists but cannot be mapped is kept as
        stored and reported on the job: as a comments gap of its item (`StreamGap`, GitHub), or in the
        page's `failures` under its comment id (JIRA).

        For sources where deleting a comment does not mark its item changed, so a catch-up run
        would not re-read the item's (authoritative) comment list: JIRA answers in batches of
        1,000 ids (`POST /comment/list`). None (the default) says the source has no such route:
        comments then disappear only through re-read items' complete lists
        (`Page.comments_complete`). May be called several times, with up to 1,000 ids each. `since` is
        the run's since-read point (None for a whole read): a comment the source says was not
        changed since then was applied by an earlier run and may come back as an id in
        `Page.comments_present`, not mapped again."""
        return None

    def sweep_notes(self, project: str) -> list[str]:
        """What the job should be told about this run's deletion check of `project` (asked once, after
        it): a source that fell back to a costlier route says so here, whether or not the routes that
        return pages (`recheck_comments`, `fetch`, `follow_moves`) were called. Default: nothing."""
        return []

    def preview(self, project: str, limit: int = 20, since: datetime | None = None) -> list[WorkItem]:
        """The first `limit` items, reading as few pages as possible."""
        items: list[WorkItem] = []
        for page in self.read(project, since=since):
            items.extend(page.items)
            if len(items) >= limit:
                break
        return items[:limit]

    def forked(self) -> None:  # noqa: B027 - a hook: nothing to drop by default
        """Called in a forked reader process (jobs/reader.py) before it reads: drop what the parent's
        threads ran (a thread pool whose threads did not cross the fork would never run a task).
        HTTP connection pools are emptied by importers/outbound.py for every source."""

    def close(self) -> None:  # noqa: B027 - a hook: nothing to release by default, sources with a session override it
        """Release HTTP sessions; sources holding one override this."""
