"""`from runstream.producer import Producer`: the producer client's short name
(the code lives in runstream.entrypoints.producer; docs/producers.md)."""

from runstream.entrypoints.producer import *  # noqa: F403 - the same names
from runstream.entrypoints.producer import __all__ as __all__
