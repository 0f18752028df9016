"""Django's SQLite backend with the worker's connection gate (``studio.db_backends.gate``)."""

from django.db.backends.sqlite3 import base

from ..gate import GatedConnectionMixin


class DatabaseWrapper(GatedConnectionMixin, base.DatabaseWrapper):
    pass
