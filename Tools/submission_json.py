"""Helpers shared by the Tools/make_*.py scripts that write submissions as readable JSON.

Standard library only. The scripts run from the repository root (`python3 Tools/make_x.py`), so this module
is importable as `submission_json`.
"""
import json


def dumps(obj, level=0, width=110):
    """JSON with two-space indents, keeping any value that fits in `width` columns on one line."""
    compact = json.dumps(obj, separators=(", ", ": "))
    if not isinstance(obj, (list, dict)) or not obj or len(compact) + 2 * level <= width:
        return compact
    pad = "  " * (level + 1)
    if isinstance(obj, list):
        items = [dumps(x, level + 1, width) for x in obj]
    else:
        items = [json.dumps(k) + ": " + dumps(v, level + 1, width) for k, v in obj.items()]
    open_, close = ("[", "]") if isinstance(obj, list) else ("{", "}")
    return open_ + "\n" + ",\n".join(pad + i for i in items) + "\n" + "  " * level + close


def put(m, row, col, value):
    """Sets a sparse entry m[row][col], leaving zeros out and rounding away float noise."""
    if value != 0:
        m.setdefault(row, {})[col] = round(value, 12)
