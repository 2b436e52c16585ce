"""Migration 0007 builds exactly the moderation tables storage/tables.py describes."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from townhall.storage.migrate import upgrade_to_head
from townhall.storage.tables import Base

MODERATION_TABLES = {"reports", "user_suspensions", "moderation_log"}


def test_the_moderation_tables_match_the_models_after_migrating(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'townhall.db'}")
    try:
        upgrade_to_head(engine)
        assert set(inspect(engine).get_table_names()) >= MODERATION_TABLES
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    about_moderation = [
        diff for diff in differences if any(name in repr(diff) for name in MODERATION_TABLES)
    ]
    assert about_moderation == []
