"""The layer contracts of pyproject.toml ([tool.importlinter]) hold, and would catch an upward
import, Django in imageapi or a cycle: `make test` fails the moment one comes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter import configuration
from importlinter.application import use_cases
from importlinter.application.app_config import settings

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


class _BuilderAdding:
    """The real graph, plus imports the code does not have."""

    def __init__(self, builder, extra: list[tuple[str, str]]) -> None:
        self.builder, self.extra = builder, extra

    def build(self, **kwargs):
        graph = self.builder.build(**kwargs)
        for importer, imported in self.extra:
            graph.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
        return graph


def _kept(extra: list[tuple[str, str]] = (), *, contract: str | None = None) -> bool:
    """Whether the contracts (or the one named) hold, with ``extra`` imports added to the code's own."""
    configuration.configure()
    settings.configure(GRAPH_BUILDER=_BuilderAdding(settings.GRAPH_BUILDER, list(extra)))
    try:
        return use_cases.lint_imports(str(PYPROJECT), limit_to_contracts=(contract,) if contract else (),
                                      cache_dir=None, is_debug_mode=True, no_logo=True)
    finally:
        configuration.configure()


def test_the_code_keeps_every_layer_contract():
    assert _kept()


@pytest.mark.parametrize(("importer", "imported", "contract"), [
    ("teams.selectors", "gallery.permissions", "layers"),  # teams asking gallery about spaces
    ("gallery.permissions", "studio.models", "layers"),  # gallery deciding about jobs
    ("imageapi.client", "teams.models", "layers"),
    ("imageapi.client", "django.conf", "imageapi-plain-python"),
    ("gallery.models", "gallery.views", "no-cycles"),  # views import models already
    ("studio.models", "studio.permissions", "no-cycles"),
])
def test_an_upward_import_or_a_cycle_breaks_a_contract(importer, imported, contract):
    assert _kept(contract=contract)
    assert not _kept([(importer, imported)], contract=contract)
