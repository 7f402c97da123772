"""The demo projects' values, straight from the demo's own table (no requests)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..metadata import Metadata, Value
from ..model import WorkItem
from . import _person
from .settings import PEOPLE, PRIORITY_MAP, STATUS_MAP, TYPES

if TYPE_CHECKING:
    from . import DemoSource


def read(source: DemoSource, project: str, sample: Sequence[WorkItem] = ()) -> Metadata:
    source.check_project(project)
    meta = Metadata(source="demo", project=project, people=[_person(i) for i in range(len(PEOPLE))])
    meta.statuses = [Value(key=name, label=name, default=name, category=category)
                     for name, category in STATUS_MAP.items()]
    meta.priorities = [Value(key=name, label=name, default=level.value) for name, level in PRIORITY_MAP.items()]
    meta.types = [Value(key=kind, label=kind, default=kind) for kind in dict.fromkeys([*TYPES, "sub-task"])]
    return meta
