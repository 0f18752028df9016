"""Django's PostgreSQL backend with the worker's connection gate (``studio.db_backends.gate``)."""

from django.db.backends.postgresql import base

from ..gate import GatedConnectionMixin


class DatabaseWrapper(GatedConnectionMixin, base.DatabaseWrapper):
    pass
