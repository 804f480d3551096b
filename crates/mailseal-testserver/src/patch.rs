//! Reading property values of `/set` create and update objects, and JSON-pointer update
//! keys (`"otpAuth/otpCode"`, `"allowedIps/10.0.0.1"`), with the registry's error texts.
//!
//! An error becomes `invalidPatch` with the description and the property path, as the
//! real server reports it (`{"type":"invalidPatch","description":"Cannot modify server
//! set property","properties":["secret"]}`).

use std::net::IpAddr;

use serde_json::Value;

use crate::datetime;
use crate::jmap::set_error::SetError;

/// "Invalid property".
pub const INVALID_PROPERTY: &str = "Invalid property";
/// "Cannot modify server set property".
pub const SERVER_SET: &str = "Cannot modify server set property";
/// "Invalid value for property." (also for empty strings).
pub const INVALID_VALUE: &str = "Invalid value for property.";

/// A value that cannot be applied at `path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchError {
    /// The property path (`otpAuth/otpUrl`).
    pub path: String,
    /// Stalwart's message.
    pub message: String,
}

impl PatchError {
    /// An error at `path`.
    pub fn new(path: &str, message: &str) -> Self {
        Self {
            path: path.to_owned(),
            message: message.to_owned(),
        }
    }
}

impl From<PatchError> for SetError {
    fn from(err: PatchError) -> Self {
        SetError::invalid_patch(&err.message, &err.path)
    }
}

/// Splits an update key into JSON-pointer segments (`~1` is `/`, `~0` is `~`); a plain
/// property name gives one segment.
pub fn split_pointer(key: &str) -> Vec<String> {
    key.strip_prefix('/')
        .unwrap_or(key)
        .split('/')
        .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Joins segments back into a path for error reports.
pub fn join_path(segments: &[&str]) -> String {
    segments.join("/")
}

/// A non-empty string.
pub fn string(path: &str, value: &Value) -> Result<String, PatchError> {
    match value {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        _ => Err(PatchError::new(path, INVALID_VALUE)),
    }
}

/// `null` or a non-empty string.
pub fn optional_string(path: &str, value: &Value) -> Result<Option<String>, PatchError> {
    match value {
        Value::Null => Ok(None),
        other => string(path, other).map(Some),
    }
}

/// A boolean.
pub fn boolean(path: &str, value: &Value) -> Result<bool, PatchError> {
    value.as_bool().ok_or_else(|| {
        PatchError::new(
            path,
            "Invalid value for boolean property (expected true or false)",
        )
    })
}

/// `null` or a UTC date-time.
pub fn optional_datetime(path: &str, value: &Value) -> Result<Option<i64>, PatchError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => datetime::parse(s)
            .map(Some)
            .ok_or_else(|| PatchError::new(path, datetime::PARSE_ERROR)),
        _ => Err(PatchError::new(path, datetime::PARSE_ERROR)),
    }
}

