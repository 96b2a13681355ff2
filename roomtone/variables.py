"""Environment variables, each declared once on the config field it sets.

A frozen config dataclass declares a field with `variable(NAME, kind, default,
help)`. From that one declaration come the field's default, parsing and
validation at startup (`load`), the command-line flags and their `--help`
(`add_flags`), and the generated `.env.example` and configuration tables
(`configdocs.py`). A field holding another config dataclass (`group`) nests
its variables. An empty value means "not set", so the default applies. A bad
value raises ConfigError naming the variable; the CLI prints it as one line
and exits 2.

A small table of our own rather than pydantic-settings: the names are the
original Roomtone's flat ones (not nested field paths), several values need
our own parsing (PEM keys, ICE servers, a `_FILE` twin), and the error must be
one line naming the variable; pydantic would need an alias, a validator and
an error translation for nearly every field.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_LIST_SEPARATORS = re.compile(r"[,\s]+")
_METADATA_KEY = "roomtone.variable"


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


# --- kinds: how a variable's text becomes a value --------------------------------------


class Kind:
    """Parses one variable's (stripped, non-empty) text; `show` writes a value back."""

    metavar: ClassVar[str] = "VALUE"
    #: values from NAME and NAME_FILE are joined (else NAME wins and the file is not read)
    joins_file: ClassVar[bool] = False

    def parse(self, text: str, name: str) -> Any:
        return text

    def show(self, value: Any) -> str:
        return "" if value is None else str(value)

    def join(self, values: list[Any]) -> Any:
        return values[0]


class Bool(Kind):
    metavar = "BOOL"

    def parse(self, text: str, name: str) -> bool:
        value = text.lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConfigError(name, f"must be true or false (got {text!r})")

    def show(self, value: Any) -> str:
        return "true" if value else "false"


