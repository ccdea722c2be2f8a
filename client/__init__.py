"""crossgrad.client: the SDK (Client, AsyncClient), the safe expression form, the CLI."""

from .sdk import (
    AsyncClient,
    Client,
    DeadlineExceeded,
    InvalidRequest,
    OverLimit,
    RemoteError,
    Unauthenticated,
    Unavailable,
)

__all__ = ["AsyncClient", "Client", "DeadlineExceeded", "InvalidRequest", "OverLimit", "RemoteError",
           "Unauthenticated", "Unavailable"]
