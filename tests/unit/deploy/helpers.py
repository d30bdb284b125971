from __future__ import annotations

from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = REPO_ROOT / "template.yaml"
FUNCTIONS = ("api", "on_upload", "on_notify", "fetch_results")


def function_properties(template: dict[str, Any], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"]["audiochain"][name]["Properties"]
    return properties


def function_events(template: dict[str, Any], name: str) -> dict[str, Any]:
    events: dict[str, Any] = template["Resources"]["audiochain"][name]["Events"]
    return events
