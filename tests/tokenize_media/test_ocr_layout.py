"""Layout: reading order by XY-cut, lines in their windows, text as shown (indentation,
paragraphs, headings). Pages are drawn with PIL and each line's box is where its text was drawn,
padded as the detector pads it, so these tests check the layout step alone; the end-to-end tests
(``tests/cli/test_layout_e2e.py``) run it on real screens through real OCR."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from lifelog.models import OcrLine, VisibleWindow
from lifelog.tokenize_media.ocr.layout import Layout
from lifelog.tokenize_media.ocr.shown import cell_width, cells, measure
from lifelog.tokenize_media.ocr.xycut import xy_cut
from tests.support.pages import CODE, PROSE, font

W, H = 1920, 1080


class Canvas:
    """A white screen; ``text`` draws a line and returns it as the detector would box it."""

    def __init__(self) -> None:
        self.image = Image.new("RGB", (W, H), (255, 255, 255))
        self.pen = ImageDraw.Draw(self.image)

    def text(self, x: int, y: int, text: str, *, size: int = 18, name: str = "DejaVuSans.ttf") -> OcrLine:
        face = font(name, size)
        self.pen.text((x, y), text, fill=(20, 20, 20), font=face)
        left, top, right, bottom = self.pen.textbbox((x, y), text, font=face)
        pad = max(3, (bottom - top) // 4)
        return OcrLine(text, (left - pad, top - pad, right + pad, bottom + pad))

    def line(self, x: int, top: int, bottom: int, colour=(120, 120, 120)) -> None:
        self.pen.line((x, top, x, bottom), fill=colour, width=1)

    @property
    def pixels(self) -> np.ndarray:
        return np.asarray(self.image).copy()


def shown(lines: list[OcrLine]) -> list[str]:
    return [line.lead + line.text for line in lines]


def columns(
    canvas: Canvas,
    texts: list[list[str]],
    *,
    x0: int = 40,
    width: int = 600,
    top: int = 100,
    pitch: int = 27,
    para_every: int = 0,
) -> list[list[OcrLine]]:
    """Columns of lines side by side on the same baselines; a paragraph gap every ``para_every``
    lines (at the same rows in every column, the coincidence a top-to-bottom reading splits on)."""
    out = []
    for c, lines in enumerate(texts):
        y, col = top, []
        for i, text in enumerate(lines):
            if para_every and i and i % para_every == 0:
                y += pitch
            col.append(canvas.text(x0 + c * (width + 50), y, text))
            y += pitch
        out.append(col)
    return out


def prose_lines(start: int, n: int) -> list[str]:
    return [PROSE[(start + i) % len(PROSE)][:52].strip() for i in range(n)]


# -- reading order ---------------------------------------------------------------------------
def test_columns_on_shared_baselines_are_read_one_after_the_other():
    canvas = Canvas()
    cols = columns(canvas, [prose_lines(0, 12), prose_lines(12, 12), prose_lines(24, 12)], para_every=5)
    lines = [line for row in zip(*cols) for line in row]  # detector order: across the page
    out = Layout().arrange(canvas.pixels, lines)
    assert [line.text for line in out] == [line.text for col in cols for line in col]
    assert [line.ord for line in out] == list(range(len(out)))
    assert sum(line.lead.startswith("\n") for line in out) == 3 * 3 - 1, "a blank line between paragraphs and columns"


def test_a_header_and_footer_across_columns_come_first_and_last():
    canvas = Canvas()
    title = canvas.text(40, 30, "Harbour report, week 48: shipments, delays and the budget for next year")
    cols = columns(canvas, [prose_lines(0, 10), prose_lines(10, 10)], top=90, para_every=4)
    footer = canvas.text(
        40, 500, "Page 1 of 3. Printed for the finance team on Monday morning before the review meeting."
    )
    out = Layout().arrange(canvas.pixels, [footer, *[l for row in zip(*cols) for l in row], title])
    assert [line.text for line in out] == [title.text, *[l.text for col in cols for l in col], footer.text]


def test_rows_that_continue_across_a_gap_stay_rows():
    canvas = Canvas()
    table = [
        ("Invoice", "Customer", "Amount"),
        ("4821", "Northwind", "1250"),
        ("4822", "Contoso", "90"),
        ("4823", "Fabrikam", "4100"),
        ("4824", "Initech", "77"),
    ]
    lines = [canvas.text(60 + 300 * c, 100 + 30 * r, cell) for r, row in enumerate(table) for c, cell in enumerate(row)]
    out = Layout().arrange(canvas.pixels, lines)
    assert [line.text for line in out] == [
        "Invoice Customer Amount",
        "4821 Northwind 1250",
        "4822 Contoso 90",
        "4823 Fabrikam 4100",
        "4824 Initech 77",
    ]


def test_code_with_aligned_comments_stays_rows_but_a_pane_border_separates():
    code = ["total = 0", "for row in rows:", "    total += row.amount", "print(total)"]
    notes = ["# start from nothing", "# every invoice", "# in cents", "# to the log"]
    for border in (False, True):
        canvas = Canvas()
        left = mono_page(canvas, code, x0=40, top=100, pitch=26)
        right = mono_page(canvas, notes, x0=40 + 60 * CELL, top=100, pitch=26)
        if border:
            canvas.line(40 + 56 * CELL, 60, 400)
        out = shown(Layout().arrange(canvas.pixels, [l for pair in zip(left, right) for l in pair]))
        if border:
            assert out == [*code, "\n" + notes[0], *notes[1:]]
        else:
            assert out == [c.ljust(60) + n for c, n in zip(code, notes)]


def test_stacks_that_do_not_share_rows_are_separate():
    boxes = [(40, 100 + 40 * i, 300, 130 + 40 * i) for i in range(6)]  # a sidebar, its own pitch
    boxes += [(400, 95 + 27 * i, 1500, 120 + 27 * i) for i in range(9)]  # a document beside it
    blocks = xy_cut(boxes)
    assert [b.indices for b in blocks] == [list(range(6)), list(range(6, 15))]


def test_a_chat_is_read_turn_by_turn():
    boxes, turns = [], []
    for turn in range(6):  # messages alternate left and right, two lines each, 20 px between turns
        x = 40 if turn % 2 == 0 else 1100
        for k in range(2):
            boxes.append((x, 100 + 80 * turn + 27 * k, x + 600, 125 + 80 * turn + 27 * k))
        turns.append([2 * turn, 2 * turn + 1])
    assert [b.indices for b in xy_cut(boxes)] == turns


# -- windows -----------------------------------------------------------------------------------
def test_each_line_takes_the_window_in_front_of_it():
    canvas = Canvas()
    editor = [canvas.text(40, 100 + 30 * i, t) for i, t in enumerate(prose_lines(0, 8))]
    dialog = [canvas.text(300, 420, "Save changes to the quarterly report?"), canvas.text(300, 450, "Cancel")]
    terminal = [canvas.text(1100, 100 + 30 * i, f"ticket {i} ready for review") for i in range(5)]
    windows = [
        VisibleWindow("Dialog", "Save", (280, 400, 800, 490)),
        VisibleWindow("XTerm", "bash", (1080, 80, 1900, 600)),
        VisibleWindow("Writer", "report.odt", (20, 80, 1000, 700)),
    ]
    out = Layout().arrange(canvas.pixels, [*terminal, *editor, *dialog], windows)
    where = [(line.app, line.window) for line in out]
    assert where == [("Dialog", "Save")] * 2 + [("Writer", "report.odt")] * 8 + [("XTerm", "bash")] * 5
    assert out[0].text == "Save changes to the quarterly report?"


def test_without_a_window_list_lines_keep_the_focused_window_and_outside_all_windows_none():
    canvas = Canvas()
    lines = [canvas.text(40, 100, "Invoice 4821 is overdue"), canvas.text(1500, 900, "desktop note")]
    assert {(line.app, line.window) for line in Layout().arrange(canvas.pixels, lines)} == {(None, None)}
    out = Layout().arrange(canvas.pixels, lines, [VisibleWindow("XTerm", "bash", (0, 0, 800, 600))])
    assert [(line.app, line.window) for line in out] == [("XTerm", "bash"), ("", "")]


# -- text as shown ---------------------------------------------------------------------------
CELL = font("DejaVuSansMono.ttf", 16).getlength("x")


def mono_page(
    canvas: Canvas, source: list[str], *, x0: float = 12, top: int = 20, size: int = 16, pitch: int = 24
) -> list[OcrLine]:
    """Monospace lines drawn where a terminal puts them, each boxed without its indentation."""
    cell = font("DejaVuSansMono.ttf", size).getlength("x")
    out = []
    for i, text in enumerate(source):
        if text.strip():
            indent = len(text) - len(text.lstrip())
            out.append(
                canvas.text(
                    round(x0 + indent * cell), top + pitch * i, text.strip(), name="DejaVuSansMono.ttf", size=size
                )
            )
    return out


def test_monospace_text_keeps_its_indentation_and_blank_lines():
    canvas = Canvas()
    lines = mono_page(canvas, CODE)
    out = Layout().arrange(canvas.pixels, lines)
    want = [text for text in CODE if text.strip()]
    assert [line.lead.lstrip("\n") + line.text for line in out] == want
    blank_after = {CODE[i + 1] for i in range(len(CODE) - 1) if not CODE[i].strip()}
    assert {line.lead.lstrip("\n") + line.text for line in out if line.lead.startswith("\n")} == blank_after


def test_indentation_counts_from_column_zero_seen_before_when_scrolled_into_a_block():
    layout = Layout()
    canvas = Canvas()
    lines = mono_page(canvas, CODE)
    layout.arrange(canvas.pixels, lines)
    scrolled = Canvas()
    body = CODE[4:9]  # all indented
    lines = mono_page(scrolled, body)
    out = layout.arrange(scrolled.pixels, lines)
    assert [line.lead.lstrip("\n") + line.text for line in out] == body
    out = Layout().arrange(scrolled.pixels, lines)
    assert out[0].lead == "", "a reader that never saw column 0 counts from the leftmost text"


def test_spaces_between_boxes_of_a_monospace_row_are_kept():
    canvas = Canvas()
    cell = CELL
    rows = ["retries = 3", "timeout_s = 30", "verbose = False", "base_delay_ms = 250"]
    lines = []
    for i, text in enumerate(rows):
        lines.append(canvas.text(12, 20 + 24 * i, text, name="DejaVuSansMono.ttf", size=16))
        lines.append(
            canvas.text(round(12 + 30 * cell), 20 + 24 * i, f"# setting {i}", name="DejaVuSansMono.ttf", size=16)
        )
    out = Layout().arrange(canvas.pixels, lines)
    assert [line.text for line in out] == [f"{text.ljust(30)}# setting {i}" for i, text in enumerate(rows)]


def test_clearly_larger_text_is_a_heading():
    canvas = Canvas()
    title = canvas.text(40, 30, "Release notes for version 3", size=34, name="DejaVuSans-Bold.ttf")
    body = [canvas.text(40, 100 + 27 * i, t) for i, t in enumerate(prose_lines(0, 6))]
    out = Layout().arrange(canvas.pixels, [title, *body])
    assert [line.lead for line in out] == ["# ", *["\n"] + [""] * 5]


def test_cells_and_grid():
    assert cells("abc") == 3 and cells("会议室") == 6 and cells("a会") == 3
    assert cell_width([(118, 12), (200, 20), (305, 30), (40, 4)]) == pytest.approx(10.1, rel=0.02)
    assert cell_width([(118, 12), (230, 20), (290, 30), (50, 4)]) is None, "lines that do not share a grid"
    canvas = Canvas()
    line = canvas.text(100, 100, "ink")
    ink = measure(canvas.pixels, line.box)
    assert line.box[0] < ink.left and ink.right < line.box[2]


def test_monospace_rows_are_rebuilt_cell_by_cell_from_the_pixels():
    """What the recogniser gets wrong on code, put right by the cells the ink fills: merged
    underscores, collapsed and inserted spaces, a comma read as a period, a row of quotes."""
    shown = [
        "class Shelf:",
        '    """A shelf."""',
        "    def __init__(self, rows):",
        "        self._rows  =  rows   # two spaces, then three",
        "        self.__all__ = ['a', 'b']",
        '    """',
    ]
    misread = [
        "class Shelf:",
        '"""A shelf."""',
        "def _init_(self, rows) :",
        "self. _rows = rows # two spaces. then three",
        "self._all_ = ['a' , 'b']",
        "11",
    ]
    canvas = Canvas()
    lines = []
    for i, (text, read) in enumerate(zip(shown, misread)):
        drawn = canvas.text(
            40 + round(CELL * (len(text) - len(text.lstrip()))),
            40 + 24 * i,
            text.strip(),
            name="DejaVuSansMono.ttf",
            size=16,
        )
        lines.append(OcrLine(read, drawn.box))
    for i in range(6):  # enough monospace rows for the grid to be seen
        text = f"    value_{i} = compute({i}, limit={10 * i})"
        drawn = canvas.text(40 + round(CELL * 4), 40 + 24 * (6 + i), text.strip(), name="DejaVuSansMono.ttf", size=16)
        lines.append(drawn)
    out = Layout().arrange(canvas.pixels, lines)
    assert [line.lead.lstrip("\n") + line.text for line in out][: len(shown)] == shown
    before = Layout(by_cell=False).arrange(canvas.pixels, lines)
    assert [line.lead.lstrip("\n") + line.text for line in before][: len(shown)] != shown


