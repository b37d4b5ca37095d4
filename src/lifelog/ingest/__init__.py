"""Spool → store: drain what capture spooled through the engines in ``tokenize_media`` (OCR,
ASR, redaction, token counts) into the store. ``frames.py`` takes screen frames, ``audio.py``
audio chunks and imported recordings, ``gaps.py`` the gap markers capture left. Used by the
owner (``daemon/recorder.py``), ``lifelog process`` and ``lifelog import`` alone."""
