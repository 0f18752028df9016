"""Validate instances against the Images API schemas of OpenAI's OpenAPI spec.

The schemas live in ``openai-images-schemas.json`` beside this file, extracted from the
spec by ``scripts/extract_openapi_schemas.py`` (OpenAPI 3.1, so JSON Schema 2020-12).

    validate_against("ImagesResponse", body)          # raises jsonschema.ValidationError
    schema_errors("ImagesResponse", body)             # every error, for finer assertions
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS_FILE = Path(__file__).with_name("openai-images-schemas.json")
# The extracted document is registered under this URI; its "#/components/schemas/..." refs
# resolve inside it.
DOCUMENT_URI = "urn:openai:images-schemas"


@cache
def schemas_document() -> dict[str, Any]:
    return json.loads(SCHEMAS_FILE.read_text(encoding="utf-8"))


def schema_names() -> list[str]:
    return list(schemas_document()["components"]["schemas"])


def schema(name: str) -> dict[str, Any]:
    """The raw schema ``name`` (e.g. to read its ``properties`` or an ``enum``)."""
    try:
        return schemas_document()["components"]["schemas"][name]
    except KeyError:
        raise KeyError(f"{name!r} is not among the extracted schemas: {schema_names()}") from None


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(schemas_document(), default_specification=DRAFT202012)
    return Registry().with_resource(DOCUMENT_URI, resource)


@cache
def validator(name: str) -> Draft202012Validator:
    schema(name)  # fail early, with the list of names, for a typo
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#/components/schemas/{name}"}, registry=_registry()
    )


def schema_errors(name: str, instance: Any) -> list[ValidationError]:
    return sorted(validator(name).iter_errors(instance), key=lambda error: list(error.path))


def validate_against(name: str, instance: Any) -> None:
    """Raise the most relevant ``ValidationError`` when ``instance`` breaks schema ``name``."""
    error = best_match(validator(name).iter_errors(instance))
    if error is not None:
        raise error
