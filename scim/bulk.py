"""/Bulk (RFC 7644 §3.7): many operations in one request, each through the same handlers as
the single endpoints (scim.handlers), each in its own transaction.

- `bulkId` references ("bulkId:qwerty" as a whole string value anywhere in `data`, or as a
  path segment) are resolved to the ids created earlier in the request, in whatever order the
  operations come: an operation waits until the operations it refers to have run.
- A reference that is never defined is 400 invalidValue for that operation; a reference to a
  failed operation is 400 invalidValue; operations that wait on each other in a circle are
  409 with a detail naming the circle.
- `failOnErrors`: after that many errors the remaining operations are not run (RFC 7644
  §3.7.3). More than maxOperations operations, or a body larger than maxPayloadSize, is 413
  (RFC 7644 §3.7.4), checked before anything runs.
"""
from __future__ import annotations

import logging
import re
import uuid

from flask import g

from scim import handlers
from scim.errors import (Conflict, InternalError, InvalidSyntax, InvalidValue, MethodNotAllowed,
                         NotFound, PayloadTooLarge, ScimError, render)

log = logging.getLogger(__name__)
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
_REFERENCE = re.compile(r"^bulkId:(.+)$")
_REPEATED = "repeated bulkId"  # marks an operation whose bulkId an earlier one has (not a key of RFC 7644)


def check_payload_size(size: int | None, ctx: handlers.Context) -> None:
    """RFC 7644 §3.7.4: a body over maxPayloadSize is refused with 413 before parsing."""
    if size is not None and size > ctx.config.bulk_max_payload_bytes:
        limit = ctx.config.bulk_max_payload_bytes
        raise PayloadTooLarge(f"The size of the bulk operation exceeds the maxPayloadSize ({limit}).")


def handle_bulk(ctx: handlers.Context, body: dict) -> handlers.ScimResponse:
    """RFC 7644 §3.7: run the operations and report each one's status."""
    operations, fail_on_errors = _parse(ctx, body)
    created, failed, results, errors = {}, set(), [], 0
    pending = list(enumerate(operations))
    while pending and (fail_on_errors is None or errors < fail_on_errors):
        index, operation = _next_ready(pending, created, failed)
        pending.remove((index, operation))
        result = _run(ctx, operation, created, failed, pending)
        results.append(result)
        if int(result["status"]) >= 400:
            errors += 1
            if isinstance(operation.get("bulkId"), str) and not operation.get(_REPEATED):
                failed.add(operation["bulkId"])
    return handlers.ScimResponse(200, {"schemas": [BULK_RESPONSE], "Operations": results})


def _parse(ctx: handlers.Context, body: dict):
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or BULK_REQUEST.lower() not in {str(s).lower() for s in schemas}:
        raise InvalidSyntax(f"A bulk body must have \"schemas\": [\"{BULK_REQUEST}\"].")
    operations = body.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise InvalidSyntax("'Operations' must be a non-empty array.")
    if len(operations) > ctx.config.bulk_max_operations:
        raise PayloadTooLarge(f"The number of operations exceeds the maxOperations ({ctx.config.bulk_max_operations}).")
    fail_on_errors = body.get("failOnErrors")
    if fail_on_errors is not None and not _positive_integer(fail_on_errors):
        raise InvalidValue("'failOnErrors' must be a positive integer.")
    return _marked([op if isinstance(op, dict) else {"invalid": op} for op in operations]), fail_on_errors


def _marked(operations: list[dict]) -> list[dict]:
    """RFC 7644 §3.7: a bulkId is unique within a request. An operation repeating an earlier
    one's is refused on its own: references go to the first, whose result it does not change."""
    seen, out = set(), []
    for operation in operations:
        bulk_id = operation.get("bulkId")
        if isinstance(bulk_id, str) and bulk_id in seen:
            operation = {**operation, _REPEATED: True}
        elif isinstance(bulk_id, str):
            seen.add(bulk_id)
        out.append(operation)
    return out


def _positive_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _next_ready(pending: list, created: dict, failed: set):
    """The first operation whose references have all run (or failed); else the first one,
    which will then report the circle or the undefined reference."""
    for index, operation in pending:
        if all(ref in created or ref in failed for ref in references(operation)):
            return index, operation
    return pending[0]


