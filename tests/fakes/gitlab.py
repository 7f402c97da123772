"""A fake GitLab REST API (v4) serving a seeded dataset the way gitlab.com does.

Shapes follow the real API for the fields python-gitlab and our connector read: issues with
embedded users (no emails, as on gitlab.com), labels, milestones, incidents with severity,
notes including system notes, `user_notes_count`. Paging is GitLab's: keyset (`pagination=keyset`,
`cursor`, only a `Link: rel="next"` header) when asked for, else offset with X-Page / X-Per-Page /
X-Next-Page / X-Prev-Page / X-Total / X-Total-Pages, the totals omitted above 10,000 items.
Errors carry GitLab's bodies (`{"message": "401 Unauthorized"}`, `404 Project Not Found`) and
429s GitLab's `Retry-After` / `RateLimit-*` headers. Every 17th issue is confidential (`confidential: true`,
Issues API) and the first note of every 5th issue internal: GitLab 15.3+ answers `internal: true` and the
deprecated `confidential: true` on such a note (gitlab-org/gitlab!95043, doc/api/notes.md). GraphQL:
tests/fakes/gitlab_graphql.py.

Each issue is generated with an intended ACGS2 status and GitLab state/labels that express it,
so `expected()` is ground truth independent of the connector's mapping table.
"""
from __future__ import annotations

import base64
import bisect
import json
import random
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any
from urllib.parse import quote, unquote, urlencode

from .dataset import Memo, Row
from .gitlab_graphql import GraphQLEndpoint
from .server import FakeServer, Request, Response, dumps

WEB = "https://gitlab.example.com"
TOTAL_CAP = 10_000
DEFAULT_PROJECTS = {"acme/web-app": 250, "acme/ops": 40, "mobile/ios-app": 12}

NAMES = [
    ("alice", "Alice Example", "alice@example.com"), ("bob", "Bob Builder", ""),
    ("zoe", "Zoë Ångström", "zoe@example.org"), ("kenji", "山田 健二", ""),
    ("omar", "Omar Haddad", "omar@example.net"), ("priya", "Priya Raman", ""),
    ("lena", "Lena Müller", "lena@example.de"), ("sam", "Sam O'Neil", ""),
]
TITLES = [
    "Fix checkout timeout", "Add dark mode", "<script>alert(1)</script> in search box",
    "Unicode ✓ 日本語 titles break export 🚀", "**Bold** `code` and _markdown_ in title",
    "Speed up CI pipeline", "Crash when uploading a PDF", "Rename API field `user_id`",
]
DESCRIPTIONS = [
    "Steps:\n\n1. Open the page\n2. Click **Save**\n\n- [x] reproduced\n- [ ] fixed",
    "See the log: [trace.log](/uploads/0a1b2c3d4e/trace.log) and ![shot](/uploads/ffee0011/screen%20shot.png)",
    "<script>alert(1)</script> should be escaped, `inline code` kept.",
    None,
    "",
]
# intended ACGS2 status -> (GitLab state, workflow labels that express it)
WORKFLOWS = {
    "todo": ("opened", [[]]),
    "in_progress": ("opened", [["doing"], ["workflow::in progress"]]),
    "backlog": ("opened", [["backlog"]]),
    "done": ("closed", [[]]),
    "cancelled": ("closed", [["wontfix"], ["won't do"], ["duplicate"]]),
}
WORKFLOW_LABELS = {label for _, options in WORKFLOWS.values() for labels in options for label in labels}
OTHER_LABELS = ["frontend", "backend", "bug", "priority::high", "p3", "customer", "ux"]


