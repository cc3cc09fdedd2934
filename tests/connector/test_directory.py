"""Creating and changing users: uniqueness per organisation (case-insensitive), the suspended
refusal with Ally's exact text, the primary email Ally uses, and audited profile changes."""
import pytest

from connector import directory
from connector.errors import AccountSuspended, DuplicateUser, MissingUserName, NotFound, UnknownField
from connector.models import AuditEvent, User, UserValue
from connector.organisations import create_organisation


def test_create_user_stores_profile_and_values(org):
    user = directory.create_user(
        org, {"user_name": "Ada@Acme.example", "given_name": "Ada", "family_name": "Lovelace", "title": "CTO"},
        values={"emails": [{"value": "ada@acme.example", "type": "work", "primary": True}],
                "phoneNumbers": [{"value": "+44 20 7946 0000", "type": "work"}]})
    stored = User.get_by_id(user.id)
    assert (stored.user_name, stored.user_name_key) == ("Ada@Acme.example", "ada@acme.example")
    assert (stored.email, stored.email_key) == ("ada@acme.example", "ada@acme.example")
    assert (stored.given_name, stored.title, stored.version) == ("Ada", "CTO", 1)
    kinds = [(v.kind, v.value, v.value_key) for v in UserValue.select().where(UserValue.user == user).order_by(UserValue.kind)]
    assert kinds == [("emails", "ada@acme.example", "ada@acme.example"), ("phoneNumbers", "+44 20 7946 0000", "+44 20 7946 0000")]


def test_username_is_unique_case_insensitively(org, make_user):
    """RFC 7643 §4.1.1: userName ... caseExact false; Ally: unique per organisation."""
    make_user("bob@acme.example")
    with pytest.raises(DuplicateUser) as caught:
        make_user("BOB@acme.example", email="robert@acme.example")
    assert caught.value.message == "A user with the userName 'BOB@acme.example' already exists"
    assert caught.value.field == "user_name"


def test_primary_email_is_unique_case_insensitively(org, make_user):
    make_user("bob", email="bob@acme.example")
    with pytest.raises(DuplicateUser) as caught:
        make_user("robert", email="Bob@ACME.example")
    assert caught.value.message == "A user with the email 'Bob@ACME.example' already exists"


def test_same_username_in_another_organisation_is_fine(org, make_user):
    other = create_organisation("Globex", domains=["globex.example"])
    make_user("carol@acme.example")
    assert make_user("carol@acme.example", organisation=other).organisation_id == other.id


def test_inviting_a_suspended_users_address_is_refused_with_allys_text(org, make_user):
    """Ally: 'Unable to invite user; it says "This account has been suspended"'."""
    dave = directory.suspend(make_user("dave@acme.example"))
    for clash in ("DAVE@acme.example", "dave2"):
        with pytest.raises(AccountSuspended) as caught:
            make_user(clash, email="dave@acme.example")
        assert caught.value.message == "This account has been suspended"
        assert caught.value.user_id == dave.id


def test_username_is_required(org):
    with pytest.raises(MissingUserName) as caught:
        directory.create_user(org, {"user_name": "  "})
    assert caught.value.message == "A user needs a userName"


def test_unknown_fields_are_refused(org):
    with pytest.raises(UnknownField) as caught:
        directory.create_user(org, {"user_name": "x@acme.example", "status": "active"})
    assert caught.value.message == "Cannot change status this way"


@pytest.mark.parametrize("emails, user_name, expected", [
    ([{"value": "a@x.example"}, {"value": "b@x.example", "primary": True}], "u", "b@x.example"),
    ([{"value": "a@x.example", "type": "home"}, {"value": "w@x.example", "type": "Work"}], "u", "w@x.example"),
    ([{"value": "first@x.example", "type": "home"}, {"value": "o@x.example", "type": "other"}], "u", "first@x.example"),
    ([], "name@x.example", "name@x.example"),
    ([], "just-a-name", None),
])
def test_primary_email_rule(org, emails, user_name, expected):
    """The email Ally uses: the primary one, else the work one, else the first, else the
    userName when it looks like an address."""
    user = directory.create_user(org, {"user_name": user_name}, values={"emails": emails}, skip_invitation=True)
    assert user.email == expected
    assert user.email_key == (expected.lower() if expected else None)


