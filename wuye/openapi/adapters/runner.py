"""Checking a mapping against both documents, and running it.

An import walks the mapped operations page by page; each record is mapped,
validated by wuye's schema, and written in a transaction of its own together
with its link (external key -> wuye id). A record that fails is reported with
the reason and the run goes on. A page the external system keeps failing (after
the client's retries) is reported the same way, as the page, and the walk goes on
with the next page where the paging allows it (numbered pages; two failing pages
in a row mean the system is down, and the run stops there). Running the mapping
again resumes: every record already linked is skipped, so only what failed
before - records and the records of failed pages - is imported; nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from wuye.openapi.adapters.client import CallFailed, OperationClient, http_client
from wuye.openapi.adapters.entities import ENTITIES, PUSHABLE, rows_to_push
from wuye.openapi.adapters.mapping import Mapping, Resource, dig
from wuye.openapi.adapters.models import AdapterLink, AdapterRun
from wuye.openapi.documents import Document
from wuye.platform.db import Database, Scope, utcnow
from wuye.platform.pii import PersonalDataCipher
from wuye.platform.problems import Problem

# --- check ---------------------------------------------------------------------------


def _source_fields(spec: Any) -> list[str]:
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, dict) and "from" in spec:
        return [spec["from"]]
    return []


def check(mapping: Mapping) -> list[str]:
    """Everything wrong with ``mapping`` against both documents - theirs, and wuye's
    published contract - every unmapped required field included. Empty when sound;
    lines ending in "(ignored)" are notes, not errors."""
    try:
        doc = Document.load(mapping.document)
    except Exception as exc:  # noqa: BLE001 - any failure to read it is the finding
        return [f"document {mapping.document}: {exc}"]
    issues: list[str] = []
    for r in mapping.resources:
        where = f"{r.entity} ({r.operation})"
        if r.operation not in doc.operations:
            issues.append(f"{where}: their document has no operation {r.operation}")
            continue
        op = doc.operation(r.operation)
        if mapping.direction == "push":
            issues += _check_push(doc, r, where, op)
            continue
        entity = ENTITIES.get(r.entity)
        if entity is None:
            issues.append(f"{where}: wuye cannot import {r.entity}; known: {', '.join(ENTITIES)}")
            continue
        if r.action == "match" and not entity.lookup:
            issues.append(f"{where}: wuye cannot match {r.entity}, only create it")
            continue
        try:
            known, required = entity.known(r.action), entity.required(r.action)
        except LookupError as exc:
            issues.append(f"{where}: {exc}")
            continue
        response = op.response_schema(200)
        array = doc.at_path(response, r.records) if response else None
        if array is None or doc.resolve(array).get("type") != "array":
            issues.append(f"{where}: records path {r.records!r} is not an array in the response")
            continue
        record = doc.object_schema(doc.resolve(array).get("items"))
        props = record.get("properties", {})
        for name in [
            r.key,
            *(x for s in r.fields.values() for x in _source_fields(s)),
            *(ref.source for ref in r.refs.values()),
        ]:
            if doc.at_path(record, name) is None:
                issues.append(f"{where}: their record has no field {name!r}")
        for target in [*r.fields, *r.refs]:
            if target not in known:
                issues.append(f"{where}: wuye's {r.entity} has no field {target!r}")
        mapped = set(r.fields) | set(r.refs)
        for name in required:
            if name not in mapped:
                issues.append(f"{where}: required wuye field {name!r} is not mapped")
        for name in record.get("required", []):
            used = {x.split(".")[0] for s in r.fields.values() for x in _source_fields(s)}
            used |= {r.key} | {ref.source for ref in r.refs.values()}
            if name not in used and name in props:
                issues.append(f"{where}: their required field {name!r} is not mapped (ignored)")
        for page in (r.page_param, r.size_param):
            if page and page not in {p["name"] for p in op.parameters}:
                issues.append(f"{where}: no paging parameter {page!r}")
    return [i for i in issues if not i.endswith("(ignored)")] + [
        i for i in issues if i.endswith("(ignored)")
    ]


def _check_push(doc: Document, r: Resource, where: str, op: Any) -> list[str]:
    issues = []
    if r.entity not in PUSHABLE:
        issues.append(f"{where}: wuye cannot push {r.entity}")
    body = doc.object_schema(op.request_schema)
    props = body.get("properties", {})
    for target in r.fields:
        if target not in props:
            issues.append(f"{where}: their request has no field {target!r}")
    for name in body.get("required", []):
        if name not in r.fields:
            issues.append(f"{where}: their required field {name!r} is not mapped")
    return issues


def is_error(issue: str) -> bool:
    return not issue.endswith("(ignored)")


# --- run -----------------------------------------------------------------------------


@dataclass
class Report:
    run_id: str = ""
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    status: str = "running"

    def count(self, entity: str, what: str) -> None:
        bucket = self.counts.setdefault(entity, {"created": 0, "skipped": 0, "failed": 0})
        bucket[what] = bucket.get(what, 0) + 1


def _value(record: dict[str, Any], spec: Any) -> Any:
    if isinstance(spec, str):
        return dig(record, spec)
    if isinstance(spec, dict):
        if "const" in spec:
            return spec["const"]
        value = dig(record, spec["from"])
        if "map" in spec:
            value = spec["map"].get(value, spec.get("default", value))
        return value
    return spec


#: Statuses that say the caller, not the page, is at fault: no other page will do better.
_CALLER_AT_FAULT = frozenset({401, 403})


def _records(
    client: OperationClient, r: Resource, page_failed: Callable[[int, CallFailed], None]
) -> Iterator[dict[str, Any]]:
    """Every record ``r``'s operation lists, page by page. A page that fails for good
    goes to ``page_failed`` and the walk goes on with the next page, when pages are
    numbered and the page before it answered; otherwise the failure ends the walk."""
    page = 1
    seen = 0
    total = None
    failed_before = lost = False
    for _ in range(100_000):  # bounded: a broken total must not loop forever
        params = {}
        if r.page_param:
            params = {r.page_param: page, **({r.size_param: r.page_size} if r.size_param else {})}
        try:
            data = client.call(r.operation, params=params)
        except CallFailed as exc:
            if not r.page_param or failed_before or exc.status in _CALLER_AT_FAULT:
                raise
            page_failed(page, exc)
            failed_before = lost = True
            if total is not None and r.size_param and page * r.page_size >= total:
                return  # that was the last page
            page += 1
            continue
        failed_before = False
        rows = dig(data, r.records) or []
        yield from rows
        seen += len(rows)
        total = dig(data, r.total) if r.total else None
        if not r.page_param or not rows or (total is not None and seen >= total):
            return
        if lost and total is not None and r.size_param and page * r.page_size >= total:
            return  # the last page (the records missing were on a page that failed)
        page += 1


def run(
    mapping: Mapping,
    *,
    database: Database,
    cipher: PersonalDataCipher,
    tenant_id: str,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
    client: OperationClient | None = None,
) -> Report:
    """Run ``mapping`` into (or out of) ``tenant_id``'s data."""
    say = progress or (lambda _line: None)
    issues = [i for i in check(mapping) if is_error(i)]
    if issues:
        raise Problem("validation-error", "mapping: " + "; ".join(issues))
    doc = Document.load(mapping.document)
    if client is None:
        client = OperationClient(doc, http_client(mapping.base_url, mapping.auth, doc))
    report = Report()
    scope = Scope.tenant(tenant_id)
    if not dry_run:
        with database.transaction(scope) as session:
            record = AdapterRun(mapping=mapping.name)
            session.add(record)
            session.flush()
            report.run_id = record.id
    #: A dry run's would-be links, so that later resources can refer to them.
    planned: dict[str, dict[str, str]] = {}
    try:
        for r in mapping.resources:
            say(f"{r.entity}: {r.operation}")
            if mapping.direction == "push":
                _push(mapping, r, client, database, scope, report, dry_run)
            else:
                _import(mapping, r, client, database, scope, cipher, report, dry_run, say, planned)
        report.status = "completed" if not report.errors else "completed_with_errors"
    except CallFailed as exc:
        report.status = "interrupted"
        report.errors.append({"entity": "-", "key": "-", "error": str(exc)})
        say(f"中断 / interrupted: {exc}  (再次运行即可续传 / run again to resume)")
    finally:
        if not dry_run:
            with database.transaction(scope) as session:
                row = session.get(AdapterRun, report.run_id)
                if row is not None:
                    row.status, row.counts = report.status, report.counts
                    row.errors, row.finished_at = report.errors, utcnow()
    return report


