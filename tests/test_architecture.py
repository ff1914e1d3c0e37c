"""The shape of the code: imports go downward only, and only the lifecycle writes a status."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import hotline

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "hotline"
LIFECYCLE = SRC / "tickets" / "lifecycle.py"
STATUS_OWNERS = {"Ticket", "TicketUnit"}


# ---------------------------------------------------------------- import layers


def test_import_contracts_are_kept():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for contract in config["tool"]["importlinter"]["contracts"]:
        assert f"{contract['name']} KEPT" in result.stdout, result.stdout


def test_every_package_has_a_place_in_the_layers():
    # A package missing from the layers contract may import anything without anyone noticing.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.replace(":", "|").split("|")}
    packages = {f"hotline.{m.name}" for m in pkgutil.iter_modules(hotline.__path__)}
    assert packages - placed == set()


# ---------------------------------------------------------------- status writes


def _names(target: ast.expr) -> list[ast.expr]:
    if isinstance(target, ast.Tuple | ast.List):
        return [n for elt in target.elts for n in _names(elt)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return [target]


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _updates_a_status_owner(call: ast.Call) -> bool:
    """``update(Ticket)....values(...)``: somewhere down the chain of the ``.values`` call."""
    node: ast.AST = call.func
    while isinstance(node, ast.Attribute | ast.Call):
        if isinstance(node, ast.Call):
            if _callee(node) == "update" and node.args and isinstance(node.args[0], ast.Name) \
                    and node.args[0].id in STATUS_OWNERS:
                return True
            node = node.func
        else:
            node = node.value
    return False


def status_writes(source: str) -> list[tuple[int, str]]:
    """Every place in ``source`` that writes a ticket's or a unit part's status."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = [n for t in node.targets for n in _names(t)]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "status":
                found.append((node.lineno, f"{ast.unparse(target)} = ..."))
        if not isinstance(node, ast.Call):
            continue
        callee = _callee(node)
        keywords = {k.arg for k in node.keywords}
        if callee in STATUS_OWNERS and "status" in keywords:
            found.append((node.lineno, f"{callee}(status=...)"))
        if callee == "setattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and node.args[1].value == "status":
            found.append((node.lineno, "setattr(..., 'status', ...)"))
        if callee == "values" and _updates_a_status_owner(node):
            literal_keys = {k.value for a in node.args if isinstance(a, ast.Dict) for k in a.keys
                            if isinstance(k, ast.Constant)}
            if "status" in keywords | literal_keys:
                found.append((node.lineno, "update(...).values(status=...)"))
    return found


def test_only_the_lifecycle_writes_a_status():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path == LIFECYCLE:
            continue
        for line, what in status_writes(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert offenders == [], "status must change through hotline.tickets.lifecycle:\n" + "\n".join(offenders)


def test_the_scan_finds_the_lifecycles_own_writes():
    # If the scanner went blind, the test above would pass for the wrong reason.
    writes = {what for _, what in status_writes(LIFECYCLE.read_text(encoding="utf-8"))}
    assert "ticket.status = ..." in writes
    assert "task.status = ..." in writes
    assert "TicketUnit(status=...)" in writes


@pytest.mark.parametrize(("snippet", "expected"), [
    ("t.status = Status.closed", "t.status = ..."),
    ("lead.status, lead.at = s, now", "lead.status = ..."),
    ("self.ticket.status: Status = x", "self.ticket.status = ..."),
    ("Ticket(number='1', status=Status.registered)", "Ticket(status=...)"),
    ("models.TicketUnit(unit_id=1, status='accepted')", "TicketUnit(status=...)"),
    ("setattr(ticket, 'status', 'closed')", "setattr(..., 'status', ...)"),
    ("s.execute(update(Ticket).where(Ticket.id == 1).values(status='closed'))", "update(...).values(status=...)"),
    ("s.execute(update(Ticket).values({'status': 'closed'}))", "update(...).values(status=...)"),
])
def test_the_scan_catches_each_way_of_writing_a_status(snippet, expected):
    assert [what for _, what in status_writes(snippet)] == [expected]


@pytest.mark.parametrize("snippet", [
    "TicketFilter(status=['registered'])",
    "x = ticket.status",
    "s.execute(update(Holiday).values(status='x'))",
    "request.state = RequestState.approved",
])
def test_the_scan_leaves_reads_and_other_tables_alone(snippet):
    assert status_writes(snippet) == []


def test_no_form_asks_with_an_onsubmit_confirm_that_the_boosted_page_would_not_wait_for():
    """Every page is ``hx-boost``: htmx sends a boosted form whatever an ``onsubmit`` handler returns,
    so a declined 「确定删除？」 still deleted. Forms ask with ``hx-confirm`` (or a button's
    ``onclick``, which stops the submit itself)."""
    templates = ROOT / "src" / "hotline" / "web" / "templates"
    offending = [f"{p.relative_to(templates)}:{n}" for p in sorted(templates.rglob("*.html"))
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if "onsubmit=" in line and "confirm(" in line]
    assert offending == []
