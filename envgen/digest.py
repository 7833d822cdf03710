"""The one way envgen names content by hash.

Every input hash in a file header, every plan, profile and request digest, the knowledge base's
version and the lock index's file hashes come from here, so two commands hashing the same thing
always agree (`verify` and `create` once hashed the same profile differently).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Short names (16 hex digits, 64 bits) are for humans comparing headers and indexes; whole files
# that guard integrity (lock files in the index) keep the full sha256.
SHORT = 16


def sha256(data: bytes | str) -> str:
    """The full hex sha256 of bytes, or of text as UTF-8."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def short(data: bytes | str) -> str:
    """The short hex sha256 of bytes or text."""
    return sha256(data)[:SHORT]


def of_json(data: Any) -> str:
    """The short hash of a JSON-able value in canonical form (sorted keys, no whitespace choice
    left to the caller), so the same value always has the same name."""
    return short(json.dumps(data, sort_keys=True))
