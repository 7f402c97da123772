"""A fake GitHub REST API serving a seeded dataset the way api.github.com does.

What it reproduces, because the connector depends on it: `state` defaulting to "open" and
`per_page` to 30 (max 100); pull requests mixed into the issues listing; issue listings paged
by opaque `after=` cursors in `Link` headers pointing at `/repositories/{id}/...`, and 422 for
`page>=100`; repo-wide comment listings paged by page number, 422 past `comment_page_limit`
(GitHub refuses deep pages there too); `since` filtering on update
time; the search API's `total_count`; `X-RateLimit-*` headers on every answer, 403 with
remaining 0 and an epoch reset when rate-limited; GitHub's JSON error bodies.

Transfers (`transfer`), as GitHub documents them: "The API returns a 301 Moved Permanently status if
the issue was transferred to another repository", 404 when it went where the token cannot read,
410 Gone for an issue deleted from a readable repository (docs.github.com/rest/issues/issues#get-an-issue);
"the original URL redirects to the new issue's URL", comments and assignees are retained, labels
and milestones only where the target has one of the same name (docs.github.com/issues, "Transferring an
issue to another repository"). The transferred issue is a new issue of the target: a new number
and a new `id` and `node_id` (GitHub's docs do not say; observed by GoogleCloudPlatform/
repo-automation-playground#85: "GitHub IDs for issues do not stay the same when issues are
transferred", old 979486533, new 979489936). Its comments keep their ids (not documented either:
"comments are retained"). The Location names the target by repository id
(`/repositories/{id}/issues/{n}`), the form GitHub's own next-page links use.
"""
from __future__ import annotations

import base64
import bisect
import json
import math
import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from .dataset import Memo, Row, rows_removed
from .github_graphql import GitHubGraphQL
from .server import Encoded, FakeServer, Request, Response, dumps

T0 = datetime(2024, 1, 1, tzinfo=UTC)
API = "https://api.github.com"  # what the generated JSON's own URLs point at, as on github.com
DOCS = "https://docs.github.com/rest"
PAGE_LIMIT_MESSAGE = ("Pagination with the page parameter is not supported for large datasets, "
                      "please use cursor based pagination (after/before)")
LONG_BODY = ("## Logs\n\n```\n" + "Traceback (most recent call last): line 42 in handler\n" * 1500 + "```\n")

USERS = (  # (id, login, name, email): list responses carry name/email only for some accounts
    (1, "octocat", "The Octocat", None),
    (583231, "ada-l", "Ada Lovelace", "ada@acme.example"),
    (9919, "grace-h", None, None),
    (71234, "jose-nunez", "José Núñez", None),
    (4410, "mei-chen", "陈美", "mei@acme.example"),
    (88001, "dependabot[bot]", None, None),
)
TITLES = (
    "Checkout hangs after submitting the form",
    "<script>alert(1)</script> rendered in the issue title",
    "Ünïcödé 🚀 crash on 日本語 input",
    "**Markdown** title with `code` and [a link](https://example.com)",
    "Search ranking ignores recent items",
    "Flaky test in CI: test_rate_limiter",
    "Add dark mode",
    "Document the CSV import",
)
BODIES = (
    None,
    "",
    "Steps:\n\n1. open the page\n2. click **Save**\n\n- [ ] covered by tests",
    "<b>HTML</b> body with <script>alert(1)</script> and <img src=x onerror=alert(2)>",
    "Plain text body.",
)
LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("P1", "b60205", None),
    ("in progress", "fbca04", None),
    ("good first issue", "7057ff", "Good for newcomers"),
)
COMMENT_BODIES = ("I can reproduce this.", "Fixed in #12, please verify.", "👍 LGTM",
                  "<script>alert('c')</script> in a comment", "Closing as not planned.")


def _ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _encode_cursor(key: tuple[str, int]) -> str:
    return base64.urlsafe_b64encode(b"cursor:v2:" + json.dumps(list(key)).encode()).decode().rstrip("=")


def _decode_cursor(value: str) -> tuple[str, int]:
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if not raw.startswith(b"cursor:v2:"):
        raise ValueError(value)
    ts, ident = json.loads(raw[len(b"cursor:v2:"):])
    return str(ts), int(ident)


