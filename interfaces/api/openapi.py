"""The checked-in OpenAPI document (docs/openapi.json), generated from the app.

`python -m interfaces.api.openapi` rewrites it; a test fails when it is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from advisor.core.settings import Settings

DOCUMENT = Path("docs/openapi.json")


def document() -> str:
    """The OpenAPI document as stable, diffable JSON (it does not depend on any data)."""
    from interfaces.api.app import create_app

    spec = create_app(Settings(data_dir=Path("unused"))).openapi()
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCUMENT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document(), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
