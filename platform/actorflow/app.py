"""`tf.app`: command-line flags (`tf.app.flags`, also `tf.flags`) and `tf.app.run`.

Flags are defined with ``DEFINE_string/integer/float/boolean/bool/list/enum(name, default,
help)`` and read as attributes of `FLAGS`. The command line is parsed with argparse, lazily
from ``sys.argv`` on the first read of a flag value (or by `run`, or ``FLAGS(argv)``). Forms
accepted: ``--name=value``, ``--name value``, ``-name=value``, and for booleans ``--name``,
``--noname``, ``--name=true|false``. Arguments that are not defined flags are left for the
program: ``FLAGS(argv)`` returns ``[argv[0]] + the unparsed arguments``. A value that does not
parse raises `IllegalFlagValueError` naming the flag (`run` prints it and exits with status 1).
"""
from __future__ import annotations

import argparse
import sys
import types
from typing import Callable

__all__ = ["run", "flags"]


class Error(Exception):
    """A flags error (bad definition, bad value, missing required flag)."""


class IllegalFlagValueError(Error):
    """A flag's value does not parse or is out of its allowed range."""


class DuplicateFlagError(Error):
    """A flag of this name is already defined."""


class UnrecognizedFlagError(Error, AttributeError):
    """Reading a flag that is not defined."""


_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def _parse_bool(text) -> bool:
    if isinstance(text, bool):
        return text
    low = str(text).strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError("expected true or false")


def _bounded(convert: Callable, what: str, lower, upper) -> Callable:
    def parse(text):
        try:
            v = convert(text)
        except (TypeError, ValueError):
            raise ValueError(f"could not parse {text!r} as {what}") from None
        if lower is not None and v < lower:
            raise ValueError(f"{v} is less than the lower bound {lower}")
        if upper is not None and v > upper:
            raise ValueError(f"{v} is greater than the upper bound {upper}")
        return v
    return parse


def _parse_int(text) -> int:
    if isinstance(text, bool):
        raise ValueError("a bool is not an integer")
    if isinstance(text, str):
        return int(text, 0) if text.strip().lower().startswith(("0x", "0o", "0b")) \
            else int(text)
    if isinstance(text, float) and not text.is_integer():
        raise ValueError("not an integer")
    return int(text)


def _parse_list(text) -> list:
    if isinstance(text, (list, tuple)):
        return [str(v) for v in text]
    return [s.strip() for s in str(text).split(",") if s.strip()]


class _Flag:
    """One defined flag: its parser, default, help text and current value."""

    def __init__(self, name: str, default, help: str, parse: Callable, kind: str,
                 enum_values=None) -> None:
        self.name, self.help, self.parse, self.kind = name, help or "", parse, kind
        self.enum_values = enum_values
        self.required = False
        self.present = False
        self.default = None if default is None else self.convert(default)
        self.value = self.default

    def convert(self, raw):
        try:
            return self.parse(raw)
        except (TypeError, ValueError) as e:
            raise IllegalFlagValueError(f"flag --{self.name}={raw}: {e}") from None