def test_characters_that_do_not_pair_with_cells_go_where_they_were_read():
    from lifelog.tokenize_media.ocr.shown import Cell, Where, place

    x, _ = Cell("x", 2, 10), Cell(" ")
    row = [x, x, x, _, x, x, x]  # "abc def" on the grid
    steps = [(k + 0.5, "z", 0.01) for k in range(7)]
    # "e" dropped: without positions the row cannot be placed; with them, its cell gets
    # what the model saw there
    seen = [(p, "e" if k == 5 else c, 0.4 if k == 5 else q) for k, (p, c, q) in enumerate(steps)]
    assert place("abc df", row) is None
    assert place("abc df", row, Where([0.5, 1.4, 2.6, 4.5, 6.4], seen)) == "abc def"
    # a doubled character (two read in one cell) is left out
    assert place("abcc def", row, Where([0.5, 1.5, 2.3, 2.7, 4.5, 5.5, 6.5], steps)) == "abc def"
    # the same count, but one dropped and another read in a blank cell: by position
    fill = [(p, "f" if k == 6 else c, 0.5 if k == 6 else q) for k, (p, c, q) in enumerate(steps)]
    assert place("abc,de", row, Where([0.5, 1.5, 2.5, 3.4, 4.5, 5.5], fill)) == "abc def"
    # nothing seen in a dropped character's cell: kept as read
    assert place("abc df", row, Where([0.5, 1.4, 2.6, 4.5, 6.4], steps)) is None


