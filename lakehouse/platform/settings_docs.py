"""The documentation generated from the variables: the README's configuration table and ``.env.example``
(``python -m lakehouse config [--format env]``), so documentation and code cannot drift apart."""

from __future__ import annotations

import textwrap

from lakehouse.platform.variables import VARIABLES, accepts


def markdown_table() -> str:
    """The README's configuration table."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, (default, doc) in VARIABLES.items():
        lines.append(f"| `{name}` | `{default}` | {doc} |" if default else f"| `{name}` | | {doc} |")
    return "\n".join(lines)


def env_example() -> str:
    """``.env.example``: every variable, commented out at its default, with its meaning."""
    lines = [
        "# Configuration of the lakehouse. Copy to `.env` (repository root) and uncomment what you change.",
        "# Order: environment variables > .env > these defaults. Generated from the fields of",
        "# lakehouse/platform/variables.py by `python -m lakehouse config --format env > .env.example`;",
        "# a test keeps it current.",
    ]
    for name, (default, doc) in VARIABLES.items():
        lines.append("")
        lines.extend(textwrap.wrap(doc, 106, initial_indent="# ", subsequent_indent="# "))
        if accepts(name) != "text":
            lines.append(f"# Accepts {accepts(name)}.")
        lines.append(f"#{name}={default}")
    return "\n".join(lines) + "\n"
