#!/usr/bin/env python3
"""Time python-tuf parsing and verifying one targets file (the Rust bench's comparison row).

Usage: bench_verify.py ROOT_JSON TARGETS_JSON RUNS

Each run: Metadata.from_bytes(targets bytes) + root.verify_delegate("targets", ...).
Prints {"runs_ms": [...]} on stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tuf.api.metadata import Metadata, Root


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    root = Metadata[Root].from_bytes(Path(argv[1]).read_bytes())
    data = Path(argv[2]).read_bytes()
    runs = []
    for _ in range(int(argv[3])):
        start = time.perf_counter()
        targets = Metadata.from_bytes(data)
        root.verify_delegate("targets", targets)
        runs.append((time.perf_counter() - start) * 1000.0)
    print(json.dumps({"runs_ms": runs, "targets": len(targets.signed.targets)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
