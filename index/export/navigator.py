"""An ATT&CK Navigator layer (layer format 4.5, enterprise domain) of the techniques a result set names.

One technique entry per ATT&CK ID: the score is how many posts name it, the comment lists their titles.
The layer leaves out the ATT&CK version, so the Navigator opens it against the ATT&CK release it serves
without asking to upgrade it (see docs/exports.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from index.catalog import PostRow
from index.export.gather import text
from index.sanitize import json_text
from index.vocabulary import technique_id

LAYER_FORMAT = "4.5"
NAVIGATOR_VERSION = "5.1.0"
DOMAIN = "enterprise-attack"
#: Titles listed in one technique's comment before "… and N more".
MAX_TITLES = 20


def layer(rows: Sequence[PostRow], name: str) -> dict[str, Any]:
    """The layer as a JSON-ready dict."""
    titles: dict[str, list[str]] = {}
    for row in rows:
        for technique in row.techniques:
            attack_id = technique_id(technique)
            if attack_id:
                titles.setdefault(attack_id, []).append(text(row.title, 200) or text(row.post_id, 200))
    techniques: list[dict[str, Any]] = []
    for attack_id in sorted(titles):
        listed = titles[attack_id]
        comment = "; ".join(listed[:MAX_TITLES])
        if len(listed) > MAX_TITLES:
            comment += f"; … and {len(listed) - MAX_TITLES} more"
        techniques.append(
            {
                "techniqueID": attack_id,
                "score": len(listed),
                "comment": comment,
                "enabled": True,
                "showSubtechniques": False,
            }
        )
    top = max((len(listed) for listed in titles.values()), default=1)
    return {
        "name": text(name, 200) or "Spyglass export",
        "versions": {"layer": LAYER_FORMAT, "navigator": NAVIGATOR_VERSION},
        "domain": DOMAIN,
        "description": f"Techniques named in {len(rows)} posts; score = number of posts.",
        "sorting": 3,
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {"colors": ["#ffffff", "#ff6666"], "minValue": 0, "maxValue": top},
        "legendItems": [],
        "showTacticRowBackground": False,
        "selectTechniquesAcrossTactics": True,
        "selectSubtechniquesWithParent": False,
    }


def write_navigator(rows: Sequence[PostRow], out: TextIO, name: str) -> int:
    """Write the layer; returns the number of technique entries."""
    data = layer(rows, name)
    out.write(json_text(data) + "\n")
    return len(data["techniques"])
