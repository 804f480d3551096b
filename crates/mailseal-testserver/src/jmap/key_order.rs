//! The order of the `create` and `update` entries of each call, as the client wrote them.
//!
//! `serde_json::Value` keeps object members sorted by key, but Stalwart handles `/set`
//! entries in request order, which decides which create gets which id and which one
//! hits a quota first. This module reads the body a second time and keeps only those
//! keys, in order, without enabling serde_json's `preserve_order` for the workspace.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The keys of `create` and `update` of one call, in request order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetOrder {
    /// Creation ids.
    pub create: Vec<String>,
    /// Updated ids.
    pub update: Vec<String>,
}

/// The orders of every call of a request body (empty when the body cannot be read).
pub fn read(body: &[u8]) -> Vec<SetOrder> {
    serde_json::from_slice::<Envelope>(body)
        .map(|envelope| envelope.0)
        .unwrap_or_default()
}

struct Envelope(Vec<SetOrder>);

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EnvelopeVisitor;
        impl<'de> Visitor<'de> for EnvelopeVisitor {
            type Value = Envelope;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JMAP request")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
                let mut calls = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "methodCalls" {
                        calls = map.next_value::<Calls>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Envelope(calls))
            }
        }
        deserializer.deserialize_map(EnvelopeVisitor)
    }
}

struct Calls(Vec<SetOrder>);

impl<'de> Deserialize<'de> for Calls {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CallsVisitor;
        impl<'de> Visitor<'de> for CallsVisitor {
            type Value = Calls;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("method calls")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Calls, A::Error> {
                let mut out = Vec::new();
                while let Some(call) = seq.next_element::<Call>()? {
                    out.push(call.0);
                }
                Ok(Calls(out))
            }
        }
        deserializer.deserialize_seq(CallsVisitor)
    }
}

struct Call(SetOrder);

impl<'de> Deserialize<'de> for Call {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CallVisitor;
        impl<'de> Visitor<'de> for CallVisitor {
            type Value = Call;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a method call")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Call, A::Error> {
                seq.next_element::<IgnoredAny>()?;
                let order = seq
                    .next_element::<Arguments>()?
                    .map(|a| a.0)
                    .unwrap_or_default();
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Call(order))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Call, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Call(SetOrder::default()))
            }
        }
        deserializer.deserialize_any(CallVisitor)
    }
}

struct Arguments(SetOrder);

impl<'de> Deserialize<'de> for Arguments {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ArgumentsVisitor;
        impl<'de> Visitor<'de> for ArgumentsVisitor {
            type Value = Arguments;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("method arguments")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Arguments, A::Error> {
                let mut order = SetOrder::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "create" => order.create = map.next_value::<Keys>()?.0,
                        "update" => order.update = map.next_value::<Keys>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Arguments(order))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Arguments, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Arguments(SetOrder::default()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Arguments, E> {
                Ok(Arguments(SetOrder::default()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Arguments, E> {
                Ok(Arguments(SetOrder::default()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Arguments, E> {
                Ok(Arguments(SetOrder::default()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Arguments, E> {
                Ok(Arguments(SetOrder::default()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Arguments, E> {
                Ok(Arguments(SetOrder::default()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Arguments, E> {
                Ok(Arguments(SetOrder::default()))
            }
        }
        deserializer.deserialize_any(ArgumentsVisitor)
    }
}

struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Keys, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Keys(Vec::new()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Keys, E> {
                Ok(Keys(Vec::new()))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Keys, E> {
                Ok(Keys(Vec::new()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Keys, E> {
                Ok(Keys(Vec::new()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Keys, E> {
                Ok(Keys(Vec::new()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Keys, E> {
                Ok(Keys(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Keys, E> {
                Ok(Keys(Vec::new()))
            }
        }
        deserializer.deserialize_any(KeysVisitor)
    }
}

/// Sorts `entries` by the position of their key in `order` (unknown keys last, stable).
pub fn apply<T>(entries: &mut [(String, T)], order: &[String]) {
    entries.sort_by_key(|(key, _)| order.iter().position(|k| k == key).unwrap_or(usize::MAX));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_request_order() {
        let body = br#"{"using":[],"methodCalls":[
            ["x:AppPassword/set",{"create":{"z":{"a":1},"a":{}},"update":{"c":{},"b":{}}},"0"],
            ["Core/echo",{},"1"],
            ["x:Nope/get",null,"2"]]}"#;
        let orders = read(body);
        assert_eq!(orders.len(), 3);
        assert_eq!(orders[0].create, vec!["z", "a"]);
        assert_eq!(orders[0].update, vec!["c", "b"]);
        assert_eq!(orders[1], SetOrder::default());
    }

    #[test]
    fn unreadable_bodies_give_no_order() {
        assert!(read(b"this is { not json").is_empty());
    }

    #[test]
    fn apply_sorts_by_order() {
        let mut entries = vec![("a".to_owned(), 1), ("z".to_owned(), 2)];
        apply(&mut entries, &["z".to_owned(), "a".to_owned()]);
        assert_eq!(entries, vec![("z".to_owned(), 2), ("a".to_owned(), 1)]);
    }
}
