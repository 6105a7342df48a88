"""The callback base class: LangChain's when langchain-core is installed.

LangChain only calls handlers that derive from its BaseCallbackHandler, so the
handler subclasses it when it can; without langchain-core it is a plain class
with the same methods (nothing here requires the library).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.callbacks.base import BaseCallbackHandler as CallbackBase
else:
    try:
        from langchain_core.callbacks.base import BaseCallbackHandler as CallbackBase
    except ImportError:

        class CallbackBase:
            """The attributes LangChain reads from a handler."""

            raise_error = False
            run_inline = False


__all__ = ["CallbackBase"]