class FlagValues:
    """The registry of defined flags and their values (`FLAGS`).

    Reading ``FLAGS.name`` parses ``sys.argv`` first if nothing was parsed yet; assigning
    ``FLAGS.name = value`` sets a flag (converted and checked like a command-line value).
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_parsed", False)
        object.__setattr__(self, "_argv", None)

    # -- definition --------------------------------------------------------------------------
    def _define(self, flag: _Flag) -> None:
        if not flag.name or flag.name.startswith("-") or "=" in flag.name:
            raise Error(f"Invalid flag name {flag.name!r}")
        if flag.name in self._flags:
            raise DuplicateFlagError(f"The flag '{flag.name}' is defined twice.")
        self._flags[flag.name] = flag
        if self._parsed and self._argv is not None:
            self._apply(self._argv, only={flag.name})

    # -- parsing -----------------------------------------------------------------------------
    def __call__(self, argv, known_only: bool = True) -> list:
        """Parses the flags in ``argv[1:]``; returns ``[argv[0]] + unparsed arguments``.

        Raises:
            IllegalFlagValueError: a flag's value does not parse (the message names it).
            UnrecognizedFlagError: `known_only` is False and an argument looks like an
                unknown flag.
            Error: a required flag is missing.
        """
        argv = list(argv)
        rest = self._apply(argv[1:])
        if not known_only:
            unknown = [a for a in rest if a.startswith("-") and a not in ("-", "--")]
            if unknown:
                raise UnrecognizedFlagError(f"Unknown command line flag '{unknown[0]}'")
        missing = [f.name for f in self._flags.values() if f.required and f.value is None]
        if missing:
            raise Error(f"Flag --{missing[0]} must have a value other than None.")
        object.__setattr__(self, "_parsed", True)
        object.__setattr__(self, "_argv", argv[1:])
        return argv[:1] + rest

    def _parser(self, names) -> argparse.ArgumentParser:
        parser = _Parser(add_help=False, allow_abbrev=False, prefix_chars="-")
        for name in names:
            flag = self._flags[name]
            if flag.kind == "bool":
                parser.add_argument(f"--{name}", f"-{name}", dest=name, action="store_const",
                                    const=True, default=argparse.SUPPRESS)
                parser.add_argument(f"--no{name}", f"-no{name}", dest=name,
                                    action="store_const", const=False,
                                    default=argparse.SUPPRESS)
            else:
                parser.add_argument(f"--{name}", f"-{name}", dest=name, type=str,
                                    default=argparse.SUPPRESS)
        return parser

    def _apply(self, args: list, only=None) -> list:
        """Parses `args` (without the program name) into the flags; returns what is left."""
        names = sorted(only if only is not None else self._flags)
        args, values = self._split_bool_values(args, names)
        if "--" in args:
            cut = args.index("--")
            args, tail = args[:cut], args[cut:]
        else:
            tail = []
        parsed, rest = self._parser(names).parse_known_args(args)
        values.update(vars(parsed))
        for name, raw in values.items():
            flag = self._flags[name]
            flag.value = flag.convert(raw)
            flag.present = True
        return rest + tail[1:]

    def _split_bool_values(self, args: list, names) -> tuple[list, dict]:
        """Takes ``--flag=value`` of boolean flags out of `args` (argparse's store_const
        takes no value), parsing the value."""
        bools = {n for n in names if self._flags[n].kind == "bool"}
        kept, values = [], {}
        for i, a in enumerate(args):
            if a == "--":
                kept.extend(args[i:])
                break
            key, eq, raw = a.lstrip("-").partition("=")
            if a.startswith("-") and eq and key in bools:
                values[key] = self._flags[key].convert(raw)
            else:
                kept.append(a)
        return kept, values

    def is_parsed(self) -> bool:
        return self._parsed

    def mark_as_parsed(self) -> None:
        object.__setattr__(self, "_parsed", True)

    def unparse_flags(self) -> None:
        """Resets every flag to its default and forgets the parsed command line."""
        for flag in self._flags.values():
            flag.value, flag.present = flag.default, False
        object.__setattr__(self, "_parsed", False)
        object.__setattr__(self, "_argv", None)

    # -- access ------------------------------------------------------------------------------
    def __getattr__(self, name: str):
        flags_ = self.__dict__["_flags"]
        if name not in flags_:
            raise UnrecognizedFlagError(f"Unknown flag: {name!r}")
        if not self._parsed:
            self(sys.argv)
        return flags_[name].value

    def __setattr__(self, name: str, value) -> None:
        if name not in self._flags:
            raise UnrecognizedFlagError(f"Unknown flag: {name!r} (define it before setting)")
        flag = self._flags[name]
        flag.value = None if value is None else flag.convert(value)

    def __delattr__(self, name: str) -> None:
        if name not in self._flags:
            raise UnrecognizedFlagError(f"Unknown flag: {name!r}")
        del self._flags[name]

    def __contains__(self, name: str) -> bool:
        return name in self._flags

    def __iter__(self):
        return iter(list(self._flags))

    def __len__(self) -> int:
        return len(self._flags)

    def __getitem__(self, name: str) -> _Flag:
        if name not in self._flags:
            raise UnrecognizedFlagError(f"Unknown flag: {name!r}")
        return self._flags[name]

    def flag_values_dict(self) -> dict:
        """``{name: value}`` of every flag."""
        return {n: f.value for n, f in self._flags.items()}

    def get_flag_value(self, name: str, default):
        return self._flags[name].value if name in self._flags else default

    def get_help(self) -> str:
        """One line per flag: ``--name: help (default: value)``."""
        lines = []
        for name in sorted(self._flags):
            f = self._flags[name]
            extra = f" (one of {', '.join(map(str, f.enum_values))})" if f.enum_values else ""
            default = ",".join(f.default) if isinstance(f.default, list) else f.default
            lines.append(f"  --{name}: {f.help}{extra}\n    (default: {default!r})")
        return "\n".join(lines)

    __str__ = get_help


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise IllegalFlagValueError(message)


FLAGS = FlagValues()


def _define(name, default, help, parse, kind, flag_values=None, enum_values=None):
    fv = FLAGS if flag_values is None else flag_values
    fv._define(_Flag(name, default, help, parse, kind, enum_values))


def DEFINE_string(name: str, default, help: str, flag_values=None, **_) -> None:  # noqa: N802
    """Defines a string flag."""
    _define(name, default, help, str, "string", flag_values)


def DEFINE_integer(name: str, default, help: str, lower_bound=None, upper_bound=None,  # noqa: N802
                   flag_values=None, **_) -> None:
    """Defines an integer flag, optionally bounded (inclusive)."""
    _define(name, default, help, _bounded(_parse_int, "an integer", lower_bound, upper_bound),
            "int", flag_values)


def DEFINE_float(name: str, default, help: str, lower_bound=None, upper_bound=None,  # noqa: N802
                 flag_values=None, **_) -> None:
    """Defines a float flag, optionally bounded (inclusive)."""
    _define(name, default, help, _bounded(float, "a float", lower_bound, upper_bound),
            "float", flag_values)


def DEFINE_boolean(name: str, default, help: str, flag_values=None, **_) -> None:  # noqa: N802
    """Defines a boolean flag: ``--name``, ``--noname``, ``--name=true|false``."""
    _define(name, default, help, _parse_bool, "bool", flag_values)


DEFINE_bool = DEFINE_boolean


def DEFINE_list(name: str, default, help: str, flag_values=None, **_) -> None:  # noqa: N802
    """Defines a comma-separated list-of-strings flag."""
    _define(name, default, help, _parse_list, "list", flag_values)


def DEFINE_enum(name: str, default, enum_values, help: str, flag_values=None,  # noqa: N802
                **_) -> None:
    """Defines a string flag whose value must be one of `enum_values`."""
    allowed = [str(v) for v in enum_values]
    if not allowed:
        raise Error(f"Flag --{name}: enum_values must not be empty")

    def parse(text):
        if str(text) not in allowed:
            raise ValueError(f"value should be one of <{'|'.join(allowed)}>")
        return str(text)
    _define(name, default, help, parse, "enum", flag_values, enum_values=allowed)


def mark_flag_as_required(name: str, flag_values=None) -> None:
    """Parsing fails unless flag `name` ends up with a value other than None."""
    (FLAGS if flag_values is None else flag_values)[name].required = True


def mark_flags_as_required(names, flag_values=None) -> None:
    for name in names:
        mark_flag_as_required(name, flag_values)


flags = types.ModuleType("actorflow.app.flags", "TF 1.x command-line flags (`tf.app.flags`).")
for _name, _value in [
        ("FLAGS", FLAGS), ("FlagValues", FlagValues), ("Error", Error),
        ("IllegalFlagValueError", IllegalFlagValueError),
        ("DuplicateFlagError", DuplicateFlagError),
        ("UnrecognizedFlagError", UnrecognizedFlagError), ("DEFINE_string", DEFINE_string),
        ("DEFINE_integer", DEFINE_integer), ("DEFINE_float", DEFINE_float),
        ("DEFINE_boolean", DEFINE_boolean), ("DEFINE_bool", DEFINE_bool),
        ("DEFINE_list", DEFINE_list), ("DEFINE_enum", DEFINE_enum),
        ("mark_flag_as_required", mark_flag_as_required),
        ("mark_flags_as_required", mark_flags_as_required)]:
    setattr(flags, _name, _value)
del _name, _value


def run(main: Callable | None = None, argv=None):
    """Parses flags from `argv` (default ``sys.argv``), calls ``main(remaining_argv)`` and
    exits with its return value.

    ``--help``/``-h`` prints the flags and exits with status 0; a bad flag value prints the
    error and exits with status 1. `main` defaults to ``__main__.main``.
    """
    argv = list(sys.argv if argv is None else argv)
    if any(a in ("--help", "-h", "-help", "--helpfull") for a in argv[1:]):
        sys.stdout.write(f"{argv[0] if argv else ''}:\n{FLAGS.get_help()}\n")
        sys.exit(0)
    try:
        rest = FLAGS(argv)
    except Error as e:
        sys.stderr.write(f"FATAL Flags parsing error: {e}\nPass --help to see help on flags.\n")
        sys.exit(1)
    if main is None:
        main = sys.modules["__main__"].main
    sys.exit(main(rest))
