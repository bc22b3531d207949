"""Write the committed JSON Schema of the interaction event contract from the model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from colisten.events import SCHEMA_VERSION, event_json_schema

SCHEMA_PATH = (
    Path(__file__).resolve().parents[1]
    / "schemas"
    / f"interaction_event.v{SCHEMA_VERSION}.json"
)
"""Where the committed schema lives: colisten/schemas/interaction_event.v<N>.json."""


def render_event_schema() -> str:
    """Return the schema text exactly as committed: sorted keys, indent 2, newline."""
    return json.dumps(event_json_schema(), sort_keys=True, indent=2) + "\n"


def write_event_schema(path: Path = SCHEMA_PATH) -> Path:
    """Write the event JSON Schema to `path` (default: the committed file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_event_schema(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_event_schema(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_PATH))
