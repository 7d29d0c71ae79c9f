"""Generate the checked-in JSON Schema files from the event models.

Run ``python -m schemas.generate`` after changing a model; a test fails while the files are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from schemas.events import ALL_MODELS, SCHEMA_VERSION

SCHEMA_DIR = Path(__file__).resolve().parent / "json"


def render_schemas() -> dict[str, str]:
    """Return each model's JSON Schema text, keyed by file name."""
    rendered = {}
    for model in ALL_MODELS:
        schema = model.model_json_schema()
        schema["$id"] = f"https://farmstream.invalid/schemas/{model.__name__}.v{SCHEMA_VERSION}.json"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        rendered[f"{model.__name__}.v{SCHEMA_VERSION}.schema.json"] = (
            json.dumps(schema, indent=2, sort_keys=True) + "\n"
        )
    return rendered


def main() -> int:
    """Write every schema file and report the ones that changed."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, text in render_schemas().items():
        path = SCHEMA_DIR / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
