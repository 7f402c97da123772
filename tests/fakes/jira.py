"""A fake JIRA (Cloud or Server/Data Center) answering the REST routes our connector reads.

Shapes follow the real APIs: Cloud's enhanced search with nextPageToken (and 410 on the removed
/search), v3 bodies in Atlassian Document Format and v2 bodies in wiki markup, 20 comments
embedded per search hit, startAt/total paging on Server, JIRA's error bodies, and Cloud's 429
with Retry-After plus an ISO-8601 X-RateLimit-Reset. The dataset is generated from a seed;
tests read the ground truth from the same records. `page_cap` / `comment_cap` cap maxResults as
JIRA does ("the maximum number of items per page ... may be lower than requested", Jira REST
search docs); an issue with `hidden` set is outside the account's permissions: search leaves it
out (results and totals) and its comments answer 404, as Jira does for an issue one cannot browse.

Changes happen the way Jira shows them (the mutation helpers at the end of "for tests"):
- a search asking only for `id`/`key` pages up to 5,000 issues on Cloud ("The greatest number of
  items returned per page is achieved when requesting id or key only. It returns max 5000 issues",
  GET /rest/api/3/search/jql, maxResults) and up to 1,000 on Server (its default
  jira.search.views.default.max, "Changing maxResults parameter for Jira REST API", Atlassian KB);
- a move keeps the issue's id, gives it the next key of the target project and changes its project
  ("Move an issue": the issue gets a new key; Jira keeps the old key working as a redirect, which the
  comment route honours here); the issues that reference it (parent, links) then name the new key
  without their own `updated` changing, since nothing of theirs was edited;
- editing an issue's fields and adding a comment move its `updated` (the "updated" JQL field is the
  issue's last update, comments included); editing or deleting a comment does not here: Atlassian's
  documentation does not say that it does, so the fake takes the case a catch-up run must survive;
- `POST /rest/api/{2,3}/comment/list` takes at most 1,000 ids and answers the ones that exist
  (PageBeanComment, "Get comments by IDs"); a deleted issue is gone from every route.
"""
from __future__ import annotations

import base64
import bisect
import random
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .dataset import Memo, Row
from .server import Encoded, FakeServer, Request, Response, dumps

USER_TZ = "America/New_York"  # JQL dates and returned timestamps are in the user's zone
EPOCH = datetime(2025, 1, 6, 14, 0, tzinfo=UTC)
EMBEDDED_COMMENTS = 20
CLOUD_AUTH = ("alice@example.com", "cloud-api-token")
SERVER_AUTH = ("alice", "server-password")
SERVER_PAT = "server-personal-access-token"

PEOPLE = (  # (display name, username, email or None when the profile hides it)
    ("Alice Admin", "alice", "alice@example.com"),
    ("Bob Builder", "bob", "Bob@Example.com"),
    ("Chloé Zhang", "chloe", "chloe@example.com"),
    ("Dmitri Ivanov", "dmitri", None),
    ("Eve Operator", "eve", None),
    ("Frank Ünicode", "frank", "frank@example.com"),
)
STATUSES = (  # name, category key, resolution when done
    ("Backlog", "new", None), ("To Do", "new", None), ("In Progress", "indeterminate", None),
    ("In Review", "indeterminate", None), ("Done", "done", "Done"), ("Done", "done", "Duplicate"),
    ("Won't Do", "done", "Won't Do"),
)
CATEGORY_IDS = {"new": 2, "indeterminate": 4, "done": 3}
PRIORITIES = {True: ("Highest", "High", "Medium", "Low", "Lowest"),
              False: ("Blocker", "Critical", "Major", "Minor", "Trivial")}
TYPES = ("Bug", "Story", "Task", "Task", "Epic")
LABELS = ("backend", "frontend", "api", "security", "ux", "tech-debt", "customer", "perf")
TITLES = ("Fix checkout flow", "Add dark mode", "<script>alert(1)</script> in the search box",
          "Ünïcödé ✓ 日本語 🚀 support", "**not bold** _markdown_ `title`", "Speed up CSV import",
          "Harden SSO with Okta", "Document the API pagination")
LINK_TYPES = {"Blocks": ("blocks", "is blocked by"), "Relates": ("relates to", "relates to")}


# Restricted content, chosen by id so the seeded dataset stays as it was (Jira REST: a comment's
# `visibility` {type: "group"|"role", value, identifier} names who may see it; Jira Service
# Management's `jsdPublic: false` is an internal comment; an issue's `security` field is the issue
# security level that limits who may see the issue).
SECURITY_LEVEL = "Staff only"


def restriction(comment: dict) -> dict[str, Any]:
    """The visibility keys of a comment as Jira sends them (none for most comments)."""
    number = int(comment["id"])
    if number % 7 == 0:
        return {"visibility": {"type": "role", "value": "Developers", "identifier": "Developers"}}
    if number % 11 == 0:
        return {"visibility": {"type": "group", "value": "jira-admins", "identifier": "5e1f-admins"}}
    if number % 17 == 0:
        return {"jsdPublic": False}
    return {}


def jira_time(value: datetime, zone: str = USER_TZ) -> str:
    """JIRA's timestamps: the user's zone, milliseconds, an offset without a colon (-0500)."""
    text = value.astimezone(ZoneInfo(zone)).isoformat(timespec="milliseconds")
    return text[:-3] + text[-2:]


