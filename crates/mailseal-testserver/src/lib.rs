#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod auth;
pub mod clock;
pub mod config;
pub mod datetime;
pub mod delivery;
pub mod directory;
pub mod faults;
pub mod http;
pub mod ids;
pub mod jmap;
pub mod key_check;
pub mod mail;
pub mod objects;
pub mod password_policy;
pub mod patch;
pub mod permissions;
pub mod problem;
pub mod rest;
pub mod server;
pub mod session;
pub mod state;

pub use config::{Config, ServerVersion, UserConfig};
pub use delivery::Delivery;
pub use faults::{FaultAction, FaultPoint};
pub use mail::seed::EmailSnapshot;
pub use server::{CredentialSeed, Error, PublicKeySeed, TestServer};
