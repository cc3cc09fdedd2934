"""oauth.hashing: secrets of 256 bits, stored as SHA-256; passwords as salted scrypt."""
import base64
import hashlib

from oauth import hashing


def test_secrets_carry_256_bits_and_their_prefix():
    values = {hashing.new_secret(hashing.PREFIX_CLIENT_SECRET) for _ in range(50)}
    assert len(values) == 50
    for value in values:
        assert value.startswith("allys_")
        raw = base64.urlsafe_b64decode(value[len("allys_"):] + "=")
        assert len(raw) == 32


def test_secret_hash_is_sha256_and_matches_only_its_secret():
    secret = hashing.new_secret(hashing.PREFIX_BEARER_TOKEN)
    stored = hashing.hash_secret(secret)
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    assert hashing.secret_matches(secret, stored)
    assert not hashing.secret_matches(secret + "x", stored)
    assert not hashing.secret_matches("", stored)


def test_password_hash_is_salted_scrypt():
    first = hashing.hash_password("correct horse battery staple")
    second = hashing.hash_password("correct horse battery staple")
    assert first != second  # a fresh salt each time
    tag, n, r, p, salt, digest = first.split("$")
    assert (tag, int(n), int(r), int(p)) == ("scrypt", 2 ** 15, 8, 3)
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32
    assert hashing.verify_password("correct horse battery staple", first)
    assert not hashing.verify_password("correct horse battery stapler", first)


def test_unusable_stored_passwords_never_verify():
    for stored in (None, "", "plain-text", "bcrypt$1$2$3$x$y", "scrypt$x$8$1$AA==$AA=="):
        assert not hashing.verify_password("anything", stored)