def references(operation: dict) -> set[str]:
    """Every bulkId an operation refers to, in its path and its data."""
    found, stack = set(), [operation.get("path"), operation.get("data")]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found.update(m.group(1) for part in value.split("/") if (m := _REFERENCE.match(part)))
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


def _run(ctx: handlers.Context, operation: dict, created: dict, failed: set, pending: list) -> dict:
    method = str(operation.get("method", "")).upper()
    result = {"method": method}
    if operation.get("bulkId") is not None:
        result["bulkId"] = operation["bulkId"]
    try:
        _check_bulk_id(operation)
        _check_references(operation, created, failed, pending)
        response = _dispatch(ctx, method, _resolve(operation, created))
    except ScimError as error:
        return _failure(result, error)
    except Exception:  # noqa: BLE001 - one broken operation must not lose the others' results
        request_id = getattr(g, "request_id", None) or uuid.uuid4().hex
        log.exception("unexpected error in bulk operation (request id %s)", request_id)
        return _failure(result, InternalError(request_id))
    result["status"] = str(response.status)
    if response.headers.get("Location") or (response.document or {}).get("meta"):
        result["location"] = response.headers.get("Location") or response.document["meta"]["location"]
    if response.headers.get("ETag"):
        result["version"] = response.headers["ETag"]
    if method == "POST" and operation.get("bulkId") is not None:
        created[operation["bulkId"]] = response.document["id"]
    return result


def _failure(result: dict, error: ScimError) -> dict:
    status, document, _ = render(error)
    result.update(status=str(status), response=document)
    return result


def _check_bulk_id(operation: dict) -> None:
    bulk_id = operation.get("bulkId")
    if bulk_id is not None and not isinstance(bulk_id, str):
        raise InvalidSyntax("'bulkId' must be a string.")
    if operation.get(_REPEATED):
        raise InvalidValue(f"bulkId '{bulk_id}' is used by an earlier operation of this request; each must be unique.")


def _check_references(operation: dict, created: dict, failed: set, pending: list) -> None:
    for ref in sorted(references(operation)):
        if ref in failed:
            raise InvalidValue(f"bulkId '{ref}' refers to an operation that failed.")
        if ref in created:
            continue
        if any(other.get("bulkId") == ref for _, other in pending) or operation.get("bulkId") == ref:
            raise Conflict(f"bulkId '{ref}' is part of a circular reference between operations.")
        raise InvalidValue(f"bulkId '{ref}' is not defined by a POST operation in this request.")


def _resolve(operation: dict, created: dict) -> dict:
    def swap(value):
        if isinstance(value, str):
            return "/".join(created.get(m.group(1), part) if (m := _REFERENCE.match(part)) else part
                            for part in value.split("/"))
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return {**operation, "path": swap(operation.get("path")), "data": swap(operation.get("data"))}


def _dispatch(ctx: handlers.Context, method: str, operation: dict) -> handlers.ScimResponse:
    """RFC 7644 §3.7: the operation's path is an endpoint, or an endpoint and an id."""
    if "invalid" in operation:
        raise InvalidSyntax("Each bulk operation must be a JSON object.")
    path = operation.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidSyntax("Each bulk operation needs a 'path' such as /Users or /Users/{id}.")
    endpoint, _, resource_id = path.partition("/")[2].partition("/")
    rt = ctx.by_endpoint("/" + endpoint)
    if rt is None:
        raise NotFound(f"No resource endpoint at {path}.")
    data, version = operation.get("data"), operation.get("version")
    if version is not None and not isinstance(version, str):
        raise InvalidSyntax("The operation's 'version' must be a string: the resource's ETag, such as W/\"3\".")
    if method == "POST" and not resource_id:
        return handlers.handle_create(ctx, rt, _object(data))
    if not resource_id or method not in ("PUT", "PATCH", "DELETE"):
        raise MethodNotAllowed(f"{method or 'No method'} is not supported on {path} in a bulk request.")
    if method == "DELETE":
        return handlers.handle_delete(ctx, rt, resource_id, version)
    handle = handlers.handle_replace if method == "PUT" else handlers.handle_patch
    return handle(ctx, rt, resource_id, _object(data), None, version)


def _object(data) -> dict:
    if not isinstance(data, dict):
        raise InvalidSyntax("The operation's 'data' must be a JSON object.")
    return data
