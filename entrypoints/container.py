"""The one place that decides which adapter backs which port."""

from __future__ import annotations

from collections.abc import Mapping

from dependency_injector import containers, providers

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.simulated.executor import SimulatedExecutor
from runstream.adapters.tiered.failover import member_id
from runstream.application.append_events import AppendEvents, recheck_seconds
from runstream.application.cancel_run import CancelRun
from runstream.application.event_writer import EventWriter
from runstream.application.finish_run import FinishRun
from runstream.application.follow_run import FollowRun
from runstream.application.get_run import GetRun, ListRuns
from runstream.application.launch_run import LaunchRun
from runstream.application.live.hub import FanOutHub
from runstream.application.read_events import ReadEvents
from runstream.application.run_manager import RunManager
from runstream.application.run_sweeper import RunSweeper
from runstream.application.start_run import StartRun
from runstream.application.summarize_run import SummarizeRun
from runstream.entrypoints import builders, event_logs
from runstream.entrypoints.config import load_config
from runstream.entrypoints.http.auth import Authenticator
from runstream.entrypoints.http.metrics import Metrics
from runstream.entrypoints.lifecycle import running
from runstream.entrypoints.live.frames import event_frame
from runstream.entrypoints.sweepers import sql_expiry_sweeper


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    # Drivers, and the state they share within this container (not the process).
    cluster_clients = providers.Resource(builders.cluster_clients)
    redis_client = providers.Resource(
        builders.redis_client,
        url=config.redis.url,
        cluster=config.redis.cluster,
        timeout=config.redis.timeout,
        clusters=cluster_clients,
    )
    sql_engine = providers.Resource(builders.sql_engine, url=config.database.url)

    sql_event_log = providers.Singleton(
        builders.sql_event_log,
        engine=sql_engine,
        ttl_seconds=config.event_log.retention_seconds,
    )
    redis_stream_log = providers.Singleton(
        builders.redis_stream_log,
        client=redis_client,
        maxlen=config.event_log.maxlen,
        ttl_seconds=config.event_log.ttl_seconds,
        min_replicas=config.redis.min_replicas,
        replica_timeout_ms=config.redis.replica_timeout_ms,
    )
    redis_event_log = providers.Singleton(
        builders.deferred_redis_log, build=redis_stream_log.provider
    )
    memory_event_log = providers.Singleton(
        InMemoryEventLog, ttl_seconds=config.event_log.ttl_seconds
    )
    tier_record = providers.Singleton(builders.sql_tier_record, engine=sql_engine)
    tier_layout = providers.Callable(
        event_logs.tier_layout,
        config.event_log.backend,
        config.event_log.archive,
        config.event_log.fallback,
    )
    tiers = providers.Selector(
        tier_layout,
        memory=providers.Singleton(event_logs.memory_tier, memory_event_log),
        sql=providers.Singleton(event_logs.sql_tier, sql_event_log),
        redis=providers.Singleton(event_logs.redis_tier, redis_event_log),
        archived=providers.Singleton(
            event_logs.archived_tiers, redis_event_log, sql_event_log
        ),
        failover=providers.Singleton(
            event_logs.failover_tiers,
            redis_event_log,
            sql_event_log,
            tier_record,
            config.redis.timeout,
        ),
    )
    event_log = tiers.provided.log
    run_repository = providers.Selector(
        config.run_repository.backend,
        memory=providers.Singleton(builders.memory_run_repository),
        sql=providers.Singleton(builders.sql_run_repository, engine=sql_engine),
    )

    # Runs played in this process (`simulated`): events go through the writer.
    event_writer = providers.Singleton(EventWriter, events=event_log)
    run_sweeper = providers.Singleton(
        RunSweeper,
        runs=run_repository,
        leases=run_repository,
        events=event_log,
        owner=providers.Callable(member_id),
        lease_seconds=config.runs.lease_seconds,
        idle_seconds=config.runs.external_idle_seconds,
    )
    run_manager = providers.Singleton(
        RunManager,
        runs=run_repository,
        events=event_log,
        writer=event_writer,
        executors=providers.Dict(simulated=providers.Singleton(SimulatedExecutor)),
        sweeper=run_sweeper,
    )
    launch_run = providers.Factory(
        LaunchRun,
        start=providers.Factory(StartRun, runs=run_repository, events=event_log),
        manager=run_manager,
    )
    # One per process: it remembers which runs it saw running, for well under
    # the time an ended run's log is kept (application/append_events.py).
    append_events = providers.Singleton(
        AppendEvents,
        runs=run_repository,
        events=event_log,
        recheck_seconds=providers.Callable(
            recheck_seconds, config.event_log.ttl_seconds
        ),
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
    summarize_run = providers.Singleton(
        SummarizeRun, runs=run_repository, events=event_log
    )
    list_runs = providers.Factory(ListRuns, runs=run_repository)

    # The HTTP edge: metrics, authentication, and the per-process fan-out hub.
    metrics = providers.Singleton(Metrics, tiers=tiers)
    authenticator = providers.Singleton(
        Authenticator,
        api_keys=config.auth.api_keys,
        token_secret=config.auth.token_secret,
    )
    fan_out_hub = providers.Singleton(
        FanOutHub,
        log=event_log,
        encode=providers.Object(event_frame),
        on_error=metrics.provided.backend_error,
    )

    # Background threads: started together, stopped by `shutdown_resources()`.
    # One more is one more entry (None for a part the configuration leaves out).
    background = providers.Resource(
        running,
        components=providers.Dict(
            archiver=tiers.provided.archiver,
            failover_prober=tiers.provided.failover,
            event_writer=event_writer,
            run_sweeper=run_sweeper,
            sql_expiry=providers.Selector(
                tier_layout,
                memory=providers.Object(None),
                redis=providers.Object(None),
                sql=providers.Singleton(sql_expiry_sweeper, sql_event_log),
                archived=providers.Singleton(sql_expiry_sweeper, sql_event_log),
                failover=providers.Singleton(sql_expiry_sweeper, sql_event_log),
            ),
        ),
    )


def build_container(environ: Mapping[str, str] | None = None) -> Container:
    """A container configured from the environment (or the given mapping)."""
    container = Container()
    container.config.from_dict(load_config(environ))
    return container
