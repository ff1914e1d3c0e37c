"""Holds an answer of the API to what /api/v1/openapi.json says of it.

A small JSON Schema check (``jsonschema`` is not among the dependencies) of the parts the document
uses: ``$ref``, ``anyOf``/``oneOf``/``allOf``, ``type``, ``enum``/``const``, ``properties``/``required``,
``items``, ``additionalProperties`` and the ``date``/``date-time`` formats. It is stricter than JSON
Schema in one way: an object whose schema lists ``properties`` and says nothing of
``additionalProperties`` is closed, so a key the API sends but the document does not list is a
failure (the response models let such keys through rather than drop them).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


class Document:
    def __init__(self, spec: dict[str, Any]):
        self.spec = spec
        # Literal paths before templated ones (``/workers/search`` before ``/workers/{worker_id}``).
        self.paths = sorted(
            (
                (re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(p)) + "$"), p)
                for p in spec["paths"]
            ),
            key=lambda x: x[1].count("{"),
        )

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        return node

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """The documented operation answering ``method path`` (no query string), if any."""
        for pattern, template in self.paths:
            if pattern.match(path) and method.lower() in self.spec["paths"][template]:
                return template, self.spec["paths"][template][method.lower()]
        return None

    def problems(self, schema: dict[str, Any], value: Any, where: str = "$") -> list[str]:
        schema = self.resolve(schema)
        if "anyOf" in schema or "oneOf" in schema:
            branches = [self.problems(s, value, where) for s in schema.get("anyOf", schema.get("oneOf"))]
            if not any(b == [] for b in branches):
                return [
                    f"{where}: matches none of its schemas: " + " | ".join("; ".join(b[:2]) for b in branches)
                ]
        for sub in schema.get("allOf", []):
            if found := self.problems(sub, value, where):
                return found
        if "const" in schema and value != schema["const"]:
            return [f"{where}: {value!r} is not {schema['const']!r}"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {value!r} not one of {schema['enum']}"]
        kinds = schema.get("type")
        if kinds is None:
            return []
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not any(
            isinstance(value, TYPES[k]) and not (isinstance(value, bool) and k in ("integer", "number"))
            for k in kinds
        ):
            return [f"{where}: {type(value).__name__} {value!r:.60} is not {'/'.join(kinds)}"]
        if isinstance(value, str):
            return self._format(schema.get("format"), value, where)
        if isinstance(value, list):
            items = schema.get("items", {})
            return [p for i, v in enumerate(value) for p in self.problems(items, v, f"{where}[{i}]")]
        if isinstance(value, dict):
            return self._object(schema, value, where)
        return []

    def _format(self, fmt: str | None, value: str, where: str) -> list[str]:
        try:
            if fmt == "date-time":
                if datetime.fromisoformat(value).tzinfo is None:
                    return [f"{where}: {value!r} has no time zone"]
            elif fmt == "date":
                date.fromisoformat(value)
        except ValueError:
            return [f"{where}: {value!r} is not a {fmt}"]
        return []

    def _object(self, schema: dict[str, Any], value: dict[str, Any], where: str) -> list[str]:
        found = [
            f"{where}: '{k}' is required but missing" for k in schema.get("required", []) if k not in value
        ]
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", not props)
        for key, item in value.items():
            if key in props:
                found += self.problems(props[key], item, f"{where}.{key}")
            elif extra is False:
                found.append(f"{where}: '{key}' is not in the document")
            elif isinstance(extra, dict):
                found += self.problems(extra, item, f"{where}.{key}")
        return found

    def check(self, method: str, path: str, status: int, content_type: str, body: Any) -> list[str]:
        """What is wrong with an answer, by the document: [] when it is as documented. Addresses the
        document does not have (an unknown path, a method not allowed) are not checked."""
        found = self.operation(method, path)
        if found is None:
            return []
        template, op = found
        response = op["responses"].get(str(status))
        if response is None:
            return [f"{method} {template}: status {status} is not documented (has {sorted(op['responses'])})"]
        media = content_type.split(";")[0].strip()
        content = response.get("content", {})
        if media not in content:
            return [
                f"{method} {template} {status}: media type {media} is not documented (has {sorted(content)})"
            ]
        if media != "application/json":
            return []
        return [
            f"{method} {template} {status}: {p}"
            for p in self.problems(content[media].get("schema", {}), body)
        ]
