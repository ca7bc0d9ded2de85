"""Runs one provider plugin inside its isolated environment and prints its answer as JSON.

Started as `<venv python> -I plugin_runner.py` with the request `{"plugin_api", "namespace"}` on
stdin. Uses the standard library only: nothing of this package is installed in that environment.
The plugin's own prints are sent to stderr so they cannot corrupt the answer; the answer is
checked by the caller, which trusts nothing in it.
"""

import importlib
import json
import os
import sys
import traceback
from typing import Any


def _feature(item: Any) -> dict[str, Any]:
    def get(key: str, default: Any = None) -> Any:
        if isinstance(item, dict):
            return item.get(key, default)
        return getattr(item, key, default)

    values = get("values")
    return {
        "name": get("name"),
        "values": list(values) if isinstance(values, (list, tuple)) else repr(values),
        "multi_value": get("multi_value", False),
    }


def _configs(plugin: Any, method: str) -> Any:
    result = getattr(plugin, method)()
    if not isinstance(result, (list, tuple)):
        return repr(result)
    return [_feature(item) for item in result]


def _load(plugin_api: str) -> Any:
    module_name, _, object_path = plugin_api.partition(":")
    plugin = importlib.import_module(module_name.strip())
    for attr in filter(None, object_path.strip().split(".")):
        plugin = getattr(plugin, attr)
    if isinstance(plugin, type):
        # Older plugins use instance methods; class methods work on an instance too.
        plugin = plugin()
    return plugin


def main() -> int:
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        request = json.loads(sys.stdin.read())
        plugin = _load(request["plugin_api"])
        namespace = getattr(plugin, "namespace", None)
        answer = {
            "namespace": namespace
            if isinstance(namespace, str) or namespace is None
            else repr(namespace),
            "all_configs": _configs(plugin, "get_all_configs"),
            "supported_configs": _configs(plugin, "get_supported_configs"),
        }
        text = json.dumps(answer, default=repr)
    except BaseException as exc:  # report every failure as data; the caller decides
        out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        out.flush()
        traceback.print_exc()
        return 1
    out.write(text)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
