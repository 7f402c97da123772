"""GitHub's GraphQL endpoint (`POST /graphql`; GHES `/api/graphql`) for the query subset our connector sends.

Queries are parsed, validated and executed by graphql-core against the part of GitHub's schema below
(names as in docs.github.com/graphql/reference: objects `Repository` (`issues`, `pullRequests`,
`nameWithOwner`, `databaseId`), `Issue`, `PullRequest`, `IssueComment` (`id`, `databaseId`,
`fullDatabaseId` as a BigInt string), the `Node` interface and `Query.node(id:)`, `PageInfo`
`{hasNextPage endCursor}`, `IssueOrder {field: CREATED_AT, direction: ASC}`), answered from the REST
fake's own rows, so deletions, transfers and hidden rows show the same way on both APIs. What else it
reproduces, and where from:

- docs.github.com/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api ("Node limit"):
  every connection needs `first` or `last`, 1-100, and a query may ask at most 500,000 nodes. GitHub's
  answers to a breach (HTTP 200, `data` absent): `{"errors": [{"type": "EXCESSIVE_PAGINATION", "message":
  "Requesting 101 records on the `issues` connection exceeds the `first` limit of 100 records.", ...}]}`,
  `MISSING_PAGINATION_BOUNDARIES` ("You must provide a `first` or `last` value to properly paginate the
  `issues` connection.") and `MAX_NODE_LIMIT_EXCEEDED` (shapes as clients handle them in the wild;
  the docs name the limits, not the bodies).
- The same page: a primary rate limit answers HTTP 200 with an error and `x-ratelimit-remaining: 0`
  (`rate_limited_answer`: `{"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded ..."}]}`);
  secondary limits are the REST fake's 403 with Retry-After.
- docs.github.com/graphql/guides/forming-calls-with-graphql ("Authenticating"): the GraphQL API needs a
  token: 401 `{"message": "Bad credentials"}` without a valid one (the REST fake's `anonymous` mode, which
  the Singer tap's benchmark uses, is honoured here too, as before).
- graphql-ruby's validation errors for fields a schema lacks (`Field 'fullDatabaseId' doesn't exist on
  type 'IssueComment'`, `extensions.code` `undefinedField`), which an older GHES answers: `full_ids=False`.
- Unresolvable repositories and node ids: `data.repository` / `data.node` null plus an error of
  `type` `NOT_FOUND` ("Could not resolve to a Repository with the name 'o/r'.").
- Cursors are opaque strings; `hasNextPage` tells whether more follow.
"""
from __future__ import annotations

import base64
import bisect
import json
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    build_schema,
    execute,
    parse,
    validate,
    value_from_ast_untyped,
)
from graphql.language import FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from .server import Request, Response

if TYPE_CHECKING:
    from .github import GitHubFake

MAX_PAGE = 100
MAX_NODES = 500_000
CONNECTIONS = {"issues", "pullRequests", "comments"}

SCHEMA_SDL = """
scalar BigInt
scalar DateTime
interface Node { id: ID! }
enum OrderDirection { ASC DESC }
enum IssueOrderField { CREATED_AT UPDATED_AT COMMENTS }
input IssueOrder { field: IssueOrderField! direction: OrderDirection! }
enum IssueState { OPEN CLOSED }
enum PullRequestState { OPEN CLOSED MERGED }
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! endCursor: String startCursor: String }
type RateLimit { cost: Int! limit: Int! nodeCount: Int! remaining: Int! resetAt: DateTime! used: Int! }
type Query {
  repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
  node(id: ID!): Node
  rateLimit(dryRun: Boolean = false): RateLimit
}
type Repository implements Node {
  id: ID!
  databaseId: Int
  name: String!
  nameWithOwner: String!
  issues(first: Int, after: String, last: Int, before: String, orderBy: IssueOrder, states: [IssueState!]):
    IssueConnection!
  pullRequests(first: Int, after: String, last: Int, before: String, orderBy: IssueOrder,
               states: [PullRequestState!]): PullRequestConnection!
}
type IssueConnection { nodes: [Issue] pageInfo: PageInfo! totalCount: Int! }
type PullRequestConnection { nodes: [PullRequest] pageInfo: PageInfo! totalCount: Int! }
type IssueCommentConnection { nodes: [IssueComment] pageInfo: PageInfo! totalCount: Int! }
type Issue implements Node {
  id: ID! databaseId: Int FULL number: Int! title: String! createdAt: DateTime! updatedAt: DateTime!
  comments(first: Int, after: String, last: Int, before: String): IssueCommentConnection!
}
type PullRequest implements Node {
  id: ID! databaseId: Int FULL number: Int! title: String! createdAt: DateTime! updatedAt: DateTime!
  comments(first: Int, after: String, last: Int, before: String): IssueCommentConnection!
}
type IssueComment implements Node {
  id: ID! databaseId: Int FULL body: String! createdAt: DateTime! updatedAt: DateTime!
}
"""


