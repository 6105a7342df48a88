"""The producer client: push a run's events to a runstream service from an
agent's own process (docs/producers.md). Standard library only; the LangChain
handler uses langchain-core when it is installed.
"""

from runstream.entrypoints.producer.client import Producer, Run
from runstream.entrypoints.producer.events import Agent, AgentType
from runstream.entrypoints.producer.langchain_handler import RunstreamCallbackHandler
from runstream.entrypoints.producer.report import (
    DeliveryReport,
    ProducerClosed,
    QueueFull,
    Undelivered,
)
from runstream.entrypoints.producer.retry import GaveUp, RetryPolicy
from runstream.entrypoints.producer.transport import ServiceError

__all__ = [
    "Agent",
    "AgentType",
    "DeliveryReport",
    "GaveUp",
    "Producer",
    "ProducerClosed",
    "QueueFull",
    "RetryPolicy",
    "Run",
    "RunstreamCallbackHandler",
    "ServiceError",
    "Undelivered",
]
