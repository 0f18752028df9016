#!/usr/bin/env python
"""Extract the Images API operations from OpenAI's OpenAPI spec into a small OpenAPI document.

The property-based test (``tests/imageapi/test_emulator_fuzz.py``) drives schemathesis with
it, without the 3 MB spec (which lives outside the repository) at run time. The document is
the spec's own text for the two operations and every schema they reach; the test, not this
script, patches what is stale. Re-run after updating the spec:

    .venv/bin/python scripts/extract_openapi_operations.py [--spec PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from extract_openapi_schemas import DEFAULT_SPEC, REPO, collect, local_refs

DEFAULT_OUT = REPO / "tests" / "contract" / "openai-images-operations.json"
OPERATIONS = (("/images/generations", "post"), ("/images/edits", "post"))
# Long prose examples in several languages: nothing a test reads.
DROPPED_KEYS = frozenset({"x-oaiMeta"})


def _without(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _without(value) for key, value in node.items() if key not in DROPPED_KEYS}
    if isinstance(node, list):
        return [_without(item) for item in node]
    return node


def extract(spec_path: Path) -> dict[str, Any]:
    raw = spec_path.read_bytes()
    spec = yaml.load(raw, Loader=yaml.CSafeLoader)
    paths = {path: {method: _without(spec["paths"][path][method])} for path, method in OPERATIONS}
    roots = tuple(sorted(set(local_refs(paths)) | {"ErrorResponse"}))
    return {
        "openapi": spec["openapi"],
        "info": {**spec["info"], "x-comment": (
            "The images operations of OpenAI's OpenAPI spec, extracted by "
            "scripts/extract_openapi_operations.py; do not edit by hand."),
            "x-sha256": hashlib.sha256(raw).hexdigest()},
        "servers": spec.get("servers", []),
        "paths": paths,
        "components": {"schemas": _without(collect(spec["components"]["schemas"], roots))},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    document = extract(args.spec)
    args.out.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"Wrote {args.out} ({len(document['components']['schemas'])} schemas)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
