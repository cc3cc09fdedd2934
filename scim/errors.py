"""SCIM errors (RFC 7644 §3.12): one class per scimType and status, one renderer.

Raise these anywhere under scim/ and in backends; `render` turns one into the error document
`{"schemas": [...Error], "status": "400", "scimType": "...", "detail": "..."}` (status as a
string, RFC 7644 §3.12). Unexpected exceptions become `InternalError`: a fixed detail and a
request id, never the exception text (the cause goes to the log).
"""
from __future__ import annotations

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimError(Exception):
    """Base class: `status`, `scim_type` and a default `detail` as class attributes."""

    status: int = 400
    scim_type: str | None = None
    detail: str = "The request is not valid."

    def __init__(self, detail: str | None = None, *, headers: dict | None = None):
        super().__init__(detail or self.detail)
        self.detail = detail or type(self).detail
        self.headers = dict(headers or {})


# -- RFC 7644 §3.12, Table 9: 400 Bad Request with a scimType --------------------------------

class InvalidFilter(ScimError):
    """RFC 7644 §3.12 invalidFilter: the filter syntax was invalid or the operator or attribute
    is not supported."""

    scim_type = "invalidFilter"
    detail = ("The specified filter syntax was invalid, or the specified attribute and filter comparison "
              "combination is not supported.")


class TooMany(ScimError):
    """RFC 7644 §3.12 tooMany: the filter yields more results than the server will process."""

    scim_type = "tooMany"
    detail = "The specified filter yields many more results than the server is willing to calculate or process."


class Uniqueness(ScimError):
    """RFC 7644 §3.12 uniqueness (409): one or more unique attribute values are in use."""

    status = 409
    scim_type = "uniqueness"
    detail = "One or more of the attribute values are already in use or are reserved."


class Mutability(ScimError):
    """RFC 7644 §3.12 mutability: the change is incompatible with an attribute's mutability."""

    scim_type = "mutability"
    detail = "The attempted modification is not compatible with the target attribute's mutability or current state."


class InvalidSyntax(ScimError):
    """RFC 7644 §3.12 invalidSyntax: the request body structure was invalid."""

    scim_type = "invalidSyntax"
    detail = "The request body message structure was invalid or did not conform to the request schema."


class InvalidPath(ScimError):
    """RFC 7644 §3.12 invalidPath: the "path" attribute was invalid or malformed."""

    scim_type = "invalidPath"
    detail = 'The "path" attribute was invalid or malformed.'


class NoTarget(ScimError):
    """RFC 7644 §3.12 noTarget: the path did not yield an attribute or value to operate on."""

    scim_type = "noTarget"
    detail = 'The specified "path" did not yield an attribute or attribute value that could be operated on.'


class InvalidValue(ScimError):
    """RFC 7644 §3.12 invalidValue: a required value was missing or a value was not compatible
    with the operation or the attribute type."""

    scim_type = "invalidValue"
    detail = ("A required value was missing, or the value specified was not compatible with the operation "
              "or attribute type.")


class InvalidVersion(ScimError):
    """RFC 7644 §3.12 invalidVers: the protocol version is not supported."""

    scim_type = "invalidVers"
    detail = "The specified SCIM protocol version is not supported."


class Sensitive(ScimError):
    """RFC 7644 §3.12 sensitive (403): the request cannot be completed because of sensitive
    information in the request URI (e.g. a filter on a password)."""

    status = 403
    scim_type = "sensitive"
    detail = "The specified request cannot be completed, due to the passing of sensitive information in a request URI."


# -- RFC 7644 §3.12, Table 8: statuses without a scimType -------------------------------------

class NotModified(ScimError):
    """RFC 7644 §3.14: If-None-Match matched the current version (304, no body)."""

    status = 304
    detail = "Not modified."


class Forbidden(ScimError):
    """RFC 7644 §3.12 (403): the operation is not permitted, e.g. a filter on a discovery
    endpoint (RFC 7644 §4)."""

    status = 403
    detail = "The operation is not permitted."


class NotFound(ScimError):
    """RFC 7644 §3.12 (404): the resource or endpoint does not exist."""

    status = 404
    detail = "Resource not found."


class MethodNotAllowed(ScimError):
    """RFC 7644 §3.12 (405): the method is not supported on this endpoint."""

    status = 405
    detail = "The HTTP method is not supported on this endpoint."


class Conflict(ScimError):
    """RFC 7644 §3.12 (409) without a scimType: the change conflicts with the resource's state."""

    status = 409
    detail = "The request conflicts with the current state of the resource."


class PreconditionFailed(ScimError):
    """RFC 7644 §3.12 and §3.14 (412): If-Match did not match the resource's current version."""

    status = 412
    detail = "The resource has changed since the version given in If-Match."


class PayloadTooLarge(ScimError):
    """RFC 7644 §3.12 (413): the request body is larger than the server accepts (see also
    §3.7.4 for /Bulk's maxPayloadSize and maxOperations)."""

    status = 413
    detail = "The request body is too large."


class UnsupportedMediaType(ScimError):
    """RFC 7644 §3.1 and §3.8 (415): requests carry application/scim+json (or application/json)."""

    status = 415
    detail = "Request bodies must be application/scim+json or application/json."


class TooManyRequests(ScimError):
    """429 (RFC 6585 §4): the client sent more requests than the service allows; Retry-After
    says when to try again. RFC 7644 names no scimType for it."""

    status = 429
    detail = "Too many requests; retry after the number of seconds in the Retry-After header."

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ServiceUnavailable(ScimError):
    """503: the service cannot answer now (e.g. its database did not answer in time); the
    request id goes to the client so the operator can find the cause in the log."""

    status = 503
    detail = "The service is temporarily unavailable."

    def __init__(self, detail: str, request_id: str):
        super().__init__(f"{detail} Request id: {request_id}.", headers={"X-Request-Id": request_id})


class InternalError(ScimError):
    """RFC 7644 §3.12 (500): an unexpected failure. The detail is fixed and names the request id;
    the cause is only in the log."""

    status = 500
    detail = "An unexpected error occurred."

    def __init__(self, request_id: str):
        super().__init__(f"An unexpected error occurred. Request id: {request_id}.",
                         headers={"X-Request-Id": request_id})


def render(error: ScimError) -> tuple[int, dict | None, dict]:
    """The one renderer: (status, error document or None for 304, headers)."""
    if error.status == 304:
        return 304, None, dict(error.headers)
    document = {"schemas": [ERROR_SCHEMA], "status": str(error.status)}
    if error.scim_type:
        document["scimType"] = error.scim_type
    document["detail"] = error.detail
    return error.status, document, dict(error.headers)
