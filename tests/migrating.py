"""Moving one app's schema back and forth inside a test (a data migration's own test)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(app: str, target: list[tuple[str, str]]) -> Any:
    """Migrate `app` to `target` (the other apps stay at their latest); the models then."""
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    executor.loader.build_graph()
    others = [n for n in executor.loader.graph.leaf_nodes() if n[0] != app]
    return executor.loader.project_state(others + target).apps
