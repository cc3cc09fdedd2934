"""Domain errors of the Ally directory. Each carries the exact text an Ally admin would see;
the SCIM backends map them to SCIM errors and the CLI prints them (exit status 1).

The three families tell a backend the SCIM answer (RFC 7644 §3.12):
- `NotFound`: 404.
- `Conflict`: 409 with scimType `uniqueness`.
- `InvalidValue`: 400 with scimType `invalidValue`.
`OwnsObjectives` and `InvalidInvitation` stand alone: a SCIM DELETE never meets the first
(it marks the user pending deletion instead), and the second belongs to the join page.
`StaleVersion` stands alone too: a compare-and-set write lost to another writer (SCIM 412).
"""
from __future__ import annotations


class AllyError(Exception):
    """A refused operation. `message` is shown to the person or IdP that asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(AllyError):
    """The thing named does not exist in this organisation."""


class Conflict(AllyError):
    """A value that must be unique in the organisation is taken."""


class InvalidValue(AllyError):
    """A value the directory cannot accept."""


class TooLong(InvalidValue):
    """A text value longer than the directory keeps for `field` (a column name, or
    "<kind>.<column>" for a multi-valued user attribute)."""

    def __init__(self, field: str, limit: int, lowered: bool = False):
        super().__init__(f"{field} is longer than {limit} characters{LOWERED if lowered else ''}")
        self.field = field
        self.limit = limit
        self.lowered = lowered  # only its lower-case form (its key) is too long


# A few characters are longer in lower case ("İ" becomes "i" and a combining dot); the key a
# userName, email or team name is compared by is its lower-case form, in a column of its own.
LOWERED = " in lower case, as it is compared"


class AccountSuspended(Conflict):
    """Inviting (creating) a user whose userName or email belongs to a suspended user. Ally's
    answer: reactivate that account instead of inviting it again."""

    TEXT = "This account has been suspended"

    def __init__(self, user_id: str):
        super().__init__(self.TEXT)
        self.user_id = user_id


class DuplicateUser(Conflict):
    """userName or primary email already used by another user of the organisation."""

    def __init__(self, field: str, value: str, user_id: str | None = None):
        label = "userName" if field == "user_name" else "email"
        super().__init__(f"A user with the {label} {value!r} already exists")
        self.field = field
        self.value = value
        self.user_id = user_id


class DuplicateTeam(Conflict):
    def __init__(self, name: str):
        super().__init__(f"A team named {name!r} already exists")
        self.name = name


class StaleVersion(AllyError):
    """The caller changed a user or team as of a version (SCIM If-Match) that is no longer the
    stored one: nothing was changed."""

    def __init__(self, user_label: str, expected):
        super().__init__(f"{user_label} has changed since version {expected}; read it again before changing it")
        self.expected = expected


class OwnsObjectives(AllyError):
    """Ally: "Admins cannot delete a user if they are the current owner of any objective"."""

    def __init__(self, count: int):
        noun = "objective" if count == 1 else "objectives"
        super().__init__(f"This user owns {count} {noun}; reassign them before deleting the user")
        self.count = count


class OutsideDomain(InvalidValue):
    """The organisation refuses users outside its auto-join domains (outside_domains: reject)."""

    def __init__(self, domain: str | None, allowed: list[str]):
        listed = ", ".join(allowed) if allowed else "none"
        if domain:
            text = f"The email domain {domain!r} is not one of this organisation's domains ({listed})"
        else:
            text = f"A user needs an email address on one of this organisation's domains ({listed})"
        super().__init__(text)
        self.domain = domain
        self.allowed = list(allowed)


class MissingUserName(InvalidValue):
    def __init__(self):
        super().__init__("A user needs a userName")


class UnknownField(InvalidValue):
    """A caller asked the directory to change something it does not hold or does not change
    this way (status, admin and manager have their own operations)."""

    def __init__(self, names):
        super().__init__(f"Cannot change {', '.join(sorted(names))} this way")
        self.names = sorted(names)


class ManagerNotFound(InvalidValue):
    """The manager is unknown, pending deletion, or belongs to another organisation (which we
    do not reveal)."""

    def __init__(self, manager_id: str):
        super().__init__(f"The manager {manager_id!r} is not a user of this organisation")
        self.manager_id = manager_id


class ManagerCycle(InvalidValue):
    def __init__(self, user_label: str, manager_label: str):
        if user_label == manager_label:
            text = f"{user_label} cannot be their own manager"
        else:
            text = (f"{manager_label} cannot be the manager of {user_label}: "
                    f"{user_label} is already above {manager_label} in the management chain")
        super().__init__(text)


class MemberNotFound(InvalidValue):
    def __init__(self, user_ids):
        ids = ", ".join(sorted(user_ids))
        super().__init__(f"No user with the id {ids} in this organisation")
        self.user_ids = sorted(user_ids)


class ParentTeamNotFound(InvalidValue):
    def __init__(self, team_id: str):
        super().__init__(f"The parent team {team_id!r} is not a team of this organisation")
        self.team_id = team_id


class TeamCycle(InvalidValue):
    def __init__(self, team_name: str, parent_name: str):
        super().__init__(f"{parent_name!r} cannot be the parent team of {team_name!r}: "
                         f"it is {team_name!r} itself or one of its sub-teams")


class InvalidTeamName(InvalidValue):
    def __init__(self):
        super().__init__("A team needs a name")


class InvalidInvitation(AllyError):
    """A join link that is unknown, used, revoked or expired."""

    UNKNOWN = "This invitation link is not valid"
    USED = "This invitation link has already been used"
    EXPIRED = "This invitation link has expired"
