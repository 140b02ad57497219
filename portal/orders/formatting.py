"""Money in the viewer's locale: integer minor units plus an ISO 4217 currency."""

from __future__ import annotations

from portal.core.formatting import money

__all__ = ["money"]
