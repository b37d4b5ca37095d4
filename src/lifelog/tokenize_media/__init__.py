"""Turn spooled media into text: OCR of screen frames, token counts, and the pipeline that
drains the spool into the store."""
