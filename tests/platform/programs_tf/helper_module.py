"""Imported by argv_and_exit.py from the program's own folder."""
VALUE = 42
