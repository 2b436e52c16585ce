"""Unit of work: one transaction per use case, events published only after it commits."""

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from townhall.storage.write_gate import WriterGate

Publish = Callable[[str, dict[str, Any]], None]


class UnitOfWork:
    """Wraps one Session; `write=True` waits its turn at the writer gate, then takes
    SQLite's write lock at the start."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        publish: Publish,
        write: bool,
        gate: WriterGate | None = None,
    ):
        self._session_factory = session_factory
        self._publish = publish
        self._write = write
        self._gate = gate if write else None
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._after_commit: list[Callable[[], None]] = []
        self.session: Session

    def __enter__(self) -> Self:
        if self._gate is not None:
            self._gate.acquire()  # raises WritersBusy before anything is touched
        try:
            self.session = self._session_factory()
            try:
                self.session.connection(execution_options={"townhall_write": self._write})
            except BaseException:
                self.session.close()
                raise
        except BaseException:
            if self._gate is not None:
                self._gate.release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            try:
                if exc_type is not None:
                    self.session.rollback()
                elif self._write:
                    self.session.commit()
                # A read ends with close() alone: objects stay loaded (detached), not expired.
            finally:
                self.session.close()
        finally:
            if self._gate is not None:
                self._gate.release()
        if exc_type is None:
            for callback in self._after_commit:
                callback()
            for channel, message in self._pending:
                self._publish(channel, message)

    def emit(self, channel: str, message: dict[str, Any]) -> None:
        """Queue an event; it goes out only if the transaction commits."""
        self._pending.append((channel, message))

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run a callback (e.g. forget a cached fact) once the transaction has committed,
        before its events are published; not at all if it rolls back."""
        self._after_commit.append(callback)


class UnitOfWorkFactory:
    def __init__(self, engine: Engine, publish: Publish, gate: WriterGate | None = None) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._publish = publish
        self.gate = gate

    def write(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self._publish, write=True, gate=self.gate)

    def read(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self._publish, write=False)
