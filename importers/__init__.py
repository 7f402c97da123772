"""Connectors: each turns one tool's API into pages of the normalized model.

Sources are looked up by name and imported lazily, so a slow or fragile client library
(pysnow pins old dependencies) costs nothing until its source is used.
"""
from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from .base import Setting, Source
from .errors import ConfigError

SOURCES: dict[str, str] = {
    "jira": "importers.jira:JiraSource",
    "servicenow": "importers.servicenow:ServiceNowSource",
    "github": "importers.github:GitHubSource",
    "gitlab": "importers.gitlab:GitLabSource",
    "demo": "importers.demo:DemoSource",
}


def source_names() -> list[str]:
    return list(SOURCES)


def source_class(name: str) -> type[Source]:
    target = SOURCES.get((name or "").strip().lower())
    if target is None:
        raise ConfigError(f"unknown source {name!r}: choose one of {', '.join(SOURCES)}")
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)


def source_label(name: str) -> str:
    """The source's name as people write it ("GitHub", "ServiceNow"); `name` itself for a source this release no
    longer knows (an old job's)."""
    try:
        return source_class(name).label
    except ConfigError:
        return name


def source_noun(name: str) -> str:
    """What the source calls its items ("issues", "tickets"); "items" for a source this release no longer knows."""
    try:
        return source_class(name).item_noun
    except ConfigError:
        return "items"


def load_client(name: str) -> type[Source]:
    """`source_class`, with the connector's client library imported too (`<connector>.client`, where
    there is one). A connector may import its library with its first client (GitHub, GitLab and JIRA do:
    `cli.py run` needs the class, never a page; tests/test_worker_startup.py holds them to it); a worker
    loads it before it forks work horses."""
    cls = source_class(name)
    if find_spec(f"{cls.__module__}.client") is not None:
        import_module(f"{cls.__module__}.client")
    return cls


def make_source(name: str, config: dict[str, str] | None = None, on_wait=None) -> Source:
    return source_class(name)(config, on_wait=on_wait)


__all__ = ["SOURCES", "Setting", "Source", "load_client", "make_source", "source_class", "source_label", "source_names",
           "source_noun"]
