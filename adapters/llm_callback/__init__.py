"""LLM streaming callbacks in LangChain's callback protocol -> `llm.*` events."""

from runstream.adapters.llm_callback.handler import LlmEventCallback

__all__ = ["LlmEventCallback"]
