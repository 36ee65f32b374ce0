"""Migration tests: move the test database to a migration of the past and back,
inside the test's transaction (rolled back at the end), and the models of then."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets, *, state_also=()):
    """Migrate to ``targets`` (the latest migrations if None) and return the apps
    (models) of that state; ``state_also``: more nodes the returned state should
    include (an app the targets do not name)."""
    with connection.cursor() as cursor:
        # Rows written in this transaction leave deferred foreign key checks pending,
        # and PostgreSQL alters no table with checks pending: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    nodes = [t for t in targets if t[1] is not None] + list(state_also)
    return MigrationExecutor(connection).loader.project_state(nodes).apps


def migration_before(app: str, name: str) -> list[tuple[str, str]]:
    """The migrations of ``app`` that migration ``name`` follows."""
    migration = MigrationExecutor(connection).loader.get_migration(app, name)
    return [key for key in migration.dependencies if key[0] == app]
