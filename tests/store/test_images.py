"""The frame store: compact frames rebuild the exact screens, blanking one frame holds in the
frames built on it, deleting one keeps the others whole, and old-format files still load.

Screens are real rendered text (DejaVu Sans Mono drawn by PIL): a terminal that scrolls line by
line, a word typed, a new page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from lifelog.models import FrameRecord
from lifelog.store import frame_codec as codec
from lifelog.store.images import FrameImages

W, H = 800, 480
LINE = 18
FONT = ImageFont.truetype("DejaVuSansMono.ttf", 14)
T0 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
DAY = "2026-03-04"


def patched_area(frame: codec.Frame) -> int:
    """Pixels ``frame`` stores as patches: what it costs, roughly."""
    return sum(op[3] * op[4] for op in frame.ops if op[0] == "patch")


def text_screen(lines: list[str], typed: str = "", title: str = "terminal") -> np.ndarray:
    im = Image.new("RGB", (W, H), (255, 255, 255))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, W, 20), fill=(40, 60, 120))
    draw.text((6, 2), title, font=FONT, fill=(255, 255, 255))
    for i, line in enumerate(lines):
        draw.text((6, 26 + i * LINE), line, font=FONT, fill=(20, 20, 20))
    draw.text((6, H - 22), "$ " + typed, font=FONT, fill=(0, 110, 0))
    return np.asarray(im).copy()


def source(n: int) -> list[str]:
    return [f"{i:4d}  def handler_{i}(request): return render(request, 'page_{i * 7}.html')" for i in range(n)]


def screens() -> list[np.ndarray]:
    """A page, ten lines scrolled in one by one, a word typed, a new page."""
    text = source(60)
    out = [text_screen(text[0:22])]
    out += [text_screen(text[k : k + 22]) for k in range(1, 11)]
    out += [text_screen(text[10:32], typed="git sta"), text_screen(text[10:32], typed="git status")]
    out += [text_screen([line.upper() for line in text[30:52]], typed="git status")]
    return out


def changed_box(a: np.ndarray | None, b: np.ndarray):
    if a is None:
        return (0, 0, W, H)
    diff = (a != b).any(axis=2)
    rows, cols = np.flatnonzero(diff.any(axis=1)), np.flatnonzero(diff.any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def store_all(
    images: FrameImages,
    shots: list[np.ndarray],
    *,
    monitor: int = 1,
    start: int = 0,
    day: str = DAY,
    legacy: bool = False,
    prev: np.ndarray | None = None,
) -> list[FrameRecord]:
    """Save ``shots`` as the pipeline does: the first whole (a keyframe), then changed regions
    (a keyframe when over half the screen, as capture decides)."""
    records = []
    for i, shot in enumerate(shots):
        box = changed_box(prev if i or prev is not None else None, shot)
        keyframe = (box[2] - box[0]) * (box[3] - box[1]) >= W * H / 2
        if keyframe:
            box = (0, 0, W, H)
        left, top, right, bottom = box
        name = f"2026030{day[-1]}T0900{start + i:02d}000000-m{monitor:02d}.png"
        if legacy:
            ref = old_format_save(images, name, day, shot[top:bottom, left:right])
        else:
            ref = images.save(name, day, shot[top:bottom, left:right], monitor=monitor, region=box, size=(W, H))
        records.append(FrameRecord(T0 + timedelta(seconds=start + i), monitor, W, H, "xterm", "t", ref, box, keyframe))
        prev = shot
    return records


def old_format_save(images: FrameImages, name: str, day: str, region: np.ndarray) -> str:
    """A frame written as lifelog wrote them before the compact format."""
    folder = images.root / day
    folder.mkdir(parents=True, exist_ok=True)
    ref = f"{day}/{name.rsplit('.', 1)[0]}.webp"
    Image.fromarray(region).save(images.root / ref, format="WEBP", lossless=True, quality=50, method=4)
    return ref


def chain_until(records: list[FrameRecord], i: int) -> list[FrameRecord]:
    """What the reader's screen_before gives: the last keyframe up to frame ``i`` and after."""
    start = max(k for k in range(i + 1) if records[k].keyframe)
    return records[start : i + 1]