def test_update_user_changes_fields_and_version_and_audits(org, make_user):
    erin = make_user("erin@acme.example")
    directory.update_user(erin, {"title": "Engineer", "department": "R&D"})
    stored = User.get_by_id(erin.id)
    assert (stored.title, stored.department, stored.version) == ("Engineer", "R&D", 2)
    event = AuditEvent.select().where(AuditEvent.action == "user.updated").get()
    assert event.changes == {"department": [None, "R&D"], "title": [None, "Engineer"]}
    assert event.target_id == erin.id and event.target_label == "erin@acme.example"


def test_update_with_the_same_values_changes_nothing(org, make_user):
    erin = make_user("erin@acme.example")
    directory.update_user(erin, {"title": "Engineer"},
                          values={"emails": [{"value": "erin@acme.example", "type": "work", "primary": True}]})
    directory.update_user(erin, {"title": "Engineer"},
                          values={"emails": [{"value": "erin@acme.example", "type": "work", "primary": True}]})
    assert User.get_by_id(erin.id).version == 2
    assert AuditEvent.select().where(AuditEvent.action == "user.updated").count() == 1


def test_update_emails_moves_the_primary_email(org, make_user):
    erin = make_user("erin@acme.example")
    directory.update_user(erin, {}, values={"emails": [{"value": "e.smith@acme.example", "primary": True}]})
    stored = User.get_by_id(erin.id)
    assert (stored.email, stored.email_key) == ("e.smith@acme.example", "e.smith@acme.example")
    event = AuditEvent.select().where(AuditEvent.action == "user.updated").get()
    assert event.changes["email"] == ["erin@acme.example", "e.smith@acme.example"]
    assert event.changes["emails"][1] == [{"value": "e.smith@acme.example", "primary": True}]


def test_update_refuses_a_taken_username_or_email(org, make_user):
    make_user("fay@acme.example")
    gus = make_user("gus@acme.example")
    with pytest.raises(DuplicateUser) as caught:
        directory.update_user(gus, {"user_name": "FAY@acme.example"})
    assert caught.value.message == "A user with the userName 'FAY@acme.example' already exists"
    with pytest.raises(DuplicateUser):
        directory.update_user(gus, {}, values={"emails": [{"value": "fay@acme.example"}]})
    assert User.get_by_id(gus.id).user_name == "gus@acme.example"
    assert (gus.user_name, gus.email, gus.version) == ("gus@acme.example", "gus@acme.example", 1)


def test_changing_only_the_case_of_the_username_is_allowed(org, make_user):
    gus = make_user("gus@acme.example")
    directory.update_user(gus, {"user_name": "Gus@Acme.example"})
    assert User.get_by_id(gus.id).user_name == "Gus@Acme.example"


def test_get_user_is_scoped_to_the_organisation(org, make_user):
    other = create_organisation("Globex")
    hal = make_user("hal@globex.example", organisation=other)
    with pytest.raises(NotFound) as caught:
        directory.get_user(org, hal.id)
    assert caught.value.message == f"No user with the id {hal.id!r} in this organisation"
    assert directory.get_user(other, hal.id).id == hal.id


def test_find_user_by_id_username_or_email(org, make_user):
    ivy = make_user("ivy", email="ivy@acme.example")
    assert directory.find_user(org, "IVY").id == ivy.id
    assert directory.find_user(org, "Ivy@Acme.Example").id == ivy.id
    assert directory.find_user(org, ivy.id).id == ivy.id
    with pytest.raises(NotFound):
        directory.find_user(org, "nobody@acme.example")


def test_users_query_leaves_out_users_pending_deletion(org, make_user):
    from connector import deletion
    from connector.objectives import add_objective

    kept, leaving = make_user("kept@acme.example"), make_user("leaving@acme.example")
    add_objective(org, leaving, "Hand over")
    deletion.scim_delete_user(leaving)
    assert [u.id for u in directory.users_query(org)] == [kept.id]


def test_over_long_or_non_text_values_are_refused_by_name(org, make_user):
    from connector.errors import InvalidValue

    with pytest.raises(InvalidValue) as caught:
        directory.create_user(org, {"user_name": "x@acme.example", "title": "t" * 256})
    assert caught.value.message == "title is longer than 255 characters"
    with pytest.raises(InvalidValue) as caught:
        directory.create_user(org, {"user_name": "x@acme.example"}, values={"emails": [{"value": "a@b.example", "type": 7}]})
    assert caught.value.message == "emails.type must be text"
    user = make_user("y@acme.example")
    with pytest.raises(InvalidValue) as caught:
        directory.update_user(user, {"user_name": "u" * 321})
    assert caught.value.message == "user_name is longer than 320 characters"
