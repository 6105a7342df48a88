"""runstream: the event-streaming backbone for LLM agent runs.

The repository keeps the design's four folders (domain/, application/, adapters/,
entrypoints/) at its root; the distribution installs them under this one package,
as ``runstream.domain`` and so on, so that installing runstream claims no generic
top-level name another distribution owns (PyPI has ``adapters`` and
``entrypoints``). In the repository these are symbolic links to those folders.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("runstream")
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
