"""A fake ServiceNow instance: the Table API over a seeded dataset, answering like the real one.

What it reproduces, because the connector depends on it: Basic auth with ServiceNow's 401 body;
`sysparm_query` encoded queries (`=`, `>`, `>=`, `IN`, `^NQ` groups, `ORDERBY`, `^^` escapes); `sysparm_fields`
with dot-walked columns (`assigned_to.email`); `sysparm_display_value` false/true/all and
`sysparm_exclude_reference_link`; offset paging with `X-Total-Count` and a `Link` header; a
400 "Invalid table" body; 429 with `Retry-After` and an epoch `X-RateLimit-Reset`. Access
control is simulated by hiding some tickets after the window is cut, so pages come back
short in the middle of a table, exactly as ACLs do on a real instance. `after_request` runs a
test's edit between two requests, to change tickets while a connector is reading them.

Edges an import must survive (issue 13), each as the real instance shows it:
- `max_rows`: rows per response capped below `sysparm_limit` by an instance property
  (`glide.processor.json.row_limit`, "the maximum number of rows a JSON query returns", default
  10,000: ServiceNow docs, JSONv2 web service, "Setting the number of rows returned"); offsets and
  `X-Total-Count` still count the rows the query matches (Table API GET: "sysparm_offset ... records
  ... skipped before starting to count the sysparm_limit value"). Rows are cut, then access rules apply.
- `_hidden` on any row (tickets, journal entries, users): the access rule hiding it.
- `delete(sys_id)`: a record removed; references to it keep the sys_id as their value and show an
  empty display value, as a reference field does once its record is gone (a dot-walked column of it
  is empty too).
- `add_journal(...)`: a comment or work note of a ticket, e.g. HTML inside `[code]...[/code]`,
  which the instance renders as HTML in the activity stream.
"""
from __future__ import annotations

import base64
import bisect
import hashlib
import operator
import random
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from .dataset import Memo, Row
from .server import FakeServer, Request, Response, dumps

FORMAT = "%Y-%m-%d %H:%M:%S"
EPOCH = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
MAX_LIMIT = 10000
UNAUTHENTICATED = {
    "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
    "status": "failure",
}

