"""Which windows exclusions take, and which pixels they blank: the rules on window stacks."""

from __future__ import annotations

import numpy as np
import pytest

from lifelog.capture.exclude import Matcher, blank, blank_boxes, excluded_ids, subtract, union_area, view
from lifelog.capture.window import TopWindow
from lifelog.config import Settings
from lifelog.models import WindowInfo


def win(id, box, app="", title="", **kw) -> TopWindow:
    return TopWindow(id, box, box, app=app, title=title, **kw)


def test_apps_match_class_or_instance_in_any_case_and_titles_by_regex_search():
    m = Matcher(("KeePassXC", " signal "), (r"(?i)online banking", r"^Secret"))
    assert m.window(win(1, (0, 0, 9, 9), app="keepassxc"))
    assert m.window(TopWindow(1, (0, 0, 9, 9), (0, 0, 9, 9), app="Chromium", instance="Signal"))
    assert m.window(win(1, (0, 0, 9, 9), app="XTerm", title="My Online Banking - Firefox"))
    assert m.window(win(1, (0, 0, 9, 9), title="Secret plans"))
    assert not m.window(win(1, (0, 0, 9, 9), app="XTerm", title="not a Secret"))
    assert not m.window(win(1, (0, 0, 9, 9), app="keepass", title="signals"))
    assert m.info(WindowInfo("KEEPASSXC", "")) and not m.info(WindowInfo("XTerm", "notes"))
    assert not Matcher() and Matcher((), ("x",))


@pytest.mark.parametrize(
    "title",
    [
        "Mozilla Firefox Private Browsing",
        "New Tab - Mozilla Firefox Private Browsing",
        "New Incognito Tab - Chromium",
        "Google - Google Chrome (Incognito)",
        "New InPrivate tab - Microsoft Edge",
        "Private Window - Brave",
    ],
)
def test_private_browsing_is_excluded_by_default(title):
    assert Matcher(Settings().exclude_apps, Settings().exclude_titles).title(title)


@pytest.mark.parametrize(
    "title", ["Privacy settings - Mozilla Firefox", "incognitomode.txt - vim", "Brave New World.pdf"]
)
def test_ordinary_titles_are_not(title):
    assert not Matcher(Settings().exclude_apps, Settings().exclude_titles).title(title)


def test_what_belongs_to_an_excluded_window_is_excluded_with_it():
    stack = [
        win(1, (0, 0, 100, 100), app="Vault", pid=50),
        win(2, (10, 10, 50, 50), transient_for=1),  # its dialog, no class
        win(3, (20, 20, 40, 40), transient_for=2),  # a dialog of the dialog
        win(4, (500, 500, 600, 600), app="vault-helper", pid=50),  # another window of its process
        win(5, (30, 30, 60, 60), override_redirect=True),  # an anonymous menu over it
        win(6, (700, 0, 800, 100), override_redirect=True),  # an anonymous menu elsewhere
        win(7, (900, 0, 999, 99), app="XTerm", pid=60),
    ]
    assert excluded_ids(stack, Matcher(("vault",), ())) == {1, 2, 3, 4, 5}


def test_a_title_excludes_one_window_not_the_rest_of_its_process():
    stack = [
        win(1, (0, 0, 100, 100), app="firefox", title="Mozilla Firefox Private Browsing", pid=7),
        win(2, (200, 0, 300, 100), app="firefox", title="Mozilla Firefox", pid=7),
        win(3, (50, 50, 80, 80), app="firefox", pid=7, override_redirect=True),  # its menu, over it
        win(4, (250, 50, 280, 80), app="firefox", pid=7, override_redirect=True),  # the other window's menu
        win(5, (90, 90, 150, 150), app="xterm", pid=8, override_redirect=True),  # another app's tooltip over it
    ]
    assert excluded_ids(stack, Matcher((), Settings().exclude_titles)) == {1, 3}


def test_a_window_above_an_excluded_one_takes_its_rectangle_back_unless_translucent():
    stack = [  # topmost first
        win(2, (50, 0, 150, 100), app="XTerm"),
        win(1, (0, 0, 100, 100), app="Vault"),
    ]
    assert blank_boxes(stack, {1}) == [(0, 0, 50, 100)]
    glass = [TopWindow(2, (50, 0, 150, 100), (50, 0, 150, 100), app="XTerm", opaque=False), stack[1]]
    assert blank_boxes(glass, {1}) == [(0, 0, 100, 100)]
    below = [stack[1], stack[0]]  # the ordinary window below: the excluded one covers it
    assert blank_boxes(below, {1}) == [(0, 0, 100, 100)]


def test_subtract_and_union_area():
    assert subtract((0, 0, 10, 10), (20, 20, 30, 30)) == [(0, 0, 10, 10)]
    parts = subtract((0, 0, 10, 10), (3, 3, 6, 6))
    assert union_area(parts) == 100 - 9 and len(parts) == 4
    assert subtract((0, 0, 10, 10), (0, 0, 10, 10)) == []
    assert union_area([(0, 0, 10, 10), (5, 5, 15, 15)]) == 175
    assert union_area([(0, 0, 10, 10), (0, 0, 10, 10), (2, 2, 4, 4)]) == 100


def test_blank_fills_black_in_place_and_says_how_much():
    raw = bytearray(np.full((100, 200, 4), 200, np.uint8).tobytes())
    share = blank(raw, 200, 100, [(0, 0, 100, 100), (50, 0, 150, 50)])
    px = np.frombuffer(raw, np.uint8).reshape(100, 200, 4)
    assert share == pytest.approx((100 * 100 + 50 * 50) / 20000)
    assert not px[:, :100].any() and not px[:50, 100:150].any()
    assert (px[50:, 100:] == 200).all() and (px[:, 150:] == 200).all()


def test_a_view_blanks_what_either_read_saw_and_the_sweep_of_a_moved_window():
    before = [
        win(1, (0, 0, 100, 100), app="Vault", focused=True),
        win(2, (300, 0, 400, 100), app="XTerm", title="notes"),
    ]
    after = [
        win(1, (40, 0, 140, 100), app="Vault"),
        win(2, (300, 0, 400, 100), app="XTerm", title="notes"),
        win(3, (500, 500, 600, 600), title="Private Browsing"),
    ]  # mapped just after the grab
    seen = view([before, after], Matcher(("vault",), ("Private Browsing",)))
    assert union_area(seen.blank) == 140 * 100 + 100 * 100
    assert (0, 0, 140, 100) in seen.blank
    assert [w.title for w in seen.windows] == ["notes"]
    assert seen.focus_excluded  # the focus was on the excluded window when the stack was first read
    assert not view([after, after], Matcher(("vault",), ())).focus_excluded
