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


PLANS_KEPT = 256  # projections whose plans a resource type keeps (requests may name any attributes)


@dataclass(frozen=True)
class Projection:
    resource_type: ResourceType
    attributes: tuple[paths.AttrPath, ...] = ()
    excluded: tuple[paths.AttrPath, ...] = ()
    default_excluded: tuple[str, ...] = ()
    # What to do with each document key, worked out once per resource type and projection: a
    # page applies the same projection to every document (scim.handlers.render), and every
    # request of a kind asks for the same projection.
    _plans: dict = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "_plans", self._shared_plans())

    def wants(self, name: str) -> bool:
        """Will the response hold the top-level attribute `name` (or any part of it)?"""
        answer = self._plans.get(("wants", name))  # beside the plans of document keys, which are str
        if answer is None:
            path = paths.parse(name, self.resource_type, allow_filter=False)
            answer = self._plans[("wants", name)] = self._decide(path.attribute, path.container) is not False
        return answer

    def apply(self, document: dict) -> dict:
        """The document with only the attributes the request should see."""
        out, plans = {}, self._plans
        for key, value in document.items():
            put = plans.get(key, _UNPLANNED)
            if put is _UNPLANNED:
                put = plans[key] = self._plan(key)
            if put is not None:
                put(out, value)
        return out

    def _shared_plans(self) -> dict:
        """The plans of the projections equal to this one, kept on the resource type (a new
        dict, not kept, once PLANS_KEPT projections are)."""
        key = (_identities(self.attributes), _identities(self.excluded), self.default_excluded)
        kept = self.resource_type.compiled.setdefault("projection_plans", {})
        plans = kept.get(key)
        if plans is None:
            plans = {}
            if len(kept) < PLANS_KEPT:
                kept[key] = plans
        return plans

    def _plan(self, key: str):
        """How the document key `key` goes into the output: a function (out, value), or None
        when it is left out (a name the resource type does not define, or a decision)."""
        if key == "schemas":
            return _copy_to("schemas")
        rt = self.resource_type
        extension = rt.schema_by_urn(key)
        if extension is not None and extension is not rt.schema:
            return self._extension_plan(key, extension)
        found = rt.top_level(key)
        return self._attribute_plan(found[1], None) if found is not None else None

    def _extension_plan(self, key: str, extension):
        puts = {a.name: self._attribute_plan(a, extension.id) for a in extension.attributes}
        puts = {name: put for name, put in puts.items() if put is not None}

        def put_extension(out: dict, value) -> None:
            kept = {}
            for name, item in (value or {}).items():
                put = puts.get(name)
                if put is not None:
                    put(kept, item)
            if kept:
                out[key] = kept
        return put_extension

    def _attribute_plan(self, attribute: Attribute, container):
        decision = self._decide(attribute, container)
        if decision is False:
            return None
        name = attribute.name
        if not attribute.is_complex:
            return _copy_to(name)
        if decision is True:  # the whole attribute but what is never returned
            keep = _kept_subs(attribute, None, set())

            def put_whole(out: dict, value) -> None:
                out[name] = _only(value, keep)
            return put_whole
        keep = _kept_subs(attribute, *decision)

        def put_some(out: dict, value) -> None:
            subs = _only(value, keep)
            if subs not in (None, [], {}):
                out[name] = subs
        return put_some

    def _decide(self, attribute: Attribute, container):
        """True (whole attribute), False (left out), or (keep, drop) sub-attribute name sets."""
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


_UNPLANNED = object()


def _identities(attr_paths) -> tuple:
    """What makes two projections' paths the same (attributes live as long as their schema)."""
    return tuple((id(p.attribute), id(p.sub_attribute), p.container) for p in attr_paths)


def _copy_to(name: str):
    def put(out: dict, value) -> None:
        out[name] = value
    return put


def _kept_subs(attribute: Attribute, keep, drop) -> frozenset:
    """The sub-attribute names (lower-cased: sub-attribute names match in any case) a value
    of `attribute` keeps under a (keep, drop) decision."""
    return frozenset(sub.name.lower() for sub in attribute.sub_attributes if _keep_sub(sub, keep, drop))


def _only(value, keep: frozenset):
    """A complex value (or each item of a multi-valued one) with only the sub-attributes in
    `keep`; items left empty are dropped."""
    if isinstance(value, list):
        return [p for p in (_only_one(item, keep) for item in value) if p]
    return _only_one(value, keep)


def _only_one(item, keep: frozenset):
    if not isinstance(item, dict):
        return item
    return {k: v for k, v in item.items() if k.lower() in keep}


def _keep_sub(sub: Attribute, keep, drop) -> bool:
    if sub.returned == "never":
        return False
    if sub.returned == "always":
        return True
    if keep is not None:
        return sub.name in keep
    return sub.name not in drop and sub.returned != "request"


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
