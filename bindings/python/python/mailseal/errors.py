"""The exceptions mailseal raises.

Every error is a :class:`MailsealError` with a stable ``code`` (the code of the Rust
library, e.g. ``"key.private_key"`` or ``"jmap.totp_required"``), a ``message`` for
people and, where a parser said more, a ``detail`` for developers. The subclass says what kind of failure it is; those caused by the caller's input
are also :class:`ValueError`.
"""

from __future__ import annotations

__all__ = [
    "MailsealError",
    "InvalidKeyError",
    "EncryptionError",
    "DecryptionError",
    "InvalidInputError",
    "AuthenticationError",
    "NotAvailableError",
    "ServerError",
    "TransportError",
]


class MailsealError(Exception):
    """Base class of every mailseal error."""

    #: The family name, as ``ErrorKind`` in Rust.
    kind: str = "error"

    def __init__(self, message: str, code: str = "error", detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        #: Technical detail for developers (what a parser reported), or ``None``. The
        #: ``message`` is the sentence for people.
        self.detail = detail

    def __reduce__(self):  # keeps code and detail through pickling (multiprocessing)
        return (type(self), (self.message, self.code, self.detail))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class InvalidKeyError(MailsealError, ValueError):
    """The key could not be read, is a private key, or cannot be used."""

    kind = "invalid_key"


class EncryptionError(MailsealError):
    """Encryption cannot be done (nothing was written in clear)."""

    kind = "encryption"


class DecryptionError(MailsealError):
    """Decryption failed: wrong key or password, damaged or tampered message."""

    kind = "decryption"


class InvalidInputError(MailsealError, ValueError):
    """An argument is invalid: unknown name, weak password, bad TOTP URL or code, ..."""

    kind = "invalid_input"


class AuthenticationError(MailsealError):
    """The server did not accept the sign-in, or the user must sign in again.

    ``code`` tells which: ``jmap.unauthorized``, ``jmap.totp_required`` (two-factor
    authentication is on: connect with a code provider), ``jmap.sign_in_required``,
    ``jmap.oauth.invalid_grant``, ...
    """

    kind = "authentication"


class NotAvailableError(MailsealError):
    """The feature is not available to this user or server, or was refused for safety."""

    kind = "not_available"


class ServerError(MailsealError):
    """The server refused the request or answered something unexpected."""

    kind = "server"


class TransportError(MailsealError):
    """The server could not be reached or did not answer in time."""

    kind = "transport"