class Refusal(Exception):
    """An error GitHub reports in `errors` with a `type` of its own."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _cursor(position: Any) -> str:
    return base64.b64encode(b"cursor:v2:" + json.dumps(position).encode()).decode()


def _uncursor(value: str) -> Any:
    raw = base64.b64decode(value.encode())
    if not raw.startswith(b"cursor:v2:"):
        raise ValueError(value)
    return json.loads(raw[len(b"cursor:v2:"):])


def _page(rows: list, keys: list, args: dict, what: str) -> dict:
    """A connection over `rows` (sorted by `keys`) for `first`/`after`."""
    first = args.get("first")
    start = 0
    if args.get("after"):
        try:
            start = bisect.bisect_right(keys, tuple(_uncursor(args["after"])))
        except (ValueError, TypeError):
            raise Refusal("INVALID_CURSOR_ARGUMENTS", f"`{args['after']}` does not appear to be a valid cursor.") \
                from None
    chunk = rows[start:start + first]
    more = start + first < len(rows)
    end = _cursor(list(keys[start + len(chunk) - 1])) if chunk else None
    return {"nodes": chunk, "totalCount": len(rows),
            "pageInfo": {"hasNextPage": more, "hasPreviousPage": start > 0, "endCursor": end,
                         "startCursor": _cursor(list(keys[start])) if chunk else None}}


class GitHubGraphQL:
    """Answers `POST /graphql` for a GitHubFake; `log` keeps (top field, variables) of each query."""

    def __init__(self, fake: GitHubFake):
        self.fake = fake
        self.log: list[tuple[str, dict]] = []
        self.schema = self._schema(())

    @staticmethod
    def _schema(without: tuple[str, ...]) -> GraphQLSchema:
        sdl = SCHEMA_SDL
        for kind in ("Issue", "PullRequest", "IssueComment"):
            field = "" if kind in without else "fullDatabaseId: BigInt"
            sdl = sdl.replace(f"type {kind} implements Node {{\n  id: ID! databaseId: Int FULL",
                              f"type {kind} implements Node {{\n  id: ID! databaseId: Int {field}")
        schema = build_schema(sdl)
        node = schema.get_type("Node")
        node.resolve_type = lambda value, info, kind: value["__typename"]  # type: ignore[union-attr]
        return schema

    def without_full_ids(self, *kinds: str) -> None:
        """An older GHES whose schema has `databaseId` only on these types (all three when none named)."""
        self.schema = self._schema(kinds or ("Issue", "PullRequest", "IssueComment"))

    # -- the endpoint --------------------------------------------------------------------
    def answer(self, request: Request) -> Response:
        try:
            payload = request.json() or {}
        except ValueError:
            return Response(400, {"message": "Problems parsing JSON", "documentation_url":
                                  "https://docs.github.com/graphql", "status": "400"})
        query, variables = payload.get("query") or "", payload.get("variables") or {}
        try:
            document = parse(query)
        except GraphQLError as exc:
            return Response(200, {"errors": [{"message": exc.message, "locations": [
                {"line": loc.line, "column": loc.column} for loc in exc.locations or []]}]})
        problems = validate(self.schema, document)
        if problems:
            return Response(200, {"errors": [self._ruby(error) for error in problems]})
        try:
            self._check_limits(document, variables)
        except Refusal as refusal:
            return Response(200, {"errors": [{"type": refusal.kind, "message": str(refusal)}]})
        top = [s.name.value for d in document.definitions for s in getattr(d, "selection_set", None).selections
               if isinstance(s, FieldNode)] if document.definitions else []
        self.log.append((",".join(top), dict(variables)))
        with self.fake._data:
            result = execute(self.schema, document, root_value=self, variable_values=variables,
                             field_resolver=self._resolve)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [self._error(e) for e in result.errors]
        return Response(200, body)

    @staticmethod
    def _ruby(error: GraphQLError) -> dict:
        """graphql-core's validation error in graphql-ruby's words, as GitHub sends them."""
        message = error.message
        answer: dict[str, Any] = {"message": message}
        if message.startswith("Cannot query field"):
            field, kind = message.split("'")[1], message.split("'")[3]
            answer = {"message": f"Field '{field}' doesn't exist on type '{kind}'",
                      "extensions": {"code": "undefinedField", "typeName": kind, "fieldName": field}}
        answer["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations or []]
        return answer

    @staticmethod
    def _error(error: GraphQLError) -> dict:
        original = error.original_error
        answer: dict[str, Any] = {"message": error.message, "path": error.path,
                                  "locations": [{"line": loc.line, "column": loc.column}
                                                for loc in error.locations or []]}
        if isinstance(original, Refusal):
            answer = {"type": original.kind, **answer}
        return answer

    def _check_limits(self, document: Any, variables: dict) -> None:
        """GitHub's node limit, checked before anything runs: `first`/`last` 1-100 on every connection,
        at most 500,000 nodes (each connection's page size times its parents')."""
        fragments = {d.name.value: d for d in document.definitions if type(d).__name__ == "FragmentDefinitionNode"}
        total = 0

        def walk(selection: SelectionSetNode | None, multiplier: int) -> None:
            nonlocal total
            for node in selection.selections if selection else []:
                if isinstance(node, InlineFragmentNode):
                    walk(node.selection_set, multiplier)
                    continue
                if isinstance(node, FragmentSpreadNode):
                    walk(fragments[node.name.value].selection_set, multiplier)
                    continue
                if not isinstance(node, FieldNode):
                    continue
                name = node.name.value
                inner = multiplier
                if name in CONNECTIONS:
                    args = {a.name.value: value_from_ast_untyped(a.value, variables) for a in node.arguments or ()}
                    size = args.get("first") if args.get("first") is not None else args.get("last")
                    if size is None:
                        raise Refusal("MISSING_PAGINATION_BOUNDARIES", f"You must provide a `first` or `last` "
                                                                       f"value to properly paginate the `{name}` "
                                                                       "connection.")
                    if not 1 <= int(size) <= MAX_PAGE:
                        which = "first" if args.get("first") is not None else "last"
                        raise Refusal("EXCESSIVE_PAGINATION", f"Requesting {size} records on the `{name}` "
                                                              f"connection exceeds the `{which}` limit of "
                                                              f"{MAX_PAGE} records.")
                    inner = multiplier * int(size)
                    total += inner
                walk(node.selection_set, inner)

        for definition in document.definitions:
            walk(getattr(definition, "selection_set", None), 1)
        if total > MAX_NODES:
            raise Refusal("MAX_NODE_LIMIT_EXCEEDED", f"This query requests up to {total:,} possible nodes which "
                                                     f"exceeds the maximum limit of {MAX_NODES:,}.")

    # -- resolvers -----------------------------------------------------------------------
    def _resolve(self, source: Any, info: Any, **args: Any) -> Any:
        """Each object is a dict; a value that is a method of ours is called with the field's arguments."""
        name = info.field_name
        if source is self:
            return getattr(self, f"_query_{name}")(**args)
        value = source.get(name) if isinstance(source, dict) else None
        return value(**args) if callable(value) else value

    def _query_rateLimit(self, dryRun: bool = False) -> dict:  # noqa: N802 - GitHub's field name
        return {"cost": 1, "limit": 5000, "nodeCount": 0, "remaining": self.fake.remaining, "used": 0,
                "resetAt": "2030-01-01T00:00:00Z"}

    def _query_repository(self, owner: str, name: str, followRenames: bool = True) -> dict:  # noqa: N803
        full = f"{owner}/{name}"
        if full not in self.fake.repos:
            raise Refusal("NOT_FOUND", f"Could not resolve to a Repository with the name '{full}'.")
        return self._repository(full)

    def _query_node(self, id: str) -> dict:  # noqa: A002 - GitHub's argument name
        for full, rows in self.fake.issues.items():
            for row in rows:
                if row["node_id"] == id and not row.get("_hidden"):
                    return self._issue(full, row)
        raise Refusal("NOT_FOUND", f"Could not resolve to a node with the global id of '{id}'")

    def _repository(self, full: str) -> dict:
        repo = self.fake.repos[full]
        return {"__typename": "Repository", "id": repo["node_id"], "databaseId": repo["id"], "name": repo["name"],
                "nameWithOwner": full,
                "issues": lambda **args: self._items(full, False, args),
                "pullRequests": lambda **args: self._items(full, True, args)}

    def _items(self, full: str, pulls: bool, args: dict) -> dict:
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        field = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "COMMENTS": "comments"}[order["field"]]
        states = {s.lower() for s in args.get("states") or []}

        def listing() -> tuple[list, list]:
            rows = sorted((r for r in self.fake.issues[full] if ("pull_request" in r) == pulls
                           and not r.get("_hidden") and (not states or r["state"] in states)),
                          key=lambda r: (r[field], r["id"]), reverse=order["direction"] == "DESC")
            return rows, [(r[field], r["id"]) for r in rows]
        rows, keys = self.fake._memo.get(("graphql", full, pulls, field, order["direction"], tuple(states)), listing)
        if order["direction"] == "DESC":  # keys descend: bisect over the reversed order
            raise Refusal("UNSUPPORTED", "this fake pages ascending orders only")
        page = _page(rows, keys, args, "issues")
        page["nodes"] = [self._issue(full, row) for row in page["nodes"]]
        return page

    def _comments_of(self, full: str) -> dict[str, tuple[list, list]]:
        """issue url -> (its comments oldest first, their keys), cached until the data changes."""
        def index() -> dict[str, tuple[list, list]]:
            found: dict[str, list] = {}
            for row in self.fake.comments[full]:
                if not row.get("_hidden"):
                    found.setdefault(row["issue_url"], []).append(row)
            ordered = {url: sorted(rows, key=lambda c: (c["created_at"], c["id"])) for url, rows in found.items()}
            return {url: (rows, [(c["created_at"], c["id"]) for c in rows]) for url, rows in ordered.items()}
        return self.fake._memo.get(("graphql-comments", full), index)

    def _issue(self, full: str, row: dict) -> dict:
        def comments(**args: Any) -> dict:
            rows, keys = self._comments_of(full).get(row["url"], ([], []))
            page = _page(rows, keys, args, "comments")
            page["nodes"] = [{"__typename": "IssueComment", "id": c["node_id"], "databaseId": c["id"],
                              "fullDatabaseId": str(c["id"]), "body": c["body"], "createdAt": c["created_at"],
                              "updatedAt": c["updated_at"]} for c in page["nodes"]]
            return page
        return {"__typename": "PullRequest" if "pull_request" in row else "Issue", "id": row["node_id"],
                "databaseId": row["id"], "fullDatabaseId": str(row["id"]), "number": row["number"],
                "title": row["title"], "createdAt": row["created_at"], "updatedAt": row["updated_at"],
                "comments": comments}

    # -- for tests -------------------------------------------------------------------------
    @staticmethod
    def rate_limited_answer(reset_in: float = 1.0) -> Response:
        """GitHub's primary GraphQL rate limit: HTTP 200, an error of type RATE_LIMITED, remaining 0."""
        import math
        import time

        reset = math.ceil(time.time() + reset_in)
        return Response(200, {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID "
                                                                             "1."}]},
                        {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "5000",
                         "X-RateLimit-Reset": str(reset), "X-RateLimit-Resource": "graphql"})
