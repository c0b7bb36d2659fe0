"""Decoding uploaded text files."""

from __future__ import annotations

from engine.errors import InvalidInput


def decode_upload(data: bytes) -> str:
    """Return ``data`` as text (UTF-8, with or without BOM); raise InvalidInput naming ``file``."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text", {"field": "file"}) from None
