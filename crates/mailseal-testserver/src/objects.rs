//! The `x:` object types: one module per type, each with its `/get`, `/set` and (where
//! the type has one) `/query`.

pub mod account;
pub mod account_password;
pub mod account_settings;
pub mod credential;
pub mod public_key;
pub mod queued_message;
pub mod role;
pub mod server_settings;

use crate::ids::encode_id;

/// The id of a singleton object.
pub const SINGLETON: &str = "singleton";

/// The JMAP id of an account number.
pub fn account_jmap_id(account_id: u32) -> String {
    encode_id(u64::from(account_id))
}
