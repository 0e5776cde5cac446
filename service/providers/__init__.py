"""Model providers behind one seam, `Provider.complete(ProviderRequest) -> ProviderReply`.

Importing this package loads no model SDK; `get_provider` imports the chosen one.
"""

from .base import Message, Provider, ProviderReply, ProviderRequest, Usage, system_with_schema
from .errors import (
    MissingApiKey,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    ProviderOutputInvalid,
    ProviderRateLimited,
    ProviderRequestRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from .registry import MODEL_ENV, get_provider, parse_spec, register_provider, registered_prefixes
from .retry import RetryPolicy, parse_retry_after
from .scripted import ScriptedProvider
from .structured import JsonResult, append_repair_turn, complete_json, parse_json_object

__all__ = [
    "MODEL_ENV",
    "JsonResult",
    "Message",
    "MissingApiKey",
    "Provider",
    "ProviderAuthError",
    "ProviderConfigError",
    "ProviderError",
    "ProviderOutputInvalid",
    "ProviderRateLimited",
    "ProviderReply",
    "ProviderRequest",
    "ProviderRequestRejected",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RetryPolicy",
    "ScriptedProvider",
    "Usage",
    "append_repair_turn",
    "complete_json",
    "get_provider",
    "parse_json_object",
    "parse_retry_after",
    "parse_spec",
    "register_provider",
    "registered_prefixes",
    "system_with_schema",
]
