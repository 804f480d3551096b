//! Account-security operations, one module per feature. Each adds methods to
//! [`Client`](crate::Client).

pub mod app_credentials;
pub mod availability;
pub mod encryption;
pub mod password;
pub mod totp;
