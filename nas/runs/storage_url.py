"""Storage URLs: their passwords kept out of every file and message, given back from the
environment, and the database driver they need.

A password in ``--storage postgresql://user:secret@host/db`` is never written to the run
folder (run.json, config.yaml, the study's copy of the config) or printed: what is
stored and shown is ``postgresql://user:***@host/db``. A resumed search, `nas report`
and the other readers get the password back the way SQLAlchemy and libpq users expect:

- ``NAS_STORAGE``, the full URL in the environment, when it names the same database
  (same backend, user, host, port and database); or
- no password in the URL at all, so the driver finds it itself: PostgreSQL's libpq reads
  ``~/.pgpass`` (or ``PGPASSFILE``) and ``PGPASSWORD``.
"""

from __future__ import annotations

import importlib.util
import os
import re
from typing import Any

from search_space.errors import SpaceError

ENV_STORAGE = "NAS_STORAGE"
HIDDEN = "***"  # what SQLAlchemy's render_as_string(hide_password=True) writes
# scheme://user:password@  (greedy to the last @ of the word: a password may hold one)
_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*):(?P<secret>\S*)@")
# ...?password=secret&... (libpq and PyMySQL accept the password as a query parameter)
_QUERY = re.compile(r"(?P<head>[?&](?:password|passwd)=)(?P<secret>[^&\s]*)", re.IGNORECASE)

# Backend -> (drivers SQLAlchemy can use, in order of preference, with their pip names).
DRIVERS = {
    "postgresql": (("psycopg2", "psycopg2-binary"), ("psycopg", "psycopg[binary]")),
    "mysql": (("pymysql", "pymysql"), ("MySQLdb", "mysqlclient")),
}


def redact_url(text: str) -> str:
    """`text` with every URL password replaced by ***; anything else is left as it was."""
    text = _USERINFO.sub(lambda m: f"{m['head']}:{HIDDEN}@", str(text))
    return _QUERY.sub(lambda m: f"{m['head']}{HIDDEN}", text)


def is_redacted(url: str) -> bool:
    return f":{HIDDEN}@" in url or bool(_QUERY.search(url) and HIDDEN in url)


def without_password(url: str) -> str:
    """The URL with no password at all: the driver then finds it (libpq: ~/.pgpass)."""
    url = _USERINFO.sub(lambda m: f"{m['head']}@", url)
    return re.sub(r"[?&](?:password|passwd)=[^&\s]*", "", url, flags=re.IGNORECASE)


def restore_password(url: str, label: str) -> str:
    """The URL to connect with: `url` itself when it is complete; the environment's
    ``NAS_STORAGE`` when that names the same database; else `url` with no password, so
    the driver reads ~/.pgpass or PGPASSWORD. A NAS_STORAGE naming another database is
    one SpaceError line."""
    if url.startswith("sqlite"):
        return url
    env = os.environ.get(ENV_STORAGE)
    missing = is_redacted(url) or not (_USERINFO.search(url) or _QUERY.search(url))
    if not env or not missing:
        return without_password(url) if is_redacted(url) else url
    if without_password(redact_url(env)) != without_password(url):
        raise SpaceError(
            f"{label}: {ENV_STORAGE} names another database ({redact_url(env)}); "
            f"set it to this run's storage with its password, or unset it"
        )
    return env


def with_driver(url: str, label: str) -> str:
    """The URL with an installed driver named (postgresql:// -> postgresql+psycopg2://);
    SpaceError with the pip command when none is installed or the URL is not one."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise SpaceError(
            f"{label}: not a database URL; e.g. sqlite:////abs/path/study.db or "
            "postgresql://user:password@host/db"
        ) from None
    backend = parsed.get_backend_name()
    choices = DRIVERS.get(backend)
    if choices is None or "+" in parsed.drivername:
        _check_dialect(parsed, label)
        return url
    for module, _ in choices:
        if importlib.util.find_spec(module) is not None:
            return parsed.set(drivername=f"{backend}+{module}").render_as_string(
                hide_password=False
            )
    pips = " or ".join(f"pip install '{pip}'" for _, pip in choices)
    raise SpaceError(f"{label}: no {backend} driver is installed; run {pips}")


def _check_dialect(parsed: Any, label: str) -> None:
    from sqlalchemy.exc import NoSuchModuleError

    try:
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise SpaceError(
            f"{label}: unknown database kind {parsed.drivername!r}; Optuna stores studies in "
            "sqlite:///..., postgresql://... or mysql://..."
        ) from None
    except ImportError as error:
        raise SpaceError(
            f"{label}: its driver is not installed ({error.name}); pip install {error.name}"
        ) from None
    except Exception as error:
        raise SpaceError(f"{label}: unknown database kind ({redact_url(str(error))})") from None
