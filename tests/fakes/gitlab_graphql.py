"""GitLab's GraphQL endpoint (`POST /api/graphql`) for the query subset our connector sends.

Queries are parsed and validated by graphql-core against the part of GitLab's schema below (the
type, field, argument and enum names of GitLab's GraphQL reference), then answered from the fake's
own issues and notes, each issue node rendered once per query shape. What it reproduces, and where
each behaviour comes from:

- GitLab's GraphQL docs (doc/api/graphql/index.md, "Limits"): connections return at most 100 nodes
  a page (a larger `first` is cut to 100, no error); a query's complexity is limited to 250 with a
  token, and beyond it the answer is HTTP 200 with only
  `{"errors": [{"message": "Query has complexity of N, which exceeds max complexity of 250"}]}`.
- app/graphql/types/base_field.rb and resolvers/base_resolver.rb: a field adds 1 plus its
  children; a resolver field adds (children + 1, + 1 with `sort`) x (1 + page size x 0.01), and
  nothing for the page size when it looks items up by `iid`; graphql-ruby's connection fields
  without a resolver (`Issue.assignees`) add 1 + page size x the complexity of one node.
- app/controllers/graphql_controller.rb: a token that authenticates no one answers 401
  `{"errors": [{"message": "Invalid token"}]}`; a query longer than 10,000 characters 422 "Query too large".
- graphql-ruby's validation messages (`Field 'x' doesn't exist on type 'Issue'`, code
  `undefinedField`; `Field 'notes' doesn't accept argument 'x'`, code `argumentNotAccepted`), which an
  instance without a field (Community Edition has no `Issue.epic`) answers with HTTP 200.
- Rate limits: the REST API's 429 with `RateLimit-*` and `Retry-After` (the fake's `rate_limited_response`).
- `pageInfo { hasNextPage endCursor }` with opaque keyset cursors; Time values in ISO 8601 without
  fractions, global ids as `gid://gitlab/Issue/123`.
"""
from __future__ import annotations

import base64
import bisect
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    parse,
    validate,
    value_from_ast_untyped,
)
from graphql.error import GraphQLError

from .server import Encoded, Request, Response, dumps

if TYPE_CHECKING:
    from .gitlab import FakeGitLab

MAX_PAGE_SIZE = 100
MAX_COMPLEXITY = 250
MAX_QUERY_SIZE = 10_000

SCHEMA_SDL = """
scalar Time
scalar IssueID
scalar NoteID
scalar UserID
scalar LabelID
scalar MilestoneID
scalar EpicID

enum IssueState { opened closed locked all }
enum IssueType { ISSUE INCIDENT TEST_CASE REQUIREMENT TASK TICKET OBJECTIVE KEY_RESULT EPIC }
enum IssuableSeverity { UNKNOWN LOW MEDIUM HIGH CRITICAL }
enum IssueSort { CREATED_ASC CREATED_DESC UPDATED_ASC UPDATED_DESC }
enum NotesFilterType { ALL_NOTES ONLY_COMMENTS ONLY_ACTIVITY }

type Query {
  project(fullPath: ID!): Project
  currentUser: UserCore
}
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
type Project {
  id: ID!
  fullPath: ID!
  name: String!
  webUrl: String
  issue(iid: String): Issue
  issues(first: Int, after: String, sort: IssueSort, state: IssueState, updatedAfter: Time,
         iid: String, iids: [String!]): IssueConnection
}
type IssueConnection { count: Int! nodes: [Issue] pageInfo: PageInfo! }
type Issue {
  id: IssueID!
  iid: ID!
  title: String!
  description: String
  state: IssueState!
  type: IssueType
  severity: IssuableSeverity
  confidential: Boolean!
  createdAt: Time!
  updatedAt: Time!
  closedAt: Time
  webUrl: String!
  userNotesCount: Int!
  moved: Boolean
  movedTo: Issue
  author: UserCore!
  assignees(first: Int, after: String): UserCoreConnection
  labels(first: Int, after: String): LabelConnection
  milestone: Milestone
  epic: Epic
  notes(first: Int, after: String, filter: NotesFilterType): NoteConnection!
}
type NoteConnection { nodes: [Note] pageInfo: PageInfo! }
type Note {
  id: NoteID!
  body: String!
  system: Boolean!
  internal: Boolean
  createdAt: Time!
  updatedAt: Time!
  author: UserCore
}
type UserCoreConnection { nodes: [UserCore] pageInfo: PageInfo! }
type UserCore { id: UserID! username: String! name: String! webUrl: String! }
type LabelConnection { nodes: [Label] pageInfo: PageInfo! }
type Label { id: LabelID! title: String! }
type Milestone { id: MilestoneID! title: String! }
type Epic { id: EpicID! iid: ID! title: String webUrl: String }
"""
# Fields backed by a resolver (complexity by base_field.rb) and connections without one.
RESOLVER_FIELDS = {("Query", "project"), ("Project", "issue"), ("Project", "issues"), ("Issue", "notes"),
                   ("Issue", "labels"), ("Issue", "userNotesCount")}
