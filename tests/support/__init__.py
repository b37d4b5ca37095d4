"""Shared test fixtures and helpers: a private X screen, a private PulseAudio server, spoken
and rendered test material, a fake model endpoint, a small full disk, waiting for a condition.

Test modules import from here, never from one another's ``test_*`` modules."""
