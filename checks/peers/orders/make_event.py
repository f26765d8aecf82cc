#!/usr/bin/env python3
"""Writes the JSON workload's event (a batch of orders, about 512 KB) and the answer every
function must give (orders.rs's `summarize`, computed here with the same integer
arithmetic). Deterministic: the same bytes on every machine.

    make_event.py EVENT.json EXPECTED.json [--bytes N]     (default 524288)
"""
import json
import sys

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray").split()
CITIES = ["Lisboa", "Zürich", "København", "Kraków", "Reykjavík", "Tōkyō", "Montréal", "São Paulo"]
COUNTRIES = ["PT", "CH", "DK", "PL", "IS", "JP", "CA", "BR"]
STATUSES = ["pending", "paid", "shipped", "cancelled"]


class Lcg:
    """A fixed linear congruential generator: Python's `random` may change between versions."""

    def __init__(self, seed):
        self.state = seed

    def next(self, n):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) % 2**64
        return (self.state >> 33) % n


def order(rng, i):
    city = rng.next(len(CITIES))
    words = lambda n: " ".join(WORDS[rng.next(len(WORDS))] for _ in range(n))
    return {
        "id": 100000 + i,
        "status": STATUSES[rng.next(len(STATUSES))],
        "customer": {
            "id": rng.next(1000000),
            "name": words(2).title(),
            "email": f"customer{rng.next(100000)}@example.com",
            "vip": rng.next(5) == 0,
            "address": {
                "street": f"{rng.next(300) + 1} {words(2).title()} Street",
                "city": CITIES[city],
                "postcode": f"{rng.next(100000):05}",
                "country": COUNTRIES[city],
            },
        },
        "items": [
            {
                "sku": f"SKU-{rng.next(100000):05}",
                "quantity": rng.next(9) + 1,
                "unit_price_cents": rng.next(50000) + 99,
                "discount_pct": rng.next(4) * 5,
            }
            for _ in range(rng.next(6) + 1)
        ],
        "coupon": None if rng.next(3) else f"SAVE{rng.next(50)}",
        "tags": [WORDS[rng.next(len(WORDS))] for _ in range(rng.next(4))],
        "note": words(rng.next(12)),
    }


def summarize(batch):
    summary = {"batch_id": batch["batch_id"], "orders": len(batch["orders"]), "items": 0,
               "revenue_cents": 0, "by_country": {}, "totals": []}
    for o in batch["orders"]:
        total = sum(i["quantity"] * i["unit_price_cents"] * (100 - i["discount_pct"]) // 100 for i in o["items"])
        summary["items"] += sum(i["quantity"] for i in o["items"])
        cancelled = o["status"] == "cancelled"
        if not cancelled:
            summary["revenue_cents"] += total
            country = o["customer"]["address"]["country"]
            summary["by_country"][country] = summary["by_country"].get(country, 0) + total
        summary["totals"].append({"id": o["id"], "customer": o["customer"]["email"], "total_cents": total,
                                  "vip": o["customer"]["vip"], "cancelled": cancelled})
    return summary


def main():
    args = sys.argv[1:]
    size = 524288
    if "--bytes" in args:
        at = args.index("--bytes")
        size = int(args[at + 1])
        del args[at:at + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    rng = Lcg(2026)
    batch = {"batch_id": "batch-0001", "created_at": "2026-11-27T00:00:00Z", "orders": []}
    length = len(json.dumps(batch, ensure_ascii=False).encode())
    while length < size:
        o = order(rng, len(batch["orders"]))
        batch["orders"].append(o)
        length += len(json.dumps(o, ensure_ascii=False).encode()) + 2
    with open(args[0], "w", encoding="utf-8") as f:
        json.dump(batch, f, ensure_ascii=False)
    with open(args[1], "w", encoding="utf-8") as f:
        json.dump(summarize(batch), f, ensure_ascii=False)


if __name__ == "__main__":
    main()