PLAIN_CONNECTIONS = {("Issue", "assignees")}
FIELD_TYPES = {("Query", "project"): "Project", ("Query", "currentUser"): "UserCore",
               ("Project", "issue"): "Issue", ("Project", "issues"): "IssueConnection",
               ("IssueConnection", "nodes"): "Issue", ("IssueConnection", "pageInfo"): "PageInfo",
               ("Issue", "movedTo"): "Issue", ("Issue", "author"): "UserCore",
               ("Issue", "assignees"): "UserCoreConnection", ("Issue", "labels"): "LabelConnection",
               ("Issue", "milestone"): "Milestone", ("Issue", "epic"): "Epic", ("Issue", "notes"): "NoteConnection",
               ("NoteConnection", "nodes"): "Note", ("NoteConnection", "pageInfo"): "PageInfo",
               ("Note", "author"): "UserCore", ("UserCoreConnection", "nodes"): "UserCore",
               ("UserCoreConnection", "pageInfo"): "PageInfo", ("LabelConnection", "nodes"): "Label",
               ("LabelConnection", "pageInfo"): "PageInfo"}


def gid(kind: str, number: Any) -> str:
    return f"gid://gitlab/{kind}/{number}"


def iso(stamp: str | None) -> str | None:
    """A REST timestamp (milliseconds) as GraphQL's Time: ISO 8601 without fractions."""
    return None if stamp is None else stamp[:19] + "Z"


