"""Secrets in one place: generating tokens and secrets, hashing them for storage, checking them.

Tokens, client secrets and authorization codes are 256-bit random values, so one SHA-256 is a
safe stored form (nothing to brute-force) and lets us look a presented value up by its hash.
Admin passwords are chosen by people and get a slow, salted KDF instead: scrypt from hashlib.
Every comparison of a secret with a stored hash is constant-time (hmac.compare_digest).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_BYTES = 32  # 256 bits
# Each kind of secret carries a prefix: the protector knows where to look without a query, and
# secret scanners (and people) can tell an Ally credential when they see one in a paste.
PREFIX_BEARER_TOKEN = "allyt_"
PREFIX_ACCESS_TOKEN = "allya_"
PREFIX_REFRESH_TOKEN = "allyr_"
PREFIX_CLIENT_SECRET = "allys_"
PREFIX_AUTHORIZATION_CODE = "allyc_"

# scrypt cost: one of OWASP's equivalent minimum settings (Password Storage Cheat Sheet:
# N=2^17 r=8 p=1, ..., N=2^15 r=8 p=3), using 32 MiB per check instead of 128 MiB.
SCRYPT_N = 2 ** 15
SCRYPT_R = 8
SCRYPT_P = 3
SCRYPT_MAXMEM = 64 * 1024 * 1024
SCRYPT_SALT_BYTES = 16
SCRYPT_LENGTH = 32
_SCRYPT_TAG = "scrypt"


def new_secret(prefix: str) -> str:
    """A fresh random secret: the prefix plus 256 bits, URL-safe base64 (43 characters)."""
    return prefix + secrets.token_urlsafe(SECRET_BYTES)


def new_identifier() -> str:
    """A public identifier (client_id): random, 128 bits, hex so it survives any transport."""
    return secrets.token_hex(16)


def hash_secret(value: str) -> str:
    """The stored form of a high-entropy secret: SHA-256, hex."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# A statement finding a row by a presented secret's hash is built once (oauth.tokens, oauth.issued),
# with this in place of the hash among its parameters: `lookup_parameters` puts each lookup's own.
HASH_SLOT = "<the presented secret's hash>"


def lookup_parameters(parameters: list, plaintext: str) -> list:
    """A kept lookup's parameters with the hash of `plaintext` in the HASH_SLOT."""
    hashed = hash_secret(plaintext)
    return [hashed if parameter == HASH_SLOT else parameter for parameter in parameters]


def secret_matches(value: str, stored_hash: str) -> bool:
    """Whether `value` hashes to `stored_hash`, compared in constant time."""
    return hmac.compare_digest(hash_secret(value), stored_hash)


def hash_password(password: str) -> str:
    """scrypt with a random salt, stored as scrypt$N$r$p$salt$hash (base64) so the cost can rise."""
    salt = secrets.token_bytes(SCRYPT_SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join([_SCRYPT_TAG, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str | None) -> bool:
    """Whether the password matches the stored scrypt hash. With no stored hash it still does
    the work of one check, so a missing account takes as long to refuse as a wrong password."""
    if not stored:
        _scrypt(password, b"\0" * SCRYPT_SALT_BYTES, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        return False
    try:
        tag, n, r, p, salt, digest = stored.split("$")
        params = int(n), int(r), int(p)
        expected = base64.b64decode(digest)
        salt_bytes = base64.b64decode(salt)
    except ValueError:
        return False
    if tag != _SCRYPT_TAG:
        return False
    return hmac.compare_digest(_scrypt(password, salt_bytes, *params), expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=SCRYPT_MAXMEM, dklen=SCRYPT_LENGTH)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
