"""The published API description: valid OpenAPI 3, one documented body per action, docs page."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from hotline.api.app import create_app
from hotline.api.routes.tickets import router
from hotline.config import Settings

ACTIONS = ["answer", "hand-off", "refuse", "dispatch", "accept", "contact", "request-return", "redispatch",
           "reject-return", "suspend", "resume", "request-extension", "approve-extension", "refuse-extension",
           "reply", "accept-reply", "send-back-reply", "callback", "close", "reopen", "merge", "archive"]
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    # The description needs no database; the app is only asked for its static pages.
    path = tmp_path_factory.mktemp("openapi")
    return TestClient(create_app(Settings(data_dir=path, database_url=f"sqlite:///{path}/unused.db")))


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return r.json()


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    assert ref.startswith("#/"), ref
    target: Any = spec
    for part in ref[2:].split("/"):
        target = target[part]
    return target


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if isinstance(node.get("$ref"), str) else []) + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _body_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    op = spec["paths"][path]["post"]
    assert op["requestBody"]["required"] is True
    return _resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])


def test_the_document_is_openapi_3_and_every_reference_resolves(spec: dict[str, Any]):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    assert "Bearer" in spec["info"]["description"]
    for ref in _refs(spec):
        assert _resolve(spec, {"$ref": ref}) is not None
    seen: set[str] = set()
    for path, item in spec["paths"].items():
        assert path.startswith("/api/v1/"), path
        for method, op in item.items():
            assert method in METHODS, (path, method)
            assert op["operationId"] not in seen, op["operationId"]  # unique, as the spec requires
            seen.add(op["operationId"])
            assert op.get("summary"), (path, method)
            assert "200" in op["responses"] or "201" in op["responses"], (path, method)
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(_path_params(path)), path


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def test_every_action_has_its_own_documented_body(spec: dict[str, Any]):
    routes = {r.path for r in router.routes}
    for action in ACTIONS:
        path = f"/api/v1/tickets/{{key}}/{action}"
        assert path in spec["paths"], action
        assert f"/tickets/{{key}}/{action}" in routes
        props = _body_schema(spec, path)["properties"]
        assert "version" in props, action
        responses = spec["paths"][path]["post"]["responses"]
        assert {"200", "404", "409", "422"} <= set(responses), action

    callback = _body_schema(spec, "/api/v1/tickets/{key}/callback")
    assert {"reached", "resolved", "satisfaction", "comment"} <= set(callback["properties"])
    assert "reached" in callback["required"]
    satisfaction = str(callback["properties"]["satisfaction"])
    assert all(word in satisfaction for word in ("satisfied", "basically_satisfied", "dissatisfied"))
    assert {"lead_unit_id", "co_unit_ids", "note"} <= set(_body_schema(spec, "/api/v1/tickets/{key}/dispatch")["properties"])
    assert {"amount", "unit", "reason"} <= set(_body_schema(spec, "/api/v1/tickets/{key}/request-extension")["properties"])
    assert set(_body_schema(spec, "/api/v1/tickets/{key}/merge")["required"]) == {"master"}
    assert "119" in str(_body_schema(spec, "/api/v1/tickets/{key}/hand-off")["properties"]["to"])
    assert set(_body_schema(spec, "/api/v1/tickets/{key}/archive")["properties"]) == {"version"}
    # Bodies differ per action: the generated names are not all one shared "Versioned" model.
    names = {spec["paths"][f"/api/v1/tickets/{{key}}/{a}"]["post"]["requestBody"]["content"]["application/json"]
             ["schema"].get("$ref") for a in ACTIONS}
    assert len(names) >= 10


def test_ticket_endpoints_and_their_parameters_are_described(spec: dict[str, Any]):
    create = _body_schema(spec, "/api/v1/tickets")
    assert {"kind", "category_code", "region_code", "content"} <= set(create["required"])
    listing = spec["paths"]["/api/v1/tickets"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert {"status", "unit_id", "region_code", "category_code", "kind", "received_from", "received_to", "overdue",
            "q", "page", "per_page"} <= set(params)
    assert params["per_page"]["schema"]["maximum"] == 200
    for path in ("/api/v1/tickets/{key}", "/api/v1/tickets/{key}/events", "/api/v1/me", "/api/v1/stats"):
        assert "get" in spec["paths"][path], path


def test_docs_page_is_html(client: TestClient):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "/api/v1/openapi.json" in r.text and "<html" in r.text.lower()



def _schema_of(spec: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    """A query or path parameter's schema (nullable ones unwrapped)."""
    param = next(p for p in spec["paths"][path][method]["parameters"] if p["name"] == name)
    schema = param["schema"]
    return next((s for s in schema.get("anyOf", []) if s.get("type") != "null"), schema)


