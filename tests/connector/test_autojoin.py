"""Auto-join (Admin > Settings > Signup Mode: "To enter more than one domain, separate them
with a comma") and the outside-domains policy (invite | reject)."""
import pytest

from connector import directory
from connector.errors import OutsideDomain
from connector.models import Invitation, User
from connector.organisations import parse_domains, update_organisation


def test_work_domain_joins_directly_without_invitation(org, make_user):
    user = make_user("ann@acme.example")
    assert user.status == "active" and user.joined_at is not None
    assert Invitation.select().count() == 0


@pytest.mark.parametrize("address", ["bo@ACME.Example", "BO@acme.example.", "bo@Beta.Example", "bo@xn--bcher-kva.example",
                                     "bo@Bücher.example", "bo@BÜCHER.EXAMPLE"])
def test_several_domains_case_and_idna(org, address):
    update_organisation(org, domains=parse_domains("acme.example, beta.example,bücher.example"))
    user = directory.create_user(org, {"user_name": address}, values={"emails": [{"value": address}]})
    assert User.get_by_id(user.id).status == "active"


def test_subdomains_are_not_work_domains(org, make_user):
    assert make_user("cy@eu.acme.example").status == "invited"


def test_outside_domain_is_invited_by_default(org, make_user):
    user = make_user("di@outside.example")
    assert user.status == "invited" and user.joined_at is None
    assert Invitation.select().where(Invitation.user == user).count() == 1


def test_outside_domain_rejected_names_the_domain_and_the_organisations_domains(org, make_user):
    update_organisation(org, outside_domains="reject", domains=["acme.example", "beta.example"])
    with pytest.raises(OutsideDomain) as caught:
        make_user("eve@Outside.Example")
    assert caught.value.message == ("The email domain 'outside.example' is not one of this organisation's domains "
                                    "(acme.example, beta.example)")
    assert User.select().count() == 0


def test_reject_without_any_email(org):
    update_organisation(org, outside_domains="reject")
    with pytest.raises(OutsideDomain) as caught:
        directory.create_user(org, {"user_name": "no-mail"})
    assert caught.value.message == "A user needs an email address on one of this organisation's domains (acme.example)"


def test_reject_applies_when_the_email_moves_outside(org, make_user):
    update_organisation(org, outside_domains="reject")
    user = make_user("fay@acme.example")
    with pytest.raises(OutsideDomain):
        directory.update_user(user, {}, values={"emails": [{"value": "fay@gmail.example", "primary": True}]})
    assert User.get_by_id(user.id).email == "fay@acme.example"


def test_organisation_without_domains_invites_everyone(org, make_user):
    update_organisation(org, domains=[])
    assert make_user("gus@acme.example").status == "invited"
