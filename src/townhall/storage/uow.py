"""Unit of work: one transaction per use case, events published only after it commits."""

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

Publish = Callable[[str, dict[str, Any]], None]


class UnitOfWork:
    """Wraps one Session; `write=True` takes SQLite's write lock at the start."""

    def __init__(self, session_factory: sessionmaker[Session], publish: Publish, write: bool):
        self._session_factory = session_factory
        self._publish = publish
        self._write = write
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self.session: Session

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.session.connection(execution_options={"townhall_write": self._write})
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is not None:
                self.session.rollback()
            elif self._write:
                self.session.commit()
            # A read ends with close() alone: objects stay loaded (detached), not expired.
        finally:
            self.session.close()
        if exc_type is None:
            for channel, message in self._pending:
                self._publish(channel, message)

    def emit(self, channel: str, message: dict[str, Any]) -> None:
        """Queue an event; it goes out only if the transaction commits."""
        self._pending.append((channel, message))


class UnitOfWorkFactory:
    def __init__(self, engine: Engine, publish: Publish) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._publish = publish

    def write(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self._publish, write=True)

    def read(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self._publish, write=False)
