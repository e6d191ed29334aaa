"""``search.storage``: the database URL of a sweep's Optuna study, checked before anything runs
and shown with its password masked."""

from __future__ import annotations

DRIVER_HINTS = {"postgresql": "pip install 'basin[postgres]'"}


def check_database_url(url: str) -> str:
    """Refuse a ``search.storage`` that is not a database URL, or whose database driver is not
    installed (Optuna would only fail once the sweep starts)."""
    # SQLAlchemy, imported here: only a sweep with a database pays its import.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:  # before ArgumentError, its base class
        raise ValueError(f"unknown database {url.split(':', 1)[0]!r} (use sqlite, postgresql "
                         f"or mysql) (got {shown_url(url)!r})") from None
    except ArgumentError:
        raise ValueError(f"not a database URL such as postgresql://user:password@host:5432/basin "
                         f"or sqlite:////shared/basin.db (got {url!r})") from None
    except ImportError as error:
        hint = DRIVER_HINTS.get(parsed.get_backend_name(), "install its Python driver")
        raise ValueError(f"the driver for {parsed.drivername} is not installed ({error.name}): "
                         f"{hint} (got {shown_url(url)!r})") from None
    return url


def shown_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
