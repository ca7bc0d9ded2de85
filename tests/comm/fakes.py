"""A stand-in for a kernel comm that records what is sent (no frontend, no kernel)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class RecordingComm:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.handler: Callable[[dict[str, Any]], None] | None = None

    def send(self, data: dict[str, Any]) -> None:
        self.sent.append(data)

    def on_msg(self, callback: Callable[[dict[str, Any]], None]) -> None:
        self.handler = callback

    def receive(self, data: Any) -> None:
        """Deliver a message as ipykernel does: the payload under content.data."""
        assert self.handler is not None, "no handler registered"
        self.handler({"content": {"comm_id": "c1", "data": data}})


class RecordingManager:
    def __init__(self) -> None:
        self.targets: dict[str, Callable[..., None]] = {}

    def register_target(self, name: str, func: Callable[..., None]) -> None:
        self.targets[name] = func