@pytest.fixture
def images(tmp_path) -> FrameImages:
    return FrameImages(tmp_path / "frames")


def test_every_frame_rebuilds_the_exact_screen(images):
    shots = screens()
    records = store_all(images, shots)
    for i, shot in enumerate(shots):
        np.testing.assert_array_equal(images.reconstruct(chain_until(records, i)), shot)
        left, top, right, bottom = records[i].region
        np.testing.assert_array_equal(images.load(records[i].image_ref), shot[top:bottom, left:right])


def test_a_scroll_step_costs_a_shift_and_the_exposed_line(images, tmp_path):
    shots = screens()
    records = store_all(images, shots)
    old = FrameImages(tmp_path / "old")
    old_records = store_all(old, shots, legacy=True)
    step = records[5]  # one line scrolled in: most of the screen moved
    frame = codec.loads((images.root / step.image_ref).read_bytes())
    assert [op[0] for op in frame.ops].count("shift") >= 1
    patched = sum(op[3] * op[4] for op in frame.ops if op[0] == "patch")
    assert patched < W * LINE * 3  # the new line (and the prompt row), not the screen
    new_bytes = (images.root / step.image_ref).stat().st_size
    old_bytes = (old.root / old_records[5].image_ref).stat().st_size
    assert new_bytes * 4 < old_bytes
    assert images.total_bytes() * 2 < old.total_bytes()


def test_blanking_one_frame_holds_in_the_frames_built_on_it(images):
    shots = screens()
    records = store_all(images, shots)
    secret = (6, 26 + 8 * LINE, 400, 26 + 9 * LINE)  # line 8 of the page shown at frame 3
    images.blank(records[3], [secret])
    left, top, right, bottom = secret
    at3 = images.reconstruct(chain_until(records, 3))
    assert not at3[top:bottom, left:right].any()
    np.testing.assert_array_equal(at3[:top], shots[3][:top])
    at4 = images.reconstruct(chain_until(records, 4))  # scrolled one line up since
    moved = (slice(top - LINE, bottom - LINE), slice(left, right))
    ink = (shots[4][moved] < 128).all(axis=2)  # the secret's text, where frame 4 shows it
    assert ink.sum() > 200 and not at4[moved][ink].any()
    np.testing.assert_array_equal(at4[bottom:], shots[4][bottom:])
    np.testing.assert_array_equal(images.reconstruct(chain_until(records, 2)), shots[2])


def test_blanked_pixels_are_gone_from_the_frames_own_file(images):
    shots = screens()
    records = store_all(images, shots)
    box = (0, 0, W, H)
    images.blank(records[0], [box])
    frame = codec.loads((images.root / records[0].image_ref).read_bytes())
    assert all(not codec.unwebp(blob).any() for blob in frame.blobs)
    assert not images.reconstruct(chain_until(records, 1))[: 26 + 21 * LINE].any()  # all but the new line


def test_deleting_a_frame_keeps_the_later_ones_whole(images):
    shots = screens()
    records = store_all(images, shots)
    for i in (0, 4, 5):
        images.delete_many([records[i].image_ref])
    assert not (images.root / records[4].image_ref).exists()
    for i in (6, 7, 12, 13):
        np.testing.assert_array_equal(images.screen(records[i].image_ref), shots[i])
    np.testing.assert_array_equal(images.screen(records[1].image_ref), shots[1])


def test_delete_many_removes_a_whole_day_at_once(images):
    shots = screens()
    records = store_all(images, shots)
    images.delete_many([r.image_ref for r in records])
    assert images.total_bytes() == 0


