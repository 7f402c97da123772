"""Every issue id of a repository with its comments' ids, from GitHub's GraphQL API: the deletion sweep's walk.

GitHub's REST API can only list whole issues (100 a request) and whole comments (the repository's
comment listing, 100 a request), so a REST sweep costs as much as a full import. GraphQL selects
fields: one cursor-paged walk of `repository { issues(first: 100, orderBy: CREATED_AT ASC) }` with each
issue's first 100 comment ids nested gives the id listing and the comment check together, in
ceil(issues / 100) requests (+ ceil(pull requests / 100) when they are imported, through
`pullRequests`), plus one request per further 100 comments of an issue with more than 100 (`node(id:)`
on that issue only). Each issue's `number` comes along, so a later `fetch` in the run reads an issue
by number (REST addresses issues by number only). REST ids are GraphQL's `fullDatabaseId` (a BigInt,
sent as a string; `databaseId` is an Int, too small for github.com's comment ids); where a server's
schema has no `fullDatabaseId` on a type (an older GitHub Enterprise Server), that type is asked for
`databaseId`, issues and comments apart.

Never a partial listing: a walk that breaks off, a node without an id, or an answer with `errors`
raises (the sweep then fails the part and deletes nothing). GitHub's limits (docs.github.com/graphql,
"Rate limits and query limits for the GraphQL API"): `first` 1-100 on every connection, at most
500,000 nodes a query (this one asks 100 + 100 x 100 = 10,100); rate limits are waited for by the
client (client.py `post_graphql`).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..errors import NetworkError, NotFoundError, SourceError
from ..pageguard import PageGuard
from ..relay import connection, numeric_id
from .settings import PAGE_SIZE, TOOL

if TYPE_CHECKING:
    from .client import GitHubClient

ISSUES, PULL_REQUESTS = "issues", "pullRequests"
FULL_ID, SHORT_ID = "fullDatabaseId", "databaseId"
_THREAD = f"comments(first: {PAGE_SIZE}AFTER) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ COMMENT_ID }} }}"
WALK_QUERY = f"""query($owner: String!, $name: String!, $after: String) {{
  repository(owner: $owner, name: $name) {{
    CONNECTION(first: {PAGE_SIZE}, after: $after, orderBy: {{field: CREATED_AT, direction: ASC}}) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ id number ITEM_ID {_THREAD.replace("AFTER", "")} }}
    }}
  }}
}}"""
THREAD_QUERY = f"""query($id: ID!, $after: String) {{
  node(id: $id) {{
    __typename
    ... on Issue {{ {_THREAD.replace("AFTER", ", after: $after")} }}
    ... on PullRequest {{ {_THREAD.replace("AFTER", ", after: $after")} }}
  }}
}}"""


class GraphQLUnavailable(SourceError):
    """This server answers no GraphQL (HTTP 404), or not the fields we ask for (an older GHES): use REST."""


# graphql-ruby's codes (and messages) for a query naming what this server's schema lacks
UNSUPPORTED = {"undefinedField", "argumentNotAccepted", "undefinedType", "argumentLiteralsIncompatible"}


def _errors(body: dict[str, Any], what: str) -> None:
    """Raise for an answer carrying `errors` (HTTP 200): GraphQLUnavailable when the schema lacks what we
    ask, NotFoundError for a repository or issue GitHub cannot resolve, SourceError for the rest."""
    errors = body.get("errors")
    if not errors:
        return
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    message = str(first.get("message") or errors)[:300]
    extensions: dict = first["extensions"] if isinstance(first.get("extensions"), dict) else {}
    if extensions.get("code") in UNSUPPORTED or "doesn't exist on type" in message \
            or "doesn't accept argument" in message:
        raise GraphQLUnavailable(f"{TOOL}'s GraphQL API lacks what the deletion check reads ({message})")
    if first.get("type") == "NOT_FOUND":
        raise NotFoundError(f"{TOOL}: {message}")
    raise SourceError(f"{TOOL} refused the GraphQL query for {what}: {message}")


def _connection(value: Any, what: str) -> tuple[list, str | None]:
    """(nodes, the cursor after them or None on the last page) of a connection in an answer; strict
    (importers/relay.py): a page that does not say whether more follows is never taken as the last."""
    return connection(value, TOOL, what)


class IdWalk:
    """The ids of one repository's issues (and pull requests, when imported) and of their comments."""

    def __init__(self, client: GitHubClient, repo: str, include_pull_requests: bool = False):
        self.client = client
        self.repo = repo
        self.owner, _, self.name = repo.partition("/")
        self.kinds = (ISSUES, PULL_REQUESTS) if include_pull_requests else (ISSUES,)
        # the id field of items and of comments: SHORT_ID for a type whose schema refused FULL_ID (older GHES)
        self.id_fields = {"ITEM_ID": FULL_ID, "COMMENT_ID": FULL_ID}
        self.numbers: dict[str, int] = {}  # item id -> its number, as walked: `fetch` reads an issue by number

    def _post(self, query: str, variables: dict[str, Any], what: str) -> dict[str, Any]:
        def ask() -> dict[str, Any]:
            text = query
            for placeholder, field in self.id_fields.items():
                text = text.replace(placeholder, field)
            body = self.client.post_graphql(text, variables, what=what)
            _errors(body, what)
            data = body.get("data")
            if not isinstance(data, dict):
                raise NetworkError(f"{TOOL} answered the GraphQL query for {what} without data")
            return data
        while True:
            try:
                return ask()
            except GraphQLUnavailable as exc:
                if f"'{FULL_ID}'" not in str(exc):
                    raise
                which = "COMMENT_ID" if "type 'IssueComment'" in str(exc) else "ITEM_ID"
                if self.id_fields[which] == SHORT_ID:
                    raise
                self.id_fields[which] = SHORT_ID  # and ask again

    def _id(self, node: Any, what: str, kind: str = "ITEM_ID") -> str:
        field = self.id_fields[kind]
        value = node.get(field) if isinstance(node, dict) else None
        if value is None:
            raise NetworkError(f"{TOOL} listed one of {what} without its id ({field}); stopping the "
                               "deletion check rather than taking it for deleted")
        return str(numeric_id(value, TOOL, what))

    def pages(self) -> Iterator[tuple[list[str], list[str]]]:
        """(the item ids of one page, the ids of those items' comments), page by page, to the end."""
        for kind in self.kinds:
            what = f"the {'pull requests' if kind == PULL_REQUESTS else 'issues'} of {self.repo!r}"
            guard = PageGuard(TOOL, what)
            seen: set[str] = set()  # a page of ids walked before brings nothing: the guard stops a replaying server
            after: str | None = None
            while True:
                data = self._post(WALK_QUERY.replace("CONNECTION", kind),
                                  {"owner": self.owner, "name": self.name, "after": after}, what)
                repository = data.get("repository")
                if repository is None:
                    raise NotFoundError(f"{TOOL} has no repository {self.repo!r} visible to this account")
                nodes, following = _connection(repository.get(kind) if isinstance(repository, dict) else None,
                                               what)
                items: list[str] = []
                comments: list[str] = []
                for node in nodes:
                    items.append(self._id(node, what))
                    number = node.get("number")
                    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
                        self.numbers[items[-1]] = number
                    comments.extend(self._thread(node))
                guard.page(len(set(items) - seen), following)
                seen.update(items)
                yield items, comments
                if following is None:
                    break
                after = following

    def _thread(self, node: dict) -> list[str]:
        """Every comment id of one issue node: the nested first page, then the rest of a long thread."""
        what = f"the comments of an issue of {self.repo!r}"
        nodes, after = _connection(node.get("comments"), what)
        ids = [self._id(comment, what, "COMMENT_ID") for comment in nodes]
        guard = PageGuard(TOOL, what)
        while after is not None:
            if not isinstance(node.get("id"), str):
                raise NetworkError(f"{TOOL} listed an issue of {self.repo!r} without its node id")
            data = self._post(THREAD_QUERY, {"id": node["id"], "after": after}, what)
            found = data.get("node")
            if not isinstance(found, dict):  # deleted or transferred while we walked: its ids are not here
                raise NotFoundError(f"{TOOL} could not resolve an issue of {self.repo!r} during the deletion "
                                    "check (deleted or transferred meanwhile); run the import again")
            more, following = _connection(found.get("comments"), what)
            fresh = {self._id(comment, what, "COMMENT_ID") for comment in more} - set(ids)
            ids.extend(fresh)
            guard.page(len(fresh), following)
            after = following
        return ids
