"""Typed errors a source raises. Each message names the tool and what the user should fix."""
from __future__ import annotations

import errno
import re
import socket
import ssl
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cache

from pydantic import ValidationError

CLI, API, CONSOLE = "cli", "api", "console"  # where a message is shown: each names an input its own way

# A source's setting as each surface names it, by its environment variable (the CLI's word, the one messages are
# written with): "JIRA_API_TOKEN" -> {CLI: "JIRA_API_TOKEN", API: "config.api_token", CONSOLE: '"API token"'}.
# Every Source class adds its settings (importers/base.py), so a vendor's refusal that says "check JIRA_API_TOKEN"
# reads "check config.api_token" to an API client, who sent that key, and names the form's field in the console.
SETTING_WORDS: dict[str, dict[str, str]] = {}
# "set JIRA_API_TOKEN" (a missing setting) where the variable is not what the surface gives
ASK = {API: "give {name}", CONSOLE: "enter it in the form"}


class SourceError(Exception):
    """Base for expected failures: shown as one line, never as a traceback.

    A message about one input may name it by where it is shown: `message` then holds "{at}", and
    `places` says what stands there for each of CLI, API and CONSOLE (`--since`, `since`, `Since`;
    `JIRA_BASE_URL`, `config.base_url`, `Site URL`). `str()` is the CLI's line; `shown_in(API)` the API's."""

    kind = "error"

    def __init__(self, message: str, *, field: str | None = None, places: Mapping[str, str] | None = None,
                 fields: Sequence[str] = ()):
        self.places = dict(places or {})
        self.template = message
        self.message = self._render(CLI)
        super().__init__(self.message)
        self.field = field  # the input to fix, the first when several are (the HTTP API's 400 names it)
        # every input to fix, `field` first: a client that filled in only `field` met the next refusal
        self.fields = list(fields) or ([field] if field else [])

    def _render(self, where: str) -> str:
        if not self.places:
            return in_words(self.template, where)
        return in_words(self.template.replace("{at}", self.places.get(where) or self.places.get(CLI) or ""), where)

    def shown_in(self, where: str) -> str:
        """The message as `where` (CLI, API or CONSOLE) shows it."""
        return self._render(where)

    def scrub(self, redact: Callable[[str], str]) -> None:
        """Take the source's secrets out of the message (it may quote a vendor's answer) on every surface: the
        template each one renders from too, not the CLI's line alone."""
        self.template = redact(self.template)
        self.message = self._render(CLI)
        self.args = (self.message, *self.args[1:])

    def __str__(self) -> str:
        return self.message


@cache
def _setting_words() -> dict[str, dict[str, str]]:
    """`SETTING_WORDS` holding every source's settings. A Source class adds its own when it is defined, and
    connectors are imported lazily (importers/__init__.py): a console or HTTP API process showing a stored reason
    may have loaded none, and rendered "check JIRA_API_TOKEN" as the CLI writes it. Their classes, not their client
    libraries, are imported here once, by the first message shown outside the CLI."""
    from importers import source_class, source_names  # a cycle at import time: importers imports this module

    for name in source_names():
        source_class(name)
    return SETTING_WORDS


def in_words(message: str, where: str, keep: Collection[str] = ()) -> str:
    """`message` as `where` shows it: each source setting's environment variable it names (`SETTING_WORDS`) in that
    surface's words, e.g. "check JIRA_USER_EMAIL and JIRA_API_TOKEN" -> 'check config.user_email and
    config.api_token' (API), 'check "Account email" and "API token"' (CONSOLE); the CLI's is `message` itself.
    The variables in `keep` stay as they are: a setting the server's environment supplied is fixed there."""
    if where == CLI:
        return message
    for env, words in _setting_words().items():
        if env not in message or env in keep:
            continue
        named = words[where].replace("\\", "\\\\")  # a replacement template: the words as written
        message = re.sub(rf"\bset {re.escape(env)}(?=$|[).;,])", ASK[where].format(name=named), message)
        message = re.sub(rf"\b{re.escape(env)}\b", named, message)
    return message


class ConfigError(SourceError):
    """A setting is missing or malformed (URL, instance name, project)."""

    kind = "config"


class ConflictError(ConfigError):
    """The job is not in a state that allows the action (cancel a finished job, undo twice)."""

    kind = "conflict"


class AuthError(SourceError):
    """The tool refused the credentials."""

    kind = "auth"


class NotFoundError(SourceError):
    """A project or endpoint does not exist, or the account cannot see it."""

    kind = "not_found"


class NetworkError(SourceError):
    """The tool could not be reached, or answered something that is not its API."""

    kind = "network"


class RateLimitedError(SourceError):
    """The tool's rate limit outlasts what we are willing to wait; resume after `until`."""

    kind = "rate_limited"

    def __init__(self, message: str, until: datetime | None = None):
        super().__init__(message)
        self.until = until


class CommentError(ValueError):
    """A comment that fails its item (JIRA and GitLab map an issue with its comments, all or none): the
    item's reason names the comment before what is wrong with it (`comment 10023: created_at: ...`),
    so a user does not look for the fault in the item's own fields. `cause` is the comment's error."""

    def __init__(self, comment_id: object, cause: Exception):
        self.comment_id = str(comment_id) if comment_id not in (None, "") else "(no id)"
        self.cause = cause
        super().__init__(f"comment {self.comment_id}: {cause}")


def validation_reason(exc: ValidationError, whole: str = "item") -> str:
    """A failed item's reason in a person's words, from pydantic's errors: "title is empty" (never
    "title: Value error, title is empty"); the field is named only when the message does not name it,
    e.g. "priority: Input should be a valid string". `whole` names an error about the whole item."""
    reasons = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        field = ".".join(map(str, error["loc"]))
        reasons.append(message if field and field.split(".")[-1] in message else f"{field or whole}: {message}")
    return "; ".join(reasons)[:500]


def network_reason(exc: BaseException) -> str:
    """Why a server could not be reached, in a user's words ("the connection was refused", "its name was not found
    (DNS)"), from the socket or TLS error that requests and urllib3 wrap: their class names ("ConnectionError")
    told a user nothing. One phrase, no URL or traceback; "the connection failed" when no cause is known."""
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, socket.gaierror):
            return "its name was not found (DNS)"
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"its TLS certificate was not accepted: {cause.verify_message or 'not trusted'}"
        if isinstance(cause, ssl.SSLError):
            detail = str(cause.reason or "").replace("_", " ").lower()
            return f"the TLS handshake failed{f' ({detail})' if detail else ''}"
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError):
            return "the connection was refused (nothing answers at that address and port)"
        if isinstance(cause, ConnectionResetError | ConnectionAbortedError):
            return "the connection was cut off"
        if isinstance(cause, TimeoutError):
            return "it did not answer in time"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "there is no route to it (network unreachable)"
    return "the connection failed"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it wraps: args, urllib3's `reason`, the chained cause and context, each once."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [*current.args, getattr(current, "reason", None), current.__cause__, current.__context__]
        todo.extend(e for e in linked if isinstance(e, BaseException))
