"""The connector's Flask class: Flask, asking once per function whether it is a coroutine.

Flask passes every hook, view and error handler through `ensure_sync` on every request, and
that asks `inspect.iscoroutinefunction` each time: for a SCIM request, eight times, about 2% of a
get by id's CPU. A function's answer never changes, so it is kept. At most MAX_KEPT are kept:
functions made anew for each request (`after_this_request`) would otherwise grow it forever.
"""
from __future__ import annotations

from typing import Callable

from flask import Flask

MAX_KEPT = 1024


class ConnectorFlask(Flask):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._synchronous: dict[Callable, Callable] = {}

    def ensure_sync(self, func: Callable) -> Callable:
        found = self._synchronous.get(func)
        if found is None:
            found = super().ensure_sync(func)
            if len(self._synchronous) < MAX_KEPT:
                self._synchronous[func] = found
        return found
