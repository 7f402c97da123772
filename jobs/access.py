"""Who may cancel, retry or undo an import: the user who started it, or an admin; and who may replace a
project's saved mapping: the user who saved it, or an admin.

Under company sign-in every employee can open the console, and an import can be a whole
team's migration: one user must not be able to undo or cancel another's, nor change how its re-runs and
schedules map the data (a saved mapping is what they all run on). The rule lives here,
in the core, so the console, the CLI and the HTTP API all apply the same one.

Admins: the local admin (password sign-in), the names listed in CONSOLE_ADMINS (comma-separated,
e.g. the company sign-in emails of the migration's owners), and the machine's own operator (the
CLI, and in-process callers that pass no actor: whoever can run our code on this machine can
also open the database). Refusals are written to the audit log.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from importers.errors import SourceError

ADMINS_ENV = "CONSOLE_ADMINS"
ADMINS_HINT = f"(admins are listed in {ADMINS_ENV}, API tokens as api:NAME)"
SCHEDULED_BY = "schedule:"  # a scheduled run's starter: "schedule:<id>", the job of whoever booked that schedule
LOCAL_ADMIN = "admin"  # the name the local admin password signs in as (console/auth.py)


class PermissionDenied(SourceError):
    """The actor may not change this job: neither its starter nor an admin."""

    kind = "forbidden"


@dataclass(frozen=True)
class Actor:
    """Someone acting on jobs: `name` is what the audit log records; `admin` may act on any job."""

    name: str
    admin: bool = False


def admins() -> set[str]:
    """The configured admin names (CONSOLE_ADMINS), compared case-insensitively."""
    return {n.strip().lower() for n in os.environ.get(ADMINS_ENV, "").split(",") if n.strip()}


def actor_named(name: str) -> Actor:
    """An actor known only by name: an admin when CONSOLE_ADMINS lists it, otherwise not."""
    return Actor(name, admin=name.strip().lower() in admins())


def machine_admin() -> Actor:
    """The operator of this machine (the CLI): `$USER` in the audit log, and an admin."""
    return Actor(os.environ.get("USER") or "cli", admin=True)


def resolve(actor: Actor | str | None) -> Actor:
    """An Actor from what a caller passed: None is the machine's operator, a bare name is checked
    against CONSOLE_ADMINS (so a caller that passes only a user name never grants admin rights)."""
    if actor is None:
        return machine_admin()
    if isinstance(actor, Actor):
        return actor
    return actor_named(actor)


def may_change(actor: Actor, started_by: str | None) -> bool:
    """True when `actor` started the job (same name) or is an admin."""
    return actor.admin or (bool(started_by) and actor.name.strip().lower() == str(started_by).strip().lower())


MAPPING_KEEPERS = ("worker",)  # saved by an import itself (the defaults it ran on): anyone may replace it


def may_replace_mapping(actor: Actor, saved_by: str | None) -> bool:
    """True when nobody chose the saved mapping (none, or the defaults an import saved), `actor` saved it, or is an
    admin."""
    return not saved_by or saved_by in MAPPING_KEEPERS or may_change(actor, saved_by)


def refusal(actor: Actor, action: str, job_id: str, started_by: str | None) -> PermissionDenied:
    """The one-line error a refused user sees."""
    return PermissionDenied(f"only {started_by or 'the user who started it'} or an admin may {action} import "
                            f"{job_id}; you are signed in as {actor.name} {ADMINS_HINT}")
