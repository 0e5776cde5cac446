"""Provider failures, mapped from each SDK's exceptions so callers never see SDK types.

The split follows what a caller can do about each failure (inspect's `RetryDecision`): wait and retry
(`ProviderRateLimited`, `ProviderUnavailable`), give the model another try (`ProviderOutputInvalid`),
or stop and tell a human what to change (`ProviderAuthError`, `ProviderConfigError`, `ProviderRequestRejected`).
"""

from __future__ import annotations

from verifier.model.errors import NetreasonError


class ProviderError(NetreasonError):
    """Base of every failure raised while talking to a model provider."""

    #: Whether sending the same request again may succeed.
    retryable: bool = False

    def __init__(self, message: str, *, provider: str = "", status: int | None = None) -> None:
        self.provider = provider
        self.status = status
        self.detail = message
        prefix = f"{provider}: " if provider else ""
        super().__init__(f"{prefix}{message}")


class ProviderTimeout(ProviderError):
    """The provider did not answer within the request's timeout."""


class ProviderRateLimited(ProviderError):
    """HTTP 429: the provider asked us to slow down; `retry_after` is its hint in seconds (or None)."""

    retryable = True

    def __init__(
        self, message: str, *, retry_after: float | None = None, provider: str = "", status: int | None = 429
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, provider=provider, status=status)


class ProviderUnavailable(ProviderError):
    """A 5xx answer or a connection failure: the provider may recover on its own."""

    retryable = True


class ProviderOutputInvalid(ProviderError):
    """The model answered, but the text is not JSON or does not match the requested schema."""

    def __init__(self, message: str, *, text: str = "", provider: str = "") -> None:
        self.text = text
        super().__init__(message, provider=provider)


class ProviderAuthError(ProviderError):
    """HTTP 401/403: the key was refused. Check the key's value, not just that it is set."""


class ProviderConfigError(ProviderError):
    """The provider cannot be built or used as configured: a missing key, an unknown model spec."""


class MissingApiKey(ProviderConfigError):
    """No key for a provider that needs one; `variable` names the environment variable to set."""

    def __init__(self, provider: str, variable: str) -> None:
        self.variable = variable
        super().__init__(f"no API key: set the {variable} environment variable (or pass api_key=)", provider=provider)


class ProviderRequestRejected(ProviderError):
    """Another 4xx (bad request, unknown model): sending the same request again will fail again."""


#: What an SDK raises, outside its own error types, when a 200 body is not the envelope it expects
#: (invalid JSON, an empty body, HTML, `content` as a list): never a bug of ours to surface as a traceback.
MALFORMED_BODY_ERRORS: tuple[type[Exception], ...] = (ValueError, TypeError, AttributeError, LookupError)


def malformed_reply(exc: Exception, provider: str) -> ProviderOutputInvalid:
    """The error for a reply body the SDK could not read; names the problem's type, never the body."""
    return ProviderOutputInvalid(
        f"the model server's reply is not a valid response body ({type(exc).__name__}); "
        "check that the URL points at a Chat Completions / Messages endpoint", provider=provider)
