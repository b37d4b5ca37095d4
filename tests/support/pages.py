"""Synthetic screens for the OCR tests and benchmark, rendered with PIL.

Real OCR needs real pixels: these pages draw known English prose and code with DejaVu fonts
at screen sizes, so tests can score recognised words against the text that was drawn.
``tests/tokenize_media/test_ocr_pages.py`` checks the pages themselves (a broken page would
make every OCR figure meaningless).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
WIDTH, HEIGHT = 1920, 1080
LIGHT = ((255, 255, 255), (20, 20, 20))
DARK = ((30, 30, 30), (212, 212, 212))

PROSE = [
    "The quarterly report was sent to the finance team on Monday morning.",
    "Please review invoice 4821 before the meeting with the supplier at 3 pm.",
    "Our new build pipeline cut the average deploy time from 14 to 6 minutes.",
    "Maria asked whether the warehouse in Rotterdam could ship 250 crates by Friday.",
    "A launch ticket for the screenshots feature is still waiting for design approval.",
    "The database migration touched 37 tables and finished without any errors.",
    "Remember to rotate the access keys every 90 days, as the security policy requires.",
    "He bought two tickets for the concert, row 12, seats 7 and 8.",
    "The library closes early on holidays, so return the books before noon.",
    "Weekly active users grew by 18 percent after the onboarding redesign shipped.",
    "Order number 55017 was delayed because the courier lost the original label.",
    "The garden needs water twice a week during the dry summer months.",
    "Customer support resolved 1342 conversations in October with a median wait of 4 minutes.",
    "Bring a laptop charger, a notebook and the printed agenda to the workshop.",
    "The river flooded the lower fields, and the farmers moved their cattle uphill.",
    "Budget for the marketing campaign is capped at 12000 euros for the first quarter.",
    "Every pull request must pass the linter, the unit tests and a review by a second engineer.",
    "She translated the contract into French and sent the draft back within two days.",
    "The train to Edinburgh leaves from platform 9 at 17:45 and arrives at midnight.",
    "Temperature sensors in building B reported a spike to 31 degrees at 2 am.",
    "Our team will present the roadmap for version 3 at the town hall next Thursday.",
    "The bakery on the corner sells fresh bread, croissants and apple pies.",
    "Backups are copied to a second region every night and kept for 30 days.",
    "Alice paid invoice 7719 by bank transfer, so the reminder can be cancelled.",
    "The hiking trail climbs 800 metres over six kilometres of rocky ground.",
    "Latency on the search endpoint dropped below 120 milliseconds after caching.",
    "Please confirm the venue booking for 45 guests and a vegetarian menu.",
    "The museum opened a new wing dedicated to early photography and film.",
    "A power outage interrupted the night shift for roughly 25 minutes.",
    "Release notes mention three fixed crashes and a faster startup on older phones.",
    "The committee approved the grant of 5000 dollars for the community garden.",
    "Our office plants survived the winter thanks to a very patient colleague.",
    "Shipping costs rose by 7 percent, mostly because of higher fuel prices.",
    "The conference keynote starts at 9:30 in hall A, followed by coffee.",
    "Volunteers cleaned the beach and collected 68 bags of plastic waste.",
    "The printer on the third floor jams whenever someone prints double sided.",
    "Payroll runs on the 25th of each month unless it falls on a weekend.",
    "He recorded a short video explaining how to reset the router password.",
    "The recipe calls for 200 grams of flour, three eggs and a pinch of salt.",
    "Invoices older than 60 days are escalated to the collections team.",
    "Engineers replaced the faulty cooling fan in rack 14 of the data centre.",
    "The children built a small wooden boat and painted it bright yellow.",
    "Quarterly taxes are due on the 15th, so prepare the receipts in advance.",
    "Our support chat now answers common questions in English and Spanish.",
    "The final draft of the novel runs to 412 pages and eleven chapters.",
]

CODE = [
    "def parse_invoice(path: str) -> dict[str, int]:",
    '    """Read one invoice file and return totals per customer."""',
    "    totals: dict[str, int] = {}",
    '    with open(path, encoding="utf-8") as handle:',
    "        for line_no, row in enumerate(handle, start=1):",
    '            customer_id, amount = row.split(",")',
    "            if not amount.strip().isdigit():",
    '                log.warning("bad amount on line %d", line_no)',
    "                continue",
    "            totals[customer_id] = totals.get(customer_id, 0) + int(amount)",
    "    return totals",
    "",
    "class RetryPolicy:",
    "    max_attempts = 5",
    "    base_delay_ms = 250",
    "",
    "    def next_delay(self, attempt: int) -> float:",
    "        return self.base_delay_ms * (2 ** attempt) / 1000.0",
    "",
    'if __name__ == "__main__":',
    '    result = parse_invoice("data/invoice_4821.csv")',
    '    print(f"customers={len(result)} total={sum(result.values())}")',
    '    assert result["acme_corp"] >= 0, "negative totals"',
    "    items = [x * 2 for x in range(10) if x % 3 == 0]",
    '    config = {"retries": 3, "timeout_s": 30, "verbose": False}',
]


@dataclass
class Page:
    """A rendered screen and the text lines drawn on it, top to bottom."""

    image: np.ndarray  # RGB HxWx3 uint8
    lines: list[str]
    line_height: int


def font(name: str = "DejaVuSans.ttf", size: int = 20) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(f"{FONT_DIR}/{name}", size)


def render(
    lines: list[str],
    *,
    height: int = HEIGHT,
    font_name: str = "DejaVuSans.ttf",
    sizes: tuple[int, ...] = (18, 20, 22),
    line_height: int = 34,
    theme: tuple = LIGHT,
    top: int = 12,
) -> Page:
    """Draw one text line per row, cycling font sizes so the page is not uniform."""
    bg, fg = theme
    img = Image.new("RGB", (WIDTH, height), bg)
    draw = ImageDraw.Draw(img)
    drawn = []
    for i, text in enumerate(lines):
        y = top + i * line_height
        if y + line_height > height:
            break
        draw.text((40, y), text, fill=fg, font=font(font_name, sizes[i % len(sizes)]))
        drawn.append(text)
    return Page(np.asarray(img).copy(), drawn, line_height)


def text_page(theme: tuple = LIGHT) -> Page:
    """A 1920x1080 prose page of about 30 lines."""
    return render(PROSE[:31], theme=theme)


def code_page() -> Page:
    """A monospace code screen, as in an editor."""
    return render(CODE, font_name="DejaVuSansMono.ttf", sizes=(18,), line_height=30)


def scrolled_pair(shift_lines: int = 4, header: int = 40) -> tuple[Page, Page]:
    """The same document before and after scrolling down by ``shift_lines`` lines.

    A fixed title bar stays put above the scrolling area, as in a real window; the lines
    that scroll in at the bottom are new to the reader.
    """
    doc = render(PROSE, height=len(PROSE) * 34 + 40, top=12)
    frames = []
    for offset in (0, shift_lines * doc.line_height):
        screen = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
        body = doc.image[offset : offset + HEIGHT - header]
        screen[header:] = body
        screen[:header] = (225, 228, 235)
        title = Image.fromarray(screen)
        ImageDraw.Draw(title).text((40, 8), "Weekly notes - Editor", fill=(0, 0, 0), font=font(size=18))
        screen = np.asarray(title).copy()
        first = offset // doc.line_height
        visible = (HEIGHT - header - 12) // doc.line_height
        frames.append(Page(screen, ["Weekly notes - Editor", *PROSE[first : first + visible]], doc.line_height))
    return frames[0], frames[1]


def edited_line(page: Page, row: int, new_text: str) -> Page:
    """The page with one line's text replaced, as when a user edits that line."""
    bg, fg = LIGHT
    img = Image.fromarray(page.image.copy())
    draw = ImageDraw.Draw(img)
    y = 12 + row * page.line_height
    draw.rectangle((0, y, WIDTH, y + page.line_height - 1), fill=bg)
    draw.text((40, y), new_text, fill=fg, font=font(size=(18, 20, 22)[row % 3]))
    lines = list(page.lines)
    lines[row] = new_text
    return Page(np.asarray(img).copy(), lines, page.line_height)


def words(text: str) -> list[str]:
    """Lower-case words without punctuation: the unit the recall figures count."""
    return re.findall(r"[a-z0-9]+", text.lower())


def word_scores(expected: list[str], got: list[str]) -> tuple[float, float]:
    """(recall, precision) of words as multisets: order-free, so line order cannot hide errors."""
    from collections import Counter

    want, have = Counter(w for t in expected for w in words(t)), Counter(w for t in got for w in words(t))
    hit = sum((want & have).values())
    return hit / max(1, sum(want.values())), hit / max(1, sum(have.values()))
