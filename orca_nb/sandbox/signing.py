"""Expiring HMAC-signed download links in the style of upstream TOS links (``X-Tos-Expires``)."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from urllib.parse import urlencode

_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z", re.ASCII)
_EXPIRES = re.compile(r"[0-9]{1,12}", re.ASCII)
_HEX = re.compile(r"[0-9a-f]{64}", re.ASCII)


class Signer:
    """Signs paths with a secret; a link is valid for ``expires`` seconds after its date."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _digest(self, path: str, date: str, expires: int) -> str:
        message = f"{path}\n{date}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def query(self, path: str, now: float, ttl: float) -> str:
        """The query string (without ``?``) that makes ``path`` downloadable for ``ttl`` s."""
        date = datetime.fromtimestamp(int(now), tz=UTC).strftime(_DATE_FORMAT)
        expires = int(ttl)
        return urlencode(
            {
                "X-Tos-Algorithm": "TOS4-HMAC-SHA256",
                "X-Tos-Date": date,
                "X-Tos-Expires": str(expires),
                "X-Tos-Signature": self._digest(path, date, expires),
            }
        )

    def check(self, path: str, params: dict[str, str], now: float) -> str | None:
        """``None`` when the link is valid now, else why not (``"expired"`` or ``"invalid"``)."""
        date = params.get("X-Tos-Date", "")
        raw_expires = params.get("X-Tos-Expires", "")
        signature = params.get("X-Tos-Signature", "")
        # only the shapes this signer writes: ASCII digits and lowercase hex (non-ASCII text
        # cannot be compared in constant time, and huge numbers cannot be added to a date)
        if not (
            _DATE.fullmatch(date) and _EXPIRES.fullmatch(raw_expires) and _HEX.fullmatch(signature)
        ):
            return "invalid"
        try:
            expires = int(raw_expires)
            issued = datetime.strptime(date, _DATE_FORMAT).replace(tzinfo=UTC).timestamp()
        except ValueError:
            return "invalid"
        if not hmac.compare_digest(signature, self._digest(path, date, expires)):
            return "invalid"
        if now > issued + expires:
            return "expired"
        return None
