"""What each kind of variable accepts: the closed sets of choices (matched without regard to case), the value
types of the fields (with what they accept in words, the second half of an error), the text form of a typed
value, and :class:`ConfigError`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

from lakehouse.platform.errors import LakehouseError


class ConfigError(LakehouseError, ValueError):
    """A configuration value that cannot be used; the message names the variable and what it accepts."""


class Accepts:
    """Marker in a type's metadata: what a variable of that type accepts, as shown to the user."""

    def __init__(self, text: str) -> None:
        self.text = text


class Choice(StrEnum):
    """A closed set of values, matched without regard to case (``EXTERNAL`` is ``external``)."""

    @classmethod
    def _missing_(cls, value: object) -> Choice | None:
        if isinstance(value, str):
            for member in cls:
                if member.value.lower() == value.strip().lower():
                    return member
        return None


class SparkMode(Choice):
    EMBEDDED = "embedded"
    EXTERNAL = "external"


class DbtTarget(Choice):
    LOCAL = "local"
    CLUSTER = "cluster"
    CLUSTER_KERBEROS = "cluster_kerberos"
    CLUSTER_LDAP = "cluster_ldap"


class LogLevel(Choice):
    ERROR = "ERROR"
    WARN = "WARN"
    INFO = "INFO"
    DEBUG = "DEBUG"


class ThriftAuth(Choice):
    """The ``auth`` modes PyHive accepts."""

    NONE = "NONE"
    NOSASL = "NOSASL"
    LDAP = "LDAP"
    CUSTOM = "CUSTOM"
    KERBEROS = "KERBEROS"


def parse_spark_conf(text: str) -> dict[str, str]:
    """``key=value`` pairs separated by ``;`` (SPARK_EXTRA_CONF) as a dict."""
    conf = {}
    for pair in (p.strip() for p in text.split(";")):
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"entry {pair!r} is not key=value")
        conf[key.strip()] = value.strip()
    return conf


def _check_spark_conf(text: str) -> str:
    parse_spark_conf(text)
    return text


Port = Annotated[int, Field(ge=1, le=65535), Accepts("an integer (TCP port 1-65535)")]
Count = Annotated[int, Field(ge=1), Accepts("a whole number, at least 1")]
Rows = Annotated[int, Field(ge=0), Accepts("a whole number, 0 or more")]
Seconds = Annotated[float, Field(gt=0), Accepts("a number of seconds greater than 0")]
WholeSeconds = Annotated[int, Field(ge=1), Accepts("a whole number of seconds, at least 1")]
Days = Annotated[float, Field(ge=0), Accepts("a number of days, 0 or more")]
Flag = Annotated[bool, Accepts("true or false (also yes/no, on/off, 1/0)")]
Memory = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[0-9]+[mMgG]$"),
    Accepts("a JVM memory size in megabytes or gigabytes, such as 512m or 2g"),
]
SparkConf = Annotated[
    str,
    AfterValidator(_check_spark_conf),
    Accepts("`key=value` pairs separated by `;`"),
]


def as_text(value: Any) -> str:
    """The string form of a typed value, as the environment, dbt's profiles and the docs spell it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
