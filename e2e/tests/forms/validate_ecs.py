"""Checks ECS documents, one JSON object per line, against the Elastic Common Schema's own field
definitions (ecs_fields.json beside this script, extracted from elastic/ecs's
generated/ecs/ecs_flat.yml): every field outside the custom field sets is an ECS field of the
right type, and event.kind, event.category, event.type and event.outcome hold allowed values,
each type one ECS expects with each category.

Usage: python validate_ecs.py FILE...   Exit 0 when every document passes, 1 otherwise.
"""

import ipaddress
import json
import os
import sys
from datetime import datetime

# The custom field sets the log writes: what ECS has no field for, and the hash chain's seal.
CUSTOM = ("security_event", "integrity")

with open(os.path.join(os.path.dirname(__file__), "ecs_fields.json"), encoding="utf-8") as f:
    ECS = json.load(f)
FIELDS, ALLOWED = ECS["fields"], ECS["allowed_values"]

TEXT = {"keyword", "wildcard", "match_only_text", "text", "constant_keyword"}
INTEGER = {"long", "integer", "short", "byte", "unsigned_long"}
NUMBER = INTEGER | {"float", "double", "scaled_float", "half_float"}


def type_problem(kind, value):
    if kind in TEXT:
        return None if isinstance(value, str) else "not a string"
    if kind in INTEGER:
        return None if isinstance(value, int) and not isinstance(value, bool) else "not an integer"
    if kind in NUMBER:
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "not a number"
    if kind == "boolean":
        return None if isinstance(value, bool) else "not a boolean"
    if kind == "date":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return None
        except (AttributeError, ValueError):
            return "not a date"
    if kind == "ip":
        try:
            ipaddress.ip_address(value)
            return None
        except ValueError:
            return "not an IP address"
    if kind == "geo_point":
        ok = isinstance(value, dict) and set(value) == {"lat", "lon"}
        return None if ok else "not a geo_point {lat, lon}"
    if kind in ("object", "flattened", "nested"):
        return None
    return f"type {kind} not checked by this script"


def leaves(document, prefix=""):
    """(dotted name, value) of every leaf; an ECS field of an object type is one leaf."""
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and FIELDS.get(name, {}).get("type") not in ("geo_point", "object", "flattened"):
            yield from leaves(value, name + ".")
        else:
            yield name, value


def problems_of(document):
    found = []
    for name, value in leaves(document):
        if name.split(".")[0] in CUSTOM:
            continue
        field = FIELDS.get(name)
        if field is None:
            found.append(f"{name}: not an ECS field")
            continue
        for item in value if isinstance(value, list) else [value]:
            problem = type_problem(field["type"], item)
            if problem:
                found.append(f"{name}: {item!r} is {problem} ({field['type']})")
    event = document.get("event", {})
    for name in ("kind", "outcome"):
        value = event.get(name)
        if value is not None and value not in ALLOWED[f"event.{name}"]:
            found.append(f"event.{name}: {value!r} is not an allowed value")
    categories, types = event.get("category", []), event.get("type", [])
    for category in categories:
        if category not in ALLOWED["event.category"]:
            found.append(f"event.category: {category!r} is not an allowed value")
            continue
        expected = ALLOWED["event.category"][category] or []
        for kind in types:
            if kind not in ALLOWED["event.type"]:
                found.append(f"event.type: {kind!r} is not an allowed value")
            elif kind not in expected:
                found.append(f"event.type {kind!r} is not one ECS expects with category {category!r} ({expected})")
    return found


def main(paths):
    for custom in CUSTOM:
        assert not any(name.split(".")[0] == custom for name in FIELDS), f"{custom} is an ECS field set"
    problems, documents = [], 0
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                document = json.loads(line)
                action = document.get("event", {}).get("action")
                problems += [f"{path}:{number} ({action}): {p}" for p in problems_of(document)]
                documents += 1
    for problem in problems:
        print(problem)
    print(f"ECS {ECS['version']} field definitions: {documents} documents checked, {len(problems)} problems")
    return 1 if problems or documents == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
