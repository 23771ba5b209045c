"""Headless subcommands of `python main.py` (DESIGN §4). Each returns an exit code."""
