"""Typer glue: parse arguments, call the backend, hand results to output. No logic lives here."""
