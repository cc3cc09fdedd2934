"""RFC 7643 core schemas as attribute tables: User (§4.1), Group (§4.2), EnterpriseUser (§4.3).

Characteristics follow RFC 7643 §8.7.1 and §8.7.2, with three deliberate choices: Group
`displayName` is required (§4.2 says REQUIRED), `members.value` is required (a member without
an id means nothing) and `members.display` is readOnly (filled in by the service provider).
"""
from __future__ import annotations

from scim.schemas import Attribute, Schema

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _text(name: str, description: str, **kwargs) -> Attribute:
    return Attribute(name, description=description, **kwargs)


def _multi(name: str, description: str, types: tuple[str, ...], value: Attribute | None = None,
           **kwargs) -> Attribute:
    """A multi-valued complex attribute of the usual value/display/type/primary shape (§2.4)."""
    value = value or _text("value", f"The {name} value.")
    return Attribute(
        name, type="complex", multi_valued=True, description=description,
        sub_attributes=(
            value,
            _text("display", "A human-readable name, primarily used for display purposes."),
            _text("type", "A label indicating the attribute's function.", canonical_values=types),
            Attribute("primary", type="boolean", description="Whether this is the preferred value."),
        ),
        **kwargs)


NAME = Attribute(
    "name", type="complex", description="The components of the user's real name.",
    sub_attributes=(
        _text("formatted", "The full name, formatted for display."),
        _text("familyName", "The family name (last name)."),
        _text("givenName", "The given name (first name)."),
        _text("middleName", "The middle name(s)."),
        _text("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
        _text("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
    ))

ADDRESSES = Attribute(
    "addresses", type="complex", multi_valued=True, description="Physical mailing addresses.",
    sub_attributes=(
        _text("formatted", "The full mailing address, formatted for display."),
        _text("streetAddress", "The full street address."),
        _text("locality", "The city or locality."),
        _text("region", "The state or region."),
        _text("postalCode", "The zip code or postal code."),
        _text("country", "The country name (ISO 3166-1 alpha-2)."),
        _text("type", "A label indicating the address' function.", canonical_values=("work", "home", "other")),
        Attribute("primary", type="boolean", description="Whether this is the preferred address."),
    ))

GROUPS = Attribute(
    "groups", type="complex", multi_valued=True, mutability="readOnly",
    description="The groups the user belongs to, directly or indirectly.",
    sub_attributes=(
        _text("value", "The identifier of the group.", mutability="readOnly"),
        Attribute("$ref", type="reference", reference_types=("User", "Group"), mutability="readOnly",
                  description="The URI of the group."),
        _text("display", "The group's display name.", mutability="readOnly"),
        _text("type", "direct or indirect membership.", canonical_values=("direct", "indirect"), mutability="readOnly"),
    ))

USER = Schema(
    id=USER_URN, name="User", description="User Account",
    attributes=(
        _text("userName", "Unique identifier for the user, used to sign in.", required=True, uniqueness="server"),
        NAME,
        _text("displayName", "The name of the user, suitable for display."),
        _text("nickName", "The casual way to address the user."),
        Attribute("profileUrl", type="reference", reference_types=("external",),
                  description="A URI of the user's online profile."),
        _text("title", "The user's title, such as 'Vice President'."),
        _text("userType", "The relationship between the organization and the user, e.g. 'Employee'."),
        _text("preferredLanguage", "The user's preferred written or spoken language (e.g. 'en-US')."),
        _text("locale", "The user's default location for localisation (e.g. 'en-US')."),
        _text("timezone", "The user's time zone in the 'Olson' database format (e.g. 'America/Los_Angeles')."),
        Attribute("active", type="boolean", description="The user's administrative status."),
        Attribute("password", mutability="writeOnly", returned="never",
                  description="The user's clear-text password; never returned."),
        _multi("emails", "Email addresses for the user.", ("work", "home", "other")),
        _multi("phoneNumbers", "Phone numbers for the user.", ("work", "home", "mobile", "fax", "pager", "other")),
        _multi("ims", "Instant messaging addresses for the user.",
               ("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
        _multi("photos", "URLs of photos of the user.", ("photo", "thumbnail"),
               value=Attribute("value", type="reference", reference_types=("external",),
                               description="The URL of a photo.")),
        ADDRESSES,
        GROUPS,
        _multi("entitlements", "Entitlements for the user.", ()),
        _multi("roles", "Roles for the user.", ()),
        _multi("x509Certificates", "X.509 certificates issued to the user.", (),
               value=Attribute("value", type="binary", description="The DER-encoded, base64 certificate.")),
    ))

ENTERPRISE_USER = Schema(
    id=ENTERPRISE_USER_URN, name="EnterpriseUser", description="Enterprise User",
    attributes=(
        _text("employeeNumber", "Identifier assigned to the person by the organization."),
        _text("costCenter", "Name of a cost center."),
        _text("organization", "Name of an organization."),
        _text("division", "Name of a division."),
        _text("department", "Name of a department."),
        Attribute(
            "manager", type="complex", description="The user's manager.",
            sub_attributes=(
                _text("value", "The id of the SCIM resource representing the user's manager."),
                Attribute("$ref", type="reference", reference_types=("User",),
                          description="The URI of the manager's resource."),
                _text("displayName", "The displayName of the user's manager.", mutability="readOnly"),
            )),
    ))

GROUP = Schema(
    id=GROUP_URN, name="Group", description="Group",
    attributes=(
        _text("displayName", "A human-readable name for the group.", required=True),
        Attribute(
            "members", type="complex", multi_valued=True, description="A list of members of the group.",
            sub_attributes=(
                _text("value", "Identifier of the member.", mutability="immutable", required=True),
                Attribute("$ref", type="reference", reference_types=("User", "Group"), mutability="immutable",
                          description="The URI of the member resource."),
                _text("type", "The type of the member.", canonical_values=("User", "Group"), mutability="immutable"),
                _text("display", "The member's display name.", mutability="readOnly"),
            )),
    ))
