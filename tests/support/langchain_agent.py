"""An agent process: a LangGraph supervisor team on fake streaming chat models,
pushed into a new run through the producer client. Prints the run id, then the
delivery report as JSON.

    python -m tests.support.langchain_agent URL
"""

from __future__ import annotations

import json
import sys

from runstream.producer import Producer, RunstreamCallbackHandler
from tests.support.langchain_graphs import supervisor_graph


def reply(agent: str, words: int) -> str:
    return " ".join(f"{agent}·{n:03d}·数据" for n in range(words))


TEAMS = {
    "research": {"analyst": reply("analyst", 120), "checker": reply("checker", 80)},
    "writing": {"writer": reply("writer", 150)},
}


def main(url: str) -> None:
    with Producer(url) as producer:
        run = producer.create_run("Compare three suppliers")
        print(run.id, flush=True)
        handler = RunstreamCallbackHandler(run)
        start = {"messages": ["Compare three suppliers"], "next": ""}
        graph = supervisor_graph(TEAMS)
        for _ in graph.stream(
            start, config={"callbacks": [handler]}, stream_mode="messages"
        ):
            pass
        run.finish(result="all teams reported")
        report = producer.close()
    print(json.dumps({"stored": report.stored, "ok": report.ok}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
