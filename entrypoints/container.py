"""The one place that decides which adapter backs which port."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from dependency_injector import containers, providers

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.in_memory.run_repository import InMemoryRunRepository
from runstream.adapters.simulated.executor import SimulatedExecutor
from runstream.application.append_events import AppendEvents
from runstream.application.cancel_run import CancelRun
from runstream.application.event_writer import EventWriter
from runstream.application.finish_run import FinishRun
from runstream.application.follow_run import FollowRun
from runstream.application.get_run import GetRun, ListRuns
from runstream.application.launch_run import LaunchRun
from runstream.application.live.hub import FanOutHub
from runstream.application.read_events import ReadEvents
from runstream.application.run_manager import RunManager
from runstream.application.start_run import StartRun
from runstream.entrypoints.config import load_config
from runstream.entrypoints.event_logs import compose_event_log
from runstream.entrypoints.live.frames import event_frame


def _lazy(target: str) -> Callable[..., Any]:
    """A factory that imports `module:attr` on first call, so an unselected
    backend's driver is never imported."""

    def build(*args: Any, **kwargs: Any) -> Any:
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)(*args, **kwargs)

    build.__name__ = target.rpartition(":")[2]
    return build


def _lazy_resource(target: str) -> Callable[..., Iterator[Any]]:
    """`_lazy` for a generator Resource. It must itself be a generator function:
    dependency_injector takes a returned generator object for a coroutine."""

    def build(*args: Any, **kwargs: Any) -> Iterator[Any]:
        module, _, attr = target.partition(":")
        yield from getattr(importlib.import_module(module), attr)(*args, **kwargs)

    build.__name__ = target.rpartition(":")[2]
    return build


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    redis_client = providers.Resource(
        _lazy_resource("runstream.adapters.redis_stream.client:redis_client"),
        url=config.redis.url,
        cluster=config.redis.cluster,
        timeout=config.redis.timeout,
    )
    sql_engine = providers.Resource(
        _lazy_resource("runstream.adapters.mysql_legacy.engine:sql_engine"),
        url=config.database.url,
    )

    sql_event_log = providers.Singleton(
        _lazy("runstream.adapters.mysql_legacy.event_log:SqlEventLog"),
        engine=sql_engine,
        ttl_seconds=config.event_log.retention_seconds,
    )
    redis_stream_log = providers.Singleton(
        _lazy("runstream.adapters.redis_stream.event_log:RedisStreamEventLog"),
        client=redis_client,
        maxlen=config.event_log.maxlen,
        ttl_seconds=config.event_log.ttl_seconds,
        min_replicas=config.redis.min_replicas,
        replica_timeout_ms=config.redis.replica_timeout_ms,
    )
    # Built on first use, so a worker starts even while no cluster seed answers.
    redis_event_log = providers.Singleton(
        _lazy("runstream.adapters.redis_stream.deferred:DeferredEventLog"),
        build=redis_stream_log.provider,
    )
    memory_event_log = providers.Singleton(
        InMemoryEventLog, ttl_seconds=config.event_log.ttl_seconds
    )
    event_log = providers.Singleton(
        compose_event_log,
        backend=config.event_log.backend,
        fallback=config.event_log.fallback,
        archive=config.event_log.archive,
        memory=memory_event_log.provider,
        sql=sql_event_log.provider,
        redis=redis_event_log.provider,
    )
    run_repository = providers.Selector(
        config.run_repository.backend,
        memory=providers.Singleton(InMemoryRunRepository),
        sql=providers.Singleton(
            _lazy("runstream.adapters.mysql_legacy.run_repository:SqlRunRepository"),
            engine=sql_engine,
        ),
    )

    # Runs played in this process (`simulated`): events go through the writer.
    event_writer = providers.Singleton(EventWriter, events=event_log)
    run_manager = providers.Singleton(
        RunManager,
        runs=run_repository,
        events=event_log,
        writer=event_writer,
        executors=providers.Dict(simulated=providers.Singleton(SimulatedExecutor)),
    )
    start_run = providers.Factory(
        LaunchRun,
        start=providers.Factory(StartRun, runs=run_repository, events=event_log),
        manager=run_manager,
    )
    append_events = providers.Factory(
        AppendEvents, runs=run_repository, events=event_log
    )
    finish_run = providers.Factory(FinishRun, runs=run_repository, events=event_log)
    read_events = providers.Factory(ReadEvents, runs=run_repository, events=event_log)
    cancel_run = providers.Factory(
        CancelRun,
        runs=run_repository,
        events=event_log,
        on_cancel=run_manager.provided.cancel,
    )
    follow_run = providers.Factory(FollowRun, runs=run_repository, events=event_log)
    get_run = providers.Factory(GetRun, runs=run_repository)
    list_runs = providers.Factory(ListRuns, runs=run_repository)

    # The HTTP edge: metrics, authentication, and the per-process fan-out hub.
    metrics = providers.Singleton(_lazy("runstream.entrypoints.http.metrics:Metrics"))
    authenticator = providers.Singleton(
        _lazy("runstream.entrypoints.http.auth:Authenticator"),
        api_keys=config.auth.api_keys,
        token_secret=config.auth.token_secret,
    )
    fan_out_hub = providers.Singleton(
        FanOutHub,
        log=event_log,
        encode=providers.Object(event_frame),
        on_error=metrics.provided.backend_error,
    )


def build_container(environ: Mapping[str, str] | None = None) -> Container:
    """A container configured from the environment (or the given mapping)."""
    container = Container()
    container.config.from_dict(load_config(environ))
    return container