@dataclass(frozen=True)
class Matches:
    """The issues a query matched, as positions in a (cached) list: a page is cut without copying the rest."""

    issues: list[dict]
    positions: range

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, cut: slice) -> list[dict]:
        return [self.issues[p] for p in self.positions[cut]]


def _error(status: int, *messages: str, headers: dict | None = None) -> Response:
    return Response(status, {"errorMessages": list(messages), "errors": {}}, headers or {})


class FakeJira(FakeServer):
    """`cloud=True` answers like Jira Cloud, `False` like Server (or `data_center=True`)."""

    def __init__(self, cloud: bool = True, size: int = 120, seed: int = 7, page_cap: int = 100,
                 comment_cap: int = 100, broken: int = 0, data_center: bool = False,
                 extra_statuses: tuple[tuple[str, str, str | None], ...] = (), time_zone: str = USER_TZ, **kwargs):
        self.cloud = cloud
        self.time_zone = time_zone  # the account's zone (its profile's timeZone): JQL dates and timestamps are in it
        # a workflow beyond the defaults (e.g. ("Blocked", "indeterminate", None)): every 4th issue of ACME is
        # moved into these statuses after generation, so the rest of the dataset stays as it always was
        self.statuses = STATUSES + tuple(extra_statuses)
        self.data_center = data_center
        self.page_cap = page_cap
        self.comment_cap = comment_cap
        self.retry_after = 1
        self._tokens: dict[str, tuple[str, int]] = {}
        self.moved_keys: dict[str, str] = {}  # a moved issue's old key -> its id (Jira redirects old keys)
        self._clock = datetime.now(UTC)
        self._memo = Memo()  # query results and rendered issues, until an issue changes
        self.projects = {"ACME": "Acme web app", "OPS": "Operations", "EMPTY": "Nothing yet"}
        rng = random.Random(seed)
        self.issues: dict[str, list[dict[str, Any]]] = {}
        self._next_id = 10000
        self._next_comment = 50000
        for key, count in (("ACME", size), ("OPS", max(size // 5, 3)), ("EMPTY", 0)):
            self.issues[key] = [self._issue(rng, key, n) for n in range(count)]
        for issue in rng.sample(self.issues["ACME"], min(broken, size)):
            issue["broken"] = True
        for n, issue in enumerate(self.issues["ACME"][3::4]):
            if extra_statuses:
                issue["status"] = extra_statuses[n % len(extra_statuses)]
        # the server's clock runs no earlier than its data (a large dataset's generated times run years ahead)
        self._clock = max([self._clock, *(i["updated"] for issues in self.issues.values() for i in issues)])
        super().__init__(seed=seed, **kwargs)

    # -- dataset -------------------------------------------------------------------------
    def _issue(self, rng: random.Random, project: str, n: int) -> dict[str, Any]:
        self._next_id += 1
        created = EPOCH + timedelta(hours=5 * n, milliseconds=rng.randrange(1000))
        parent = f"{project}-{n - n % 5 + 1}" if n % 5 and rng.random() < 0.3 else None
        status = STATUSES[rng.randrange(len(STATUSES))]
        heavy = {3: 25, 7: 45, 11: 130}  # threads longer than the 20 JIRA embeds
        comment_count = heavy.get(n, rng.choice((0, 0, 1, 1, 2, 3, 5))) if project == "ACME" else rng.choice((0, 1))
        issue = Row({
            "id": str(self._next_id), "key": f"{project}-{n + 1}", "project": project,
            "summary": TITLES[n % len(TITLES)] + f" #{n + 1}",
            "status": status, "priority": rng.choice(PRIORITIES[self.cloud] + (None,)),
            "type": "Sub-task" if parent else rng.choice(TYPES), "parent": parent,
            "labels": sorted(rng.sample(LABELS, rng.randint(0, 3))),
            "assignee": rng.choice((None, 0, 1, 2, 3, 4, 5)), "reporter": rng.randrange(len(PEOPLE)),
            "created": created, "updated": created + timedelta(hours=rng.randrange(1, 48)),
            "description": self._body(rng, long=n == 5),
            "links": [(rng.choice(list(LINK_TYPES)), rng.random() < 0.5, f"{project}-{rng.randint(1, n)}")]
            if n and rng.random() < 0.25 else [],
            "attachments": [{"filename": f"screenshot-{n}.png", "size": 1000 + n}] if rng.random() < 0.2 else [],
            "comments": [],
        })
        for c in range(comment_count):
            self._next_comment += 1
            issue["comments"].append(Row({"id": str(self._next_comment), "author": rng.randrange(len(PEOPLE)),
                                          "body": self._body(rng) or [("p", [("t", "+1")])],
                                          "created": created + timedelta(minutes=10 * (c + 1))}))
        return issue

    @staticmethod
    def _body(rng: random.Random, long: bool = False) -> list | None:
        """A body as neutral blocks, rendered to ADF (Cloud v3) or wiki markup (v2) on demand."""
        if long:
            return [("p", [("t", f"Paragraph {i}: " + "lorem ipsum dolor sit amet " * 20)]) for i in range(120)]
        return rng.choice((
            None,
            [("h", 2, "Steps"), ("ol", ["open the page", "click Save"]),
             ("p", [("t", "It "), ("b", "hangs"), ("t", " for "), ("m", 1), ("t", ", see "),
                    ("a", "the doc", "https://docs.example.com/x")])],
            [("p", [("t", "Run "), ("c", "make test"), ("t", " and "), ("i", "watch")]),
             ("code", "python", "print('<b>hi</b>')"), ("ul", ["one", "two"])],
            [("p", [("t", "Plain text with <html> & unicode ✓")])],
        ))

    # -- rendering -----------------------------------------------------------------------
    def user(self, index: int | None) -> dict[str, Any] | None:
        if index is None:
            return None
        name, username, email = PEOPLE[index]
        user: dict[str, Any] = {"displayName": name, "active": True, "timeZone": self.time_zone}
        if self.cloud:
            user.update(accountId=f"5b10a2844c20165700ede{index:03d}", accountType="atlassian",
                        self=f"{self.url}/rest/api/2/user?accountId=5b10a2844c20165700ede{index:03d}")
        else:
            user.update(name=username, key=f"JIRAUSER{10100 + index}",
                            self=f"{self.url}/rest/api/2/user?username={username}")
        if email:
            user["emailAddress"] = email
        return user

    def _wiki(self, body: list | None) -> str | None:
        if body is None:
            return None
        inline = {"t": "{}", "b": "*{}*", "i": "_{}_", "c": "{{{{{}}}}}"}
        out = []
        for block in body:
            if block[0] == "p":
                parts = []
                for kind, *args in block[1]:
                    if kind == "a":
                        parts.append(f"[{args[0]}|{args[1]}]")
                    elif kind == "m":
                        parts.append(f"[~{PEOPLE[args[0]][1]}]")
                    else:
                        parts.append(inline[kind].format(args[0]))
                out.append("".join(parts))
            elif block[0] == "h":
                out.append(f"h{block[1]}. {block[2]}")
            elif block[0] in ("ul", "ol"):
                out.append("\n".join(("* " if block[0] == "ul" else "# ") + i for i in block[1]))
            elif block[0] == "code":
                out.append(f"{{code:{block[1]}}}\n{block[2]}\n{{code}}")
        return "\n\n".join(out)

    def _adf(self, body: list | None) -> dict | None:
        if body is None:
            return None
        marks = {"b": "strong", "i": "em", "c": "code"}

        def text(value: str) -> dict:
            return {"type": "text", "text": value}

        def para(items: list) -> dict:
            content = []
            for kind, *args in items:
                if kind == "m":
                    user = self.user(args[0])
                    attrs = {"id": user["accountId"], "text": "@" + user["displayName"]}
                    content.append({"type": "mention", "attrs": attrs})
                elif kind == "a":
                    content.append({**text(args[0]), "marks": [{"type": "link", "attrs": {"href": args[1]}}]})
                else:
                    content.append({**text(args[0]), **({"marks": [{"type": marks[kind]}]} if kind in marks else {})})
            return {"type": "paragraph", "content": content}

        content = []
        for block in body:
            if block[0] == "p":
                content.append(para(block[1]))
            elif block[0] == "h":
                content.append({"type": "heading", "attrs": {"level": block[1]}, "content": [text(block[2])]})
            elif block[0] in ("ul", "ol"):
                content.append({"type": "bulletList" if block[0] == "ul" else "orderedList", "content": [
                    {"type": "listItem", "content": [para([("t", i)])]} for i in block[1]]})
            elif block[0] == "code":
                content.append({"type": "codeBlock", "attrs": {"language": block[1]}, "content": [text(block[2])]})
        return {"type": "doc", "version": 1, "content": content}

    def _render_body(self, body: list | None, version: str) -> Any:
        return self._adf(body) if version == "3" else self._wiki(body)

    def _comment(self, comment: dict, issue: dict, version: str) -> dict[str, Any]:
        author = self.user(comment["author"])
        found = {"self": f"{self.url}/rest/api/{version}/issue/{issue['id']}/comment/{comment['id']}",
                 "id": comment["id"], "author": author, "updateAuthor": author,
                 "body": self._render_body(comment["body"], version),
                 "created": jira_time(comment["created"], self.time_zone),
                 "updated": jira_time(comment.get("updated") or comment["created"], self.time_zone)}
        return {**found, **restriction(comment)}

    def _fields(self, issue: dict, version: str) -> dict[str, Any]:
        name, category, resolution = issue["status"]
        done = resolution is not None
        links = []
        for n, (kind, outward, target) in enumerate(issue["links"]):
            words = LINK_TYPES[kind]
            links.append({"id": f"{issue['id']}{n}", "type": {"name": kind, "outward": words[0], "inward": words[1]},
                          ("outwardIssue" if outward else "inwardIssue"): self._reference(target)})
        comments = issue["comments"]
        fields = {
            "summary": issue["summary"],
            "status": {"name": name, "id": str(self.status_id(name)),
                       "statusCategory": {"key": category, "id": CATEGORY_IDS[category], "name": category.title()}},
            "resolution": {"name": resolution} if done else None,
            "resolutiondate": jira_time(issue["updated"], self.time_zone) if done else None,
            "priority": {"name": issue["priority"]} if issue["priority"] else None,
            "issuetype": {"name": issue["type"], "subtask": issue["type"] == "Sub-task"},
            "labels": issue["labels"], "assignee": self.user(issue["assignee"]),
            "reporter": self.user(issue["reporter"]),
            "created": jira_time(issue["created"], self.time_zone),
            "updated": jira_time(issue["updated"], self.time_zone),
            "parent": self._reference(issue["parent"]) if issue["parent"] else None,
            "issuelinks": links,
            "attachment": [{**a, "content": f"{self.url}/secure/attachment/{issue['id']}/{a['filename']}",
                            "mimeType": "image/png"} for a in issue["attachments"]],
            "description": self._render_body(issue["description"], version),
            "security": {"self": f"{self.url}/rest/api/{version}/securitylevel/10001", "id": "10001",
                         "name": SECURITY_LEVEL, "description": "Staff and the reporter only"}
            if int(issue["id"]) % 13 == 0 else None,
            "comment": {"comments": [self._comment(c, issue, version) for c in comments[:EMBEDDED_COMMENTS]],
                        "maxResults": min(len(comments), EMBEDDED_COMMENTS), "total": len(comments), "startAt": 0},
        }
        if issue.get("broken"):
            fields["created"] = "last tuesday"  # what a broken custom script might leave behind
            fields["status"] = "Done"
        return fields

    def _reference(self, key: str) -> dict[str, Any]:
        """How Jira names another issue in `parent` and `issuelinks`: its id and its current key."""
        target = self._memo.get("by key", self._by_key).get(key)
        return {"id": target["id"], "key": target["key"]} if target else {"key": key}

    def _issue_json(self, issue: dict, version: str, wanted: list[str]) -> dict[str, Any]:
        fields = self._fields(issue, version)
        if not ({"*all", "*navigable"} & set(wanted)):
            fields = {k: v for k, v in fields.items() if k in wanted}
        return {"id": issue["id"], "key": issue["key"], "self": f"{self.url}/rest/api/{version}/issue/{issue['id']}",
                "fields": fields}

    def _hits(self, issues: list[dict], version: str, wanted: list[str]) -> list[Encoded]:
        """Search hits, each rendered once per (version, fields) until the dataset changes."""
        shape = (version, frozenset(wanted), self.url)
        return [self._memo.encoded(i, shape, render=lambda i=i: self._issue_json(i, version, wanted)) for i in issues]

    # -- for tests -----------------------------------------------------------------------
    @property
    def credentials(self) -> tuple[str, str]:
        return CLOUD_AUTH if self.cloud else SERVER_AUTH

    def ground_truth(self, project: str) -> dict[str, Any]:
        """What a full read of `project` must yield: mapped issues and their comments."""
        good = [i for i in self.issues[project] if not i.get("broken") and not i.get("hidden")]
        return {"items": len(good), "comments": sum(len(i["comments"]) for i in good),
                "failures": sorted(i["id"] for i in self.issues[project] if i.get("broken")),
                "keys": sorted(i["key"] for i in good), "comment_counts": {i["key"]: len(i["comments"]) for i in good},
                "statuses": {i["key"]: i["status"] for i in good}}

    def touch(self, n: int, project: str = "ACME", at: datetime | None = None) -> list[str]:
        """Edit n issues spread over the project (title and status) as of `at` (default now)."""
        issues = self.issues[project]
        at = at or datetime.now(UTC)
        at += timedelta(microseconds=(1000 - at.microsecond % 1000) % 1000)  # JIRA keeps milliseconds
        touched = issues[:: max(len(issues) // n, 1)][:n]
        for issue in touched:
            issue["summary"] += " (edited)"
            issue["status"] = STATUSES[2]
            issue["updated"] = at
        self._clock = max(self._clock, at)
        return [i["key"] for i in touched]

    # -- changes, as Jira shows them (see the module docstring) ------------------------------
    def tick(self) -> datetime:
        """Now, in milliseconds as Jira keeps them, strictly later than the last change."""
        now = datetime.now(UTC)
        now -= timedelta(microseconds=now.microsecond % 1000)
        self._clock = max(now, self._clock + timedelta(milliseconds=1))
        return self._clock

    def issue(self, ref: str) -> dict[str, Any]:
        """An issue by id or (current or old) key."""
        found = self._memo.get("by key", self._by_key)[ref]
        return found

    def edit(self, ref: str, **fields: Any) -> dict[str, Any]:
        """Change an issue's fields (summary, description, status, assignee, labels, parent, ...)."""
        issue = self.issue(ref)
        issue.update(fields, updated=self.tick())
        return issue

    def add_comment(self, ref: str, body: list, author: int = 0) -> str:
        issue = self.issue(ref)
        self._next_comment += 1
        issue["comments"].append(Row({"id": str(self._next_comment), "author": author, "body": body,
                                      "created": self.tick()}))
        issue["updated"] = self._clock
        return str(self._next_comment)

    def edit_comment(self, ref: str, comment_id: str, body: list) -> None:
        """Edit a comment: its own `updated` moves ("updated: the date and time at which the comment was
        updated last", Jira Cloud REST v3, Issue comments, the Comment schema); the issue's stays."""
        comment = next(c for c in self.issue(ref)["comments"] if c["id"] == comment_id)
        comment.update(body=body, updated=self.tick())

    def delete_comment(self, ref: str, comment_id: str) -> None:
        issue = self.issue(ref)
        issue["comments"] = [c for c in issue["comments"] if c["id"] != comment_id]

    def create(self, project: str, summary: str) -> dict[str, Any]:
        """A new issue at the end of `project` (the next key), created and updated now."""
        taken = [int(i["key"].rsplit("-", 1)[1]) for i in self.issues[project]]
        taken += [int(k.rsplit("-", 1)[1]) for k in self.moved_keys if k.startswith(f"{project}-")]
        self._next_id += 1
        at = self.tick()
        issue = Row({"id": str(self._next_id), "key": f"{project}-{max(taken, default=0) + 1}", "project": project,
                     "summary": summary, "status": STATUSES[1], "priority": None, "type": "Task", "parent": None,
                     "labels": [], "assignee": None, "reporter": 0, "created": at, "updated": at,
                     "description": None, "links": [], "attachments": [], "comments": []})
        self.issues[project].append(issue)
        return issue

    def delete_issue(self, ref: str) -> list[dict[str, Any]]:
        """Delete an issue and its sub-tasks ("Deleting an issue also deletes its sub-tasks", Jira:
        Delete an issue); links to them vanish from the issues linking there, whose `updated` stays.
        Returns the deleted issues."""
        issue = self.issue(ref)
        gone = [issue] + [i for i in self.issues[issue["project"]] if i["parent"] == issue["key"]]
        keys = {i["key"] for i in gone}
        self.issues[issue["project"]] = [i for i in self.issues[issue["project"]] if i["key"] not in keys]
        for other in (i for issues in self.issues.values() for i in issues):
            if any(target in keys for _, _, target in other["links"]):
                other["links"] = [link for link in other["links"] if link[2] not in keys]
        for each in gone:
            each["deleted"] = True  # a row change: every cached answer is dropped
        return gone

    def move(self, ref: str, project: str) -> str:
        """Move an issue to `project`: same id, the target's next key, references follow; its new key."""
        issue = self.issue(ref)
        old = issue["key"]
        taken = [int(i["key"].rsplit("-", 1)[1]) for i in self.issues[project]]
        taken += [int(k.rsplit("-", 1)[1]) for k in self.moved_keys if k.startswith(f"{project}-")]
        new = f"{project}-{max(taken, default=0) + 1}"
        self.issues[issue["project"]] = [i for i in self.issues[issue["project"]] if i is not issue]
        issue.update(key=new, project=project, updated=self.tick())
        self.issues[project].append(issue)  # the highest key: the list stays in key order
        self.moved_keys[old] = issue["id"]
        for other in (i for issues in self.issues.values() for i in issues):
            if other["parent"] == old:
                other["parent"] = new
            if any(target == old for _, _, target in other["links"]):
                other["links"] = [(k, out, new if target == old else target) for k, out, target in other["links"]]
        return new

    def expire_tokens(self) -> None:
        self._tokens.clear()

    def rate_limited_response(self, seconds: int | None = None) -> Response:
        seconds = self.retry_after if seconds is None else seconds
        reset = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="seconds")
        return Response(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, {
            "Retry-After": str(seconds), "X-RateLimit-Limit": "350", "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.replace("+00:00", "Z"), "RateLimit-Reason": "jira-quota-tenant-based"})

    # -- routes --------------------------------------------------------------------------
    def setup_routes(self) -> None:
        api = r"/rest/api/(?P<version>2|3|latest)"
        self.route("GET", f"{api}/serverInfo", "serverInfo", self._authed(self._server_info, anonymous=True))
        self.route("GET", f"{api}/myself", "myself", self._authed(lambda r, version: Response(200, self.user(0))))
        self.route("GET", f"{api}/project", "projects", self._authed(self._project_list))
        self.route("GET", f"{api}/project/search", "project_search", self._authed(self._project_search))
        self.route("GET", f"{api}/project/(?P<key>[^/]+)", "project", self._authed(self._project))
        self.route("GET", f"{api}/search", "search", self._authed(self._search))
        self.route("POST", f"{api}/search", "search", self._authed(self._search))
        self.route("GET", f"{api}/search/jql", "search_jql", self._authed(self._search_jql))
        self.route("POST", f"{api}/search/approximate-count", "approximate_count", self._authed(self._count))
        self.route("GET", f"{api}/issue/(?P<key>[^/]+)/comment", "comments", self._authed(self._comments))
        self.route("POST", f"{api}/comment/list", "comment_list", self._authed(self._comment_list))
        self.route("GET", f"{api}/field", "field", self._authed(self._field_list))
        # metadata the mapping step reads (issue 14)
        self.route("GET", f"{api}/project/(?P<key>[^/]+)/statuses", "project_statuses",
                   self._authed(self._project_statuses))
        self.route("GET", f"{api}/priority", "priorities", self._authed(self._priorities))
        self.route("GET", f"{api}/priority/search", "priority_search", self._authed(self._priority_search))
        self.route("GET", f"{api}/user/assignable/search", "assignable", self._authed(self._assignable))

    def _authed(self, handler, anonymous: bool = False):
        """Bad credentials get 401 everywhere, as in JIRA; v3 exists only on Cloud."""
        def wrapped(request: Request, version: str, **kwargs) -> Response:
            if version == "3" and not self.cloud:
                return _error(404, f"null for uri: {self.url}{request.path}")
            header = next((v for k, v in request.headers.items() if k.lower() == "authorization"), "")
            if (header or not anonymous) and not self._valid(header):
                extra = {} if self.cloud else {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}
                return _error(401, "Client must be authenticated to access this resource.", headers=extra)
            return handler(request, version=version, **kwargs)
        return wrapped

    def _valid(self, header: str) -> bool:
        if header.startswith("Bearer "):
            return not self.cloud and header[7:] == SERVER_PAT
        try:
            user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == self.credentials

    def _server_info(self, request: Request, version: str) -> Response:
        kind = "Cloud" if self.cloud else ("DataCenter" if self.data_center else "Server")
        number = [1001, 0, 0] if self.cloud else [9, 12, 2]
        version = ".".join(map(str, number)) + ("-SNAPSHOT" if self.cloud else "")
        return Response(200, {"baseUrl": self.url, "version": version,
                              "versionNumbers": number, "deploymentType": kind, "buildNumber": 100280,
                              # the clock `updated` times are kept by (Jira Cloud REST v3, Server info: "serverTime")
                              "serverTime": jira_time(max(datetime.now(UTC), self._clock), self.time_zone),
                              "serverTitle": "Jira"})

    def _field_list(self, request: Request, version: str) -> Response:
        """The system fields, which the bare library asks for before its first search."""
        names = ("summary", "status", "resolution", "resolutiondate", "priority", "issuetype", "labels", "assignee",
                 "reporter", "created", "updated", "parent", "issuelinks", "attachment", "description", "comment")
        return Response(200, [{"id": n, "key": n, "name": n.title(), "custom": False, "navigable": True,
                               "searchable": True, "clauseNames": [n]} for n in names])

    def _project_json(self, key: str) -> dict[str, Any]:
        return {"id": str(10000 + list(self.projects).index(key)), "key": key, "name": self.projects[key],
                "projectTypeKey": "software", "self": f"{self.url}/rest/api/2/project/{key}"}

    def _project_list(self, request: Request, version: str) -> Response:
        return Response(200, [self._project_json(k) for k in self.projects])

    def _project_search(self, request: Request, version: str) -> Response:
        if not self.cloud:
            return _error(404, f"null for uri: {self.url}{request.path}")
        start, limit = int(request.arg("startAt", "0")), min(int(request.arg("maxResults", "50")), 2)
        keys = list(self.projects)[start:start + limit]
        return Response(200, {"startAt": start, "maxResults": limit, "total": len(self.projects),
                              "isLast": start + len(keys) >= len(self.projects),
                              "values": [self._project_json(k) for k in keys]})

    def _own_key(self, key: str) -> str | None:
        """A project key as JIRA reads one, in any case (`acme` is ACME); None for no project."""
        return next((own for own in self.issues if own.lower() == key.lower()), None)

    def _project(self, request: Request, version: str, key: str) -> Response:
        own = self._own_key(key)
        if own not in self.projects:
            return _error(404, f"No project could be found with key '{key}'.")
        return Response(200, self._project_json(own))

    def _query(self, jql: str) -> Matches | Response:
        """The issues matching the little JQL our connector writes; 400 like JIRA otherwise.

        Key bounds cut the project's issues (kept in key order) by bisection, so paging by
        key costs a page, not a project; the other clauses are evaluated once per query.
        """
        split = re.search(r"\s+ORDER\s+BY\s+", jql, flags=re.I)
        where, order = (jql[:split.start()], jql[split.end():]) if split else (jql, "")
        if order and order.strip().lower() not in ("key asc", "key", "key desc"):
            return _error(400, f"The fake only orders by key, not {order!r}")
        project: str | None = None
        filters: list[tuple[str, Any]] = []
        above: list[tuple[str, int]] = []  # key > (project, number)
        upto: list[tuple[str, int]] = []  # key <= (project, number)
        for clause in re.split(r"\s+AND\s+", where.strip(), flags=re.I):
            if m := re.fullmatch(r'project\s*=\s*"?([^"]+?)"?', clause):
                project = self._own_key(m.group(1))
                if project is None:
                    return _error(400, f"The value '{m.group(1)}' does not exist for the field 'project'.")
            elif m := re.fullmatch(r'updated\s*>=\s*"(\d{4}[/-]\d\d[/-]\d\d \d\d:\d\d)"', clause):
                at = datetime.strptime(m.group(1).replace("-", "/"), "%Y/%m/%d %H:%M").replace(
                    tzinfo=ZoneInfo(self.time_zone))
                filters.append(("updated", at))
            elif m := re.fullmatch(r'key\s*>\s*"?([A-Za-z][A-Za-z0-9_]*)-(\d+)"?', clause):
                above.append((m.group(1).upper(), int(m.group(2))))
            elif m := re.fullmatch(r'key\s*<=\s*"?([A-Za-z][A-Za-z0-9_]*)-(\d+)"?', clause):
                upto.append((m.group(1).upper(), int(m.group(2))))
            elif m := re.fullmatch(r"id\s+in\s*\(([\d,\s]*)\)", clause):
                filters.append(("id", frozenset(re.findall(r"\d+", m.group(1)))))
            elif m := re.fullmatch(r'(status|priority|issuetype)\s*=\s*"((?:[^"\\]|\\.)*)"', clause):
                filters.append((m.group(1), m.group(2).replace('\\"', '"').replace("\\\\", "\\")))
            else:
                return _error(400, f"Error in the JQL Query: the fake cannot read {clause!r}.")
        if project is None:
            ids = next((value for kind, value in filters if kind == "id"), None)
            if ids is None or above or upto:
                return _error(400, "The fake needs a project clause (or `id in (...)` alone).")
            found = [i for p in sorted(self.issues) for i in self._filtered(p, filters)[0]]
            return Matches(found, range(len(found) - 1, -1, -1) if order.strip().lower() == "key desc"
                           else range(len(found)))
        found, numbers = self._memo.get(("query", project, tuple(filters)), lambda: self._filtered(project, filters))
        start, end = 0, len(found)
        for p, n in above:  # the issues of `project` sort after (p, n) from here on
            start = max(start, 0 if project > p else len(found) if project < p else bisect.bisect_right(numbers, n))
        for p, n in upto:
            end = min(end, len(found) if project < p else 0 if project > p else bisect.bisect_right(numbers, n))
        if order.strip().lower() == "key desc":
            return Matches(found, range(end - 1, start - 1, -1))
        return Matches(found, range(start, end))

    def _filtered(self, project: str, filters: list[tuple[str, Any]]) -> tuple[list[dict], list[int]]:
        """The project's issues passing the `updated >=` and `id in` clauses, in key order, and their key numbers."""
        issues = [i for i in self.issues[project] if not i.get("hidden")]  # JIRA searches within permissions
        ids = next((value for kind, value in filters if kind == "id"), None)
        if ids is not None:  # looked up rather than scanned
            where = self._memo.get("positions", self._positions)
            issues = [issue for n in sorted(where[i][1] for i in ids & where.keys() if where[i][0] == project)
                      if not (issue := self.issues[project][n]).get("hidden")]
        for kind, value in filters:
            issues = [i for i in issues if self._passes(i, kind, value)]
        return issues, [int(i["key"].rsplit("-", 1)[1]) for i in issues]

    @staticmethod
    def _passes(issue: dict, kind: str, value: Any) -> bool:
        if kind == "updated":
            return issue["updated"] >= value
        if kind == "id":
            return issue["id"] in value
        if kind == "status":  # JQL compares names case-insensitively
            return issue["status"][0].lower() == value.lower()
        if kind == "priority":
            return (issue["priority"] or "").lower() == value.lower()
        return issue["type"].lower() == value.lower()  # issuetype

    def _by_key(self) -> dict[str, dict]:
        """Issue key, old key of a moved issue, or id -> issue (the first one, should a key ever equal an id)."""
        found: dict[str, dict] = {}
        for issues in self.issues.values():
            for issue in issues:
                found.setdefault(issue["key"], issue)
                found.setdefault(issue["id"], issue)
        for old, issue_id in self.moved_keys.items():
            if issue_id in found:
                found.setdefault(old, found[issue_id])
        return found

    def _positions(self) -> dict[str, tuple[str, int]]:
        """Issue id -> (project, index in the project's list)."""
        return {i["id"]: (key, n) for key, issues in self.issues.items() for n, i in enumerate(issues)}

    def _search(self, request: Request, version: str) -> Response:
        if self.cloud:
            return _error(410, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
                               "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
        matches = self._query(request.arg("jql", ""))
        if isinstance(matches, Response):
            return matches
        start = int(request.arg("startAt", "0"))
        wanted = (request.arg("fields") or "*navigable").split(",")
        limit = min(int(request.arg("maxResults", "50")), self._cap(wanted))
        hits = self._hits(matches[start:start + limit], version, wanted)
        return Response(200, dumps({"expand": "names,schema", "startAt": start, "maxResults": limit,
                                    "total": len(matches),
                                    "issues": hits}))

    def _search_jql(self, request: Request, version: str) -> Response:
        if not self.cloud:
            return _error(404, f"null for uri: {self.url}{request.path}")
        jql = request.arg("jql", "")
        start = 0
        if token := request.arg("nextPageToken"):
            if self._tokens.get(token, ("",))[0] != jql:
                return _error(400, "The provided next page token is invalid or expired.")
            start = self._tokens[token][1]
        matches = self._query(jql)
        if isinstance(matches, Response):
            return matches
        wanted = (request.arg("fields") or "id").split(",")
        limit = min(int(request.arg("maxResults", "50")), self._cap(wanted))
        body: dict[str, Any] = {"issues": self._hits(matches[start:start + limit], version, wanted)}
        if start + limit < len(matches):
            token = secrets.token_urlsafe(24)
            self._tokens[token] = (jql, start + limit)
            body.update(nextPageToken=token, isLast=False)
        else:
            body["isLast"] = True
        return Response(200, dumps(body))

    def _cap(self, wanted: list[str]) -> int:
        """The most issues a search page holds: `page_cap`, or the id-only maximum (see the module docstring)."""
        if set(wanted) <= {"id", "key"}:
            return max(self.page_cap, 5000 if self.cloud else 1000)
        return self.page_cap

    def _comment_list(self, request: Request, version: str) -> Response:
        ids = {str(i) for i in (request.json() or {}).get("ids") or []}
        if len(ids) > 1000:
            return _error(400, "A maximum of 1000 IDs can be specified.")
        where = self._memo.get("comments by id", lambda: {c["id"]: (c, issue) for issues in self.issues.values()
                                                           for issue in issues for c in issue["comments"]})
        values = [self._comment(c, issue, version) for c, issue in (where[i] for i in sorted(ids) if i in where)
                  if not issue.get("hidden")]
        return Response(200, {"maxResults": len(values), "startAt": 0, "total": len(values), "isLast": True,
                              "values": values})

    def _count(self, request: Request, version: str) -> Response:
        if not self.cloud:
            return _error(404, f"null for uri: {self.url}{request.path}")
        matches = self._query((request.json() or {}).get("jql", ""))
        return matches if isinstance(matches, Response) else Response(200, {"count": len(matches)})

    def _comments(self, request: Request, version: str, key: str) -> Response:
        issue = self._memo.get("by key", self._by_key).get(key)
        if issue is None or issue.get("hidden"):
            return _error(404, "Issue does not exist or you do not have permission to see it.")
        start = int(request.arg("startAt", "0"))
        limit = min(int(request.arg("maxResults", "5000")), self.comment_cap)
        page = issue["comments"][start:start + limit]
        return Response(200, {"startAt": start, "maxResults": limit, "total": len(issue["comments"]),
                              "comments": [self._comment(c, issue, version) for c in page]})

    # -- metadata the mapping step reads (issue 14) ----------------------------------------
    # Shapes from Atlassian's REST reference (developer.atlassian.com/cloud/jira/platform/rest/v3 and the
    # Server 9.x reference): "Get all statuses for project" (GET project/{key}/statuses: the project's issue
    # types, each with the statuses of its workflow and their statusCategory); "Get priorities" (GET
    # priority, a plain list, deprecated on Cloud) and "Search priorities" (GET priority/search, a page with
    # startAt/maxResults/isLast/values, Cloud only); "Find users assignable to issues" (GET
    # user/assignable/search?project=KEY, a plain list paged by startAt/maxResults, no total).
    def status_id(self, name: str) -> int:
        return [s[0] for s in self.statuses].index(name) + 1

    def _status_json(self, status: tuple) -> dict[str, Any]:
        name, category, _ = status
        number = self.status_id(name)
        return {"self": f"{self.url}/rest/api/2/status/{number}", "id": str(number), "name": name,
                "description": "", "iconUrl": f"{self.url}/images/icons/statuses/generic.png",
                "statusCategory": {"self": f"{self.url}/rest/api/2/statuscategory/{CATEGORY_IDS[category]}",
                                   "id": CATEGORY_IDS[category], "key": category, "colorName": "blue-gray",
                                   "name": {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}[category]}}

    def _project_statuses(self, request: Request, version: str, key: str) -> Response:
        if key not in self.projects:
            return _error(404, f"No project could be found with key '{key}'.")
        by_name: dict[str, tuple] = {}
        for status in self.statuses:  # "Done" appears once per resolution in the dataset, once in the workflow
            by_name.setdefault(status[0], status)
        workflow = [self._status_json(s) for s in by_name.values()]
        types = sorted(set(TYPES)) + ["Sub-task"]
        return Response(200, [{"self": f"{self.url}/rest/api/2/issuetype/{10000 + n}", "id": str(10000 + n),
                               "name": name, "subtask": name == "Sub-task", "statuses": workflow}
                              for n, name in enumerate(types)])

    def _priority_json(self, name: str) -> dict[str, Any]:
        number = PRIORITIES[self.cloud].index(name) + 1
        return {"self": f"{self.url}/rest/api/2/priority/{number}", "id": str(number), "name": name,
                "statusColor": "#cccccc", "description": "", "iconUrl": f"{self.url}/images/icons/priorities/x.svg"}

    def _priorities(self, request: Request, version: str) -> Response:
        return Response(200, [self._priority_json(n) for n in PRIORITIES[self.cloud]])

    def _priority_search(self, request: Request, version: str) -> Response:
        if not self.cloud:
            return _error(404, f"null for uri: {self.url}{request.path}")
        start, limit = int(request.arg("startAt", "0")), min(int(request.arg("maxResults", "50")), 2)
        names = PRIORITIES[self.cloud]
        page = names[start:start + limit]
        return Response(200, {"self": f"{self.url}{request.path}", "maxResults": limit, "startAt": start,
                              "total": len(names), "isLast": start + len(page) >= len(names),
                              "values": [self._priority_json(n) for n in page]})

    def _assignable(self, request: Request, version: str) -> Response:
        project = request.arg("project") or ""
        if project not in self.projects:
            return _error(404, f"No project could be found with key '{project}'.")
        start, limit = int(request.arg("startAt", "0")), min(int(request.arg("maxResults", "50")), 4)
        return Response(200, [self.user(i) for i in range(len(PEOPLE))][start:start + limit])
