"""Writes tickets.tsv: 240 made-up customer-support messages, each labelled with the team that
should answer it (billing, shipping, technical). One in eight raises two teams' topics and is
labelled with either, as real tickets do: no model reaches zero loss, and one that memorises
the training split's choices overfits. Deterministic; run it to regenerate the file.

    python sweeps/data/make_tickets.py
"""

from __future__ import annotations

import random
from pathlib import Path

OPENERS = ["Hi,", "Hello,", "Hey there,", "Good morning,", "", "Help please:", "Urgent:"]
TOPICS = {
    "billing": [
        "I was charged twice for my order {n}",
        "my invoice shows the wrong amount",
        "the refund for order {n} never arrived on my card",
        "why did my subscription price go up this month",
        "I need a receipt with my company's tax number",
        "can I pay the rest by bank transfer instead of card",
        "the discount code was not applied at checkout",
        "please cancel my plan before the next payment",
    ],
    "shipping": [
        "my parcel {n} has not moved for a week",
        "the courier left the box at the wrong address",
        "can you send order {n} to my office instead",
        "the package arrived damaged and half empty",
        "tracking says delivered but nothing came",
        "how long does delivery to Norway take",
        "one item of order {n} is missing from the box",
        "I want to pick the order up myself from the depot",
    ],
    "technical": [
        "the app crashes when I open the settings page",
        "I cannot log in since the last update",
        "the device will not connect to my wifi",
        "error code {n} appears when I save a file",
        "the screen stays black after the firmware update",
        "sync between my phone and laptop stopped working",
        "the password reset email never arrives",
        "the export button does nothing in the browser",
    ],
}
CLOSERS = ["", "Thanks.", "Thank you!", "What should I do?", "Please help.", "Any ideas?"]


def tickets(count: int = 240, seed: int = 0) -> list[tuple[str, str]]:
    """``count`` (message, team) pairs, the teams in equal shares."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        team = list(TOPICS)[i % len(TOPICS)]
        body = rng.choice(TOPICS[team]).format(n=rng.randint(1000, 9999))
        if rng.random() < 1 / 8:  # a second topic; the label is either team's, by chance
            other = rng.choice([t for t in TOPICS if t != team])
            second = rng.choice(TOPICS[other]).format(n=rng.randint(1000, 9999))
            body, team = f"{body}, and {second}", rng.choice([team, other])
        text = " ".join(p for p in (rng.choice(OPENERS), body + ".", rng.choice(CLOSERS)) if p)
        rows.append((text, team))
    rng.shuffle(rows)
    return rows


if __name__ == "__main__":
    out = Path(__file__).with_name("tickets.tsv")
    out.write_text("message\tteam\n" + "".join(f"{t}\t{team}\n" for t, team in tickets()))
    print(f"wrote {out}")