def _links(session: Any, mapping: str, entity: str) -> dict[str, str]:
    rows = session.execute(
        select(AdapterLink.source_key, AdapterLink.target_id).where(
            AdapterLink.mapping == mapping, AdapterLink.entity == entity
        )
    )
    return dict(rows.all())


def _import(mapping, r, client, database, scope, cipher, report, dry_run, say, planned) -> None:
    entity = ENTITIES[r.entity]
    with database.transaction(scope) as session:
        done = _links(session, mapping.name, r.entity)
        parents = {
            ref.entity: _links(session, mapping.name, ref.entity) | planned.get(ref.entity, {})
            for ref in r.refs.values()
        }
    would = planned.setdefault(r.entity, {})

    def page_failed(page: int, exc: CallFailed) -> None:
        report.count(r.entity, "pages_failed")
        report.errors.append(
            {"entity": r.entity, "key": f"page {page}", "page": page, "error": str(exc)}
        )
        say(f"  {r.entity}: 第 {page} 页失败，继续下一页 / page {page} failed, going on")

    n = 0
    for record in _records(client, r, page_failed):
        n += 1
        key = str(dig(record, r.key))
        if key in done:
            report.count(r.entity, "skipped")
            continue
        data = {target: _value(record, spec) for target, spec in r.fields.items()}
        data = {k: v for k, v in data.items() if v is not None}
        try:
            for target, ref in r.refs.items():
                source = dig(record, ref.source)
                keys = source if ref.many else [source]
                ids = []
                for k in keys or []:
                    if str(k) not in parents[ref.entity]:
                        raise LookupError(f"{ref.entity} {k} was not imported")
                    ids.append(parents[ref.entity][str(k)])
                data[target] = ids if ref.many else ids[0]
            if r.action == "match":
                with database.transaction(scope) as session:
                    target_id = entity.find(session, data)
                    if not dry_run:
                        session.add(_link(mapping, r, key, target_id))
                outcome = "matched"
            else:
                data = entity.prepare(data, issuer=mapping.name, key=key)
                entity.validate(data)
                target_id, outcome = f"dry-run:{key}", "created"
                if not dry_run:
                    with database.transaction(scope) as session:
                        target_id, created = entity.create(session, cipher, data)
                        session.add(_link(mapping, r, key, target_id))
                    outcome = "created" if created else "matched"
            if dry_run:
                would[key] = target_id
            else:
                done[key] = target_id
            report.count(r.entity, outcome)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            _fail(report, r.entity, key, f"{where}: {first['msg']}")
        except (Problem, LookupError) as exc:
            _fail(report, r.entity, key, getattr(exc, "detail", None) or str(exc))
        if n % 20 == 0:
            say(f"  {r.entity}: {n}")
    say(f"  {r.entity}: {report.counts.get(r.entity, {})}")