def _cursor(values: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def _uncursor(value: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(value.encode()))


ISSUE_SCALARS: dict[str, Callable[[dict], Any]] = {  # Issue fields read straight off the REST row
    "id": lambda i: gid("Issue", i["id"]), "iid": lambda i: str(i["iid"]), "title": lambda i: i["title"],
    "description": lambda i: i["description"], "state": lambda i: i["state"], "type": lambda i: i["type"],
    "severity": lambda i: i["severity"], "confidential": lambda i: bool(i.get("confidential")),
    "createdAt": lambda i: iso(i["created_at"]), "updatedAt": lambda i: iso(i["updated_at"]),
    "closedAt": lambda i: iso(i.get("closed_at")), "webUrl": lambda i: i["web_url"],
    "userNotesCount": lambda i: i["user_notes_count"], "moved": lambda i: bool(i.get("moved_from_id")),
}


class Errors(Exception):
    """A GraphQL answer made of errors only (HTTP 200 unless `status` says otherwise)."""

    def __init__(self, *messages: dict, status: int = 200):
        super().__init__(messages[0]["message"])
        self.messages = list(messages)
        self.status = status


def _ruby_message(error: GraphQLError) -> dict:
    """graphql-core's validation error as graphql-ruby (GitLab) words it."""
    text = error.message
    if match := re.match(r"Cannot query field '(\w+)' on type '(\w+)'", text):
        field, kind = match.groups()
        return {"message": f"Field '{field}' doesn't exist on type '{kind}'",
                "extensions": {"code": "undefinedField", "typeName": kind, "fieldName": field}}
    if match := re.match(r"Unknown argument '(\w+)' on field '(\w+)\.(\w+)'", text):
        argument, _, field = match.groups()
        return {"message": f"Field '{field}' doesn't accept argument '{argument}'",
                "extensions": {"code": "argumentNotAccepted", "name": field, "argumentName": argument}}
    return {"message": text}


class GraphQLEndpoint:
    """Answers `POST /api/graphql` from a FakeGitLab's data."""

    def __init__(self, fake: FakeGitLab, edition: str = "ee", max_complexity: int = MAX_COMPLEXITY):
        self.fake = fake
        sdl = SCHEMA_SDL if edition == "ee" else SCHEMA_SDL.replace("  epic: Epic\n", "")
        self.schema: GraphQLSchema = build_schema(sdl)
        self.max_complexity = max_complexity
        self._documents: dict[str, tuple[DocumentNode, list[dict]]] = {}
        self._variable_names: dict[int, tuple[str, ...]] = {}
        self.complexities: list[int] = []  # each answered query's complexity, for tests

    # -- the request ---------------------------------------------------------------------
    def answer(self, request: Request) -> Response:
        body = request.json() if request.body else {}
        query = body.get("query") or "" if isinstance(body, dict) else ""
        variables = (body.get("variables") or {}) if isinstance(body, dict) else {}
        try:
            if len(query) > MAX_QUERY_SIZE:
                raise Errors({"message": "Query too large"}, status=422)
            document = self._document(query)
            operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
            complexity = self._complexity(operation.selection_set, "Query", variables)
            if complexity > self.max_complexity:
                raise Errors({"message": f"Query has complexity of {complexity}, which exceeds max complexity "
                                         f"of {self.max_complexity}"})
            self.complexities.append(complexity)
            with self.fake._lock:
                data = self._object("Query", None, operation.selection_set, variables)
        except Errors as exc:
            return self.fake._ok({"errors": exc.messages}) if exc.status == 200 else \
                Response(exc.status, {"errors": exc.messages})
        return self.fake._ok(dumps({"data": data}))

    def _document(self, query: str) -> DocumentNode:
        """Parsed and validated once per query text (the connector sends one text a page)."""
        if query not in self._documents:
            try:
                document = parse(query)
            except GraphQLError as exc:
                raise Errors({"message": exc.message}) from None
            self._documents[query] = (document, [_ruby_message(e) for e in validate(self.schema, document)])
        document, errors = self._documents[query]
        if errors:
            raise Errors(*errors)
        return document

    # -- complexity (GitLab's rules, see the module docstring) -------------------------------
    def _complexity(self, selection: SelectionSetNode | None, kind: str, variables: dict) -> int:
        total = 0
        for field in self._fields(selection):
            name = field.name.value
            child_kind = FIELD_TYPES.get((kind, name), "")
            children = self._complexity(field.selection_set, child_kind, variables)
            args = self._args(field, variables)
            if (kind, name) in RESOLVER_FIELDS:
                own = children + 1 + (1 if args.get("sort") else 0)
                if child_kind.endswith("Connection"):
                    limit = min(args.get("first") or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
                    multiplier = 0 if args.get("iid") or args.get("iids") else 0.01
                    own += own * limit * multiplier
                total += int(own)
            elif (kind, name) in PLAIN_CONNECTIONS:
                page = min(args.get("first") or MAX_PAGE_SIZE, MAX_PAGE_SIZE)
                items = sum(self._complexity(f.selection_set, FIELD_TYPES.get((child_kind, f.name.value), ""),
                                             variables) + 1
                            for f in self._fields(field.selection_set) if f.name.value in ("nodes", "edges"))
                total += 1 + page * items + (children - items)
            else:
                total += 1 + children
        return total

    @staticmethod
    def _fields(selection: SelectionSetNode | None) -> list[FieldNode]:
        return [s for s in (selection.selections if selection else ()) if isinstance(s, FieldNode)]

    @staticmethod
    def _args(field: FieldNode, variables: dict) -> dict[str, Any]:
        return {a.name.value: value_from_ast_untyped(a.value, variables) for a in field.arguments or ()}

    # -- rendering -----------------------------------------------------------------------
    def _object(self, kind: str, value: Any, selection: SelectionSetNode | None, variables: dict) -> dict:
        out: dict[str, Any] = {}
        for field in self._fields(selection):
            key = field.alias.value if field.alias else field.name.value
            out[key] = self._resolve(kind, value, field, variables)
        return out

    def _resolve(self, kind: str, value: Any, field: FieldNode, variables: dict) -> Any:
        name = field.name.value
        child = FIELD_TYPES.get((kind, name))
        if kind == "Issue":
            return self._issue_field(value, field, variables)
        resolver: Callable[..., Any] = getattr(self, f"_{kind}_{name}", None) or (lambda v, a: v.get(name))
        result = resolver(value, self._args(field, variables))
        if child is None or result is None:
            return result
        if isinstance(result, list):
            return [self._node(child, r, field.selection_set, variables) for r in result]
        return self._node(child, result, field.selection_set, variables)

    def _node(self, kind: str, value: Any, selection: SelectionSetNode | None, variables: dict) -> Any:
        if kind == "Issue":  # rendered once per query shape until a row changes
            names = self._selection_variables(selection)
            shape = (id(selection), self.fake.page_cap, tuple(json.dumps(variables.get(n)) for n in names))
            return self.fake._memo.get((id(value), "graphql", *shape), lambda: Encoded(
                json.dumps(self._object(kind, value, selection, variables)).encode()))
        return self._object(kind, value, selection, variables)

    def _selection_variables(self, selection: SelectionSetNode | None) -> tuple[str, ...]:
        """The names of the variables a selection uses (its rendering depends on them)."""
        key = id(selection)
        if key not in self._variable_names:
            found: set[str] = set()

            def walk(node: Any) -> None:
                if getattr(node, "kind", "") == "variable":
                    found.add(node.name.value)
                for attribute in getattr(node, "keys", ()):
                    child = getattr(node, attribute, None)
                    for item in child if isinstance(child, tuple | list) else (child,):
                        if hasattr(item, "kind"):
                            walk(item)
            walk(selection)
            self._variable_names[key] = tuple(sorted(found))
        return self._variable_names[key]

    # Query
    def _Query_project(self, _: Any, args: dict) -> dict | None:
        path = args.get("fullPath")
        return {"path": path} if path in self.fake.projects else None  # GitLab: null for unknown or hidden

    def _Query_currentUser(self, _: Any, args: dict) -> dict:
        return self.fake.users[0]

    # Project
    def _Project_id(self, project: dict, args: dict) -> str:
        return gid("Project", self.fake.projects[project["path"]]["id"])

    def _Project_fullPath(self, project: dict, args: dict) -> str:
        return project["path"]

    def _Project_name(self, project: dict, args: dict) -> str:
        return self.fake.projects[project["path"]]["name"]

    def _Project_webUrl(self, project: dict, args: dict) -> str:
        return self.fake.projects[project["path"]]["web_url"]

    def _Project_issue(self, project: dict, args: dict) -> dict | None:
        issues = self.fake.issues[project["path"]]
        iid = str(args.get("iid") or "")
        return next((i for i in issues if str(i["iid"]) == iid), None)

    def _Project_issues(self, project: dict, args: dict) -> dict:
        sort = args.get("sort") or "CREATED_DESC"
        order = "updated_at" if sort.startswith("UPDATED") else "created_at"
        descending = sort.endswith("DESC")
        rows, keys = self.fake._sorted(project["path"], args.get("updatedAfter"), order, descending)
        if args.get("state") in ("opened", "closed"):
            rows = [r for r in rows if r["state"] == args["state"]]
            keys = sorted((r[order], r["id"]) for r in rows)
        if args.get("iids") or args.get("iid"):
            wanted = {str(i) for i in args.get("iids") or [args["iid"]]}
            rows = [r for r in rows if str(r["iid"]) in wanted]
            keys = sorted((r[order], r["id"]) for r in rows)
        start = 0
        if args.get("after"):
            last = _uncursor(args["after"])
            mark = (last[order], last["id"])
            start = len(rows) - bisect.bisect_left(keys, mark) if descending else bisect.bisect_right(keys, mark)
        size = min(args.get("first") or MAX_PAGE_SIZE, MAX_PAGE_SIZE, self.fake.page_cap)
        chunk = rows[start:start + size]
        more = len(rows) - start > size
        end = _cursor({order: chunk[-1][order], "id": chunk[-1]["id"]}) if chunk else None
        return {"count": len(rows), "nodes": chunk,
                "pageInfo": {"hasNextPage": more, "hasPreviousPage": start > 0,
                             "startCursor": _cursor({order: chunk[0][order], "id": chunk[0]["id"]}) if chunk else None,
                             "endCursor": end}}

    def _IssueConnection_nodes(self, connection: dict, args: dict) -> list:
        return connection["nodes"]

    def _NoteConnection_nodes(self, connection: dict, args: dict) -> list:
        return connection["nodes"]

    # Issue: its fields from the REST row
    def _issue_field(self, issue: dict, field: FieldNode, variables: dict) -> Any:
        name = field.name.value
        args = self._args(field, variables)
        sub = field.selection_set
        simple = ISSUE_SCALARS.get(name)
        if simple is not None:
            return simple(issue)
        if name == "author":
            return self._object("UserCore", issue["author"], sub, variables)
        if name == "milestone":
            milestone = issue.get("milestone")
            return self._object("Milestone", {"id": gid("Milestone", milestone["id"]), "title": milestone["title"]},
                                sub, variables) if milestone else None
        if name == "epic":
            epic = issue.get("epic")
            return self._object("Epic", {"id": gid("Epic", epic["id"]), "iid": str(epic["iid"]),
                                         "title": epic["title"], "webUrl": f"{self.fake.web}{epic['url']}"},
                                sub, variables) if epic else None
        if name == "movedTo":
            target = self.fake.issue_by_id(issue.get("moved_to_id"))
            return self._object("Issue", target, sub, variables) if target is not None else None
        if name == "assignees":
            return self._connection("UserCore", issue.get("assignees") or [], args, sub, variables, "id")
        if name == "labels":
            labels = [{"id": gid("ProjectLabel", abs(hash(t)) % 10**6), "title": t} for t in issue["labels"]]
            return self._connection("Label", labels, args, sub, variables, None)
        if name == "notes":
            notes = [n for n in self.fake.notes.get((self._path_of(issue), issue["iid"]), []) if not n.get("_hidden")]
            kept = {"ONLY_COMMENTS": [n for n in notes if not n["system"]],
                    "ONLY_ACTIVITY": [n for n in notes if n["system"]]}.get(args.get("filter") or "", notes)
            kept = sorted(kept, key=lambda n: (n["created_at"], n["id"]))
            return self._connection("Note", kept, args, sub, variables, "id")
        raise Errors({"message": f"fake GitLab cannot resolve Issue.{name}"})

    def _path_of(self, issue: dict) -> str:
        return next(p for p, meta in self.fake.projects.items() if meta["id"] == issue["project_id"])

    def _connection(self, kind: str, rows: list, args: dict, selection: SelectionSetNode | None,
                    variables: dict, key: str | None) -> dict:
        """A page of an in-memory list, keyset by position (`after` names the last row's index)."""
        start = int(_uncursor(args["after"])["index"]) + 1 if args.get("after") else 0
        size = min(args.get("first") or MAX_PAGE_SIZE, MAX_PAGE_SIZE, self.fake.page_cap)
        chunk = rows[start:start + size]
        connection = {"nodes": chunk, "pageInfo": {
            "hasNextPage": len(rows) - start > size, "hasPreviousPage": start > 0,
            "startCursor": _cursor({"index": start}) if chunk else None,
            "endCursor": _cursor({"index": start + len(chunk) - 1}) if chunk else None}}
        out: dict[str, Any] = {}
        for field in self._fields(selection):
            alias = field.alias.value if field.alias else field.name.value
            if field.name.value == "nodes":
                out[alias] = [self._render_row(kind, row, field.selection_set, variables) for row in chunk]
            elif field.name.value == "pageInfo":
                out[alias] = self._object("PageInfo", connection["pageInfo"], field.selection_set, variables)
        return out

    def _render_row(self, kind: str, row: dict, selection: SelectionSetNode | None, variables: dict) -> Any:
        return self._object(kind, self._note(row) if kind == "Note" else row, selection, variables)

    def _note(self, note: dict) -> dict:
        return {"id": gid("Note", note["id"]), "body": note["body"], "system": note["system"],
                "internal": bool(note.get("internal")), "createdAt": iso(note["created_at"]),
                "updatedAt": iso(note["updated_at"]), "author": note.get("author")}

    # Note and UserCore
    def _Note_author(self, note: dict, args: dict) -> dict | None:
        return note.get("author")

    def _UserCore_id(self, user: dict, args: dict) -> str:
        return gid("User", user["id"])

    def _UserCore_webUrl(self, user: dict, args: dict) -> str:
        return user.get("web_url") or ""

