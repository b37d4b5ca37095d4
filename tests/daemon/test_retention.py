"""The owner's retention pass (``daemon/retention.py``): at start, then again with the settings
``lifelog config set`` wrote meanwhile, on a real owner store with real frame and audio files,
while the recorder's writes go on."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from lifelog.config import edit_config, load_settings
from lifelog.daemon.retention import RetentionWorker
from lifelog.store import Store, retention
from tests.store.hour_timeline import DAY0
from tests.store.retention_timeline import NOW, build, files, refs
from tests.support.wait import wait_for


def test_the_owner_takes_back_at_start_and_follows_config_changes(tmp_path):
    paths, _ = build(tmp_path / "home")
    edit_config(paths.config_file, "keep_images", "2d")
    owner = Store.open_owner(paths.db)
    writes, stop = [], threading.Event()

    def record():  # the recorder's writes, meanwhile
        while not stop.is_set():
            with owner.write() as w:
                w.add_event(NOW, "tick", {})
            writes.append(1)
            time.sleep(0.01)

    recorder = threading.Thread(target=record)
    recorder.start()
    worker = RetentionWorker(owner, paths, load_settings(paths.config_file), interval_s=3600, now=lambda: NOW).start()
    try:
        wait_for(lambda: worker.report is not None, timeout=60, what="the first retention pass", interval=0.05)
        assert worker.report.images == 360  # day 0: before NOW - 2 days
        assert all((ref == "") == (ts < DAY0 + timedelta(days=1)) for ts, ref, _ in refs(owner, "frames"))

        edit_config(paths.config_file, "keep_audio", "12h")  # while the owner runs
        report = worker.run_once()
        assert report.audio == 10 and report.images == 0
        assert files(paths.audio) == {ref for _, ref, _ in refs(owner, "audio_chunks") if ref}
        with owner.read() as r:
            assert retention.last_report(r)["audio"] == 10
    finally:
        worker.stop()
        stop.set()
        recorder.join()
        owner.close()
    assert writes  # the recorder kept writing
