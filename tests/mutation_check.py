"""Break the event logs one rule at a time; the contract suite must fail.

Run: .venv/bin/python -m tests.mutation_check [-k NAME]
Each mutation edits a copy of the source in a temporary tree, runs the contract
tests of the adapter it breaks there (the shared rules and the in-memory log on
`in_memory`, the Redis script on `redis_stream`, the SQL head rows on SQLite, or
MariaDB where only a second connection can tell), and reports whether they
caught it. The Redis and MariaDB mutations need those services.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEMORY, REDIS, SQLITE, MARIADB = "in_memory", "redis_stream", "sqlite", "mysql_legacy"
# (name, file, original text, mutated text[, the contract tests' -k expression])
MUTATIONS: list[tuple[str, ...]] = [
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
    (
        "redis script: reads the sequence from the wrong field",
        "adapters/redis_stream/scripts.py",
        "sequence, category, action = f[4], f[n - 4], f[n - 2]",
        "sequence, category, action = f[2], f[n - 4], f[n - 2]",
        REDIS,
    ),
    (
        "redis script: appends after a terminal event",
        "adapters/redis_stream/scripts.py",
        "if terminal then return '' end\n",
        "",
        REDIS,
    ),
    (
        "redis script: a batch's events share one sequence",
        "adapters/redis_stream/scripts.py",
        "    sequence = sequence + 1\n    newest = redis.call",
        "    newest = redis.call",
        REDIS,
    ),
    (
        "redis script: store ignores the expected last id",
        "adapters/redis_stream/scripts.py",
        "if (last_id or '') ~= ARGV[2] then return 0 end\n",
        "",
        REDIS,
    ),
    (
        "sql head: a terminal event does not close the log",
        "adapters/mysql_legacy/heads.py",
        '"closed": last.is_terminal,',
        '"closed": False,',
        SQLITE,
    ),
    (
        "sql head: an expired log still answers info",
        "adapters/mysql_legacy/event_log.py",
        "if head is None or head.expired(now):",
        "if head is None:",
        SQLITE,
    ),
    (
        "sql head: the first position is not recorded",
        "adapters/mysql_legacy/heads.py",
        "    if head.empty:\n        first = stored[0]",
        "    if False:\n        first = stored[0]",
        SQLITE,
    ),
    (
        "sql head: the head row is read without its lock",
        "adapters/mysql_legacy/heads.py",
        "_LOCK = _ONE.with_for_update()",
        "_LOCK = _ONE",
        MARIADB,
    ),
]


def run_one(
    name: str, path: str, original: str, mutated: str, selection: str = MEMORY
) -> bool:
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
            [*command, "tests/contract", "-k", selection],
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return result.returncode != 0


def main() -> int:
    wanted = sys.argv[2] if sys.argv[1:2] == ["-k"] else ""
    chosen = [m for m in MUTATIONS if wanted in m[0]]
    for selection in sorted({(m[4:] or (MEMORY,))[0] for m in chosen}):
        if run_one("baseline", "domain/log_rules.py", "", "", selection):
            raise SystemExit(f"the {selection} contract fails without any mutation")
    survivors = 0
    for name, *mutation in chosen:
        caught = run_one(name, *mutation)
        survivors += not caught
        print(f"{'caught  ' if caught else 'SURVIVED'}  {name}", flush=True)
    print(f"{len(chosen) - survivors}/{len(chosen)} mutations caught")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
