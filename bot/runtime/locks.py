"""Only one sweeper at a time.

On PostgreSQL a session-level advisory lock, held on one connection for the whole sweep: if the
process dies, the connection closes and the lock goes with it. On SQLite a lease row in `leases`
(holder, expires_at), taken when free or expired, released at the end. The lease is short (30 s)
and the holder's renewer thread pushes it out every 10 s while the sweep runs, so a holder that
died (`kill -9`, a lost machine) stops blocking the others within 30 s of its last renewal; and a
holder on this same host whose process no longer exists is taken over at once (the holder names
host, process and thread). Lease times are wall-clock times, whatever "now" a sweep pretends it is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.engine import Engine

from store.models import Lease
from store.types import utcnow

log = logging.getLogger("onboard_bot.locks")

SWEEP = "sweep"
DELIVERY = "delivery"
# Renewed every third of it: one missed renewal (a slow disk, a busy database) does not lose it.
LEASE_TTL = timedelta(seconds=30)

_LEASES = Lease.__table__  # type: ignore[attr-defined]


def default_holder() -> str:
    """Who we are, for the lease: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:80]


def _advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"onboard-bot:{name}".encode()).digest()[:8], "big", signed=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process is there
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but someone else's
        return True
    except OSError:
        return True  # cannot tell: assume it lives, and let its lease run out
    return True


def holder_is_gone(holder: str) -> bool:
    """Whether `holder` (host:pid:thread) was a process on this host that no longer exists.

    False whenever that cannot be known for sure: another host, a holder string of another form.
    Processes sharing one SQLite file from separate containers need distinct host names for this.
    """
    host, sep, _thread = holder.rpartition(":")
    host, sep2, pid = host.rpartition(":")
    if not (sep and sep2) or host != socket.gethostname() or not pid.isdigit():
        return False
    pid_n = int(pid)
    return pid_n > 0 and pid_n != os.getpid() and not _process_exists(pid_n)


# -- leases (any database; the lock of choice on SQLite) --------------------------------------------
def acquire_lease(
    engine: Engine, name: str, holder: str, *, ttl: timedelta = LEASE_TTL, now: datetime | None = None
) -> bool:
    """Take the lease if nobody holds it, its holder let it run out or is gone, or we hold it already."""
    now = now or utcnow()
    from sqlalchemy.dialects import postgresql, sqlite

    dialect: Any = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_LEASES).values(name=name, holder=holder, expires_at=now + ttl)
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
        where=or_(_LEASES.c.expires_at <= now, _LEASES.c.holder == holder),
    ).returning(_LEASES.c.holder)
    with engine.begin() as conn:
        if conn.execute(statement).first() is not None:
            return True
        current = conn.execute(select(_LEASES.c.holder).where(_LEASES.c.name == name)).scalar()
        if current is None or not holder_is_gone(current):
            return False
        # Only if it is still the dead holder's: another taker may have been quicker.
        taken = conn.execute(
            update(_LEASES)
            .where(_LEASES.c.name == name, _LEASES.c.holder == current)
            .values(holder=holder, expires_at=now + ttl)
        )
        if taken.rowcount == 1:
            log.warning("took over the %s lease from %s, a process that no longer exists", name, current)
            return True
        return False


def renew_lease(
    engine: Engine, name: str, holder: str, *, ttl: timedelta = LEASE_TTL, now: datetime | None = None
) -> bool:
    """Push our lease's end further out; False when it is no longer ours."""
    now = now or utcnow()
    with engine.begin() as conn:
        result = conn.execute(
            update(_LEASES).where(_LEASES.c.name == name, _LEASES.c.holder == holder).values(expires_at=now + ttl)
        )
        return result.rowcount == 1


def release_lease(engine: Engine, name: str, holder: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(_LEASES).where(_LEASES.c.name == name, _LEASES.c.holder == holder))


@contextmanager
def _leased(engine: Engine, name: str, holder: str, ttl: timedelta) -> Iterator[bool]:
    if not acquire_lease(engine, name, holder, ttl=ttl):
        yield False
        return
    stop = threading.Event()

    def keep_renewing() -> None:
        while not stop.wait(ttl.total_seconds() / 3):
            try:
                if not renew_lease(engine, name, holder, ttl=ttl):
                    log.warning("lost the %s lease to another holder", name)
                    return
            except Exception:
                log.warning("could not renew the %s lease", name, exc_info=True)

    renewer = threading.Thread(target=keep_renewing, name=f"lease-{name}", daemon=True)
    renewer.start()
    try:
        yield True
    finally:
        stop.set()
        renewer.join()
        release_lease(engine, name, holder)


# -- advisory lock (PostgreSQL) -------------------------------------------------------------------
@contextmanager
def _advisory(engine: Engine, name: str) -> Iterator[bool]:
    key = _advisory_key(name)
    with engine.connect() as conn:
        acquired = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        conn.commit()  # the lock belongs to the session, not to this transaction
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    conn.commit()
                except Exception:
                    log.warning("could not release the %s lock; discarding its connection", name, exc_info=True)
                    conn.invalidate()


@contextmanager
def sweep_lock(engine: Engine, holder: str, *, name: str = SWEEP, ttl: timedelta = LEASE_TTL) -> Iterator[bool]:
    """`with sweep_lock(engine, holder) as acquired:` runs the block either way; skip the work unless acquired."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, name) as acquired:
            yield acquired
    else:
        with _leased(engine, name, holder, ttl) as acquired:
            yield acquired
