//! Recipient keys: from the bytes a person uploads to validated [`Recipients`](crate::Recipients).
//!
//! ```text
//! bytes ─ intake ─┬─ pem / pkcs7 / pkcs12 ─ x509 ─┐
//!                 ├─ openpgp_read ─ openpgp ───────┼─ recipient ─ report (+ problem, fingerprint)
//!                 └─ refuse_private (private keys are refused here)            policy ┘
//! ```

pub(crate) mod fingerprint;
pub(crate) mod intake;
pub(crate) mod openpgp;
pub(crate) mod openpgp_read;
pub(crate) mod pem;
mod pkcs12;
mod pkcs7;
pub(crate) mod policy;
pub(crate) mod problem;
pub(crate) mod recipient;
mod refuse_private;
pub(crate) mod report;
pub(crate) mod x509;
