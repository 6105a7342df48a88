"""Break the in-memory EventLog one rule at a time; the contract suite must fail.

Run: .venv/bin/python -m tests.mutation_check
Each mutation edits a copy of the source in a temporary tree, runs the in-memory
contract tests there, and reports whether they caught it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (name, file, original text, mutated text)
MUTATIONS = [
    (
        "sequence continuity: counter skips",
        "domain/log_rules.py",
        "        sequence += 1\n",
        "        sequence += 1 if sequence < 3 else 2\n",
    ),
    (
        "sequence continuity: restarts per batch",
        "domain/log_rules.py",
        "    sequence = 0 if last is None else last.sequence\n",
        "    sequence = 0\n",
    ),
    (
        "inclusive bounds: end exclusive",
        "adapters/in_memory/event_log.py",
        "high = bisect.bisect_right(events, end, key=_position)",
        "high = bisect.bisect_left(events, end, key=_position)",
    ),
    (
        "inclusive bounds: start exclusive",
        "adapters/in_memory/event_log.py",
        "low = bisect.bisect_left(events, start, key=_position)",
        "low = bisect.bisect_right(events, start, key=_position)",
    ),
    (
        "batch atomicity: stores events before checking the batch",
        "adapters/in_memory/event_log.py",
        "            stored = assign(run_id, last, events, int(self._clock() * 1000))"
        "\n",
        "            for e in events:\n"
        "                prev = log.events[-1] if log.events else None\n"
        "                now = int(self._clock() * 1000)\n"
        "                log.events.extend(assign(run_id, prev, [e], now))\n"
        "            stored = log.events[-len(events):]\n",
    ),
    (
        "batch atomicity: terminal in mid-batch accepted",
        "domain/log_rules.py",
        "    check_batch_order(run_id, events)\n",
        "",
    ),
    (
        "ordering of waits: newest first",
        "adapters/in_memory/event_log.py",
        "found[run_id] = _slice(log.events, cursor.successor(), MAX_ID, limit)",
        "found[run_id] = _slice(log.events, cursor.successor(), MAX_ID, limit)[::-1]",
    ),
    (
        "ordering of waits: repeats the cursor event",
        "adapters/in_memory/event_log.py",
        "found[run_id] = _slice(log.events, cursor.successor(), MAX_ID, limit)",
        "found[run_id] = _slice(log.events, cursor, MAX_ID, limit)",
    ),
    (
        "ordering of waits: returns before anything arrived",
        "adapters/in_memory/event_log.py",
        "                if found or remaining <= 0:\n",
        "                if True:\n",
    ),
]


def run_one(name: str, path: str, original: str, mutated: str) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        for part in ("domain", "application", "adapters", "entrypoints", "tests"):
            shutil.copytree(ROOT / part, tree / part)
        shutil.copytree(ROOT / "runstream", tree / "runstream", symlinks=True)
        shutil.copy(ROOT / "pyproject.toml", tree)
        target = tree / path
        text = target.read_text()
        if original not in text:
            raise SystemExit(f"mutation {name!r} no longer applies to {path}")
        target.write_text(text.replace(original, mutated, 1))
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
        result = subprocess.run(
            [*command, "tests/contract", "-k", "in_memory"],
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return result.returncode != 0


def main() -> int:
    if run_one("baseline (no mutation)", "domain/log_rules.py", "", ""):
        raise SystemExit("the contract suite fails without any mutation")
    survivors = 0
    for name, path, original, mutated in MUTATIONS:
        caught = run_one(name, path, original, mutated)
        survivors += not caught
        print(f"{'caught  ' if caught else 'SURVIVED'}  {name}")
    print(f"{len(MUTATIONS) - survivors}/{len(MUTATIONS)} mutations caught")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
