"""The published API description: valid OpenAPI 3, one documented body per action, docs page."""

from __future__ import annotations

import re
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
        assert path.startswith(("/api/v1/", "/open311/v2/")) or path == "/healthz", path
        for method, op in item.items():
            assert method in METHODS, (path, method)
            assert op["operationId"] not in seen, op["operationId"]  # unique, as the spec requires
            seen.add(op["operationId"])
            assert op.get("summary"), (path, method)
            assert "200" in op["responses"] or "201" in op["responses"], (path, method)
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(_path_params(path)), path


def _path_params(path: str) -> list[str]:
    return re.findall(r"\{([^}]+)\}", path)


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


# Answers that are not JSON, by media type: Open311 writes XML beside JSON. Nothing else may be.
NOT_JSON = {"text/xml": "/open311/v2/"}
# Objects inside answers left open on purpose (what a timeline entry or a stored limit recorded).
OPEN_INSIDE = {"EventOut.details", "TaskEventOut.details", "StageDeadline.limit.extensions[]",
               "StageDeadline.limit.pauses[]", "Open311ServiceDefinition.attributes[]"}


def _loose(spec: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """The places in a schema that say nothing of what they hold: ``{}``, or an object with neither
    properties nor a typed value."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return []
        seen.add(schema["$ref"])
        where, schema = schema["$ref"].rsplit("/", 1)[1], _resolve(spec, schema)
    found = []
    if schema == {} or (schema.get("type") == "object" and "properties" not in schema
                        and schema.get("additionalProperties", True) in (True, {})):
        found.append(where)
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        found += _loose(spec, branch, where, seen)
    for name, prop in schema.get("properties", {}).items():
        found += _loose(spec, prop, f"{where}.{name}", seen)
    if isinstance(schema.get("items"), dict):
        found += _loose(spec, schema["items"], f"{where}[]", seen)
    if isinstance(schema.get("additionalProperties"), dict) and schema["additionalProperties"]:
        found += _loose(spec, schema["additionalProperties"], f"{where}{{}}", seen)
    return found


def test_every_operation_documents_a_typed_success_answer(spec: dict[str, Any]):
    """A client (and a generator of clients) reads each answer's shape from the document: every
    operation has a 2xx answer, each in JSON with a schema that says what it holds, down to the
    last nested object (a few recorded-as-is objects excepted); the only other media type is
    Open311's XML, beside its JSON."""
    untyped, loose, other_media = [], set(), []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            name = f"{method.upper()} {path}"
            ok = {status: r for status, r in op["responses"].items() if status.startswith("2")}
            if not ok:
                untyped.append(f"{name}: no 2xx answer")
            for status, response in ok.items():
                content = response.get("content", {})
                if "application/json" not in content:
                    untyped.append(f"{name} {status}: no JSON")
                    continue
                schema = content["application/json"].get("schema") or {}
                if schema == {} or _loose(spec, schema, name, set()) == [name]:
                    untyped.append(f"{name} {status}")
                loose |= set(_loose(spec, schema, name, set()))
                other_media += [(name, m) for m in content if m != "application/json"
                                and not path.startswith(NOT_JSON.get(m, "-"))]
    assert untyped == []
    assert loose <= OPEN_INSIDE, loose - OPEN_INSIDE
    assert other_media == []
    # Some that were untyped (``{}``) name their fields now.
    me = _resolve(spec, spec["paths"]["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"id", "username", "role", "unit_id"} <= set(me["properties"])
    suggested = spec["paths"]["/api/v1/tickets/{key}/suggested-units"]["get"]["responses"]["200"]
    assert {"source", "lead_unit", "co_units"} <= set(_resolve(spec, suggested["content"]["application/json"]["schema"])
                                                      ["properties"])
    regions = spec["paths"]["/api/v1/regions"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert regions["type"] == "array" and "short_name" in _resolve(spec, regions["items"])["properties"]


def test_how_to_authenticate_is_declared_on_every_operation(spec: dict[str, Any]):
    """The JSON API takes a bearer token (``hotline token create``) and nothing else; Open311's
    request endpoints an ``api_key``; Open311's discovery and service lists and /healthz are open."""
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["type"] == "http" and schemes["bearerAuth"]["scheme"] == "bearer"
    assert "hotline token create" in schemes["bearerAuth"]["description"]
    assert schemes["open311ApiKey"] == {**schemes["open311ApiKey"], "type": "apiKey", "in": "query", "name": "api_key"}
    assert not any(s["type"] == "apiKey" and s["in"] == "cookie" for s in schemes.values())  # no session cookie here
    security = {f"{m.upper()} {p}": op.get("security") for p, item in spec["paths"].items() for m, op in item.items()}
    assert {op: s for op, s in security.items() if " /api/v1/" in op and s != [{"bearerAuth": []}]} == {}
    assert {op for op, s in security.items() if s == []} == {
        "GET /healthz", "GET /open311/v2/discovery.{fmt}", "GET /open311/v2/services.{fmt}",
        "GET /open311/v2/services/{code}.{fmt}",
        "POST /open311/v2/requests.{fmt}"}  # its api_key is a form field (documented in its body)
    assert security["GET /open311/v2/requests.{fmt}"] == security["GET /open311/v2/requests/{number}.{fmt}"] \
        == [{"open311ApiKey": []}]
    post = spec["paths"]["/open311/v2/requests.{fmt}"]["post"]["requestBody"]["content"]
    assert "api_key" in post["application/x-www-form-urlencoded"]["schema"]["required"]


def test_the_api_takes_no_other_credentials(client: TestClient):
    """What the document says: no token, 401 naming the scheme; a web session cookie is no token."""
    r = client.get("/api/v1/me", cookies={"hotline_session": "x"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "unauthenticated"
    assert client.get("/healthz").json() == {"status": "ok"}


def test_the_error_answers_are_documented_with_the_error_body(spec: dict[str, Any]):
    """401, 403 and 422 on every operation of the JSON API, 400 and 404 where a body is read, 404 where
    the path names something, 409 on writes; each with ``{"error": {code, message, details}}``."""
    error = spec["components"]["schemas"]["ErrorOut"]
    info = _resolve(spec, error["properties"]["error"])
    assert set(info["required"]) == {"code", "message", "details"}
    details = _resolve(spec, info["properties"]["details"])
    problem = _resolve(spec, details["properties"]["problems"]["items"])
    assert set(problem["required"]) == {"field", "type", "message"} and {"label", "ctx"} <= set(problem["properties"])
    for path, item in spec["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, op in item.items():
            codes = {int(c) for c in op["responses"] if not c.startswith("2")}
            expected = {401, 403, 422}
            expected |= {400, 404} if "requestBody" in op else set()
            expected |= {404} if "{" in path else set()
            expected |= {409} if method != "get" else set()
            assert expected <= codes, (method, path, codes)
            for code in codes:
                schema = op["responses"][str(code)]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, code)
            assert "WWW-Authenticate" in op["responses"]["401"]["headers"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # FastAPI's own 422 body is never sent
    assert _resolve(spec, spec["paths"]["/open311/v2/requests.{fmt}"]["get"]["responses"]["400"]["content"]
                    ["application/json"]["schema"]["items"])["required"] == ["code", "description"]


def test_every_list_says_how_it_pages(spec: dict[str, Any]):
    """Each paging parameter is described; the lists paged by limit/offset take page/per_page too."""
    undescribed, both = [], []
    for path, item in spec["paths"].items():
        for op in item.values():
            params = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}
            undescribed += [(path, n) for n in ("page", "per_page", "limit", "offset") if n in params
                            and not params[n].get("description")]
            if "offset" in params:
                both.append(path)
                assert {"limit", "page", "per_page"} <= set(params), path
            if "offset" in params:  # and says how many rows match: `total` in the body, or a header
                ok = op["responses"]["200"]
                body = _resolve(spec, ok["content"]["application/json"]["schema"])
                assert "total" in body.get("properties", {}) or "X-Total-Count" in ok.get("headers", {}), path
    assert undescribed == []
    assert set(both) == {"/api/v1/callback-tasks", "/api/v1/supervision-orders", "/api/v1/fieldwork/tasks",
                         "/api/v1/analytics/tickets", "/api/v1/incidents", "/api/v1/regions", "/api/v1/units",
                         "/api/v1/dispatch-rules", "/api/v1/employment/jobs", "/api/v1/employment/activities",
                         "/api/v1/outbox", "/api/v1/knowledge"}


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
    # A replay is returned as it was stored, yet the 201 keeps its documented model.
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TicketOut"}


def test_submitting_an_open311_request_documents_the_idempotency_key_and_the_replay_header(spec: dict[str, Any]):
    post = spec["paths"]["/open311/v2/requests.{fmt}"]["post"]
    [key] = [p for p in post["parameters"] if p["in"] == "header"]
    assert key["name"] == "Idempotency-Key" and key["required"] is False
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"}
    assert "Idempotent-Replayed" in key["description"] and "400" in key["description"]
    created = post["responses"]["201"]
    assert "Idempotent-Replayed" in created["headers"]
    items = created["content"]["application/json"]["schema"]["items"]
    assert "service_request_id" in _resolve(spec, items)["properties"] and "text/xml" in created["content"]
