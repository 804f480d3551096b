"""mailseal: check S/MIME and OpenPGP keys, encrypt mail at rest, and manage the security
of a Stalwart mail account (two-factor sign-in, app passwords, API keys, encryption at rest).

Keys and messages are ``bytes``. Errors are :class:`mailseal.errors.MailsealError`
subclasses with a stable ``code``. Account calls block (they release the GIL).
"""

from __future__ import annotations

from . import errors
from ._mailseal import (
    AccountSession,
    Availability,
    CertificateRole,
    CertificateSummary,
    CreatedCredential,
    CredentialInfo,
    EncryptionEnabled,
    EncryptionSettings,
    EncryptResult,
    ErrorKind,
    FeatureStatus,
    KeyFormat,
    KeyInspection,
    KeyProblem,
    OAuthTokens,
    Severity,
    StoredKey,
    TotpEnrollment,
    __version__,
    algorithm_advice,
    decrypt,
    encrypt,
    inspect_key,
    is_encrypted,
    validate_totp_url,
)
from .errors import (
    AuthenticationError,
    DecryptionError,
    EncryptionError,
    InvalidInputError,
    InvalidKeyError,
    MailsealError,
    NotAvailableError,
    ServerError,
    TransportError,
)

__all__ = [
    "AccountSession",
    "Availability",
    "CertificateRole",
    "CertificateSummary",
    "CreatedCredential",
    "CredentialInfo",
    "EncryptionEnabled",
    "EncryptionSettings",
    "EncryptResult",
    "ErrorKind",
    "FeatureStatus",
    "KeyFormat",
    "KeyInspection",
    "KeyProblem",
    "OAuthTokens",
    "Severity",
    "StoredKey",
    "TotpEnrollment",
    "__version__",
    "algorithm_advice",
    "decrypt",
    "encrypt",
    "errors",
    "inspect_key",
    "is_encrypted",
    "validate_totp_url",
    "AuthenticationError",
    "DecryptionError",
    "EncryptionError",
    "InvalidInputError",
    "InvalidKeyError",
    "MailsealError",
    "NotAvailableError",
    "ServerError",
    "TransportError",
]