def test_old_format_files_still_load_and_chains_continue_after_them(images):
    shots = screens()
    old = store_all(images, shots[:6], legacy=True)
    assert all(r.image_ref.endswith(".webp") for r in old)
    for i in range(6):
        np.testing.assert_array_equal(images.reconstruct(chain_until(old, i)), shots[i])
    restarted = FrameImages(images.root)  # an upgraded lifelog resumes on the same day
    new = store_all(restarted, shots[6:], start=6, prev=shots[5])
    records = old + new
    for i in range(6, len(shots)):
        np.testing.assert_array_equal(restarted.reconstruct(chain_until(records, i)), shots[i])
    assert restarted.total_bytes() == sum((images.root / r.image_ref).stat().st_size for r in records)


def test_each_day_stands_alone(images):
    shots = screens()
    first = store_all(images, shots[:11])
    next_day = store_all(images, shots[11:13], day="2026-03-05", start=11, prev=shots[10])
    kinds = [codec.loads((images.root / r.image_ref).read_bytes()).kind for r in first + next_day]
    assert kinds[0] == "intra" and kinds[1:11].count("delta") >= 5
    assert kinds[11:] == ["intra", "delta"]  # the screen as it was, whole, then built on it
    images.delete_many([r.image_ref for r in first])  # the first day ages out
    assert not (images.root / "2026-03-04").exists() or not any((images.root / "2026-03-04").iterdir())
    for i, r in zip((11, 12), next_day):
        np.testing.assert_array_equal(images.reconstruct([r] if i == 11 else next_day), shots[i])


def test_a_restart_pastes_changes_until_the_next_keyframe(images):
    shots = screens()
    first = store_all(images, shots[:11])
    restarted = FrameImages(images.root)  # a new process knows no screen yet
    later = store_all(restarted, shots[11:13], start=11, prev=shots[10])
    kinds = [codec.loads((images.root / r.image_ref).read_bytes()).kind for r in later]
    assert kinds == ["patch", "patch"]  # pasted over the screen before, as the old format was
    records = first + later
    for i in (11, 12):
        np.testing.assert_array_equal(restarted.reconstruct(chain_until(records, i)), shots[i])


def test_several_monitors_keep_separate_chains(images):
    shots = screens()
    a = store_all(images, shots[:4], monitor=1)
    b = store_all(images, list(reversed(shots[:4])), monitor=2)
    for i in range(4):
        np.testing.assert_array_equal(images.reconstruct(chain_until(a, i)), shots[i])
        np.testing.assert_array_equal(images.reconstruct(chain_until(b, i)), shots[3 - i])


def test_switching_back_to_a_window_costs_only_what_changed_in_it(images):
    page, other = screens()[0], screens()[-1]  # two unrelated whole screens
    back = text_screen(source(60)[0:22], typed="ls")
    records = store_all(images, [page, other, back])
    frame = codec.loads((images.root / records[2].image_ref).read_bytes())
    assert frame.base == records[0].image_ref  # built on the screen shown before the switch
    assert patched_area(frame) < W * LINE
    images.delete_many([records[0].image_ref])  # the frame built on it is rewritten whole first
    np.testing.assert_array_equal(images.screen(records[2].image_ref), back)
    np.testing.assert_array_equal(images.screen(records[1].image_ref), other)


def test_blanking_an_old_format_frame(images):
    shots = screens()
    old = store_all(images, shots[10:12], legacy=True, start=10)
    typed = old[1]  # a partial frame: only the prompt row changed
    left, top, right, bottom = typed.region
    images.blank(typed, [(0, top, W, bottom)])
    assert not images.load(typed.image_ref).any()
    screen = images.reconstruct(old)
    assert not screen[top:bottom, left:right].any()
    np.testing.assert_array_equal(screen[:top], shots[11][:top])


def test_a_screen_built_on_an_older_one_takes_what_changed_outside_its_region(images):
    page = text_screen(source(60)[0:10])
    other = text_screen([line.upper() for line in source(60)[30:40]], title="editor")
    back = text_screen(source(60)[0:10], title="editor")  # the page again, the title not
    records = store_all(images, [page, other, back])
    assert records[2].region[1] > 20  # the title bar did not change since the screen before
    frame = codec.loads((images.root / records[2].image_ref).read_bytes())
    assert frame.base == records[0].image_ref
    np.testing.assert_array_equal(images.reconstruct(chain_until(records, 2)), back)
