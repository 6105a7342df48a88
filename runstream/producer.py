"""`from runstream.producer import Producer`: the producer client's short name
(the code lives in runstream.entrypoints.producer; docs/producers.md)."""

from runstream.entrypoints.producer import (
    Agent,
    AgentType,
    DeliveryReport,
    GaveUp,
    Producer,
    ProducerClosed,
    QueueFull,
    RetryPolicy,
    Run,
    RunstreamCallbackHandler,
    ServiceError,
    Undelivered,
)

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