def _link(mapping: Mapping, r: Resource, key: str, target_id: str) -> AdapterLink:
    return AdapterLink(mapping=mapping.name, entity=r.entity, source_key=key, target_id=target_id)


def _push(mapping, r, client, database, scope, report, dry_run) -> None:
    with database.transaction(scope) as session:
        done = _links(session, mapping.name, r.entity)
        rows = rows_to_push(session, r.entity)
    for row in rows:
        key = str(row[r.key])
        if key in done:
            report.count(r.entity, "skipped")
            continue
        body = {target: _value(row, spec) for target, spec in r.fields.items()}
        body = {k: v for k, v in body.items() if v is not None}
        if dry_run:
            problems = client.doc.errors(client.doc.operation(r.operation).request_schema, body)
            if problems:
                _fail(report, r.entity, key, "; ".join(problems))
            else:
                report.count(r.entity, "created")
            continue
        try:
            result = client.call(r.operation, body=body)
        except CallFailed as exc:
            if exc.status is not None and exc.status < 500 and exc.status != 429:
                _fail(report, r.entity, key, str(exc))  # this record's fault: go on
                continue
            raise
        external = str(dig(result, r.response_key or "id"))
        with database.transaction(scope) as session:
            session.add(
                AdapterLink(
                    mapping=mapping.name, entity=r.entity, source_key=key, target_id=external
                )
            )
        report.count(r.entity, "created")


def _fail(report: Report, entity: str, key: str, error: str) -> None:
    report.count(entity, "failed")
    report.errors.append({"entity": entity, "key": key, "error": error})
