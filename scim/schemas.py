"""The attribute table (RFC 7643 §2, §7): every attribute's characteristics, declared once.

`Attribute` and `Schema` describe an attribute as RFC 7643 §7 does (type, multiValued,
required, caseExact, mutability, returned, uniqueness, subAttributes, canonicalValues,
referenceTypes). The same objects drive request validation (scim.validation), discovery
(/Schemas), projection (returned), filter case rules (caseExact) and PUT/PATCH mutability.

The core schemas (User, EnterpriseUser, Group) are in scim.core_schemas. An app registers its
own extension schemas by building `Schema(...)` objects with these dataclasses and naming them
in a ResourceType's extensions, e.g.

    ALLY_USER = Schema(
        id="urn:ally:params:scim:schemas:extension:ally:2.0:User", name="AllyUser",
        attributes=(Attribute("status", mutability="readOnly", canonical_values=("invited", "active", "suspended")),))

Names are matched case-insensitively on input (RFC 7643 §2.1); output uses `name` as declared.
"""
from __future__ import annotations

from dataclasses import dataclass, field

TYPES = ("string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex")
MUTABILITIES = ("readOnly", "readWrite", "immutable", "writeOnly")
RETURNED = ("always", "never", "default", "request")
UNIQUENESS = ("none", "server", "global")


@dataclass(frozen=True)
class Attribute:
    """One attribute or sub-attribute (RFC 7643 §7 "attributes")."""

    name: str
    type: str = "string"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    sub_attributes: tuple["Attribute", ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    description: str = ""
    _by_name: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        _check_choice(self.name, "type", self.type, TYPES)
        _check_choice(self.name, "mutability", self.mutability, MUTABILITIES)
        _check_choice(self.name, "returned", self.returned, RETURNED)
        _check_choice(self.name, "uniqueness", self.uniqueness, UNIQUENESS)
        self._by_name.update({sub.name.lower(): sub for sub in self.sub_attributes})

    def sub(self, name: str) -> "Attribute | None":
        """The sub-attribute called `name` (any case), or None."""
        return self._by_name.get(name.lower())

    @property
    def is_complex(self) -> bool:
        return self.type == "complex"

    @property
    def read_only(self) -> bool:
        return self.mutability == "readOnly"

    def to_dict(self) -> dict:
        """The RFC 7643 §7 representation used by /Schemas."""
        out = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
        }
        if self.canonical_values:
            out["canonicalValues"] = list(self.canonical_values)
        if self.type in ("string", "reference", "binary"):
            out["caseExact"] = self.case_exact
        out.update(mutability=self.mutability, returned=self.returned)
        if self.type != "complex":
            out["uniqueness"] = self.uniqueness
        if self.reference_types:
            out["referenceTypes"] = list(self.reference_types)
        if self.sub_attributes:
            out["subAttributes"] = [sub.to_dict() for sub in self.sub_attributes]
        return out


@dataclass(frozen=True)
class Schema:
    """A schema: its URN id, name, description and top-level attributes (RFC 7643 §7)."""

    id: str
    name: str
    attributes: tuple[Attribute, ...]
    description: str = ""
    _by_name: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        self._by_name.update({attr.name.lower(): attr for attr in self.attributes})

    def attribute(self, name: str) -> Attribute | None:
        """The attribute called `name` (any case), or None."""
        return self._by_name.get(name.lower())

    def to_dict(self) -> dict:
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [attr.to_dict() for attr in self.attributes],
        }


def _check_choice(name: str, what: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"attribute {name!r}: {what} must be one of {', '.join(allowed)}, not {value!r}")


# -- Common attributes (RFC 7643 §3.1): part of every resource, of no schema -------------------

ID = Attribute(
    "id", case_exact=True, mutability="readOnly", returned="always", uniqueness="server",
    description="Unique identifier for the resource, assigned by the service provider.")
EXTERNAL_ID = Attribute(
    "externalId", case_exact=True,
    description="Identifier of the resource as defined by the provisioning client.")
META = Attribute(
    "meta", type="complex", mutability="readOnly",
    description="Resource metadata.",
    sub_attributes=(
        Attribute("resourceType", case_exact=True, mutability="readOnly", description="The name of the resource type."),
        Attribute("created", type="dateTime", mutability="readOnly", description="When the resource was added."),
        Attribute("lastModified", type="dateTime", mutability="readOnly",
                  description="When the resource was last changed."),
        Attribute("location", type="reference", reference_types=("uri",), case_exact=True, mutability="readOnly",
                  description="The URI of the resource."),
        Attribute("version", case_exact=True, mutability="readOnly", description="The version (ETag) of the resource."),
    ))
COMMON_ATTRIBUTES = (ID, EXTERNAL_ID, META)
COMMON = Schema(id="", name="common", attributes=COMMON_ATTRIBUTES,
                description="Common attributes of every resource (RFC 7643 §3.1).")
