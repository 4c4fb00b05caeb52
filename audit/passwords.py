"""The password policy for new passwords (creating a user, setting or changing a password).

Following NIST SP 800-63B: a minimum length rather than composition rules, and a
refusal of passwords that are known to be common. A new password must
- be at least 12 characters (and at most 256),
- not be on the list of common passwords shipped in audit/data/common_passwords.txt,
  compared lower-cased, also with digits and symbols stripped from both ends
  (so "Sommerfugl2024!" is refused because "sommerfugl" is on the list),
- not be the username or contain it (for usernames of three characters or more),
- use at least five different characters (so "aaaaaaaaaaaa" or "abababababab" is refused).

Existing passwords keep working; the policy is checked when a password is set.
"""
from __future__ import annotations

from audit.i18n import _
import re
from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_DISTINCT = 5
COMMON_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"
_EDGES = re.compile(r"^[\d\W_]+|[\d\W_]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with COMMON_FILE.open(encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def problems(password: str, username: str = "") -> list[str]:
    """Every rule the password breaks, as sentences for the user (empty: acceptable)."""
    out: list[str] = []
    if len(password) < MIN_LENGTH:
        out.append(_("must be at least {n} characters long").format(n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        out.append(_("must be at most {n} characters long").format(n=MAX_LENGTH))
    lowered = password.lower()
    common = common_passwords()
    core = _EDGES.sub("", lowered)
    if lowered in common or lowered.strip() in common or (core and core != lowered and core in common):
        out.append(_("is a commonly used password (or one with digits or symbols added)"))
    name = username.strip().lower()
    if name and (lowered == name or (len(name) >= 3 and name in lowered)):
        out.append(_("must not be or contain the username"))
    if len(set(password)) < MIN_DISTINCT:
        out.append(_("must use at least {n} different characters").format(n=MIN_DISTINCT))
    return out


def check(password: str, username: str = "") -> None:
    """Raise ValueError naming every rule the new password breaks."""
    found = problems(password, username)
    if found:
        raise ValueError(_("the password {problems}").format(problems="; ".join(found)))
