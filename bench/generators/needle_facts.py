"""Ten facts to find in a generated timeline, each with similar distractors (issue 8's
multi-needle test): half seen in a chat or mail window, half heard in a short call.

A distractor shares the fact's topic words (another password rotated, another meeting
moved, another booking reference) with different details, so a query that names the topic
finds all of them and ranking must tell them apart. Queries name the topic, never the
answer; a fact counts as found when its ``answer`` (a fragment that holds the secret
detail, on the fact's one line) is in the window's text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from gen_timeline import ACTIVE, START, US, Plant


@dataclass(frozen=True)
class Fact:
    how: str  # chat, mail or heard
    who: str
    where: str  # chat channel or mail subject
    text: str
    answer: str
    query: str
    distractors: tuple[tuple[str, str, str, str], ...]  # (how, who, where, text)


FACTS = (
    Fact(
        "chat",
        "Omar Haddad",
        "#ops",
        "Heads up: the staging database password was rotated to tangerine-47, update your .env files",
        "rotated to tangerine-47",
        "What was the staging database password rotated to?",
        (
            (
                "chat",
                "Omar Haddad",
                "#ops",
                "FYI the production database password was rotated to walnut-12 this morning",
            ),
            ("heard", "", "", "and the staging redis password was rotated to harbor-93 yesterday so check your config"),
            (
                "mail",
                "IT Security",
                "Password rotation notice",
                "The analytics database password was rotated to copper-88 on schedule.",
            ),
        ),
    ),
    Fact(
        "heard",
        "",
        "",
        "okay so Dana moved the budget review to Thursday at 3pm because finance needs another day",
        "budget review to Thursday at 3pm",
        "When is the budget review meeting now that Dana moved it?",
        (
            ("heard", "", "", "Dana moved the design review to Friday at 10am so we have time for the mockups"),
            ("chat", "Marco Rossi", "#eng", "I moved the budget sync to Tuesday at 2pm, same room"),
            (
                "mail",
                "Priya Natarajan",
                "Hiring review moved",
                "I moved the hiring review to Monday at 4pm, sorry for the shuffle.",
            ),
        ),
    ),
    Fact(
        "mail",
        "Lisbon Air",
        "Your flight to Lisbon is confirmed",
        "Your flight to Lisbon on March 14 is confirmed. Booking reference: QX7R2M",
        "Booking reference: QX7R2M",
        "What is the booking reference of my flight to Lisbon?",
        (
            (
                "mail",
                "Rail Europe",
                "Your flight to Berlin is confirmed",
                "Your flight to Berlin on April 2 is confirmed. Booking reference: LK3P9D",
            ),
            (
                "mail",
                "Hotel Alfama",
                "Your hotel in Lisbon is confirmed",
                "Your hotel in Lisbon from March 14 is confirmed. Booking reference: HT8W2A",
            ),
            (
                "chat",
                "Sofia Lindqvist",
                "#random",
                "my train to Porto is booked, booking reference ZP4N6C if anyone wants to join",
            ),
        ),
    ),
    Fact(
        "heard",
        "",
        "",
        "by the way the wifi password on the fourth floor is now lanternfish all one word",
        "fourth floor is now lanternfish",
        "What is the wifi password on the fourth floor?",
        (
            ("heard", "", "", "the guest wifi password is now copperkettle for the visitors this week"),
            ("chat", "Tom Gallagher", "#random", "the wifi password on the third floor is bluefinch again"),
            (
                "mail",
                "Facilities",
                "Fourth floor printer",
                "The fourth floor printer code is 5521, the wifi there is unchanged.",
            ),
        ),
    ),
    Fact(
        "chat",
        "Lena Fischer",
        "#release",
        "The deploy freeze starts December 18 and ends January 4, no prod changes in between",
        "freeze starts December 18",
        "When does the deploy freeze start and end?",
        (
            (
                "chat",
                "Lena Fischer",
                "#release",
                "Reminder: the mobile code freeze starts December 11 for the app store review",
            ),
            ("heard", "", "", "and the infra freeze ends January 9 so the migration waits until then"),
            (
                "mail",
                "Release Team",
                "Deploy window change",
                "The deploy window moved to Wednesdays at 10am starting next sprint.",
            ),
        ),
    ),
    Fact(
        "heard",
        "",
        "",
        "good news Acme Logistics renewed for 84,000 dollars a year for three more years",
        "renewed for 84,000",
        "How much did Acme Logistics renew their contract for?",
        (
            ("heard", "", "", "Acme Robotics renewed for 52,000 dollars but only for one year"),
            (
                "mail",
                "Sales Ops",
                "Renewal closed: Bluefin Logistics",
                "Bluefin Logistics renewed for 61,000 dollars a year.",
            ),
            (
                "chat",
                "Ines Carvalho",
                "#support",
                "Acme Logistics asked for a 10 percent discount on the renewal, can someone call them",
            ),
        ),
    ),
    Fact(
        "mail",
        "PyCon Program Committee",
        "Your talk schedule",
        "Your talk slot is Room B at 11:40 on the second day of the conference.",
        "Room B at 11:40",
        "Which room and time is my conference talk slot?",
        (
            (
                "mail",
                "PyCon Program Committee",
                "Your workshop schedule",
                "Your workshop slot is Room D at 14:00 on the first day of the conference.",
            ),
            ("chat", "Aisha Bello", "#eng", "the conference poster session is in Hall A at 16:30 on day two"),
            ("heard", "", "", "the keynote slot at the conference is 9:00 in the main hall on the first day"),
        ),
    ),
    Fact(
        "heard",
        "",
        "",
        "Marco's new phone extension is 4417 since he moved desks last week",
        "extension is 4417",
        "What is Marco's new phone extension?",
        (
            ("chat", "Priya Natarajan", "#random", "my new phone extension is 4402 if you need me"),
            ("heard", "", "", "the support line extension is 4000 and it forwards to the on-call phone"),
            ("mail", "Facilities", "Desk moves", "Marco's new desk is 3F-12 by the window, his phone moves with him."),
        ),
    ),
    Fact(
        "chat",
        "Omar Haddad",
        "#oncall",
        "On-call rotation for next week: Priya then Lena, swap requests by Friday",
        "Priya then Lena",
        "Who is on call next week?",
        (
            ("chat", "Omar Haddad", "#oncall", "On-call rotation for this week: Omar then Tom, pager is set"),
            (
                "mail",
                "Ops Calendar",
                "Holiday on-call rotation",
                "Holiday on-call rotation: Kenji then Aisha, then Raj.",
            ),
            ("heard", "", "", "the on-call rotation for the database team next week is Raj and Hannah"),
        ),
    ),
    Fact(
        "heard",
        "",
        "",
        "we raised the API rate limit for the partner tier to 1200 requests per minute",
        "1200 requests per minute",
        "What is the API rate limit for the partner tier now?",
        (
            ("chat", "Kenji Watanabe", "#eng", "the API rate limit for the free tier stays at 60 requests per minute"),
            (
                "mail",
                "Platform Team",
                "Rate limits update",
                "The enterprise tier API rate limit was raised to 5000 requests per minute.",
            ),
            ("heard", "", "", "the partner tier burst limit is 200 requests per second for now"),
        ),
    ),
)

COMBINED_QUERY = (
    "What changed about the staging database password, the budget review Dana moved, the flight to Lisbon "
    "booking, the fourth floor wifi password, the deploy freeze, the Acme Logistics renewal, my conference "
    "talk slot, Marco's phone extension, next week's on-call rotation and the partner tier API rate limit?"
)


@dataclass
class Needles:
    facts: list[tuple[Fact, Plant]]
    plants: list[Plant]  # facts and distractors, by time
    combined_query: str = COMBINED_QUERY


def _moment(rng: random.Random, day: int) -> object:
    a, b = rng.choice(ACTIVE)
    offset = rng.randrange(a + 10 * 60 * US, b - 10 * 60 * US)  # not in the first or last 10 minutes of a stretch
    return START + timedelta(days=day, microseconds=offset)


def plant_needles(days: int = 30, *, seed: int = 1) -> Needles:
    """The ten facts at scattered days (one in each tenth of the range, in a seeded order) and
    their distractors at other random days; none on the last day, so a window of the newest
    activity alone does not find them."""
    rng = random.Random(seed * 7919 + days)
    spread = max(1, days - 1)
    order = rng.sample(range(10), 10)
    facts, plants = [], []
    for slot, fact in zip(order, FACTS):
        day = min(spread - 1, int((slot + rng.random()) * spread / 10))
        plant = Plant(_moment(rng, day), fact.how, fact.text, fact.who, fact.where)
        facts.append((fact, plant))
        plants.append(plant)
        for how, who, where, text in fact.distractors:
            other = rng.choice([d for d in range(spread) if d != day] or [day])
            plants.append(Plant(_moment(rng, other), how, text, who, where))
    plants.sort(key=lambda p: p.at)
    return Needles(facts, plants)
