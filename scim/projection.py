"""`attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) over the attribute table's
`returned` characteristic (RFC 7643 §2.2): always (id, schemas) is always there, never
(password) never is, request only when asked for, default unless excluded.

The resolved `Projection` is handed to backends too: `projection.wants("members")` tells a
backend whether it must load an attribute at all (Groups with excludedAttributes=members do not
load members). Sub-attribute granularity (`name.givenName`, `emails.value`) and extension
URNs are supported; names a resource type does not define are skipped.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from scim import paths
from scim.errors import InvalidValue
from scim.resources import ResourceType
from scim.schemas import Attribute


@dataclass(frozen=True)
class Projection:
    resource_type: ResourceType
    attributes: tuple[paths.AttrPath, ...] = ()
    excluded: tuple[paths.AttrPath, ...] = ()
    default_excluded: tuple[str, ...] = ()
    # What apply() found for each document key and attribute, worked out once per request: a
    # page applies the same projection to every document (scim.handlers.render).
    _keys: dict = field(default_factory=dict, compare=False, repr=False)
    _decisions: dict = field(default_factory=dict, compare=False, repr=False)

    def wants(self, name: str) -> bool:
        """Will the response hold the top-level attribute `name` (or any part of it)?"""
        known = self.resource_type.compiled.setdefault("top_level_paths", {})
        path = known.get(name)
        if path is None:
            path = known[name] = paths.parse(name, self.resource_type, allow_filter=False)
        return self._decision(path.attribute, path.container) is not False

    def apply(self, document: dict) -> dict:
        """The document with only the attributes the request should see."""
        out = {}
        for key, value in document.items():
            if key == "schemas":
                out[key] = value
                continue
            target = self._keys.get(key)
            if target is None:
                target = self._keys[key] = self._target(key)
            extension, attribute = target
            if extension is not None:
                kept = self._object(extension.attributes, value, extension.id)
                if kept:
                    out[key] = kept
            elif attribute is not None:
                self._put(out, attribute, value, None)
        return out

    def _target(self, key: str) -> tuple:
        """(extension schema, None) for an extension's URN, (None, attribute) for a core or
        common attribute, (None, None) for a name the resource type does not define."""
        rt = self.resource_type
        extension = rt.schema_by_urn(key)
        if extension is not None and extension is not rt.schema:
            return extension, None
        found = rt.top_level(key)
        return None, (found[1] if found is not None else None)

    def _object(self, attributes, value: dict, container) -> dict:
        out = {}
        by_name = {a.name: a for a in attributes}
        for key, item in (value or {}).items():
            if key in by_name:
                self._put(out, by_name[key], item, container)
        return out

    def _put(self, out: dict, attribute: Attribute, value, container) -> None:
        decision = self._decision(attribute, container)
        if decision is False:
            return
        if decision is True or not attribute.is_complex:
            out[attribute.name] = _drop_never(attribute, value)
            return
        subs = _project_subs(attribute, value, decision)
        if subs not in (None, [], {}):
            out[attribute.name] = subs

    def _decision(self, attribute: Attribute, container):
        """True (whole attribute), False (left out), or (keep, drop) sub-attribute name sets."""
        key = (id(attribute), container)  # attributes live as long as their schema
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._decisions[key] = self._decide(attribute, container)
        return decision

    def _decide(self, attribute: Attribute, container):
        if attribute.returned == "never":
            return False
        if attribute.returned == "always":
            return True
        if self.attributes:
            return self._requested(attribute, container)
        if attribute.returned == "request" or attribute.name in self.default_excluded:
            return False
        return self._not_excluded(attribute, container)

    def _requested(self, attribute: Attribute, container):
        matching = [p for p in self.attributes if p.attribute is attribute and p.container == container]
        if not matching:
            return False
        if any(p.sub_attribute is None for p in matching):
            return True
        return ({p.sub_attribute.name for p in matching}, set())

    def _not_excluded(self, attribute: Attribute, container):
        matching = [p for p in self.excluded if p.attribute is attribute and p.container == container]
        if any(p.sub_attribute is None for p in matching):
            return False
        if not matching:
            return True
        return (None, {p.sub_attribute.name for p in matching})


def _project_subs(attribute: Attribute, value, decision):
    keep, drop = decision

    def one(item):
        if not isinstance(item, dict):
            return item
        return {k: v for k, v in item.items() if _keep_sub(attribute.sub(k), keep, drop)}

    if isinstance(value, list):
        return [p for p in (one(item) for item in value) if p]
    return one(value)


def _keep_sub(sub: Attribute | None, keep, drop) -> bool:
    if sub is None or sub.returned == "never":
        return False
    if sub.returned == "always":
        return True
    if keep is not None:
        return sub.name in keep
    return sub.name not in drop and sub.returned != "request"


def _drop_never(attribute: Attribute, value):
    if not attribute.is_complex:
        return value
    return _project_subs(attribute, value, (None, set()))


def from_params(rt: ResourceType, attributes: str | None, excluded: str | None, *,
                default_excluded: tuple[str, ...] = ()) -> Projection:
    """RFC 7644 §3.9: the projection asked for by query parameters (or a SearchRequest)."""
    return Projection(
        rt,
        tuple(paths.parse_list(attributes, rt, error=InvalidValue)),
        tuple(paths.parse_list(excluded, rt, error=InvalidValue)),
        default_excluded,
    )


def full(rt: ResourceType) -> Projection:
    """Every attribute a client may see by default (used internally, e.g. after create)."""
    return Projection(rt)