STATES = {
    "incident": {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"},
    "problem": {"101": "New", "102": "Assess", "103": "Root Cause Analysis", "104": "Fix in Progress",
                "106": "Resolved", "107": "Closed"},
    "change_request": {"-5": "New", "-4": "Assess", "-3": "Authorize", "-2": "Scheduled", "-1": "Implement",
                       "0": "Review", "3": "Closed", "4": "Canceled"},
}
CLOSED_STATES = {"6", "7", "8", "106", "107", "3", "4"}
PREFIX = {"incident": "INC", "problem": "PRB", "change_request": "CHG"}
REPORTER = {"incident": "caller_id", "problem": "opened_by", "change_request": "requested_by"}
PRIORITIES = {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low", "5": "5 - Planning"}
REFERENCES = {  # reference column -> table it points at
    "assigned_to": "sys_user", "caller_id": "sys_user", "opened_by": "sys_user", "requested_by": "sys_user",
    "parent_incident": "incident", "problem_id": "problem", "rfc": "change_request",
}
PEOPLE = (
    ("beth.anglin", "Beth Anglin", "beth.anglin@example.com"),
    ("david.loo", "David Loo", "david.loo@example.com"),
    ("fred.luddy", "Fred Luddy", ""),
    ("zoë.ångström", "Zoë Ångström", "zoe@example.com"),
    ("abel.tuter", "Abel Tuter", "abel.tuter@example.com"),
    ("itil", "ITIL User", ""),
    ("don.goodliffe", "Don Goodliffe", "don.goodliffe@example.com"),
    ("luke.wilson", "Luke Wilson", "luke.wilson@example.com"),
    ("bow.ruggeri", "Bow Ruggeri", "bow.ruggeri@example.com"),
    ("christen.mitchum", "Christen Mitchum", "christen.mitchum@example.com"),
)
# journal authors with no sys_user row (scripts, deleted users)
GHOST_AUTHORS = ("system", "integration.bot")
TITLES = (
    "Email server is down", "Unable to connect to VPN", "SAP sales app is slow", "Printer jams on floor 3",
    "Réinitialiser le mot de passe — écran bloqué", "<script>alert(1)</script> in the portal search",
    "**Bold** claim: `rm -rf` in a _runbook_", "网络连接失败", "Laptop battery swelling 🔋",
)
DESCRIPTIONS = (
    "User reports the issue since this morning.\nSteps:\n1. Log in\n2. Open the app",
    "<b>HTML</b> pasted from Outlook <script>alert(1)</script>",
    "",
    "See KB0010012. Affects *all* users in EMEA.",
)
COMMENTS = (
    "Looking into it.", "Restarted the service, please retry.", "Customer confirmed the fix 👍",
    "[code]<p>Escalated to <b>network</b> team</p>[/code]", "Waiting for the vendor's patch.",
)
CATEGORIES = ("inquiry", "software", "hardware", "network", "database", "")


def sys_id(*parts: Any) -> str:
    return hashlib.md5(":".join(map(str, parts)).encode()).hexdigest()


def _groups(query: str) -> list[list[str]]:
    """Encoded-query groups (split at `^NQ`, OR-ed), each a list of AND-ed conditions.

    `^^` is an escaped caret inside a value, so it never starts `^NQ` nor separates conditions.
    """
    escaped = query.replace("^^", "\0")
    return [[part.replace("\0", "^") for part in group.split("^") if part] for group in escaped.split("^NQ")]


_CONDITION = re.compile(r"^([A-Za-z_.]+?)(IN|>=|<=|!=|>|<|=)(.*)$", re.DOTALL)
Condition = tuple[str, str, Any]  # (field, operator, value: a frozenset for IN)
OPERATORS: dict[str, Callable[[str, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
    "IN": lambda have, values: have in values,
}
DEFAULT_ORDER = (("sys_updated_on", False), ("sys_id", False))


class FakeServiceNow(FakeServer):
    """Serves incident, problem, change_request, sys_user and sys_journal_field tables."""

    def __init__(self, sizes: dict[str, int] | None = None, username: str = "svc.import",
                 password: str = "s3cret!", hide_every: int = 11, seed: int = 7,
                 custom_states: dict[str, dict[str, str]] | None = None, **kwargs: Any):
        self.username, self.password = username, password
        # states an instance's admin added (table -> {value: label}), e.g. {"incident": {"9": "Awaiting Vendor"}}:
        # every 5th ticket of the table moves into them after generation, the rest stays as it always was
        self.custom_states = custom_states or {}
        self.data: dict[str, list[dict[str, Any]]] = {}
        self._index: dict[str, dict[str, Any]] = {}
        self._hooks: dict[tuple[str, int], Callable[[], Any]] = {}
        self._memo = Memo()  # sorted tables, their indexes and rendered rows, until a row changes
        super().__init__(seed=seed, **kwargs)
        self._shape = (sizes or {"incident": 130, "problem": 40, "change_request": 30}, hide_every, seed)
        self.reset()

    def reset(self) -> None:
        """Fresh dataset, counters and faults, so one running server can serve many tests."""
        with self._lock:
            self.requests.clear()
            self.log.clear()
            self.injected.clear()
            self._faults.clear()
            self._hooks.clear()
        self.rate_limit_seconds = 1
        self.max_rows: int | None = None  # glide.processor.json.row_limit, see the module docstring
        self._build(*self._shape)

    # -- dataset -------------------------------------------------------------------------
    def _build(self, sizes: dict[str, int], hide_every: int, seed: int) -> None:
        rng = random.Random(seed)
        users = [Row({"sys_id": sys_id("user", u), "user_name": u, "name": n, "email": e}) for u, n, e in PEOPLE]
        users.append(Row({"sys_id": sys_id("user", self.username), "user_name": self.username,
                          "name": "Import Service", "email": ""}))
        self.data = {"sys_user": users, "sys_journal_field": []}
        authors = [u for u, _, _ in PEOPLE] + list(GHOST_AUTHORS)
        for table in ("change_request", "problem", "incident"):  # incidents refer to the others
            rows = []
            for index in range(sizes.get(table, 0)):
                created = EPOCH + timedelta(minutes=37 * index)
                updated = created + timedelta(hours=rng.randrange(0, 300), seconds=rng.randrange(60))
                if index % 9 == 4 and rows:  # same second as another ticket: sys_id breaks the tie
                    updated = datetime.strptime(rows[-1]["sys_updated_on"], FORMAT).replace(tzinfo=UTC)
                state = rng.choice(list(STATES[table]))
                row = Row({
                    "sys_id": sys_id(table, index),
                    "number": f"{PREFIX[table]}{10001 + index:07d}",
                    "short_description": "" if index == 7 else f"{rng.choice(TITLES)} #{index}",
                    "description": ("Very long log:\n" + "x" * 120_000) if index == 3 else rng.choice(DESCRIPTIONS),
                    "state": state,
                    "priority": rng.choice(list(PRIORITIES)),
                    "urgency": str(rng.randint(1, 3)),
                    "category": rng.choice(CATEGORIES),
                    "assigned_to": rng.choice(users)["sys_id"] if rng.random() < 0.7 else "",
                    REPORTER[table]: rng.choice(users)["sys_id"],
                    "sys_created_on": created.strftime(FORMAT),
                    "sys_updated_on": updated.strftime(FORMAT),
                    "closed_at": updated.strftime(FORMAT) if state in CLOSED_STATES else "",
                    "_hidden": hide_every > 0 and index % hide_every == hide_every - 1,
                })
                if table == "incident":
                    row["parent_incident"] = rows[index - index % 10]["sys_id"] if index % 10 == 3 else ""
                    problems = self.data.get("problem") or []
                    row["problem_id"] = problems[index % len(problems)]["sys_id"] if problems and index % 6 == 0 else ""
                rows.append(row)
                for n in range(rng.choice((0, 0, 1, 1, 2, 3))):
                    self.data["sys_journal_field"].append(Row({
                        "sys_id": sys_id("journal", table, index, n),
                        "element_id": row["sys_id"],
                        "name": table,
                        "element": "work_notes" if n == 2 else "comments",
                        "value": rng.choice(COMMENTS),
                        "sys_created_on": (created + timedelta(minutes=5 + n)).strftime(FORMAT),
                        "sys_created_by": rng.choice(authors),
                    }))
            self.data[table] = rows
        for table, extra in self.custom_states.items():
            for n, row in enumerate(self.data.get(table, [])[::5]):
                row["state"] = list(extra)[n % len(extra)]
                row["closed_at"] = ""
        self._build_metadata()
        self._index = {row["sys_id"]: row for rows in self.data.values() for row in rows}

    # -- ground truth for tests ------------------------------------------------------------
    def ordered(self, table: str) -> list[dict[str, Any]]:
        """Every ticket, hidden ones included, in the API's default order."""
        return list(self._sorted(table, DEFAULT_ORDER))

    def visible(self, table: str) -> list[dict[str, Any]]:
        """Tickets the integration user can see, in the API's order."""
        return [r for r in self.ordered(table) if not r.get("_hidden")]

    def api_rows(self, table: str, fields: list[str], count: int) -> list[dict[str, Any]]:
        """The first `count` rows as the API returns them with display_value=all (for mapping tests)."""
        return [self._render(table, row, fields, "all", True) for row in self.data[table][:count]]

    def comments_of(self, table: str) -> list[dict[str, Any]]:
        """The journal entries the integration user can read, of the tickets it can see."""
        ids = {r["sys_id"] for r in self.visible(table)}
        return [j for j in self.data["sys_journal_field"] if j["element_id"] in ids and not j.get("_hidden")]

    def ground_truth(self, table: str) -> dict[str, int]:
        return {"items": len(self.visible(table)), "comments": len(self.comments_of(table)),
                "total": len(self.data[table])}

    def record(self, sys_id_: str) -> dict[str, Any] | None:
        return self._index.get(sys_id_)

    def touch(self, table: str, n: int) -> list[str]:
        """Edit n visible tickets (title, state, newer sys_updated_on); returns their numbers."""
        rows = self.visible(table)
        step = max(len(rows) // max(n, 1), 1)
        latest = max(datetime.strptime(r["sys_updated_on"], FORMAT) for r in self.data[table])
        touched = []
        for i, row in enumerate(rows[::step][:n]):
            row["short_description"] = f"{row['short_description'] or 'untitled'} (edited)"
            row["state"] = "7" if table == "incident" else list(STATES[table])[-2]
            stamp = (latest + timedelta(days=1, seconds=i)).strftime(FORMAT)
            row["sys_updated_on"] = row["closed_at"] = stamp
            touched.append(row["number"])
        return touched

    def delete(self, sys_id_: str) -> None:
        """Remove a record (a user, a ticket); rows referring to it keep its sys_id."""
        row = self._index.pop(sys_id_)
        for rows in self.data.values():
            if any(r is row for r in rows):
                rows.remove(row)
        self._memo = Memo()  # the tables changed shape, not a row: drop what was sorted and rendered

    def bump(self, row: dict[str, Any]) -> None:
        """Stamp an edited record as the newest of the instance: ServiceNow sets the system field
        sys_updated_on ("Updated") on every update of a record, and adding a comment or work note is
        an update of the ticket (its journal field is written through the ticket)."""
        newest = max((r["sys_updated_on"] for t in ("incident", "problem", "change_request")
                      for r in self.data.get(t, ())), default=EPOCH.strftime(FORMAT))
        row["sys_updated_on"] = (datetime.strptime(newest, FORMAT) + timedelta(seconds=1)).strftime(FORMAT)

    def create(self, table: str, title: str) -> dict[str, Any]:
        """A new ticket (New, unassigned), numbered after the table's last."""
        rows = self.data[table]
        number = max((int(r["number"][3:]) for r in rows), default=10000) + 1
        row = Row({"sys_id": sys_id(table, "created", number), "number": f"{PREFIX[table]}{number:07d}",
                   "short_description": title, "description": "", "state": next(iter(STATES[table])),
                   "priority": "4", "urgency": "2", "category": "", "assigned_to": "",
                   REPORTER[table]: self._index[sys_id("user", PEOPLE[0][0])]["sys_id"],
                   "sys_created_on": "", "sys_updated_on": "", "closed_at": "", "_hidden": False})
        if table == "incident":
            row.update(parent_incident="", problem_id="")
        self.bump(row)
        row["sys_created_on"] = row["sys_updated_on"]
        rows.append(row)
        self._index[row["sys_id"]] = row
        return row

    def add_journal(self, table: str, ticket: dict[str, Any], value: str, *, element: str = "comments",
                    author: str = "beth.anglin", n: int | None = None) -> dict[str, Any]:
        """A journal entry of `ticket`, created five minutes after it (`n` numbers it)."""
        journal = self.data["sys_journal_field"]
        n = len(journal) if n is None else n
        created = datetime.strptime(ticket["sys_created_on"], FORMAT) + timedelta(minutes=5, seconds=n % 3600)
        row = Row({"sys_id": sys_id("journal+", table, ticket["sys_id"], n), "element_id": ticket["sys_id"],
                   "name": table, "element": element, "value": value, "sys_created_on": created.strftime(FORMAT),
                   "sys_created_by": author})
        journal.append(row)
        self._index[row["sys_id"]] = row
        return row

    def after_request(self, table: str, n: int, action: Callable[[], Any]) -> None:
        """Run `action` once the n-th request to `table` has been answered (its rows already cut)."""
        with self._lock:
            self._hooks[(table, n)] = action

    def rate_limited_response(self, seconds: int | None = None) -> Response:
        seconds = self.rate_limit_seconds if seconds is None else seconds
        headers = {
            "Retry-After": str(seconds),
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time()) + seconds),
            "X-RateLimit-Rule": sys_id("rate-rule"),
        }
        body = {"error": {"message": "Too Many Requests",
                          "detail": "Rate limit exceeded for the rule 'Import API limit'"}, "status": "failure"}
        return Response(429, body, headers)

    def limit_next(self, pattern: str, seconds: int, times: int = 1) -> None:
        """The next matching requests are rate limited for `seconds`."""
        self.answer_next(pattern, self.rate_limited_response(seconds), times)

    # -- metadata the mapping step reads (issue 14) ----------------------------------------
    # docs.servicenow.com "Choice table": sys_choice rows (name = the table, element = the field, language,
    # value, label, sequence, inactive) hold every choice list; incident, problem and change_request define
    # their own `state` choices, `priority` is defined on task (the tables extend it). sys_user_group holds
    # assignment groups. All are read through the Table API like any table (plain strings without
    # sysparm_display_value), so the generic route serves them.
    def _build_metadata(self) -> None:
        self.choice_labels: dict[tuple[str, str, str], str] = {}
        rows = []
        lists = [(table, "state", {**states, **self.custom_states.get(table, {})}) for table, states in STATES.items()]
        for table, element, choices in [*lists, ("task", "priority", PRIORITIES)]:
            for sequence, (value, label) in enumerate(choices.items()):
                self.choice_labels[(table, element, value)] = label
                rows.append(Row({"sys_id": sys_id("choice", table, element, value), "name": table, "element": element,
                                 "language": "en", "value": value, "label": label, "sequence": str(sequence * 10),
                                 "inactive": "false"}))
        self.data["sys_choice"] = rows
        self.data["sys_user_group"] = [Row({"sys_id": sys_id("group", name), "name": name, "active": "true",
                                            "email": f"{name.lower().replace(' ', '-')}@example.com"})
                                       for name in ("Service Desk", "Network", "Database", "Hardware")]

    # -- routes ----------------------------------------------------------------------------
    def setup_routes(self) -> None:
        for table in ("incident", "problem", "change_request", "sys_user", "sys_journal_field", "sys_choice",
                      "sys_user_group"):
            self.route("GET", f"/api/now/table/{table}", table, self._table_route(table))
        self.route("GET", r"/api/now/table/(?P<table>[^/]+)", "unknown_table", self._unknown_table)

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return request.headers.get("Authorization", "") == f"Basic {expected}"

    def _unknown_table(self, request: Request, table: str) -> Response:
        if not self._authorized(request):
            return Response(401, UNAUTHENTICATED)
        return Response(400, {"error": {"message": f"Invalid table {table}", "detail": None}, "status": "failure"})

    def _table_route(self, table: str):
        def handler(request: Request) -> Response:
            if not self._authorized(request):
                return Response(401, UNAUTHENTICATED)
            response = self._query(table, request)
            with self._lock:
                hook = self._hooks.pop((table, self.requests[table]), None)
            if hook is not None:
                hook()
            return response
        return handler

    def _parse(self, table: str, query: str) -> tuple[list[list[Condition]], tuple[tuple[str, bool], ...]]:
        """The query's `^NQ` groups (OR-ed) of AND-ed conditions, and its ORDERBY terms.

        ORDERBY terms sort the whole result wherever they stand, as on a real instance.
        """
        orders: list[tuple[str, bool]] = []
        groups: list[list[Condition]] = []
        for parts in _groups(query):
            conditions = []
            for part in parts:
                if part.startswith("ORDERBYDESC"):
                    orders.append((part[len("ORDERBYDESC"):], True))
                elif part.startswith("ORDERBY"):
                    orders.append((part[len("ORDERBY"):], False))
                elif (condition := self._condition(self.data[table], part)) is not None:
                    conditions.append(condition)
            groups.append(conditions)
        return groups, tuple(orders) or DEFAULT_ORDER

    @staticmethod
    def _condition(rows: list[dict[str, Any]], condition: str) -> Condition | None:
        """(field, operator, value), or None for a part ServiceNow would ignore (unknown field)."""
        match = _CONDITION.match(condition)
        if not match or (rows and match.group(1) not in rows[0]):
            return None
        name, op, wanted = match.groups()
        return name, op, frozenset(wanted.split(",")) if op == "IN" else wanted

    def _sorted(self, table: str, orders: tuple[tuple[str, bool], ...]) -> list[dict[str, Any]]:
        """The table in `orders` order: a stable sort per term, last term first, so ties keep table order."""
        def arrange() -> list[dict[str, Any]]:
            rows = self.data[table]
            for name, desc in reversed(orders):
                rows = sorted(rows, key=lambda r: str(r.get(name, "")), reverse=desc)
            return rows
        return self._memo.get(("sorted", table, orders), arrange)

    def _bounds(self, table: str, orders: tuple[tuple[str, bool], ...], op: str, wanted: str) -> range:
        """Positions in the sorted table whose first ORDERBY field satisfies `op wanted`: one run, by bisection."""
        name, desc = orders[0]

        def ascending() -> list[str]:  # the field's values, ascending whichever way the table sorts
            rows = self._sorted(table, orders)
            return [str(r.get(name, "")) for r in (rows[::-1] if desc else rows)]
        keys = self._memo.get(("keys", table, orders), ascending)
        low, high = bisect.bisect_left(keys, wanted), bisect.bisect_right(keys, wanted)
        start, end = {"=": (low, high), ">": (high, len(keys)), ">=": (low, len(keys)),
                      "<": (0, low), "<=": (0, high)}[op]
        return range(len(keys) - end, len(keys) - start) if desc else range(start, end)

    def _positions(self, table: str, orders: tuple[tuple[str, bool], ...], name: str) -> dict[str, list[int]]:
        """Value of field `name` -> positions of its rows in the sorted table: `=` and `IN` by lookup."""
        def index() -> dict[str, list[int]]:
            found: dict[str, list[int]] = {}
            for position, row in enumerate(self._sorted(table, orders)):
                found.setdefault(str(row.get(name, "")), []).append(position)
            return found
        return self._memo.get(("positions", table, orders, name), index)

    def _group(self, table: str, orders: tuple[tuple[str, bool], ...], conditions: list[Condition]) -> Sequence[int]:
        """Sorted positions of the rows meeting every condition of a group.

        Range conditions on the first ORDERBY field narrow a run of positions; the rest are checked
        on that run or on the rows an `=`/`IN` condition looks up, whichever is fewer.
        """
        rows = self._sorted(table, orders)
        run, rest = range(len(rows)), []
        for name, op, wanted in conditions:
            if name == orders[0][0] and op in ("=", ">", ">=", "<", "<="):
                bounds = self._bounds(table, orders, op, wanted)
                start, stop = max(run.start, bounds.start), min(run.stop, bounds.stop)
                run = range(start, max(start, stop))
            else:
                rest.append((name, op, wanted))
        if not rest:
            return run
        candidates: Sequence[int] = run
        for name, op, wanted in rest:
            if op in ("=", "IN"):
                index = self._positions(table, orders, name)
                values = wanted if op == "IN" else (wanted,)
                if sum(len(index.get(v, ())) for v in values) < len(candidates):
                    candidates = sorted(p for v in values for p in index.get(v, ()))
        return [p for p in candidates if p in run
                and all(OPERATORS[op](str(rows[p].get(name, "")), wanted) for name, op, wanted in rest)]

    def _select(self, table: str, query: str, start: int, stop: int) -> tuple[list[dict[str, Any]], int]:
        """Rows `start:stop` (a Python slice) of the rows matching any group, in order, and how many match."""
        groups, orders = self._parse(table, query)
        rows = self._sorted(table, orders)
        runs: list[range] = []  # the union of the groups, as sorted disjoint runs of positions
        for part in sorted((r for group in groups for r in self._runs(self._group(table, orders, group))),
                           key=lambda r: r.start):
            if runs and part.start <= runs[-1].stop:
                runs[-1] = range(runs[-1].start, max(runs[-1].stop, part.stop))
            else:
                runs.append(part)
        total = sum(map(len, runs))
        start, stop, _ = slice(start, stop).indices(total)
        window: list[dict[str, Any]] = []
        for run in runs:
            if start < len(run) and start < stop:
                window.extend(rows[p] for p in run[start:stop])
            start, stop = max(start - len(run), 0), stop - len(run)
        return window, total

    @staticmethod
    def _runs(positions: Sequence[int]) -> list[range]:
        if isinstance(positions, range):
            return [positions] if positions else []
        return [range(p, p + 1) for p in positions]

    def _query(self, table: str, request: Request) -> Response:
        limit = min(int(request.arg("sysparm_limit") or MAX_LIMIT), MAX_LIMIT, self.max_rows or MAX_LIMIT)
        offset = int(request.arg("sysparm_offset") or 0)
        rows, total = self._select(table, request.arg("sysparm_query", "") or "", offset, offset + limit)
        window = [r for r in rows if not r.get("_hidden")]  # ACLs apply after the cut
        fields = [f for f in (request.arg("sysparm_fields") or "").split(",") if f]
        mode = (request.arg("sysparm_display_value") or "false").lower()
        exclude = (request.arg("sysparm_exclude_reference_link") or "false").lower() == "true"
        shape = (table, tuple(fields), mode, exclude, self.url)
        result = [self._memo.encoded(row, shape, render=lambda row=row: self._render(table, row, fields, mode, exclude))
                  for row in window]
        headers = {"X-Total-Count": str(total)}
        if (request.arg("sysparm_suppress_pagination_header") or "false").lower() != "true":
            headers["Link"] = self._link(request, table, offset, limit, total)
        return Response(200, dumps({"result": result}), headers)

    def _link(self, request: Request, table: str, offset: int, limit: int, total: int) -> str:
        def url(at: int) -> str:
            query = {k: v[0] for k, v in request.query.items()} | {"sysparm_offset": str(at)}
            return f"<{self.url}/api/now/table/{table}?{urlencode(query)}>"
        links = [f'{url(0)};rel="first"']
        if offset > 0:
            links.append(f'{url(max(offset - limit, 0))};rel="prev"')
        if offset + limit < total:
            links.append(f'{url(offset + limit)};rel="next"')
        links.append(f'{url(max((total - 1) // limit * limit, 0))};rel="last"')
        return ",".join(links)

    def _display(self, table: str, name: str, raw: str) -> str:
        if name in ("state", "priority") and raw:
            return self.choice_labels.get((table, name, raw)) or self.choice_labels.get(("task", name, raw), raw)
        if name == "category":
            return raw.capitalize()
        if name in REFERENCES and raw:
            row = self._index.get(raw)
            return (row.get("name") or row.get("number") or "") if row else ""
        return raw

    def _render(self, table: str, row: dict[str, Any], fields: list[str], mode: str, exclude: bool) -> dict:
        out: dict[str, Any] = {}
        for name in fields or [k for k in row if not k.startswith("_")]:
            if "." in name:
                ref, column = name.split(".", 1)
                linked = self._index.get(row.get(ref) or "") if ref in REFERENCES else None
                raw = str((linked or {}).get(column, ""))
                shown = raw
            else:
                raw = str(row.get(name, ""))
                shown = self._display(table, name, raw)
            link = REFERENCES.get(name) and raw and not exclude
            if mode == "all":
                out[name] = {"display_value": shown, "value": raw}
            elif mode == "true":
                out[name] = shown
            else:
                out[name] = raw
            if link:
                url = f"{self.url}/api/now/table/{REFERENCES[name]}/{raw}"
                out[name] = ({**out[name], "link": url} if isinstance(out[name], dict)
                             else {"link": url, "value": out[name]})
        return out
