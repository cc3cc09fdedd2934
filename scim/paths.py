"""The one attribute-path parser (RFC 7644 §3.10, §3.5.2 Figure 7), shared by filters, PATCH
paths, `attributes`/`excludedAttributes` and `sortBy`.

    PATH = [schema-URN ":"] attrName ["[" valFilter "]"] ["." subAttr]

A URN prefix is matched against the resource type's registered schema ids (longest first), so
the dot in "2.0" never splits the path (ssoready PR #167). Names resolve case-insensitively
against the attribute table; `AttrPath.key` is the canonical spelling ("name.givenName",
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"). A bracket filter
is parsed by scim2-filter-parser and checked against the parent's sub-attributes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from scim2_filter_parser import ast

from scim import filter_ast
from scim.errors import InvalidPath, ScimError
from scim.resources import ResourceType
from scim.schemas import Attribute, Schema

_PATH_RE = re.compile(r"([A-Za-z][A-Za-z0-9_$-]*)(?:\[(.*)\])?(?:\.([A-Za-z$][A-Za-z0-9_$-]*))?", re.DOTALL)


@dataclass(frozen=True)
class AttrPath:
    """A resolved path: the attribute, its schema (None for common ones), an optional
    sub-attribute and an optional value filter (PATCH `emails[type eq "work"].value`)."""

    schema: Schema | None
    attribute: Attribute
    sub_attribute: Attribute | None = None
    value_filter: ast.AST | None = None
    extension: bool = False

    @property
    def target(self) -> Attribute:
        """The attribute the path ends at."""
        return self.sub_attribute or self.attribute

    @property
    def key(self) -> str:
        """Canonical spelling without the filter; extension attributes carry their URN."""
        prefix = f"{self.schema.id}:" if self.extension else ""
        suffix = f".{self.sub_attribute.name}" if self.sub_attribute else ""
        return f"{prefix}{self.attribute.name}{suffix}"

    @property
    def container(self) -> str | None:
        """The document key holding the attribute: the extension URN, or None for top level."""
        return self.schema.id if self.extension else None

    def with_sub(self, sub: Attribute | None) -> "AttrPath":
        return AttrPath(self.schema, self.attribute, sub, self.value_filter, self.extension)


def resolve(rt: ResourceType, uri: str | None, name: str, sub_name: str | None = None, *,
            error: type[ScimError] = InvalidPath) -> AttrPath:
    """Resolve (schema URN, attribute, sub-attribute) names against the resource type."""
    if uri:
        schema = rt.schema_by_urn(uri)
        if schema is None:
            raise _unknown(error, f"The schema '{uri}' is not a schema of {rt.name}.")
        found = _in_schema(rt, schema, name)
    else:
        found = rt.top_level(name) or _only_extension_with(rt, name)
    if found is None:
        raise _unknown(error, f"The attribute '{name}' is not defined for {rt.name}.")
    schema, attribute = found
    path = AttrPath(schema, attribute, extension=schema is not None and schema is not rt.schema)
    if sub_name is None:
        return path
    return path.with_sub(sub_attribute(attribute, sub_name, error=error))


def _only_extension_with(rt: ResourceType, name: str):
    """Entra (entra/reference_check_manager, entra/manager_bare_string) names the enterprise
    `manager` without its URN; a name no core attribute has resolves to the one extension
    attribute of that name (never when two extensions share it)."""
    found = [(ext.schema, ext.schema.attribute(name)) for ext in rt.extensions if ext.schema.attribute(name)]
    return found[0] if len(found) == 1 else None


def _in_schema(rt: ResourceType, schema: Schema, name: str):
    attribute = schema.attribute(name)
    if attribute is not None:
        return schema, attribute
    return rt.top_level(name) if schema is rt.schema else None


def _unknown(error: type[ScimError], detail: str) -> ScimError:
    """An `error` that says the name is not in the attribute table (not a syntax problem)."""
    exc = error(detail)
    exc.unknown_name = True
    return exc


def sub_attribute(parent: Attribute, name: str, *, error: type[ScimError] = InvalidPath) -> Attribute:
    """A sub-attribute of a complex attribute, or `error` naming both."""
    if not parent.is_complex:
        raise error(f"The attribute '{parent.name}' has no sub-attributes ('{parent.name}.{name}').")
    sub = parent.sub(name)
    if sub is None:
        raise _unknown(error, f"The attribute '{parent.name}' has no sub-attribute '{name}'.")
    return sub


def parse(text: str, rt: ResourceType, *, error: type[ScimError] = InvalidPath,
          allow_filter: bool = True) -> AttrPath:
    """Parse and resolve one path; anything unknown or malformed is `error` naming it."""
    if not isinstance(text, str) or not text.strip():
        raise error("The path is empty.")
    text = text.strip()
    uri, rest = _split_urn(text, rt, error)
    match = _PATH_RE.fullmatch(rest)
    if match is None:
        raise error(f"The path '{text}' is malformed.")
    name, filter_text, sub_name = match.groups()
    path = resolve(rt, uri, name, None, error=error)
    if filter_text is not None:
        if not allow_filter:
            raise error(f"The path '{text}' may not contain a filter.")
        path = _with_filter(path, filter_text, error)
    if sub_name is not None:
        path = path.with_sub(sub_attribute(path.attribute, sub_name, error=error))
    return path


def _split_urn(text: str, rt: ResourceType, error) -> tuple[str | None, str]:
    if not text.lower().startswith("urn:"):
        return None, text
    lowered = text.lower()
    for schema in sorted(rt.all_schemas, key=lambda s: len(s.id), reverse=True):
        if lowered.startswith(schema.id.lower() + ":"):
            return schema.id, text[len(schema.id) + 1:]
    raise _unknown(error, f"The path '{text}' does not start with a schema of {rt.name}.")


def _with_filter(path: AttrPath, filter_text: str, error) -> AttrPath:
    """RFC 7644 §3.5.2: valuePath selects values of a multi-valued complex attribute."""
    if not (path.attribute.multi_valued and path.attribute.is_complex):
        raise error(f"A value filter needs a multi-valued complex attribute; '{path.attribute.name}' is not one.")
    node = filter_ast.parse(filter_text, error)
    check_value_filter(path.attribute, node, error)
    return AttrPath(path.schema, path.attribute, None, node, path.extension)


def check_value_filter(parent: Attribute, node, error) -> None:
    """Every attribute in a value filter must be a sub-attribute of `parent`, with no nesting."""
    for child in filter_ast.walk(node):
        if isinstance(child, ast.Filter) and child.namespace is not None:
            raise error(f"Value filters cannot be nested inside '{parent.name}[...]'.")
        if isinstance(child, ast.AttrExpr):
            value_filter_attribute(parent, child.attr_path, error)
            if filter_ast.op_name(child) != "pr":
                filter_ast.typed_value(value_filter_attribute(parent, child.attr_path, error),
                                       filter_ast.op_name(child), child.comp_value, error)


def value_filter_attribute(parent: Attribute, attr_path: ast.AttrPath, error) -> Attribute:
    """The sub-attribute an attrPath inside `parent[...]` names."""
    if not isinstance(attr_path.attr_name, str) or attr_path.uri or attr_path.sub_attr is not None:
        raise error(f"Inside '{parent.name}[...]' only sub-attributes of '{parent.name}' can be compared.")
    return sub_attribute(parent, attr_path.attr_name, error=error)


def parse_list(text: str | None, rt: ResourceType, *, error: type[ScimError]) -> list[AttrPath]:
    """A comma-separated list of paths (`attributes`, `excludedAttributes`, RFC 7644 §3.9).
    An extension schema's URN alone names all of its attributes (the extension is one complex
    attribute in the resource's JSON). Names this resource type does not define are skipped
    (a root /.search spans types)."""
    paths = []
    for item in _expand_extensions((text or "").split(","), rt):
        try:
            paths.append(parse(item, rt, error=error, allow_filter=False))
        except ScimError as exc:
            if not getattr(exc, "unknown_name", False):
                raise
    return paths


def _expand_extensions(items, rt: ResourceType):
    for item in (raw.strip() for raw in items):
        schema = rt.schema_by_urn(item) if item else None
        if schema is not None and schema is not rt.schema:
            yield from (f"{schema.id}:{attribute.name}" for attribute in schema.attributes)
        elif item:
            yield item