/// A JMAP set (`{"item": true, …}`) whose items pass `check`, which may rewrite them.
pub fn string_set(
    path: &str,
    value: &Value,
    check: impl Fn(&str) -> Option<String>,
    bad_item: &str,
) -> Result<Vec<String>, PatchError> {
    let Value::Object(map) = value else {
        return Err(PatchError::new(path, "Invalid value for object property"));
    };
    let mut out = Vec::with_capacity(map.len());
    for (item, flag) in map {
        if flag != &Value::Bool(true) {
            return Err(PatchError::new(path, INVALID_VALUE));
        }
        let item = check(item).ok_or_else(|| PatchError::new(path, bad_item))?;
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(out)
}

/// Applies a pointer into a JMAP set: `set/item: true` adds, `set/item: null` removes.
pub fn patch_string_set(
    set: &mut Vec<String>,
    path: &str,
    item: &str,
    value: &Value,
    check: impl Fn(&str) -> Option<String>,
    bad_item: &str,
) -> Result<(), PatchError> {
    let item = check(item).ok_or_else(|| PatchError::new(path, bad_item))?;
    match value {
        Value::Null | Value::Bool(false) => set.retain(|existing| existing != &item),
        Value::Bool(true) => {
            if !set.contains(&item) {
                set.push(item);
            }
        }
        _ => return Err(PatchError::new(path, INVALID_VALUE)),
    }
    Ok(())
}

/// An IP address or network (`10.0.0.0/8`; IPv4 masks /8–/32, IPv6 /8–/128), as the
/// `allowedIps` of credentials take them.
pub fn ip_or_network(text: &str) -> Option<String> {
    let (addr, mask) = match text.split_once('/') {
        Some((addr, mask)) => (addr, Some(mask.parse::<u8>().ok()?)),
        None => (text, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    match (ip, mask) {
        (_, None) => Some(ip.to_string()),
        (IpAddr::V4(_), Some(m)) if (8..=32).contains(&m) => Some(format!("{ip}/{m}")),
        (IpAddr::V6(_), Some(m)) if (8..=128).contains(&m) => Some(format!("{ip}/{m}")),
        _ => None,
    }
}

/// Whether `ip` is inside one of `allowed` (an empty list allows everything).
pub fn ip_allowed(allowed: &[String], ip: IpAddr) -> bool {
    allowed.is_empty()
        || allowed.iter().any(|entry| match entry.split_once('/') {
            None => entry.parse::<IpAddr>().is_ok_and(|a| a == ip),
            Some((net, mask)) => match (net.parse::<IpAddr>(), mask.parse::<u32>()) {
                (Ok(IpAddr::V4(net)), Ok(mask)) => match ip {
                    IpAddr::V4(ip) => {
                        let m = u32::MAX.checked_shl(32 - mask.min(32)).unwrap_or(0);
                        u32::from(net) & m == u32::from(ip) & m
                    }
                    IpAddr::V6(_) => false,
                },
                (Ok(IpAddr::V6(net)), Ok(mask)) => match ip {
                    IpAddr::V6(ip) => {
                        let m = u128::MAX.checked_shl(128 - mask.min(128)).unwrap_or(0);
                        u128::from(net) & m == u128::from(ip) & m
                    }
                    IpAddr::V4(_) => false,
                },
                _ => false,
            },
        })
}

/// A plausible e-mail address, lower-cased.
pub fn email(text: &str) -> Option<String> {
    let text = text.trim().to_lowercase();
    let (local, domain) = text.split_once('@')?;
    (!local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.contains(char::is_whitespace))
    .then_some(text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointer_keys_split_and_unescape() {
        assert_eq!(split_pointer("otpAuth/otpCode"), vec!["otpAuth", "otpCode"]);
        assert_eq!(split_pointer("/a~1b/c~0d"), vec!["a/b", "c~d"]);
        assert_eq!(split_pointer("secret"), vec!["secret"]);
    }

    #[test]
    fn empty_strings_are_invalid_values() {
        assert_eq!(
            string("description", &json!("")),
            Err(PatchError::new("description", INVALID_VALUE))
        );
        assert_eq!(optional_string("x", &json!(null)), Ok(None));
    }

    #[test]
    fn allowed_ips() {
        assert_eq!(ip_or_network("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(ip_or_network("10.0.0.0/8").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(ip_or_network("10.0.0.0/4"), None);
        assert_eq!(ip_or_network("example.org"), None);
        let allowed = vec!["10.9.9.9".to_owned(), "192.168.0.0/16".to_owned()];
        assert!(ip_allowed(&allowed, "192.168.4.5".parse().expect("ip")));
        assert!(!ip_allowed(&allowed, "127.0.0.1".parse().expect("ip")));
        assert!(ip_allowed(&[], "127.0.0.1".parse().expect("ip")));
    }

    #[test]
    fn sets_take_true_only() {
        let set = string_set(
            "allowedIps",
            &json!({"127.0.0.1": true}),
            ip_or_network,
            "x",
        );
        assert_eq!(set, Ok(vec!["127.0.0.1".to_owned()]));
        assert!(string_set("allowedIps", &json!({"nope": true}), ip_or_network, "x").is_err());
        assert!(string_set("allowedIps", &json!(["127.0.0.1"]), ip_or_network, "x").is_err());
    }

    #[test]
    fn set_pointers_add_and_remove() {
        let mut set = vec!["10.0.0.1".to_owned()];
        patch_string_set(
            &mut set,
            "allowedIps/10.0.0.2",
            "10.0.0.2",
            &json!(true),
            ip_or_network,
            "x",
        )
        .expect("added");
        patch_string_set(
            &mut set,
            "allowedIps/10.0.0.1",
            "10.0.0.1",
            &json!(null),
            ip_or_network,
            "x",
        )
        .expect("removed");
        assert_eq!(set, vec!["10.0.0.2".to_owned()]);
    }
}
