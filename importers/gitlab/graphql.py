"""Issues with their notes from GitLab's GraphQL API, 100 issues a request.

GitLab's REST API has no project-wide notes listing, so a REST read costs one notes request per
commented issue (58 requests per 100 issues in our benchmark). GraphQL returns each issue with its
first notes nested, so a read costs ceil(issues / 100) requests, plus one request per 100 further
notes for the few issues with more than NESTED_NOTES user notes.

Why python-gitlab's session and not `gitlab.GraphQL`: that client needs gql and httpx, a second
HTTP stack beside the session `GitLabClient` configures, and is marked experimental (no paging, no
rate-limit handling). Posting to `/api/graphql` through `Gitlab.http_request` keeps auth, base URL
and errors the library's; paging and waiting are ours (`RetryPolicy`).

GitLab's limits (doc/api/graphql/index.md, "Limits"): at most 100 nodes a connection page and a
query complexity of at most 250 with a token. Our issue query scores about 110 by GitLab's rules
(tests/fakes/gitlab_graphql.py computes it the same way), whatever the nested notes page size,
because a resolver connection adds 1% of its children per node asked for; `assignees(first: 1)`,
a connection without a resolver, is charged per node, so we ask for the one assignee we map.

Nodes are mapped straight to the model (`mapping.node_item`), with the one mapping table of both APIs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import NetworkError, NotFoundError, SourceError
from ..limits import enough_comments
from ..pageguard import PageGuard
from ..relay import connection, is_id
from .settings import NESTED_NOTES, PAGE_SIZE, TOOL

if TYPE_CHECKING:  # the client module imports python-gitlab: loaded with the first client (see __init__.py)
    from .client import GitLabClient
_NOTE_FIELDS = "id body system internal createdAt author { id username name }"
_ISSUE_FIELDS = f"""
id iid title description state type severity confidential createdAt updatedAt closedAt webUrl userNotesCount
author {{ id username name }}
assignees(first: 1) {{ nodes {{ id username name }} }}
labels(first: {PAGE_SIZE}) {{ nodes {{ title }} }}
milestone {{ title }}
EPIC
movedTo {{ id }}
notes(first: $notes, filter: ONLY_COMMENTS) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {_NOTE_FIELDS} }} }}
"""
ISSUES_QUERY = """query($project: ID!, $first: Int!, $after: String, $updatedAfter: Time, $notes: Int!) {
  project(fullPath: $project) {
    issues(first: $first, after: $after, sort: UPDATED_ASC, updatedAfter: $updatedAfter) {
      pageInfo { hasNextPage endCursor }
      nodes { FIELDS }
    }
  }
}""".replace("FIELDS", _ISSUE_FIELDS)
NOTES_QUERY = f"""query($project: ID!, $iid: String!, $after: String) {{
  project(fullPath: $project) {{
    issue(iid: $iid) {{
      notes(first: {PAGE_SIZE}, after: $after, filter: ONLY_COMMENTS) {{
        pageInfo {{ hasNextPage endCursor }} nodes {{ {_NOTE_FIELDS} }}
      }}
    }}
  }}
}}"""
_NOTE_IDS = (f"notes(first: {PAGE_SIZE}, NOTES_AFTER filter: ONLY_COMMENTS) "
             "{ pageInfo { hasNextPage endCursor } nodes { id } }")
IDS_QUERY = f"""query($project: ID!, $after: String) {{
  project(fullPath: $project) {{
    issues(first: {PAGE_SIZE}, after: $after) {{ pageInfo {{ hasNextPage endCursor }}
      nodes {{ id iid {_NOTE_IDS.replace("NOTES_AFTER ", "")} }} }}
  }}
}}"""
NOTE_IDS_QUERY = f"""query($project: ID!, $iid: String!, $after: String) {{
  project(fullPath: $project) {{ issue(iid: $iid) {{ {_NOTE_IDS.replace("NOTES_AFTER", "after: $after,")} }} }}
}}"""
EPIC = "epic { iid webUrl }"  # Premium and Ultimate; Community Edition has no Issue.epic
# graphql-ruby's codes for a query naming what this server's schema lacks (an older GitLab)
UNSUPPORTED = {"undefinedField", "argumentNotAccepted", "undefinedType", "argumentLiteralsIncompatible"}


class GraphQLUnavailable(SourceError):
    """This server answers no GraphQL, or not the fields we read (older self-managed): use REST."""


class BadGlobalId(NetworkError, ValueError):
    """An id that is not `gid://gitlab/Type/<positive number>`: the walks stop on it (NetworkError); the
    import reader, which catches ValueError per issue, records that issue as failed."""


def number(global_id: Any) -> int:
    """The numeric id of a global id such as `gid://gitlab/Issue/123` (REST's `id`): ASCII digits only,
    at most 20 of them (importers/relay.py `is_id`)."""
    if isinstance(global_id, str) and global_id.startswith("gid://gitlab/"):
        digits = global_id[global_id.rfind("/") + 1:]
        if is_id(digits):
            return int(digits)
    raise BadGlobalId(f"{TOOL} answered a GraphQL id that is not a GitLab global id: {str(global_id)[:60]!r}")


def _errors(body: Any, what: str) -> None:
    """Raise for a GraphQL answer carrying errors: GraphQLUnavailable when the server's schema lacks
    what we ask (fall back to REST), SourceError otherwise (complexity, a bad query...)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return
    first: dict = errors[0] if isinstance(errors, list) and isinstance(errors[0], dict) else {"message": str(errors)}
    message = str(first.get("message") or "unknown error")[:300]
    extensions = first.get("extensions")
    code = extensions.get("code") if isinstance(extensions, dict) else None
    if code in UNSUPPORTED or "doesn't exist on type" in message or "doesn't accept argument" in message:
        raise GraphQLUnavailable(f"{TOOL}'s GraphQL API lacks what the import reads ({message})")
    raise SourceError(f"{TOOL} refused the GraphQL query for {what}: {message}")


class IssueQuery:
    """Pages of GitLab issues with nested notes over GraphQL, for one project."""

    def __init__(self, client: GitLabClient, project: str):
        self.client = client
        self.project = project
        self.with_epic = True  # dropped after one refusal: Community Edition has no Issue.epic

    def _post(self, query: str, variables: dict[str, Any], what: str) -> dict:
        body = self.client.post_graphql(query, variables, what)
        _errors(body, what)
        data = body.get("data") if isinstance(body, dict) else None
        project = data.get("project", False) if isinstance(data, dict) else False
        if project is False or not isinstance(project, dict | None):
            raise NetworkError(f"{TOOL} answered the GraphQL query for {what} without data")
        if project is None:  # GitLab's answer for a project that does not exist or is hidden from the token
            raise NotFoundError(f"{TOOL} has no project {self.project!r} visible to this account")
        return project

    def page(self, after: str | None, updated_after: str | None) -> tuple[list[dict], str | None]:
        """(issue nodes, the cursor of the next page or None on the last) after `after`."""
        variables = {"project": self.project, "first": PAGE_SIZE, "after": after,
                     "updatedAfter": updated_after, "notes": NESTED_NOTES}
        what = f"the issues of {self.project!r}"
        try:
            project = self._post(ISSUES_QUERY.replace("EPIC", EPIC if self.with_epic else ""), variables, what)
        except GraphQLUnavailable as exc:
            if not self.with_epic or "'epic'" not in str(exc):
                raise
            self.with_epic = False
            project = self._post(ISSUES_QUERY.replace("EPIC", ""), variables, what)
        nodes, following = connection(project.get("issues"), TOOL, what)
        for node in nodes:  # a thread the import takes as whole must say so (comments_complete)
            connection(node.get("notes"), TOOL, f"the comments of {self.project}#{node.get('iid')}")
        if following is not None and following == after:
            raise NetworkError(f"{TOOL} returned the same issue page twice; stopping to avoid a loop")
        return nodes, following

    def ids(self, after: str | None) -> tuple[dict[str, list[str]], str | None]:
        """One page of the id walk: ({issue id: its note ids}, the next page's cursor or None), ids
        as REST numbers. Each issue comes with up to 100 user-note ids nested; a longer thread is
        paged on by `NOTE_IDS_QUERY` on that issue alone, one request per further 100 notes."""
        what = f"the issue ids of {self.project!r}"
        project = self._post(IDS_QUERY, {"project": self.project, "after": after}, what)
        nodes, following = connection(project.get("issues"), TOOL, what)
        if following is not None and following == after:
            raise NetworkError(f"{TOOL} returned the same id page twice; stopping to avoid a loop")
        return {str(number(node.get("id"))): self._note_ids(node) for node in nodes}, following

    def _thread(self, issue: dict, query: str, what: str, enough=lambda count: False) -> list[dict]:
        """The note nodes of an issue node: its nested page, then further pages of `query` while GitLab
        says there are more (every page strict: importers/relay.py) and `enough(count)` is false."""
        iid = issue.get("iid")
        if isinstance(iid, bool) or not isinstance(iid, int | str) or not is_id(str(iid)):
            raise NetworkError(f"{TOOL} listed an issue of {self.project!r} without its iid; stopping")
        nodes, after = connection(issue.get("notes"), TOOL, what)
        nodes = list(nodes)
        seen = {node.get("id") for node in nodes}
        guard = PageGuard(TOOL, what)
        while after is not None and not enough(len(nodes)):
            project = self._post(query, {"project": self.project, "iid": str(iid), "after": after}, what)
            found = project.get("issue")
            if not isinstance(found, dict):
                raise NotFoundError(f"{TOOL} has no issue {self.project}#{iid} any more")
            fresh, following = connection(found.get("notes"), TOOL, what)
            if following == after:
                raise NetworkError(f"{TOOL} returned the same note page twice for {what}; stopping")
            new = [node for node in fresh if node.get("id") not in seen]
            seen.update(node.get("id") for node in new)
            nodes.extend(new)
            guard.page(len(new), following)
            after = following
        return nodes

    def _note_ids(self, issue: dict) -> list[str]:
        """Every user-note id of an issue node of the id walk: its nested page, then the rest."""
        what = f"the comment ids of {self.project}#{issue.get('iid')}"
        return [str(number(node.get("id"))) for node in self._thread(issue, NOTE_IDS_QUERY, what)]

    def notes(self, issue: dict) -> list[dict]:
        """Every user note of an issue node: the nested page, then further pages while GitLab says
        there are more (never by counting: `userNotesCount` may lag) and the import keeps more of
        one item (importers/limits.py)."""
        return self._thread(issue, NOTES_QUERY, f"the comments of {self.project}#{issue.get('iid')}",
                            enough_comments)

    @staticmethod
    def needs_more_notes(issue: Any) -> bool:
        """Whether an issue node's nested notes page is not the whole thread."""
        if not isinstance(issue, dict):
            return False
        return bool(((issue.get("notes") or {}).get("pageInfo") or {}).get("hasNextPage"))
