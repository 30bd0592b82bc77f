"""What publishing costs on platforms that bill per post (X's pay-per-use prices since 2026).

`plan` shows the expected bill of the campaigns, `run` the bill of what it sent: nobody should be
surprised by an invoice. Prices live with each adapter (`Adapter.cost`, `prices_as_of`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.platforms import adapter_class


@dataclass
class Bill:
    """Posts (and thread parts) sent or to send on one billing platform, and their price."""

    platform: str
    parts: int = 0
    with_price: dict[float, int] | None = None
    dollars: float = 0.0

    def line(self, what: str) -> str:
        """E.g. `x: 12 posts/parts to send, $1.23 (8 × $0.015, 4 × $0.20; prices of 2026-02-06)`."""
        kinds = ", ".join(f"{n} × {_money(price)}" for price, n in self._kinds())
        as_of = adapter_class(self.platform).prices_as_of
        return (
            f"{self.platform}: {self.parts} post(s)/part(s) {what}, {_money(self.dollars)} "
            f"({kinds}; {self.platform}'s prices of {as_of})"
        )

    def _kinds(self) -> list[tuple[float, int]]:
        return sorted((self.with_price or {}).items())


def bills(parts: Iterable[tuple[str, str]]) -> list[Bill]:
    """The bill per platform of sending each (platform, text) part; platforms that bill only."""
    found: dict[str, Bill] = {}
    for platform, text in parts:
        price = adapter_class(platform).cost(text)
        if price is None:
            continue
        bill = found.setdefault(platform, Bill(platform, with_price={}))
        bill.parts += 1
        bill.with_price[price] = bill.with_price.get(price, 0) + 1
        bill.dollars += price
    return [found[p] for p in sorted(found)]


def _money(dollars: float) -> str:
    """$0.20, $1.23, $0.015: cents, or tenths of a cent where the price has them."""
    return f"${dollars:.2f}" if abs(round(dollars, 2) - dollars) < 1e-9 else f"${dollars:.3f}"
