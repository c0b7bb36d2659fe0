"""Password hashing with argon2id.

Production uses argon2-cffi's defaults (64 MiB, 3 passes). Tests may pass a cheaper hasher
(still argon2id) through ``Settings.password_hash_profile = "fast"``: thousands of sign-ins
in a test run would otherwise spend minutes hashing.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 4


class Passwords:
    """Hash and check passwords with one argon2id configuration."""

    def __init__(self, hasher: PasswordHasher | None = None):
        self._hasher = hasher or PasswordHasher()
        # A real hash to check against when the user does not exist, so a wrong user name
        # costs the same time as a wrong password and timing does not reveal which users exist.
        self._dummy = self._hasher.hash("wedscale-no-such-user")

    def hash(self, password: str) -> str:
        """Return the argon2id hash of ``password``."""
        return self._hasher.hash(password)

    def check(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches ``password_hash`` (None: compare against a dummy)."""
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False


def passwords_for(profile: str) -> Passwords:
    """Return the hasher for a profile: ``"default"`` or ``"fast"`` (tests only)."""
    if profile == "fast":
        return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    return Passwords()