def test_a_double_quote_is_two_strokes_even_when_antialiasing_joins_them():
    from lifelog.tokenize_media.ocr.shown import Grid, row_cells

    mask = np.zeros((16, 16), dtype=bool)
    for x, rows in ((1, 4), (2, 3), (3, 4), (4, 4), (10, 1), (11, 4), (12, 1)):  # '"' then "'"
        mask[1 : 1 + rows, x] = True
    _, cells = row_cells(mask[:, 1:], 1, Grid(8.0, 0.0), 16)
    assert [(c.kind, c.strokes) for c in cells] == [("'", 2), ("'", 1)]


def test_a_block_too_short_to_tell_its_cell_borrows_its_windows():
    from lifelog.tokenize_media.ocr.layout import _lend_cells

    code = [(int(8.4 * (n - 0.25)), n) for n in (42, 55)]  # two rows between blank lines
    prose = [(500, 42), (380, 55)]  # 12 and 7 px a character: no monospace cell fits
    assert _lend_cells([8.4, None, 8.43, None], [[], code, [], prose]) == [8.4, 8.415, 8.43, None], "the median"
    assert _lend_cells([8.4, None, 12.0], [[], code, []]) == [8.4, None, 12.0], "no cell shared"
    assert _lend_cells([None, None], [code, code]) == [None, None], "none to lend"


def test_a_glyph_misread_once_is_read_as_the_same_pixels_are_elsewhere():
    from lifelog.tokenize_media.ocr.layout import _by_shape

    w, e, i = b"w", b"e", b"I"  # cell shapes (keys of their ink); l and I drawn alike
    rows = [
        {0: ("", "wew", [w, e, w]), 1: ("  ", "ue", [w, e])},  # w read as u once
        {0: ("", "lI", [i, i]), 1: ("", "lI", [i, i]), 2: ("", "w w", [w, None, w])},  # I, l alike
    ]
    _by_shape(rows)
    assert rows[0][1][:2] == ("  ", "we")
    assert [r[1] for r in rows[1].values()] == ["lI", "lI", "w w"], "read otherwise twice: kept"
    still = [{0: ("", "ue", [w, e])}]
    _by_shape(still)
    assert still[0][0][1] == "ue", "one cell is no majority"
