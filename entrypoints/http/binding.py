"""Each app's views take their dependencies from that app's own container.

The route modules declare what they need dependency-injector style (`@inject`,
parameters defaulting to `Provide[Container.x]`). `container.wire()` would patch
those module-level functions for the whole process, so a second app in the
process would take over the first one's routes. Instead every view of an app is
wrapped once, with the declared providers resolved in that app's container.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, cast

from dependency_injector import wiring
from dependency_injector.providers import Provider as AnyProvider
from dependency_injector.wiring import ProvidersMap
from flask import Flask

from runstream.entrypoints.container import Container

# The markers, as classes (their stubs declare them as instances).
_PROVIDE = cast(type, wiring.Provide)
_MARKERS = (_PROVIDE, cast(type, wiring.Provider))


def bind_views(app: Flask, container: Container) -> None:
    """Give every registered view of `app` its dependencies from `container`."""
    providers = ProvidersMap(container)
    for endpoint, view in list(app.view_functions.items()):
        target = getattr(view, "__wrapped__", None)
        if target is None:
            continue
        wanted = _declared(target, providers)
        if wanted:
            app.view_functions[endpoint] = _bound(target, wanted)


def _declared(
    view: Callable[..., Any], providers: ProvidersMap
) -> dict[str, tuple[AnyProvider[Any], bool]]:
    """Each injected parameter: its provider here, and whether the view wants
    what the provider gives (Provide) or the provider itself (Provider)."""
    wanted: dict[str, tuple[AnyProvider[Any], bool]] = {}
    for name, parameter in inspect.signature(view).parameters.items():
        if not isinstance(parameter.default, _MARKERS):
            continue
        marker: Any = parameter.default
        found = providers.resolve_provider(marker.provider, marker.modifier)
        if found is None:
            raise LookupError(f"{view.__qualname__}: no provider for {name}")
        wanted[name] = (found, isinstance(marker, _PROVIDE))
    return wanted


def _bound(
    view: Callable[..., Any], wanted: dict[str, tuple[AnyProvider[Any], bool]]
) -> Callable[..., Any]:
    @functools.wraps(view)
    def call(*args: Any, **kwargs: Any) -> Any:
        for name, (provider, called) in wanted.items():
            if name not in kwargs:
                kwargs[name] = provider() if called else provider
        return view(*args, **kwargs)

    return call
