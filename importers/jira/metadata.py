"""A JIRA project's statuses, priorities, issue types and assignable users, for the mapping step.

Routes (Atlassian's REST reference, Cloud v3 and Server/Data Center v2): `project/{key}/statuses` (every
issue type of the project with its workflow's statuses and their status category: one request for
statuses and types), `priority/search` on Cloud (paged; `priority` is deprecated there) and `priority` on
Server, `user/assignable/search?project=KEY` (paged by startAt, no total: read until a page comes back
empty). How many issues carry each value is counted by JQL (`status = "X"`), a few counts at a time.
"""
from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..errors import NetworkError
from ..metadata import Metadata, Value
from ..model import Person, WorkItem
from .jql import jql_string
from .mapping import map_person, priority_level, status_category, type_name
from .settings import PRIORITY_BY_NAME, STATUS_BY_CATEGORY, WORKERS

if TYPE_CHECKING:
    from . import JiraSource

USER_PAGE = 100


def _list(data: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise NetworkError(f"JIRA answered {type(data).__name__} instead of a list for {what}")
    return [d for d in data if isinstance(d, dict)]


def _priorities(source: JiraSource) -> list[str]:
    client = source.client
    if not client.is_cloud:
        return [str(p.get("name")) for p in _list(client.get("priority", what="the priorities"), "the priorities")]
    found: list[str] = []
    start = 0
    while True:
        data = client.get("priority/search", {"startAt": start, "maxResults": 50}, version=client.api,
                          what="the priorities")
        values = data.get("values") or [] if isinstance(data, dict) else []
        found.extend(str(p.get("name")) for p in values if isinstance(p, dict))
        start += len(values)
        if not values or data.get("isLast", True):
            return found


def _assignable(source: JiraSource, project: str) -> list[Person]:
    client = source.client
    people: list[Person] = []
    start = 0
    while True:
        users = _list(client.get("user/assignable/search", {"project": project, "startAt": start,
                                                            "maxResults": USER_PAGE},
                                 version=client.api, what=f"the assignable users of {project}"),
                      "the assignable users")
        if not users:
            return people
        people.extend(p for p in (map_person(u) for u in users) if p is not None)
        start += len(users)


def read(source: JiraSource, project: str, sample: Sequence[WorkItem] = ()) -> Metadata:
    """The project's values with JIRA's own counts; raises NotFoundError for an unknown project."""
    client = source.client
    where = source._project_jql(project)
    key = project.strip()
    source.project(key)  # a clear "no project" error before anything else
    issue_types = _list(client.get(f"project/{key}/statuses", version=client.api,
                                   what=f"the statuses of {key}"), "the project's statuses")
    statuses: dict[str, Any] = {}
    for issue_type in issue_types:
        for status in issue_type.get("statuses") or []:
            if isinstance(status, dict) and status.get("name"):
                statuses.setdefault(str(status["name"]), (status.get("statusCategory") or {}).get("key"))
    types = {str(t["name"]): t.get("subtask") is True for t in issue_types if t.get("name")}
    priorities = _priorities(source)
    people = _assignable(source, key)

    queries = [("status", name) for name in statuses] + [("priority", name) for name in priorities] \
        + [("issuetype", name) for name in types]
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="jira-metadata") as pool:
        counts = dict(zip(queries, pool.map(
            lambda q: client.count(f"{where} AND {q[0]} = {jql_string(q[1])}"), queries), strict=True))
    meta = Metadata(source="jira", project=key, people=people)
    for name, category in statuses.items():
        meta.statuses.append(Value(key=name, label=name, default=name, items=counts[("status", name)],
                                   category=status_category(name, category if category in STATUS_BY_CATEGORY
                                                            else "undefined")))
    for name in priorities:
        known = name.strip().lower() in PRIORITY_BY_NAME
        meta.priorities.append(Value(key=name, label=name, default=priority_level(name).value if known else None,
                                     items=counts[("priority", name)]))
    for name, subtask in types.items():
        meta.types.append(Value(key=name, label=name, default=type_name(name, subtask),
                                items=counts[("issuetype", name)]))
    return meta