class Int(Kind):
    def __init__(self, low: int, high: int | None = None) -> None:
        self.low, self.high = low, high

    def parse(self, text: str, name: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ConfigError(name, f"must be an integer (got {text!r})") from None
        if value < self.low or (self.high is not None and value > self.high):
            allowed = f"{self.low}-{self.high}" if self.high is not None else f">= {self.low}"
            raise ConfigError(name, f"must be in {allowed} (got {value})")
        return value


class Seconds(Int):
    """Whole seconds in the variable, a float in the config (timers take floats)."""

    def parse(self, text: str, name: str) -> float:
        return float(super().parse(text, name))

    def show(self, value: Any) -> str:
        return str(int(value)) if float(value).is_integer() else str(value)


class Choice(Kind):
    def __init__(self, *options: str) -> None:
        self.options = options

    def parse(self, text: str, name: str) -> str:
        value = text.lower()
        if value not in self.options:
            raise ConfigError(name, f"must be one of {', '.join(self.options)} (got {value!r})")
        return value


class Text(Kind):
    """Free text, optionally matched against `pattern` (the whole value)."""

    def __init__(self, pattern: str | None = None, problem: str = "") -> None:
        self.pattern = re.compile(pattern) if pattern else None
        self.problem = problem

    def parse(self, text: str, name: str) -> str:
        if self.pattern is not None and not self.pattern.fullmatch(text):
            raise ConfigError(name, self.problem)
        return text


class HttpUrl(Kind):
    """An http(s) URL; a trailing slash is dropped so paths can be appended."""

    metavar = "URL"

    def __init__(self, problem: str = "must be an http(s) URL") -> None:
        self.problem = problem

    def parse(self, text: str, name: str) -> str:
        if not re.match(r"^https?://[^/\s]+", text):
            raise ConfigError(name, self.problem)
        return text.rstrip("/")


class FilePath(Kind):
    metavar = "FILE"

    def parse(self, text: str, name: str) -> Path:
        return Path(text)


class Directory(Kind):
    metavar = "DIR"

    def parse(self, text: str, name: str) -> Path:
        path = Path(text)
        if not path.is_dir():
            raise ConfigError(name, f"is not a directory: {text}")
        return path


class Ids(Kind):
    """Numeric (Telegram) ids separated by commas or spaces."""

    metavar = "IDS"

    def parse(self, text: str, name: str) -> frozenset[int]:
        try:
            return frozenset(int(p) for p in _LIST_SEPARATORS.split(text) if p)
        except ValueError:
            raise ConfigError(name, "must be numeric ids separated by commas") from None

    def show(self, value: Any) -> str:
        return ",".join(str(i) for i in sorted(value or ()))


# --- declarations ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Variable:
    """One environment variable: where its value comes from and what it means."""

    name: str
    kind: Kind
    default: Any
    help: str
    #: help of NAME_FILE, a file that may hold the value instead (PEM keys)
    file_help: str = ""
    #: when set, the variable must be given (its default stands for "unset"); the complaint
    required: str = ""
    #: the value .env.example shows, when it should not be the default
    example: str | None = None
    #: a further line for .env.example (not for --help)
    note: str = ""

    @property
    def file_name(self) -> str:
        return f"{self.name}_FILE" if self.file_help else ""

    @property
    def default_text(self) -> str:
        return self.kind.show(self.default)

    def read(self, env: Mapping[str, str]) -> Any:
        """The value from `env` (or NAME_FILE), else the default; ConfigError if it is bad.

        `required` is enforced by `load`, not here, so a caller may read a
        required variable that is unset (it gets the default).
        """
        values = []
        text = env.get(self.name, "").strip()
        if text:
            values.append(self.kind.parse(text, self.name))
        if self.file_name and (not values or self.kind.joins_file):
            path = env.get(self.file_name, "").strip()
            contents = _read_file(path, self.file_name) if path else ""
            if contents:  # an empty file is as good as no file
                values.append(self.kind.parse(contents, self.file_name))
        return self.kind.join(values) if values else self.default


def _read_file(path: str, name: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise ConfigError(name, f"cannot read {path}: {exc.strerror}") from None


def variable(
    name: str,
    kind: Kind,
    default: Any,
    help: str,
    **more: Any,
) -> Any:
    """A dataclass field set by the environment variable `name` (see Variable)."""
    declared = Variable(name, kind, default, help, **more)
    return dataclasses.field(default=default, metadata={_METADATA_KEY: declared})


def group(config_class: type[T]) -> T:
    """A dataclass field holding another config dataclass, whose variables nest."""
    return dataclasses.field(default_factory=config_class)  # type: ignore[return-value]


def _is_group(field: dataclasses.Field) -> bool:
    factory = field.default_factory
    return isinstance(factory, type) and dataclasses.is_dataclass(factory)


def declared(config_class: type) -> Iterator[tuple[type, Variable]]:
    """Every variable of `config_class` and its groups, in field order, with its class."""
    for field in dataclasses.fields(config_class):
        if _METADATA_KEY in field.metadata:
            yield config_class, field.metadata[_METADATA_KEY]
        elif _is_group(field):
            yield from declared(field.default_factory)  # type: ignore[arg-type]


def find(config_class: type, name: str) -> Variable:
    for _, declaration in declared(config_class):
        if declaration.name == name:
            return declaration
    raise KeyError(name)


def load(config_class: type[T], env: Mapping[str, str]) -> T:
    """Build `config_class` from `env`; raises ConfigError on the first bad variable.

    A class may define `checked(self) -> Self` for rules across its variables
    (it returns the config, possibly completed, or raises ConfigError).
    """
    values = {}
    for field in dataclasses.fields(config_class):  # type: ignore[arg-type]
        if _METADATA_KEY in field.metadata:
            declaration: Variable = field.metadata[_METADATA_KEY]
            value = declaration.read(env)
            if declaration.required and value == declaration.default:
                raise ConfigError(declaration.name, declaration.required)
            values[field.name] = value
        elif _is_group(field):
            values[field.name] = load(field.default_factory, env)  # type: ignore[arg-type]
    config = config_class(**values)
    checked = getattr(config, "checked", None)
    return checked() if checked is not None else config


# --- command-line flags --------------------------------------------------------------------


def flag(name: str) -> str:
    return "--" + name.lower().replace("_", "-")


def add_flags(parser: argparse.ArgumentParser, config_class: type) -> None:
    """One flag per variable (and per NAME_FILE), its help naming the variable and default."""
    for _, declaration in declared(config_class):
        kind = declaration.kind
        shown = "required" if declaration.required else declaration.default_text or "empty"
        is_bool = isinstance(kind, Bool)
        parser.add_argument(
            flag(declaration.name),
            dest=declaration.name,
            metavar=kind.metavar,
            nargs="?" if is_bool else None,
            const="true" if is_bool else None,
            help=f"{declaration.help} [env {declaration.name}, default: {shown}]",
        )
        if declaration.file_name:
            parser.add_argument(
                flag(declaration.file_name),
                dest=declaration.file_name,
                metavar="FILE",
                help=f"{declaration.file_help} [env {declaration.file_name}, default: empty]",
            )


def with_flags(
    args: argparse.Namespace, config_class: type, env: Mapping[str, str]
) -> dict[str, str]:
    """`env` with every flag given on the command line written over its variable."""
    merged = dict(env)
    for _, declaration in declared(config_class):
        for name in (declaration.name, declaration.file_name):
            value = getattr(args, name, None) if name else None
            if value is not None:
                merged[name] = value
    return merged