class GitHubFake(FakeServer):
    """`sizes` maps "owner/name" to how many numbers (issues and pull requests) it holds."""

    def __init__(self, sizes: dict[str, int] | None = None, token: str = "ghp_fake_token_0123456789",
                 pr_every: int = 5, reset_in: float = 1.0, seed: int = 7, anonymous: bool = False,
                 comment_page_limit: int = 400, extra_labels: tuple[str, ...] = (), **kwargs):
        # the deepest page number the repository comment listing serves; deeper ones answer 422
        # (singer-io/tap-github#61: page 1,334 of 30 refused, i.e. about 40,000 rows: 400 pages of 100)
        self.comment_page_limit = comment_page_limit
        # rows per answer at most (below what per_page asks: the paging loops must follow links, not
        # count), and rows marked `_hidden` (`hide`) are left out of every listing as if the token
        # could not see them
        self.page_cap = 100
        self.anonymous = anonymous  # public repositories: requests without any token are served too
        # labels beyond the defaults (e.g. "status: blocked"), put on every 6th open issue after generation
        self.extra_labels = extra_labels
        self.sizes = sizes or {"acme/web": 260, "acme/api": 45, "octo/empty": 0}
        self.token = token
        self.pr_every = pr_every
        self.reset_in = reset_in
        self.remaining = 5000
        self._data = threading.RLock()
        self._memo = Memo()  # orderings, listings and rows encoded once, until a row changes
        super().__init__(seed=seed, **kwargs)
        self.repos: dict[str, dict] = {}
        self.issues: dict[str, list[dict]] = {}
        self.comments: dict[str, list[dict]] = {}
        self.corrupted: set[tuple[str, int]] = set()
        self.transferred: dict[tuple[str, int], tuple[str, int]] = {}  # (repo, number) -> where it went
        self.gone: set[tuple[str, int]] = set()  # deleted issues: 410 Gone
        self._generate(random.Random(seed))
        self.graphql = GitHubGraphQL(self)  # POST /graphql over these same rows
        self.graphql_available = True
        self.last_number = {repo: len(rows) for repo, rows in self.issues.items()}  # numbers are never reused

    # -- dataset -------------------------------------------------------------------------
    def _user(self, index: int) -> dict:
        uid, login, name, email = USERS[index % len(USERS)]
        user = {"login": login, "id": uid, "node_id": f"U_{uid}", "type": "Bot" if "[bot]" in login else "User",
                "avatar_url": f"https://avatars.example/u/{uid}", "html_url": f"https://github.com/{login}",
                "url": f"{API}/users/{login}", "site_admin": False}
        if name:
            user["name"] = name
        if email:
            user["email"] = email
        return user

    def _generate(self, rng: random.Random) -> None:
        comment_id = 9_000_000
        for r, (full_name, size) in enumerate(self.sizes.items()):
            owner, name = full_name.split("/")
            rid = 1000 + r
            self.repos[full_name] = Row({
                "id": rid, "node_id": f"R_{rid}", "name": name, "full_name": full_name, "private": r % 2 == 1,
                "owner": {"login": owner, "id": 500 + r, "type": "Organization"},
                "html_url": f"https://github.com/{full_name}", "description": f"The {name} repository",
                "open_issues_count": 0, "has_issues": True,
            })
            issues, comments = [], []
            for number in range(1, size + 1):
                issue = self._issue(rng, full_name, rid, number)
                issues.append(issue)
                for k in range(rng.choice((0, 0, 1, 1, 2, 3, 5))):
                    comment_id += 1
                    comments.append(self._comment(rng, full_name, number, comment_id,
                                                  _parse_ts(issue["created_at"]) + timedelta(minutes=30 * (k + 1))))
            self.issues[full_name] = issues
            self.comments[full_name] = comments
            self.recount(full_name)
            self.repos[full_name]["open_issues_count"] = sum(i["state"] == "open" for i in issues)
        for issues in self.issues.values():
            for n, issue in enumerate(i for i in issues if i["state"] == "open" and self.extra_labels):
                if n % 6 == 0:
                    name = self.extra_labels[(n // 6) % len(self.extra_labels)]
                    issue["labels"] = [*issue["labels"], {"id": 7100 + self.extra_labels.index(name), "name": name,
                                                          "color": "ededed", "description": None, "default": False}]
        latest = max((i["updated_at"] for rows in self.issues.values() for i in rows), default=_ts(T0))
        self._clock = _parse_ts(latest)  # touch() moves past every generated update

    def _issue(self, rng: random.Random, repo: str, rid: int, number: int) -> dict:
        created = T0 + timedelta(hours=number)
        updated = created + timedelta(hours=rng.randrange(0, 3000), seconds=number % 60)
        state, reason = rng.choice((("open", None), ("open", None), ("open", "reopened"), ("closed", "completed"),
                                    ("closed", "completed"), ("closed", "not_planned"), ("closed", None)))
        assignees = [self._user(rng.randrange(len(USERS))) for _ in range(rng.choice((0, 0, 1, 1, 2)))]
        api = f"{API}/repos/{repo}/issues/{number}"
        issue = {
            "id": rid * 1_000_000 + number, "node_id": f"I_{rid}_{number}", "number": number,
            "url": api, "repository_url": f"{API}/repos/{repo}", "comments_url": f"{api}/comments",
            "html_url": f"https://github.com/{repo}/issues/{number}",
            "title": f"{rng.choice(TITLES)} ({number})", "body": LONG_BODY if number == 3 else rng.choice(BODIES),
            "user": self._user(rng.randrange(len(USERS))),
            "labels": [{"id": 7000 + i, "name": n, "color": c, "description": d, "default": i < 3}
                       for i, (n, c, d) in enumerate(LABELS) if rng.random() < 0.25],
            "state": state, "state_reason": reason, "locked": False,
            "assignee": assignees[0] if assignees else None, "assignees": assignees,
            "milestone": ({"id": 42, "number": 1, "title": "v1.0", "state": "open"} if rng.random() < 0.3 else None),
            "comments": 0, "created_at": _ts(created), "updated_at": _ts(updated),
            "closed_at": _ts(updated) if state == "closed" else None, "author_association": "MEMBER",
            "type": None,  # GitHub sends the key on every issue, null where no issue type is set
        }
        if number % 11 == 0:
            issue["type"] = {"id": 3, "name": "Bug", "description": "An unexpected problem"}
        if number % 13 == 0 and number > 1:
            issue["parent_issue_url"] = f"{API}/repos/{repo}/issues/{number - 1}"
        if self.pr_every and number % self.pr_every == 0:
            issue["pull_request"] = {"url": f"{API}/repos/{repo}/pulls/{number}",
                                     "html_url": f"https://github.com/{repo}/pull/{number}", "merged_at": None}
            issue["html_url"] = f"https://github.com/{repo}/pull/{number}"
        return Row(issue)

    def _comment(self, rng: random.Random, repo: str, number: int, cid: int, created: datetime) -> dict:
        return Row({"id": cid, "node_id": f"IC_{cid}", "url": f"{API}/repos/{repo}/issues/comments/{cid}",
                "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{cid}",
                "issue_url": f"{API}/repos/{repo}/issues/{number}", "user": self._user(rng.randrange(len(USERS))),
                "body": rng.choice(COMMENT_BODIES), "created_at": _ts(created), "updated_at": _ts(created),
                "author_association": "CONTRIBUTOR"})

    # -- helpers for tests ---------------------------------------------------------------
    def ground_truth(self, repo: str) -> dict[str, Any]:
        """What a full read must yield: issue keys -> (state, state_reason, labels), comment
        ids, the keys of corrupted issues (failures) and the listing's size (issues + PRs)."""
        with self._data:
            imported = {i["number"]: i for i in self.issues[repo] if not i.get("_hidden")
                        and "pull_request" not in i and (repo, i["number"]) not in self.corrupted}
            return {
                "items": {f"{repo}#{n}": (i["state"], i["state_reason"], {label["name"] for label in i["labels"]})
                          for n, i in imported.items()},
                "ids": {str(i["id"]) for i in imported.values()},
                "comments": {str(c["id"]) for c in self.comments[repo]
                             if int(c["issue_url"].rsplit("/", 1)[1]) in imported and not c.get("_hidden")},
                "failures": {f"{repo}#{n}" for r, n in self.corrupted if r == repo},
                "listed": len(self.issues[repo]),
                "listed_comments": len(self.comments[repo]),
            }

    def touch(self, repo: str, n: int) -> tuple[datetime, list[str]]:
        """Edit n issues (not PRs): new title, state flipped, updated after everything else.
        Returns the time the edits happened (a `since` that selects exactly them) and their keys."""
        with self._data:
            self._clock += timedelta(days=1)
            since = self._clock
            candidates = [i for i in self.issues[repo] if "pull_request" not in i][::3][:n]
            for k, issue in enumerate(candidates):
                issue["title"] = f"Edited: {issue['title']}"
                closed = issue["state"] == "open"
                issue["state"], issue["state_reason"] = ("closed", "completed") if closed else ("open", "reopened")
                issue["updated_at"] = _ts(since + timedelta(seconds=k))
                issue["closed_at"] = issue["updated_at"] if closed else None
            return since, [f"{repo}#{i['number']}" for i in candidates]

    def corrupt(self, repo: str, number: int, **fields: Any) -> None:
        """Give one issue fields the connector cannot map (e.g. created_at="yesterday")."""
        with self._data:
            self.issues[repo][number - 1].update(fields)
            self.corrupted.add((repo, number))

    def recount(self, repo: str) -> None:
        """Set each issue's `comments` (the count GitHub's Issues API sends) to its comments now. A test
        that adds comments to `self.comments` directly calls it to keep the count true."""
        with self._data:
            counts = Counter(int(c["issue_url"].rsplit("/", 1)[1]) for c in self.comments[repo])
            for issue in self.issues[repo]:
                if issue["comments"] != counts[issue["number"]]:
                    issue["comments"] = counts[issue["number"]]

    def next_number(self, repo: str) -> int:
        """The number a new issue (or a transferred one) gets in `repo`: GitHub never reuses one."""
        with self._data:
            self.last_number[repo] += 1
            return self.last_number[repo]

    def delete_comment(self, repo: str, comment_id: int) -> None:
        """Delete a comment as GitHub does: it leaves every listing, its issue's `updated_at` stays
        (GitHub documents no change to the issue; observed: deleting a comment does not bump it)."""
        with self._data:
            self.comments[repo] = [c for c in self.comments[repo] if c["id"] != comment_id]
            self.recount(repo)
            rows_removed()

    def delete_issue(self, repo: str, number: int) -> None:
        """Delete an issue: it leaves the listings with its comments, and its URL answers 410 Gone."""
        with self._data:
            self.issues[repo] = [i for i in self.issues[repo] if i["number"] != number]
            self.comments[repo] = [c for c in self.comments[repo] if not c["issue_url"].endswith(f"/issues/{number}")]
            self.gone.add((repo, number))
            self.recount(repo)
            self.repos[repo]["open_issues_count"] = sum(i["state"] == "open" for i in self.issues[repo])
            rows_removed()

    def transfer(self, repo: str, number: int, target: str) -> dict:
        """Transfer issue `number` of `repo` to `target` as GitHub does (see the module docstring):
        a new issue there (new number, id and node_id), the old URL redirecting to it, comments
        moved along with their ids. Returns the new issue."""
        with self._data:
            old = next(i for i in self.issues[repo] if i["number"] == number)
            new_number = self.next_number(target)
            rid = self.repos[target]["id"]
            self._clock += timedelta(seconds=1)  # the new issue's updated_at: after every change so far
            api = f"{API}/repos/{target}/issues/{new_number}"
            names = {n for n, _, _ in LABELS} | set(self.extra_labels)
            new = Row({**old, "id": rid * 1_000_000 + new_number, "node_id": f"I_{rid}_{new_number}",
                       "number": new_number, "url": api, "repository_url": f"{API}/repos/{target}",
                       "comments_url": f"{api}/comments", "html_url": f"https://github.com/{target}/issues/{new_number}",
                       "labels": [label for label in old["labels"] if label["name"] in names],
                       "updated_at": _ts(self._clock)})
            new.pop("parent_issue_url", None)
            self.issues[repo].remove(old)
            self.issues[target].append(new)
            moving = [c for c in self.comments[repo] if c["issue_url"].endswith(f"/issues/{number}")]
            self.comments[repo] = [c for c in self.comments[repo] if c not in moving]
            for comment in moving:
                self.comments[target].append(Row({
                    **comment, "issue_url": api, "url": f"{API}/repos/{target}/issues/comments/{comment['id']}",
                    "html_url": f"https://github.com/{target}/issues/{new_number}#issuecomment-{comment['id']}"}))
            self.transferred[(repo, number)] = (target, new_number)
            rows_removed()
            for full in (repo, target):
                self.recount(full)
                self.repos[full]["open_issues_count"] = sum(i["state"] == "open" for i in self.issues[full])
            return new

    def rate_limited_response(self, reset_in: float | None = None) -> Response:
        """GitHub's primary rate limit: 403, remaining 0, reset as Unix epoch seconds."""
        reset = math.ceil(time.time() + (self.reset_in if reset_in is None else reset_in))
        return Response(403, {"message": "API rate limit exceeded for user ID 1. If you reach out to GitHub Support "
                                         "for help, please include the request ID ABCD:1234.",
                              "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api", "status": "403"},
                        {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "5000",
                         "X-RateLimit-Reset": str(reset), "X-RateLimit-Resource": "core"})

    def secondary_limit_response(self, retry_after: int = 1) -> Response:
        """GitHub's secondary (abuse) limit: 403 with Retry-After, remaining not zero."""
        return Response(403, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before "
                                         "you try again. If you reach out to GitHub Support for help, please include "
                                         "the request ID ABCD:5678.",
                              "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api", "status": "403"},
                        {"Retry-After": str(retry_after)})

    # -- routes --------------------------------------------------------------------------
    def setup_routes(self) -> None:
        repo = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
        by_id = r"/repositories/(?P<rid>\d+)"
        self.route("GET", "/user", "user", self._get_user)
        self.route("GET", "/user/repos", "user_repos", self._list_repos)
        self.route("GET", "/search/issues", "search", self._search)
        self.route("GET", f"{repo}/issues/comments", "comments", self._list_comments)
        self.route("GET", f"{by_id}/issues/comments", "comments", self._list_comments)
        self.route("GET", f"{repo}/issues/(?P<number>\\d+)", "issue", self._get_issue)
        self.route("GET", f"{by_id}/issues/(?P<number>\\d+)", "issue", self._get_issue)
        self.route("GET", f"{repo}/issues/(?P<number>\\d+)/comments", "issue_comments", self._issue_comments)
        self.route("GET", f"{by_id}/issues/(?P<number>\\d+)/comments", "issue_comments", self._issue_comments)
        self.route("GET", f"{repo}/issues", "issues", self._list_issues)
        self.route("GET", f"{by_id}/issues", "issues", self._list_issues)
        self.route("GET", repo, "repo", self._get_repo)
        self.route("POST", "/graphql", "graphql", self._graphql)
        self.route("POST", "/api/graphql", "graphql", self._graphql)  # GitHub Enterprise Server's path
        # metadata the mapping step reads (issue 14)
        self.route("GET", f"{repo}/labels", "labels", self._list_labels)
        self.route("GET", f"{repo}/assignees", "assignees", self._list_assignees)

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        """Every answer, faults included, carries GitHub's rate-limit headers."""
        response = super()._dispatch(method, raw_path, headers, body)
        with self._lock:
            self.remaining = max(self.remaining - 1, 1)
            remaining = self.remaining
        defaults = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": str(remaining),
                    "X-RateLimit-Used": str(5000 - remaining), "X-RateLimit-Reset": str(int(time.time()) + 3600),
                    "X-RateLimit-Resource": "search" if raw_path.startswith("/search") else "core",
                    "X-GitHub-Api-Version-Selected": "2022-11-28"}
        return Response(response.status, response.body, {**defaults, **response.headers},
                        "application/json; charset=utf-8")

    def _authorized(self, request: Request) -> bool:
        value = {k.lower(): v for k, v in request.headers.items()}.get("authorization", "")
        if not value and self.anonymous:
            return True
        scheme, _, token = value.partition(" ")
        return scheme.lower() in ("token", "bearer") and token == self.token

    @staticmethod
    def _error(status: int, message: str, doc: str = "") -> Response:
        return Response(status, {"message": message, "documentation_url": f"{DOCS}{doc}", "status": str(status)})

    def _guard(self, request: Request, owner: str | None = None, name: str | None = None,
               rid: str | None = None) -> tuple[Response | None, str | None]:
        """(error response, repo full name): 401 before anything, 404 for unknown repos."""
        if not self._authorized(request):
            return self._error(401, "Bad credentials"), None
        if owner is None and rid is None:
            return None, None
        full = f"{owner}/{name}" if owner else next((k for k, v in self.repos.items() if str(v["id"]) == rid), None)
        if full not in self.repos:
            return Response(404, {"message": "Not Found", "documentation_url": f"{DOCS}/issues/issues",
                                  "status": "404"}), None
        return None, full

    def _get_user(self, request: Request) -> Response:
        error, _ = self._guard(request)
        if error:
            return error
        uid, login, name, _ = USERS[0]
        return Response(200, {"login": login, "id": uid, "name": name, "email": "octocat@github.example",
                              "type": "User", "html_url": f"https://github.com/{login}"})

    def _get_repo(self, request: Request, owner: str, name: str) -> Response:
        error, full = self._guard(request, owner, name)
        return error or Response(200, self.repos[full])

    def _graphql(self, request: Request) -> Response:
        """GitHub's GraphQL API (tests/fakes/github_graphql.py) over the same rows: 401 without a valid
        token (unless `anonymous`, kept for the Singer tap's repository lookup), 404 where this server
        has none (`graphql_available = False`, as a server without the endpoint answers)."""
        if not self.graphql_available:
            return self._error(404, "Not Found", "/graphql")
        error, _ = self._guard(request)
        if error:
            return error
        return self.graphql.answer(request)

    def _paged(self, request: Request, path: str, rows: list, default_per_page: int = 30) -> Response:
        """Page-number paging with `next`/`last` links (repos, comments)."""
        per_page = max(1, min(int(request.arg("per_page", str(default_per_page))), 100, self.page_cap))
        page = max(1, int(request.arg("page", "1")))
        start = (page - 1) * per_page
        last = max(1, math.ceil(len(rows) / per_page))
        params = {k: v[0] for k, v in request.query.items() if k != "page"}
        links = []
        if page < last:
            links.append(f'<{self.url}{path}?{urlencode({**params, "page": page + 1})}>; rel="next"')
            links.append(f'<{self.url}{path}?{urlencode({**params, "page": last})}>; rel="last"')
        body = dumps(self._encoded(rows[start:start + per_page]))
        return Response(200, body, {"Link": ", ".join(links)} if links else {})

    def _list_repos(self, request: Request) -> Response:
        error, _ = self._guard(request)
        if error:
            return error
        with self._data:
            return self._paged(request, "/user/repos", sorted(self.repos.values(), key=lambda r: r["full_name"]))

    def _encoded(self, rows: list[dict]) -> list[Encoded]:
        """Rows as JSON, each encoded once until the data changes. Encoded under the data lock,
        an answer is a snapshot: a later touch() cannot alter it."""
        return [self._memo.encoded(r) for r in rows]

    def _ordered(self, kind: str, repo: str, field: str) -> tuple[list[dict], list[tuple[str, int]]]:
        """Rows of `kind` sorted ascending by (field, id) and their keys, cached until data changes,
        so a page costs a bisect rather than a sort (benchmarks read tens of thousands)."""
        def order() -> tuple[list[dict], list[tuple[str, int]]]:
            rows = sorted(getattr(self, kind)[repo], key=lambda r: (r[field], r["id"]))
            return rows, [(r[field], r["id"]) for r in rows]
        return self._memo.get(("order", kind, repo, field), order)

    def _listing(self, kind: str, repo: str, field: str, desc: bool, since: str | None,
                 state: str = "all") -> list[dict]:
        """A page-numbered listing's rows in order, filtered by state and `since`, cached until data changes."""
        def select() -> list[dict]:
            rows, _ = self._ordered(kind, repo, field)
            return [r for r in (rows[::-1] if desc else rows) if not r.get("_hidden")
                    and (state == "all" or r["state"] == state) and (not since or r["updated_at"] >= since)]
        return self._memo.get(("listing", kind, repo, field, desc, since, state), select)

    @staticmethod
    def _since(request: Request) -> str | None:
        """`since` as this dataset's timestamp format, so rows compare as strings."""
        since = request.arg("since")
        return _ts(_parse_ts(since).astimezone(UTC)) if since else None

    def _list_comments(self, request: Request, owner=None, name=None, rid=None) -> Response:
        error, full = self._guard(request, owner, name, rid)
        if error:
            return error
        if int(request.arg("page", "1") or 1) > self.comment_page_limit:
            return self._error(422, PAGE_LIMIT_MESSAGE, "/issues/comments#list-issue-comments-for-a-repository")
        field = "updated_at" if request.arg("sort") == "updated" else "created_at"
        since = self._since(request)
        with self._data:
            rows = self._listing("comments", full, field, request.arg("direction", "asc") == "desc", since)
            return self._paged(request, f"/repositories/{self.repos[full]['id']}/issues/comments", rows)

    def _issue_or_answer(self, full: str, number: int) -> dict | Response:
        """The issue, or GitHub's answer for a number that holds none: 301 to a transferred issue's
        new place, 410 for a deleted one, 404 otherwise (docs.github.com/rest/issues/issues#get-an-issue)."""
        found = next((i for i in self.issues[full] if i["number"] == number and not i.get("_hidden")), None)
        if found is not None:
            return found
        if (full, number) in self.transferred:
            target, new_number = self.transferred[(full, number)]
            location = f"{self.url}/repositories/{self.repos[target]['id']}/issues/{new_number}"
            return Response(301, {"message": "Moved Permanently", "url": location,
                                  "documentation_url": f"{DOCS}/overview/resources-in-the-rest-api#http-redirects"},
                            {"Location": location})
        if (full, number) in self.gone:
            return self._error(410, "This issue was deleted", "/issues/issues#get-an-issue")
        return self._error(404, "Not Found", "/issues/issues#get-an-issue")

    def _get_issue(self, request: Request, number: str, owner=None, name=None, rid=None) -> Response:
        error, full = self._guard(request, owner, name, rid)
        if error:
            return error
        with self._data:
            found = self._issue_or_answer(full, int(number))
            return found if isinstance(found, Response) else Response(200, dumps(self._memo.encoded(found)))

    def _issue_comments(self, request: Request, number: str, owner=None, name=None, rid=None) -> Response:
        """One issue's comments, oldest first, page-numbered (docs.github.com/rest/issues/comments
        #list-issue-comments); a transferred issue's old URL redirects like the issue's."""
        error, full = self._guard(request, owner, name, rid)
        if error:
            return error
        with self._data:
            found = self._issue_or_answer(full, int(number))
            if isinstance(found, Response):
                if found.status == 301:
                    found.headers["Location"] += "/comments"
                return found
            rows = sorted((c for c in self.comments[full] if c["issue_url"] == found["url"] and not c.get("_hidden")),
                          key=lambda c: (c["created_at"], c["id"]))
            return self._paged(request, f"/repositories/{self.repos[full]['id']}/issues/{number}/comments", rows)

    def _list_issues(self, request: Request, owner=None, name=None, rid=None) -> Response:
        error, full = self._guard(request, owner, name, rid)
        if error:
            return error
        if int(request.arg("page", "1") or 1) >= 100:
            return self._error(422, PAGE_LIMIT_MESSAGE, "/issues/issues#list-repository-issues")
        state, since = request.arg("state", "open"), self._since(request)
        field = "updated_at" if request.arg("sort") == "updated" else "created_at"
        desc = request.arg("direction", "desc") == "desc"
        per_page = max(1, min(int(request.arg("per_page", "30")), 100, self.page_cap))

        def wanted(issue: dict) -> bool:
            return state in ("all", issue["state"]) and (not since or issue["updated_at"] >= since) \
                and not issue.get("_hidden")

        with self._data:
            rows, keys = self._ordered("issues", full, field)
            if request.arg("page"):
                return self._paged(request, f"/repositories/{self.repos[full]['id']}/issues",
                                   self._listing("issues", full, field, desc, since, state))
            after = request.arg("after")
            try:
                key = _decode_cursor(after) if after else None
            except ValueError:
                return self._error(422, "Invalid cursor", "/issues/issues#list-repository-issues")
            if desc:
                start = len(rows) - 1 if key is None else bisect.bisect_left(keys, key) - 1
                positions = range(start, -1, -1)
            else:
                positions = range(0 if key is None else bisect.bisect_right(keys, key), len(rows))
            chunk = []
            for position in positions:  # one row past the page tells whether a next page exists
                if wanted(rows[position]):
                    chunk.append(rows[position])
                    if len(chunk) > per_page:
                        break
            more, chunk = len(chunk) > per_page, chunk[:per_page]
            body = dumps(self._encoded(chunk))
        headers = {}
        if more:
            params = {k: v[0] for k, v in request.query.items() if k != "after"}
            params["after"] = _encode_cursor((chunk[-1][field], chunk[-1]["id"]))
            path = f"/repositories/{self.repos[full]['id']}/issues"
            headers["Link"] = f'<{self.url}{path}?{urlencode(params)}>; rel="next"'
        return Response(200, body, headers)

    def _search(self, request: Request) -> Response:
        error, _ = self._guard(request)
        if error:
            return error
        terms = (request.arg("q") or "").split()
        repo = next((t[5:] for t in terms if t.startswith("repo:")), None)
        if repo not in self.repos:
            return Response(422, {"message": "Validation Failed", "errors": [{
                "message": "The listed users and repositories cannot be searched either because the resources do "
                           "not exist or you do not have permission to view them.",
                "resource": "Search", "field": "q", "code": "invalid"}],
                "documentation_url": f"{DOCS}/search/search#search-issues-and-pull-requests", "status": "422"})
        since = next((_parse_ts(t[10:]) for t in terms if t.startswith("updated:>=")), None)
        issues, prs = "is:issue" in terms, "is:pr" in terms

        def search() -> list[dict]:
            return [i for i in self.issues[repo] if (not issues or "pull_request" not in i)
                    and (not prs or "pull_request" in i) and (since is None or _parse_ts(i["updated_at"]) >= since)]
        with self._data:
            rows = self._memo.get(("search", repo, issues, prs, since), search)
            per_page = max(1, min(int(request.arg("per_page", "30")), 100))
            return Response(200, dumps({"total_count": len(rows), "incomplete_results": False,
                                        "items": self._encoded(rows[:per_page])}))

    # -- metadata the mapping step reads (issue 14) ----------------------------------------
    # docs.github.com/rest/issues/labels "List labels for a repository" (GET /repos/{o}/{r}/labels: id,
    # node_id, url, name, color, default, description; per_page up to 100, Link paging) and
    # docs.github.com/rest/issues/assignees "List assignees" (GET /repos/{o}/{r}/assignees: simple users,
    # which carry no name or email; per_page up to 100, Link paging).
    def _list_labels(self, request: Request, owner: str, name: str) -> Response:
        error, full = self._guard(request, owner, name)
        if error:
            return error
        rows = [Row({"id": 7000 + i, "node_id": f"LA_{7000 + i}", "url": f"{API}/repos/{full}/labels/{quote(n)}",
                     "name": n, "color": c, "default": i < 3, "description": d}) for i, (n, c, d) in enumerate(LABELS)]
        rows += [Row({"id": 7100 + i, "node_id": f"LA_{7100 + i}", "url": f"{API}/repos/{full}/labels/{quote(n)}",
                      "name": n, "color": "ededed", "default": False, "description": None})
                 for i, n in enumerate(self.extra_labels)]
        return self._paged(request, f"/repos/{full}/labels", rows)

    def _list_assignees(self, request: Request, owner: str, name: str) -> Response:
        error, full = self._guard(request, owner, name)
        if error:
            return error
        simple = [Row({k: v for k, v in self._user(i).items() if k not in ("name", "email")})
                  for i in range(len(USERS)) if "[bot]" not in USERS[i][1]]
        return self._paged(request, f"/repos/{full}/assignees", simple)
