"""Turn media into text and tokens: the OCR and ASR engines, secret redaction, tokenizers, the
model targets and the embedders. Imports nothing above the shared modules; ``ingest/`` drives
it to write the store."""
