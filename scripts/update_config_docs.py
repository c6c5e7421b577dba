#!/usr/bin/env python3
"""Rewrites the key tables of docs/config.md from `edgefl config-keys`.

The keys are declared once, in experiment/config_keys.h; a test fails until
docs/config.md holds the tables that declaration prints. After changing a key:

    python3 scripts/update_config_docs.py [build/bin/edgefl]
"""
import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
edgefl = sys.argv[1] if len(sys.argv) > 1 else str(root / "build" / "bin" / "edgefl")
docs_path = root / "docs" / "config.md"
docs = docs_path.read_text()
printed = subprocess.run([edgefl, "config-keys"], check=True, capture_output=True, text=True).stdout
for block in printed.split("### ")[1:]:
    heading, table = block.split("\n\n", 1)
    table = table.rstrip("\n") + "\n"
    start = docs.find("### " + heading)
    if start < 0:
        sys.exit(f"docs/config.md has no section {heading}: add one, then run this again")
    table_start = docs.index("| key | type | default | allowed | meaning |", start)
    table_end = table_start
    for line in docs[table_start:].splitlines(keepends=True):
        if not line.startswith("|"):
            break
        table_end += len(line)
    docs = docs[:table_start] + table + docs[table_end:]
docs_path.write_text(docs)