def _property(spec: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    body = _resolve(spec, spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"])
    prop = _resolve(spec, body["properties"][name])
    return next((_resolve(spec, s) for s in prop.get("anyOf", []) if s.get("type") != "null"), prop)


def test_every_success_response_says_what_it_holds(spec: dict[str, Any]):
    """A client (and schemathesis) reads each answer's shape from the document: no 2xx JSON response
    is left untyped (``{}``), and every model it names has its properties listed."""
    untyped = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                if not status.startswith("2"):
                    continue
                for media, content in response.get("content", {}).items():
                    schema = content.get("schema") or {}
                    target = _resolve(spec, schema)
                    if media == "application/json" and not (target.get("type") or target.get("anyOf")
                                                            or target.get("enum") or target.get("$ref")):
                        untyped.append(f"{method.upper()} {path} {status}")
                    if target.get("type") == "array":
                        target = _resolve(spec, target.get("items") or {})
                    if target.get("type") == "object" and "properties" not in target:
                        assert target.get("additionalProperties"), (path, method, target)
    assert untyped == []
    # The ones that were untyped name their fields now.
    me = _resolve(spec, spec["paths"]["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"id", "username", "role", "unit_id"} <= set(me["properties"])
    regions = spec["paths"]["/api/v1/regions"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert regions["type"] == "array" and "short_name" in _resolve(spec, regions["items"])["properties"]


def test_the_limits_the_server_keeps_are_in_the_document(spec: dict[str, Any]):
    from hotline.analytics import drill, hotspots
    from hotline.api.routes.analytics import DIMENSIONS
    from hotline.employment.models import EMPLOYMENT_LABELS, WORKPLACE_LABELS

    drill_path = "/api/v1/analytics/tickets"
    assert set(_schema_of(spec, drill_path, "get", "measure")["enum"]) == set(drill.LABELS)
    assert _schema_of(spec, drill_path, "get", "dimension")["enum"] == list(DIMENSIONS)
    assert _schema_of(spec, "/api/v1/analytics/rates", "get", "dimension")["enum"] == list(DIMENSIONS)
    period = _schema_of(spec, "/api/v1/analytics/hotspots", "get", "period")
    assert period["enum"] == list(hotspots.PERIODS)  # the route's list is the worker's
    ranking = "/api/v1/analytics/rankings/{year}/{month}"
    assert (_schema_of(spec, ranking, "get", "month")["minimum"], _schema_of(spec, ranking, "get", "month")["maximum"]) == (1, 12)
    assert (_schema_of(spec, ranking, "get", "year")["minimum"], _schema_of(spec, ranking, "get", "year")["maximum"]) == (2000, 2100)
    assert _schema_of(spec, ranking, "get", "dimension")["enum"] == list(DIMENSIONS)

    status = _property(spec, "/api/v1/employment/workers", "post", "employment_status")
    assert set(status["enum"]) == {s.value for s in EMPLOYMENT_LABELS} | set(EMPLOYMENT_LABELS.values())
    place = _property(spec, "/api/v1/employment/workers", "post", "work_place")
    assert set(place["enum"]) == {p.value for p in WORKPLACE_LABELS} | set(WORKPLACE_LABELS.values())
    assert "enum" in _property(spec, "/api/v1/employment/workers/{worker_id}", "patch", "employment_status")
    openings = _property(spec, "/api/v1/employment/jobs", "post", "openings")
    assert (openings["minimum"], openings["maximum"]) == (1, 10_000)

    supervise = _property(spec, "/api/v1/tickets/{key}/supervise", "post", "working_days")
    assert (supervise["minimum"], supervise["maximum"]) == (1, 30)
    assert _property(spec, "/api/v1/tickets/{key}/supervise", "post", "level")["enum"] == ["general", "key", "listed"]
    priority = _property(spec, "/api/v1/fieldwork/operations/{operation_id}/tasks", "post", "priority")
    assert (priority["minimum"], priority["maximum"]) == (1, 3)
    for action in ("dispatch", "close", "archive"):
        assert _property(spec, f"/api/v1/tickets/{{key}}/{action}", "post", "version")["minimum"] == 1


def test_the_callback_queue_documents_the_units_reply(spec: dict[str, Any]):
    task = spec["components"]["schemas"]["CallbackTaskOut"]
    assert "reply_text" in task["properties"] and "reply_text" in task.get("required", [])
    types = {t.get("type") for t in task["properties"]["reply_text"]["anyOf"]}
    assert types == {"string", "null"} and "办理结果" in task["properties"]["reply_text"]["description"]


def test_registering_a_ticket_documents_the_idempotency_key_and_the_replay_header(spec: dict[str, Any]):
    create = spec["paths"]["/api/v1/tickets"]["post"]
    [key] = [p for p in create["parameters"] if p["in"] == "header"]
    assert key["name"] == "Idempotency-Key" and key["required"] is False
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$",
                             "title": "Idempotency-Key"}
    assert "idempotency_key_reused" in key["description"] and "24 hours" in key["description"]
    assert "Idempotent-Replayed" in create["responses"]["201"]["headers"]
