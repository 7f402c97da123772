"""Opens the workspace database and keeps its schema current.

SQLite (a file under data/, WAL mode, so the console reads while a worker writes) unless
DATABASE_URL names PostgreSQL; `postgresql://` URLs are sent through psycopg 3.
"""
from __future__ import annotations

import atexit
import os
import sqlite3
import uuid
from pathlib import Path

from sqlalchemy import Connection, Engine, Inspector, Pool, Table, create_engine, event, inspect, select, update
from sqlalchemy.exc import ArgumentError
from sqlalchemy.schema import CreateColumn
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential_jitter

from importers.errors import ConfigError

from .files import private_dir, private_sqlite
from .schema import SCHEMA_VERSION, metadata, schema_info

ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Where the SQLite store and the audit log live unless configured: ACGS2_DATA_DIR, else `data/`
    of the checkout this code runs from, else `data/` in the current folder (an installed
    `acgs2-import` must not write into site-packages)."""
    configured = os.environ.get("ACGS2_DATA_DIR", "").strip()
    if configured:
        return Path(configured)
    return (ROOT if (ROOT / "app.py").exists() else Path.cwd()) / "data"


def database_url(url: str | None = None) -> str:
    url = (url or os.environ.get("DATABASE_URL") or "").strip()
    if not url:
        path = private_dir(data_dir()) / "workspace.db"
        return f"sqlite:///{path}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# Pages the WAL may hold before a commit copies them into the database (SQLite's default: 1,000). An import's
# new rows land on random leaves of the (source, external_id) indexes (ids such as ServiceNow's sys_id are
# random), so a batch dirties more pages as the store grows: 365 for 1,000 ServiceNow tickets with their journal
# into an empty store, 2,030 once it holds 100,000. From about 20,000 on, every batch's commit ran a checkpoint
# at the default; at 10,000 pages (40 MB of WAL) one in five does, and a page changed by several batches is
# copied once.
WAL_CHECKPOINT_PAGES = 10_000


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    _into_wal(cursor)
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and exc.sqlite_errorcode == sqlite3.SQLITE_BUSY


# WAL is kept in the file: only a new store's first connections switch. SQLite answers a switch that meets another
# connection's lock with "database is locked" at once, without its busy handler, so processes opening a new store
# together (the console, the CLI and a worker) wait and try again here.
@retry(retry=retry_if_exception(_busy), stop=stop_after_delay(30),
       wait=wait_exponential_jitter(multiplier=0.005, max=0.25, jitter=0.005), reraise=True)
def _into_wal(cursor: sqlite3.Cursor) -> None:
    cursor.execute("PRAGMA journal_mode=WAL")


_ENGINES: dict[str, Engine] = {}


def engine_for(url: str | None = None) -> Engine:
    """One engine (connection pool) per database URL and process, schema ensured once."""
    resolved = database_url(url)
    if resolved not in _ENGINES:
        _ENGINES[resolved] = _create(resolved)
    return _ENGINES[resolved]


def _create(resolved: str) -> Engine:
    try:
        if resolved.startswith("sqlite"):
            path = resolved.split("///", 1)[-1].split("?", 1)[0]
            if path and path != ":memory:":
                private_sqlite(Path(path))
            engine = create_engine(resolved, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            # prepare_threshold=None: psycopg 3 would turn statements run 5 times into server-side
            # prepared ones, whose generic plan, fixed while a new store's tables are near empty,
            # scans them whole; the duplicate lookups of an import then slowed to 100 ms each.
            engine = create_engine(resolved, pool_pre_ping=True, pool_size=5, max_overflow=5,
                                   connect_args={"prepare_threshold": None})
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"DATABASE_URL is not a usable database URL: {exc}") from None
    except OSError as exc:  # a directory, or a place no file can be made (/proc/...)
        raise _cannot_open(resolved, str(exc.strerror or exc)) from None
    migrate(engine)
    return engine


def _add_missing_columns(conn: Connection, inspector: Inspector, tables: list[Table]) -> None:
    """Bring tables made by an older release up to `schema.py`: add the columns and indexes it lacks.

    Schema changes are additive: a new column is nullable or has a server default, so rows written
    before it stay valid and older workers, which never name it, keep working during an upgrade."""
    for table in tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                ddl = CreateColumn(column).compile(dialect=conn.dialect)
                conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(conn)


def migrate(engine: Engine) -> None:
    """Create missing tables, add missing columns and indexes, record the schema version.

    One process at a time: the console, the CLI and workers often open a new store at the same moment.
    PostgreSQL serializes them on an advisory lock; SQLite on its write lock, taken before the tables are
    listed (Python's sqlite3 runs DDL outside any transaction it opened itself, so each CREATE TABLE
    committed on its own and a second process, a table behind the first, failed on "already exists")."""
    from sqlalchemy.exc import DatabaseError

    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(424242)")
            elif engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            # One listing of the tables decides what to create and what to inspect: a new store's tables
            # were checked one by one and then, just made, reflected column by column (on SQLite about 40%
            # of the schema work of a user's first `cli.py run`); a current store's are looked up once.
            inspector = inspect(conn)
            present = set(inspector.get_table_names())
            metadata.create_all(conn, tables=[t for t in metadata.sorted_tables if t.name not in present],
                                checkfirst=False)
            _add_missing_columns(conn, inspector, [t for t in metadata.sorted_tables if t.name in present])
            if conn.execute(select(schema_info.c.version)).scalar() is None:
                conn.execute(schema_info.insert().values(version=SCHEMA_VERSION))
            conn.execute(update(schema_info).where(schema_info.c.store_id.is_(None))
                         .values(store_id=uuid.uuid4().hex[:12]))
    except DatabaseError as exc:  # OperationalError, or SQLite's "file is not a database"
        raise _cannot_open(engine.url.render_as_string(hide_password=True),
                           str(exc.orig).strip().splitlines()[0]) from None


def _cannot_open(shown_url: str, reason: str) -> ConfigError:
    return ConfigError(f"cannot open the workspace database ({shown_url}): {reason}; check DATABASE_URL")


_STORE_IDS: dict[str, str] = {}


def store_id(url: str | None = None) -> str:
    """This store's install id (12 hex digits), made when the store was first opened and kept in it.

    Every process that opens the same database (the console, the CLI, workers on other machines)
    reads the same id, whatever URL or host name it reaches the database by; another install has
    another id. The RQ queue is named by it (jobs/queue.py)."""
    resolved = database_url(url)
    if resolved not in _STORE_IDS:
        with engine_for(resolved).connect() as conn:
            _STORE_IDS[resolved] = conn.execute(select(schema_info.c.store_id).limit(1)).scalar_one()
    return _STORE_IDS[resolved]


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()


def dispose_all() -> None:
    """Close every pooled connection (tests, and workers after a fork)."""
    for engine in list(_ENGINES.values()):
        engine.dispose()
    _ENGINES.clear()
    _STORE_IDS.clear()


_DISOWNED: list[Pool] = []  # the parent's pools, kept referenced in a forked child so that none is ever finalized


def _after_fork_in_child() -> None:
    """A forked process (RQ's work horse, a part's reader) must not reuse its parent's database connections,
    nor close them: the pools are disowned and kept, since collecting one would close its SQLite handles in the
    child (where a mutex another thread of the parent held at the fork stays held) or its PostgreSQL sockets."""
    for engine in _ENGINES.values():
        _DISOWNED.append(engine.pool)
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)
# Pooled connections are closed at exit, not left to the collector: a CLI process freezes its heap at exit (cli.py),
# so its pool's SQLite connections were never finalized and the last one out never checkpointed the WAL. After
# `cli.py run` into a new store, workspace.db held an empty page and every table and row sat in workspace.db-wal;
# a copy of the .db file alone was an empty database. (RQ's work horse leaves by os._exit, without this.)
atexit.register(dispose_all)
