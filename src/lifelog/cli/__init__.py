"""Thin Typer commands over lifelog's core functions. Results to stdout; diagnostics,
progress and errors to stderr."""
