"""A well-behaved provider that leaves a mark each time it is imported."""

import os
from dataclasses import dataclass, field
from pathlib import Path

_marker = os.environ.get("WNJ_TEST_MARKER")
if _marker:
    with Path(_marker).open("a", encoding="utf-8") as handle:
        handle.write("imported\n")


@dataclass
class Feature:
    name: str
    values: list = field(default_factory=list)
    multi_value: bool = False


class MarkerPlugin:
    namespace = "marker_hw"

    @classmethod
    def get_all_configs(cls):
        return [Feature("arch", ["b2", "b1", "a1"]), Feature("accel", ["x", "y"], True)]

    @classmethod
    def get_supported_configs(cls):
        return [Feature("arch", ["b1", "a1"]), Feature("accel", ["y"], True)]