def stamp(when: datetime) -> str:
    """GitLab's timestamp format: UTC with milliseconds."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeGitLab(FakeServer):
    def __init__(self, projects: dict[str, int] | None = None, token: str = "glpat-good-token", *,
                 keyset: bool = True, seed: int = 7, retry_after: int = 0, graphql: bool = True,
                 edition: str = "ee", extra_labels: tuple[str, ...] = (), **kwargs: Any):
        self.token = token
        # labels beyond the defaults (e.g. "workflow::review"), put on every 5th open issue after generation
        self.extra_labels = extra_labels
        self.keyset = keyset  # False: an older server that ignores pagination=keyset for issues
        self.web = WEB
        # rows per answer at most, below what per_page / first ask (paging must follow the server's
        # own end signal, not count); rows marked `_hidden` are left out as if the token could not see them
        self.page_cap = 100
        # graphql=False: an older self-managed server without /api/graphql (404); edition "ce": no Issue.epic
        self.graphql = GraphQLEndpoint(self, edition) if graphql else None
        self.retry_after = retry_after
        self.seed = seed
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.users = [self._user(i, *entry) for i, entry in enumerate(NAMES)]
        self.projects: dict[str, dict] = {}
        self.issues: dict[str, list[dict]] = {}
        self.notes: dict[tuple[str, int], list[dict]] = {}
        self.graphql_variables: list[dict] = []  # each GraphQL request's variables, for tests counting them
        self.truth: dict[str, dict[int, str]] = {}  # project -> iid -> intended status
        self._note_id = 500_000
        self._last_touch = self.now
        self._memo = Memo()  # filtered and sorted issue lists and rows encoded once, until a row changes
        for index, (path, size) in enumerate((projects or DEFAULT_PROJECTS).items()):
            self._generate(index, path, size)
        for issues in self.issues.values():
            for n, issue in enumerate(i for i in issues if i["state"] == "opened" and extra_labels):
                if n % 5 == 0:
                    issue["labels"] = [extra_labels[(n // 5) % len(extra_labels)]]  # replacing its labels
        super().__init__(seed=seed, **kwargs)

    # -- dataset -------------------------------------------------------------------------
    @staticmethod
    def _user(index: int, username: str, name: str, email: str) -> dict:
        return {"id": 100 + index, "username": username, "name": name, "state": "active", "locked": False,
                "avatar_url": f"{WEB}/uploads/-/system/user/avatar/{100 + index}/avatar.png",
                "web_url": f"{WEB}/{username}", "public_email": email}

    def _embedded(self, user: dict) -> dict:
        """Users inside issues and notes: GitLab's UserBasic, which has no email."""
        return {k: v for k, v in user.items() if k != "public_email"}

    def _generate(self, index: int, path: str, size: int) -> None:
        namespace, name = path.rsplit("/", 1)
        pid = 1000 + index
        self.projects[path] = Row({
            "id": pid, "name": name, "name_with_namespace": f"{namespace} / {name}", "path": name,
            "path_with_namespace": path, "description": f"The {name} project", "web_url": f"{WEB}/{path}",
            "default_branch": "main", "created_at": stamp(self.now - timedelta(days=500)),
            "last_activity_at": stamp(self.now - timedelta(days=1)),
        })
        self.issues[path], self.truth[path] = [], {}
        start = self.now - timedelta(days=400)
        # Issues are created 37 minutes apart, closer where that would run past the present (above
        # about 15,000 issues), and last edited at most yesterday: clamped to one `updated_at`, most of
        # a 100,000-issue project would sit on one second, and every catch-up would re-read it.
        spacing = min(timedelta(minutes=37), timedelta(days=398) / max(size, 1))
        for iid in range(1, size + 1):
            rng = random.Random(f"{self.seed}:{path}:{iid}")
            intended = rng.choice(list(WORKFLOWS))
            state, options = WORKFLOWS[intended]
            labels = sorted(set(rng.choice(options) + rng.sample(OTHER_LABELS, rng.randint(0, 2))))
            created = start + spacing * iid
            updated, latest = created + timedelta(hours=rng.randint(0, 2000)), self.now - timedelta(days=1)
            if updated > latest:  # edited at some point up to yesterday, not all on one second
                updated = created + (latest - created) * rng.random()
            assignees = [self._embedded(u) for u in rng.sample(self.users, rng.choice((0, 1, 1, 2)))]
            incident = rng.random() < 0.1
            description = "Very long body. " * 12_000 if iid == 3 else rng.choice(DESCRIPTIONS)
            issue = Row({
                "id": pid * 100_000 + iid, "iid": iid, "project_id": pid,
                "title": f"{rng.choice(TITLES)} #{iid}", "description": description, "state": state,
                "created_at": stamp(created), "updated_at": stamp(updated),
                "closed_at": stamp(updated) if state == "closed" else None,
                "closed_by": self._embedded(self.users[0]) if state == "closed" else None,
                "labels": labels, "milestone": self._milestone(pid, rng), "assignees": assignees,
                "assignee": assignees[0] if assignees else None,
                "author": self._embedded(rng.choice(self.users)),
                "type": "INCIDENT" if incident else "ISSUE", "issue_type": "incident" if incident else "issue",
                "severity": rng.choice(("CRITICAL", "HIGH", "LOW")) if incident else "UNKNOWN",
                "user_notes_count": 0, "merge_requests_count": 0, "upvotes": 0, "downvotes": 0,
                "due_date": None, "confidential": iid % 17 == 0, "discussion_locked": None,
                "web_url": f"{WEB}/{path}/-/issues/{iid}",
                "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{path}#{iid}"},
                "task_completion_status": {"count": 2, "completed_count": 1},
                "epic": {"id": 9, "iid": 4, "title": "Q3 launch", "url": f"/groups/{namespace}/-/epics/4",
                         "group_id": 77} if rng.random() < 0.1 else None,
                "has_tasks": False, "time_stats": {"time_estimate": 0, "total_time_spent": 0},
                "moved_to_id": None,
            })
            self.issues[path].append(issue)
            self.truth[path][iid] = intended
            count = 130 if iid == 5 else rng.choice((0, 0, 0, 1, 1, 2, 3))
            self.notes[(path, iid)] = self._notes(issue, count, rng)

    def _milestone(self, pid: int, rng: random.Random) -> dict | None:
        if rng.random() < 0.6:
            return None
        number = rng.randint(1, 3)
        return {"id": pid * 10 + number, "iid": number, "project_id": pid, "title": f"v1.{number}",
                "description": "", "state": "active", "due_date": None, "web_url": f"{WEB}/milestones/{number}"}

    def _notes(self, issue: dict, count: int, rng: random.Random) -> list[dict]:
        notes, created = [], parse_time(issue["created_at"])
        for n in range(count + rng.choice((0, 1))):  # sometimes one more: a system note
            system = n == count
            internal = not system and n == 0 and issue["iid"] % 5 == 0  # an internal note (REST: both flags)
            self._note_id += 1
            when = stamp(created + timedelta(minutes=n + 1))
            notes.append(Row({
                "id": self._note_id, "type": None, "attachment": None, "system": system,
                "body": "changed the description" if system else f"Comment {n} with **markdown** ✓ on #{issue['iid']}",
                "author": self._embedded(rng.choice(self.users)), "created_at": when, "updated_at": when,
                "noteable_id": issue["id"], "noteable_type": "Issue", "noteable_iid": issue["iid"],
                "resolvable": False, "confidential": internal, "internal": internal,
            }))
        issue["user_notes_count"] = count
        return notes

    # -- helpers for tests ---------------------------------------------------------------
    def expected(self, path: str) -> dict[str, dict]:
        """Ground truth by item key: external id, intended status, title and comment count."""
        return {
            f"{path}#{i['iid']}": {"external_id": str(i["id"]), "status": self.truth[path][i["iid"]],
                                   "title": i["title"], "comments": i["user_notes_count"],
                                   "confidential": i["confidential"],
                                   "internal_notes": sum(1 for n in self.notes[(path, i["iid"])] if n["internal"])}
            for i in self.issues[path]
        }

    def ground_truth(self, path: str) -> dict[str, int]:
        issues = self.issues[path]
        return {"items": len(issues), "comments": sum(i["user_notes_count"] for i in issues),
                "with_comments": sum(1 for i in issues if i["user_notes_count"]),
                "note_pages": sum(-(-i["user_notes_count"] // 100) for i in issues)}

    def touch(self, n: int, path: str | None = None) -> list[str]:
        """Edit n issues now (new title, reopened or closed); returns their keys."""
        path = path or next(iter(self.issues))
        when = max(datetime.now(UTC), self._last_touch + timedelta(milliseconds=1))
        when += timedelta(microseconds=-when.microsecond % 1000)  # GitLab keeps milliseconds: round up
        self._last_touch = when
        chosen = random.Random(f"touch:{self.seed}:{path}:{n}").sample(self.issues[path], n)
        with self._lock:
            for issue in chosen:
                reopen = issue["state"] == "closed"
                issue["state"] = "opened" if reopen else "closed"
                issue["closed_at"] = None if reopen else stamp(when)
                issue["labels"] = [label for label in issue["labels"] if label not in WORKFLOW_LABELS]
                issue["title"] = issue["title"] + " (edited)"
                issue["updated_at"] = stamp(when)
                self.truth[path][issue["iid"]] = "todo" if reopen else "done"
        return [f"{path}#{i['iid']}" for i in chosen]

    def _now(self) -> str:
        """A GitLab timestamp after every earlier change (milliseconds, strictly increasing)."""
        when = max(datetime.now(UTC), self._last_touch + timedelta(milliseconds=1))
        when += timedelta(microseconds=-when.microsecond % 1000)
        self._last_touch = when
        return stamp(when)

    def move(self, path: str, iid: int, to: str) -> str:
        """Move an issue as GitLab does (doc/user/project/issues/managing_issues.md, "Move an issue";
        REST `moved_to_id`): a new issue in `to` with a new id and iid and copies of the notes (new
        ids), the original closed and kept, naming the new one in `moved_to_id`. Returns the new key."""
        with self._lock:
            original = next(i for i in self.issues[path] if i["iid"] == iid)
            now = self._now()
            target_pid = self.projects[to]["id"]
            new_iid = max((i["iid"] for i in self.issues[to]), default=0) + 1
            copy = Row({**original, "id": target_pid * 100_000 + new_iid, "iid": new_iid, "project_id": target_pid,
                        "web_url": f"{WEB}/{to}/-/issues/{new_iid}", "created_at": now, "updated_at": now,
                        "references": {"short": f"#{new_iid}", "relative": f"#{new_iid}", "full": f"{to}#{new_iid}"},
                        "moved_to_id": None})
            self.issues[to].append(copy)
            self.truth[to][new_iid] = self.truth[path][iid]
            notes = []
            for note in self.notes[(path, iid)]:
                self._note_id += 1
                notes.append(Row({**note, "id": self._note_id, "noteable_id": copy["id"], "noteable_iid": new_iid}))
            self.notes[(to, new_iid)] = notes
            original.update({"state": "closed", "closed_at": now, "updated_at": now, "moved_to_id": copy["id"]})
            self.truth[path][iid] = "moved"
        return f"{to}#{new_iid}"

    def delete(self, path: str, iid: int) -> str:
        """Delete an issue and its notes (an admin's or owner's DELETE); returns its id."""
        with self._lock:
            issue = next(i for i in self.issues[path] if i["iid"] == iid)
            self.issues[path].remove(issue)
            self.notes.pop((path, iid), None)
            self.projects[path]["last_activity_at"] = self._now()  # a row changes: the memo drops old listings
        return str(issue["id"])

    def issue_by_id(self, issue_id: Any) -> dict | None:
        """The issue with this global id, in any project (None if there is none)."""
        if issue_id is None:
            return None
        index = self._memo.get("by id", lambda: {i["id"]: i for issues in self.issues.values() for i in issues})
        return index.get(issue_id)

    def corrupt(self, path: str, iid: int) -> str:
        """Blank an issue's title, as legacy imports into GitLab sometimes leave; returns its id."""
        issue = self.issues[path][iid - 1]
        issue["title"] = ""
        return str(issue["id"])

    def rate_limit_headers(self, seconds: int) -> dict[str, str]:
        reset = int(time.time()) + seconds
        return {"Retry-After": str(seconds), "RateLimit-Name": "throttle_authenticated_api",
                "RateLimit-Limit": "2000", "RateLimit-Observed": "2001", "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset), "RateLimit-ResetTime": formatdate(reset, usegmt=True)}

    def rate_limited_response(self) -> Response:
        return Response(429, "Retry later\n", self.rate_limit_headers(self.retry_after), "text/plain")

    def start(self) -> FakeGitLab:
        """Start, with Nagle off on accepted sockets (Linux inherits it from the listener).

        The base handler writes headers and body in two sends; with Nagle on, every small JSON
        answer waits ~40 ms for the client's delayed ACK, which no real GitLab does.
        """
        super().start()
        self._server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self

    # -- routes --------------------------------------------------------------------------
    def setup_routes(self) -> None:
        project = r"/api/v4/projects/(?P<pid>[^/]+)"
        self.route("GET", r"/api/v4/user", "user", self._current_user)
        self.route("GET", r"/api/v4/projects", "projects", self._list_projects)
        self.route("GET", project, "project", self._get_project)
        self.route("GET", project + r"/issues", "issues", self._list_issues)
        self.route("GET", project + r"/issues_statistics", "issues_statistics", self._statistics)
        self.route("GET", project + r"/issues/(?P<iid>\d+)/notes", "notes", self._list_notes)
        self.route("POST", r"/api/graphql", "graphql", self._graphql)
        # metadata the mapping step reads (issue 14)
        self.route("GET", project + r"/labels", "labels", self._list_labels)
        self.route("GET", project + r"/members/all", "members", self._list_members)

    def _graphql(self, request: Request) -> Response:
        """GitLab's GraphQL endpoint (tests/fakes/gitlab_graphql.py); 404 on a server without one."""
        if self.graphql is None:
            return Response(404, {"message": "404 Not Found"})
        sent = {k.lower(): v for k, v in request.headers.items()}
        if (sent.get("private-token") or sent.get("authorization")) and self._denied(request):
            return Response(401, {"errors": [{"message": "Invalid token"}]})
        body = request.json()
        self.graphql_variables.append((body.get("variables") or {}) if isinstance(body, dict) else {})
        return self.graphql.answer(request)

    def _ok(self, body: Any, headers: dict[str, str] | None = None) -> Response:
        reset = int(time.time()) + 60
        base = {"RateLimit-Limit": "2000", "RateLimit-Observed": "1", "RateLimit-Remaining": "1999",
                "RateLimit-Reset": str(reset), "RateLimit-ResetTime": formatdate(reset, usegmt=True)}
        return Response(200, body, {**base, **(headers or {})})

    def _denied(self, request: Request) -> Response | None:
        sent = {k.lower(): v for k, v in request.headers.items()}
        token = sent.get("private-token") or sent.get("authorization", "").removeprefix("Bearer ")
        return None if token == self.token else Response(401, {"message": "401 Unauthorized"})

    def _project(self, request: Request, pid: str) -> str | Response:
        """The project path a route names (numeric id or URL-encoded path), or GitLab's error."""
        if denied := self._denied(request):
            return denied
        key = unquote(pid)
        for path, meta in self.projects.items():
            if key in (path, str(meta["id"])):
                return path
        return Response(404, {"message": "404 Project Not Found"})

    def _current_user(self, request: Request) -> Response:
        user = {**self.users[0], "email": self.users[0]["public_email"], "is_admin": False}
        return self._denied(request) or self._ok(user)

    def _get_project(self, request: Request, pid: str) -> Response:
        path = self._project(request, pid)
        return path if isinstance(path, Response) else self._ok(self.projects[path])

    def _list_projects(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        rows = sorted(self.projects.values(), key=lambda p: p["id"])
        if request.arg("pagination") == "keyset":
            after = int(request.arg("id_after", "0"))
            rows = [p for p in rows if p["id"] > after]
            size = self._per_page(request)
            chunk, more = rows[:size], len(rows) > size
            link = self._link(request, {"id_after": chunk[-1]["id"]}) if more else None
            return self._ok(self._json(chunk), {"Link": f'<{link}>; rel="next"'} if link else {})
        return self._offset(request, rows)

    def _filtered(self, path: str, since: str | None) -> list[dict]:
        """The project's issues updated after `since`, cached until an issue changes."""
        def select() -> list[dict]:
            floor = parse_time(since) if since else None
            return [i for i in self.issues[path]
                    if not i.get("_hidden") and (floor is None or parse_time(i["updated_at"]) >= floor)]
        return self._memo.get(("filtered", path, since), select)

    def _sorted(self, path: str, since: str | None, order: str, descending: bool) -> tuple[list[dict], list[tuple]]:
        """The filtered issues in the listing's order, and their (order, id) keys ascending for bisection."""
        def arrange() -> tuple[list[dict], list[tuple]]:
            rows = sorted(self._filtered(path, since), key=lambda i: (i[order], i["id"]), reverse=descending)
            return rows, [(r[order], r["id"]) for r in (reversed(rows) if descending else rows)]
        return self._memo.get(("sorted", path, since, order, descending), arrange)

    def _list_issues(self, request: Request, pid: str) -> Response:
        path = self._project(request, pid)
        if isinstance(path, Response):
            return path
        order = request.arg("order_by", "created_at")
        descending = request.arg("sort", "desc") == "desc"
        with self._lock:  # rows are encoded under the lock: touch() cannot change an answer half-way
            rows, keys = self._sorted(path, request.arg("updated_after"), order, descending)
            if request.arg("confidential") in ("true", "false"):  # the Issues API's confidential filter
                wanted = request.arg("confidential") == "true"
                rows = [r for r in rows if bool(r["confidential"]) == wanted]
                keys = sorted((r[order], r["id"]) for r in rows)
            if self.keyset and request.arg("pagination") == "keyset":
                return self._keyset(request, rows, keys, order, descending)
            return self._offset(request, rows)

    def _keyset(self, request: Request, rows: list[dict], keys: list[tuple], order: str, descending: bool) -> Response:
        start = 0
        if cursor := request.arg("cursor"):
            last = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            mark = (last[order], last["id"])  # the rows after it, found by bisection
            start = len(rows) - bisect.bisect_left(keys, mark) if descending else bisect.bisect_right(keys, mark)
        size = self._per_page(request)
        chunk = rows[start:start + size]
        if len(rows) - start <= size:
            return self._ok(self._json(chunk))
        token = base64.urlsafe_b64encode(json.dumps({order: chunk[-1][order], "id": chunk[-1]["id"]}).encode())
        return self._ok(self._json(chunk), {"Link": f'<{self._link(request, {"cursor": token.decode()})}>; rel="next"'})

    def _statistics(self, request: Request, pid: str) -> Response:
        path = self._project(request, pid)
        if isinstance(path, Response):
            return path
        issues = self._filtered(path, request.arg("updated_after"))
        closed = sum(1 for i in issues if i["state"] == "closed")
        return self._ok({"statistics": {"counts": {"all": len(issues), "closed": closed,
                                                   "opened": len(issues) - closed}}})

    def _list_notes(self, request: Request, pid: str, iid: str) -> Response:
        path = self._project(request, pid)
        if isinstance(path, Response):
            return path
        notes = self.notes.get((path, int(iid)))
        if notes is None:
            return Response(404, {"message": "404 Issue Not Found"})
        rows = sorted((n for n in notes if not n.get("_hidden")), key=lambda n: (n["created_at"], n["id"]),
                      reverse=request.arg("sort", "desc") == "desc")
        return self._offset(request, rows)

    # -- metadata the mapping step reads (issue 14) ----------------------------------------
    # docs.gitlab.com/api/labels "List labels" (GET /projects/:id/labels; `with_counts=true` adds
    # open_issues_count, closed_issues_count and open_merge_requests_count; offset-paged, 20 by default) and
    # docs.gitlab.com/api/members "List all members of a group or project including inherited and invited
    # members" (GET /projects/:id/members/all: id, username, name, state, access_level...; no email unless
    # the caller is an administrator; offset-paged).
    def _list_labels(self, request: Request, pid: str) -> Response:
        path = self._project(request, pid)
        if isinstance(path, Response):
            return path
        names = sorted({label for issue in self.issues[path] for label in issue["labels"]}
                       | WORKFLOW_LABELS | set(OTHER_LABELS) | set(self.extra_labels))
        counts = (request.arg("with_counts") or "false").lower() == "true"
        rows = []
        for n, name in enumerate(names):
            row = {"id": 9000 + n, "name": name, "color": "#428BCA", "text_color": "#FFFFFF", "description": None,
                   "description_html": "", "subscribed": False, "priority": None, "is_project_label": True}
            if counts:
                carrying = [i for i in self.issues[path] if name in i["labels"]]
                row.update(open_issues_count=sum(i["state"] == "opened" for i in carrying),
                           closed_issues_count=sum(i["state"] == "closed" for i in carrying),
                           open_merge_requests_count=0)
            rows.append(Row(row))
        return self._offset(request, rows)

    def _list_members(self, request: Request, pid: str) -> Response:
        path = self._project(request, pid)
        if isinstance(path, Response):
            return path
        return self._offset(request, [Row({**self._embedded(u), "access_level": 30, "created_at": stamp(self.now),
                                           "expires_at": None, "membership_state": "active"}) for u in self.users])

    # -- paging --------------------------------------------------------------------------
    def _json(self, rows: list[dict]) -> bytes:
        """A JSON list of rows, each encoded once until a row changes."""
        return dumps([self._memo.encoded(r) for r in rows])

    def _per_page(self, request: Request) -> int:
        return max(1, min(int(request.arg("per_page", "20")), 100, self.page_cap))

    def _link(self, request: Request, changes: dict[str, Any]) -> str:
        query = {k: v[0] for k, v in request.query.items()}
        query.update({k: str(v) for k, v in changes.items()})
        host = {k.lower(): v for k, v in request.headers.items()}.get("host", "127.0.0.1")
        return f"http://{host}{quote(request.path, safe='/%')}?{urlencode(query)}"

    def _offset(self, request: Request, rows: list[dict]) -> Response:
        """Offset paging with GitLab's headers; totals are omitted above 10,000 rows."""
        size, page = self._per_page(request), max(1, int(request.arg("page", "1")))
        pages = max(1, -(-len(rows) // size))
        chunk = rows[(page - 1) * size: page * size]
        headers = {"X-Page": str(page), "X-Per-Page": str(size),
                   "X-Next-Page": str(page + 1) if page < pages else "",
                   "X-Prev-Page": str(page - 1) if page > 1 else ""}
        links = {"first": 1}
        if page < pages:
            links["next"] = page + 1
        if page > 1:
            links["prev"] = page - 1
        if len(rows) <= TOTAL_CAP:
            headers.update({"X-Total": str(len(rows)), "X-Total-Pages": str(pages)})
            links["last"] = pages
        headers["Link"] = ", ".join(f'<{self._link(request, {"page": n})}>; rel="{rel}"' for rel, n in links.items())
        return self._ok(self._json(chunk), headers)
