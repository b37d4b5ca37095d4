"""A test window showing text, with the X properties of a popup or dialog chosen on the command
line: ``python tests/capture/xpopup.py --text "..." --geometry 500x80+100+200 [--wm-class App]
[--override-redirect] [--transient-for ID] [--title T]``. It prints its window id, then stays
until killed. The text is drawn with Pillow into the window's background, so the X server
repaints it by itself and OCR reads it like any other window."""

from __future__ import annotations

import argparse
import re
import signal
import sys

from PIL import Image, ImageDraw, ImageFont
from Xlib import X, Xatom, display

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--text", required=True)
    ap.add_argument("--geometry", default="600x80+100+100")
    ap.add_argument("--wm-class", default="")
    ap.add_argument("--title", default="")
    ap.add_argument("--override-redirect", action="store_true")
    ap.add_argument("--transient-for", type=lambda v: int(v, 0), default=0)
    args = ap.parse_args()
    w, h, x, y = (int(v) for v in re.match(r"(\d+)x(\d+)\+(\d+)\+(\d+)", args.geometry).groups())
    d = display.Display()
    screen = d.screen()
    pixmap = _text_pixmap(d, screen, args.text, w, h)
    win = screen.root.create_window(
        x,
        y,
        w,
        h,
        0,
        screen.root_depth,
        X.InputOutput,
        X.CopyFromParent,
        background_pixmap=pixmap,
        override_redirect=int(args.override_redirect),
    )
    if args.wm_class:
        win.set_wm_class(args.wm_class.lower(), args.wm_class)
    if args.title:
        win.set_wm_name(args.title)
    if args.transient_for:
        win.set_wm_transient_for(d.create_resource_object("window", args.transient_for))
    win.change_property(d.intern_atom("_NET_WM_PID"), Xatom.CARDINAL, 32, [_pid()])
    win.map()
    d.sync()
    print(hex(win.id), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        d.next_event()


def _pid() -> int:
    import os

    return os.getpid()


def _text_pixmap(d, screen, text: str, w: int, h: int):
    image = Image.new("RGB", (w, h), "white")
    ImageDraw.Draw(image).text((12, h // 2 - 16), text, fill="black", font=ImageFont.truetype(FONT, 26))
    pixmap = screen.root.create_pixmap(w, h, screen.root_depth)
    gc = pixmap.create_gc()
    bgrx = image.convert("RGBX").tobytes("raw", "BGRX")
    rows = max(1, 200_000 // (w * 4))  # stay under the request size limit
    for top in range(0, h, rows):
        part = bgrx[top * w * 4 : min(h, top + rows) * w * 4]
        pixmap.put_image(gc, 0, top, w, min(rows, h - top), X.ZPixmap, screen.root_depth, 0, part)
    d.sync()
    return pixmap


if __name__ == "__main__":
    main()
