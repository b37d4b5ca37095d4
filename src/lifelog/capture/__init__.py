"""Screen capture: grab, skip unchanged frames, tag with the focused window, spool.

Capture never imports a model and never waits for one.
"""
