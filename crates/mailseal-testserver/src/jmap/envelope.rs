//! The JMAP request envelope (`using`, `methodCalls`, `createdIds`) and method names.
//!
//! As on the real server, anything wrong with the envelope fails the whole request with
//! `notRequest`, whose detail is the complete body: invalid JSON, an unknown URN in
//! `using`, a call that is not a three-element array. A call whose method name is unknown
//! stays in the request and is answered `unknownMethod`.

use serde_json::{Map, Value};

use crate::config::ServerVersion;
use crate::jmap::key_order::{self, SetOrder};
use crate::problem::Problem;
use crate::session::known_capabilities;

/// `maxSizeRequest` of the recorded session.
pub const MAX_SIZE_REQUEST: usize = 10_000_000;
/// `maxCallsInRequest` of the recorded session.
pub const MAX_CALLS_IN_REQUEST: usize = 16;
/// `maxObjectsInGet` and `maxObjectsInSet` of the recorded session.
pub const MAX_OBJECTS: usize = 500;

/// The object types of the methods this server knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectType {
    /// `Core` (only `Core/echo`).
    Core,
    /// `x:AccountPassword` (singleton).
    AccountPassword,
    /// `x:AccountSettings` (singleton).
    AccountSettings,
    /// `x:AppPassword`.
    AppPassword,
    /// `x:ApiKey`.
    ApiKey,
    /// `x:PublicKey`.
    PublicKey,
    /// `x:Account` (administration).
    Account,
    /// `x:Role` (administration).
    Role,
    /// `x:QueuedMessage` (administration; filled by `TestServer::deliver`).
    QueuedMessage,
    /// `Email` (RFC 8621).
    Email,
    /// `Mailbox` (RFC 8621).
    Mailbox,
    /// `Thread` (RFC 8621).
    Thread,
    /// The administrator's read-only server settings `x:Email`, `x:Search` and `x:Jmap`
    /// (singletons with the recorded defaults).
    ServerSettings,
}

impl ObjectType {
    /// The wire name after `x:`.
    pub fn name(self) -> &'static str {
        match self {
            ObjectType::Core => "Core",
            ObjectType::AccountPassword => "AccountPassword",
            ObjectType::AccountSettings => "AccountSettings",
            ObjectType::AppPassword => "AppPassword",
            ObjectType::ApiKey => "ApiKey",
            ObjectType::PublicKey => "PublicKey",
            ObjectType::Account => "Account",
            ObjectType::Role => "Role",
            ObjectType::QueuedMessage => "QueuedMessage",
            ObjectType::Email => "Email",
            ObjectType::Mailbox => "Mailbox",
            ObjectType::Thread => "Thread",
            ObjectType::ServerSettings => "ServerSettings",
        }
    }

    /// Whether the type is a singleton (no `/query`, no create or destroy).
    pub fn is_singleton(self) -> bool {
        matches!(
            self,
            ObjectType::AccountPassword | ObjectType::AccountSettings | ObjectType::ServerSettings
        )
    }

    /// The permission a `/get` needs.
    pub fn get_permission(self) -> &'static str {
        self.permissions()[0]
    }

    /// The permission a `/query` needs.
    pub fn query_permission(self) -> &'static str {
        self.permissions()[4]
    }

    /// The permissions of `/set` create, update and destroy.
    pub fn set_permissions(self) -> [&'static str; 3] {
        let p = self.permissions();
        [p[1], p[2], p[3]]
    }

    /// get, create, update, destroy, query.
    fn permissions(self) -> [&'static str; 5] {
        match self {
            ObjectType::Core => ["jmapCoreEcho"; 5],
            ObjectType::AccountPassword => [
                "sysAccountPasswordGet",
                "sysAccountPasswordUpdate",
                "sysAccountPasswordUpdate",
                "sysAccountPasswordUpdate",
                "sysAccountPasswordGet",
            ],
            ObjectType::AccountSettings => [
                "sysAccountSettingsGet",
                "sysAccountSettingsUpdate",
                "sysAccountSettingsUpdate",
                "sysAccountSettingsUpdate",
                "sysAccountSettingsGet",
            ],
            ObjectType::AppPassword => [
                "sysAppPasswordGet",
                "sysAppPasswordCreate",
                "sysAppPasswordUpdate",
                "sysAppPasswordDestroy",
                "sysAppPasswordQuery",
            ],
            ObjectType::ApiKey => [
                "sysApiKeyGet",
                "sysApiKeyCreate",
                "sysApiKeyUpdate",
                "sysApiKeyDestroy",
                "sysApiKeyQuery",
            ],
            ObjectType::PublicKey => [
                "sysPublicKeyGet",
                "sysPublicKeyCreate",
                "sysPublicKeyUpdate",
                "sysPublicKeyDestroy",
                "sysPublicKeyQuery",
            ],
            ObjectType::Account => [
                "sysAccountGet",
                "sysAccountCreate",
                "sysAccountUpdate",
                "sysAccountDestroy",
                "sysAccountQuery",
            ],
            ObjectType::Role => [
                "sysRoleGet",
                "sysRoleCreate",
                "sysRoleUpdate",
                "sysRoleDestroy",
                "sysRoleQuery",
            ],
            ObjectType::Email => [
                "jmapEmailGet",
                "jmapEmailCreate",
                "jmapEmailUpdate",
                "jmapEmailDestroy",
                "jmapEmailQuery",
            ],
            ObjectType::Mailbox => [
                "jmapMailboxGet",
                "jmapMailboxCreate",
                "jmapMailboxUpdate",
                "jmapMailboxDestroy",
                "jmapMailboxQuery",
            ],
            ObjectType::Thread => ["jmapThreadGet"; 5],
            // Stands in for the real server's settings permissions: only the administrator.
            ObjectType::ServerSettings => ["sysAccountGet"; 5],
            ObjectType::QueuedMessage => [
                "sysQueuedMessageGet",
                "sysQueuedMessageDestroy",
                "sysQueuedMessageUpdate",
                "sysQueuedMessageDestroy",
                "sysQueuedMessageQuery",
            ],
        }
    }
}

/// The verb of a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// `/get`.
    Get,
    /// `/set`.
    Set,
    /// `/query`.
    Query,
    /// `Core/echo`.
    Echo,
    /// `Email/import`.
    Import,
}

/// A method this server knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodName {
    /// The object type.
    pub object: ObjectType,
    /// The verb.
    pub verb: Verb,
}

impl MethodName {
    /// Reads a method name; `None` for methods this server does not know (including
    /// `/query` on a singleton, and every `x:` method on 0.15).
    pub fn parse(name: &str, version: ServerVersion) -> Option<Self> {
        if name == "Core/echo" {
            return Some(Self {
                object: ObjectType::Core,
                verb: Verb::Echo,
            });
        }
        if version == ServerVersion::V0_15 {
            return None;
        }
        if let Some((object, verb)) = name.split_once('/')
            && !name.starts_with("x:")
        {
            let object = match object {
                "Email" => ObjectType::Email,
                "Mailbox" => ObjectType::Mailbox,
                "Thread" => ObjectType::Thread,
                _ => return None,
            };
            let verb = match (object, verb) {
                (_, "get") => Verb::Get,
                (ObjectType::Email | ObjectType::Mailbox, "set") => Verb::Set,
                (ObjectType::Email | ObjectType::Mailbox, "query") => Verb::Query,
                (ObjectType::Email, "import") => Verb::Import,
                _ => return None,
            };
            return Some(Self { object, verb });
        }
        let (object, verb) = name.strip_prefix("x:")?.split_once('/')?;
        let object = match object {
            "AccountPassword" => ObjectType::AccountPassword,
            "AccountSettings" => ObjectType::AccountSettings,
            "AppPassword" => ObjectType::AppPassword,
            "ApiKey" => ObjectType::ApiKey,
            "PublicKey" => ObjectType::PublicKey,
            "Account" => ObjectType::Account,
            "Role" => ObjectType::Role,
            "QueuedMessage" => ObjectType::QueuedMessage,
            "Email" | "Search" | "Jmap" => ObjectType::ServerSettings,
            _ => return None,
        };
        let verb = match verb {
            "get" => Verb::Get,
            "set" if object == ObjectType::ServerSettings => return None,
            "set" => Verb::Set,
            "query" if !object.is_singleton() => Verb::Query,
            _ => return None,
        };
        Some(Self { object, verb })
    }
}

/// One method call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The method name as sent.
    pub name: String,
    /// The parsed method, if known.
    pub method: Option<MethodName>,
    /// The arguments (any JSON for an unknown method).
    pub args: Value,
    /// The call id.
    pub id: String,
    /// The request order of its `create` and `update` entries.
    pub order: SetOrder,
}

/// A parsed request.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The `using` capabilities.
    pub using: Vec<String>,
    /// The calls, in order.
    pub calls: Vec<Call>,
    /// Client-supplied creation ids, when given.
    pub created_ids: Option<Map<String, Value>>,
}

/// Parses a request body.
pub fn parse(body: &[u8], version: ServerVersion) -> Result<Request, Problem> {
    if body.len() > MAX_SIZE_REQUEST {
        return Err(Problem::limit("maxSizeRequest"));
    }
    let not_request = || Problem::not_request(body);
    let value: Value = serde_json::from_slice(body).map_err(|_| not_request())?;
    let Value::Object(object) = value else {
        return Err(not_request());
    };
    let mut orders = key_order::read(body).into_iter();
    let known = known_capabilities(version);
    let mut request = Request {
        using: Vec::new(),
        calls: Vec::new(),
        created_ids: None,
    };
    for (key, value) in object {
        match key.as_str() {
            "using" => {
                let Value::Array(items) = value else {
                    return Err(not_request());
                };
                for item in items {
                    match item {
                        Value::String(urn) if known.contains(&urn.as_str()) => {
                            request.using.push(urn);
                        }
                        _ => return Err(not_request()),
                    }
                }
            }
            "methodCalls" => {
                let Value::Array(calls) = value else {
                    return Err(not_request());
                };
                for call in calls {
                    let Value::Array(parts) = call else {
                        return Err(not_request());
                    };
                    let [Value::String(name), args, Value::String(id)] =
                        <[Value; 3]>::try_from(parts).map_err(|_| not_request())?
                    else {
                        return Err(not_request());
                    };
                    request.calls.push(Call {
                        method: MethodName::parse(&name, version),
                        name,
                        args,
                        id,
                        order: orders.next().unwrap_or_default(),
                    });
                }
            }
            "createdIds" => match value {
                Value::Object(map) if map.values().all(Value::is_string) => {
                    request.created_ids = Some(map);
                }
                _ => return Err(not_request()),
            },
            _ => {}
        }
    }
    if request.calls.len() > MAX_CALLS_IN_REQUEST {
        return Err(Problem::limit("maxCallsInRequest"));
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_capability_fails_the_request_echoing_the_body() {
        let body = br#"{"using":["urn:example:nope"],"methodCalls":[]}"#;
        let err = parse(body, ServerVersion::V0_16).expect_err("refused");
        assert_eq!(err.kind, "urn:ietf:params:jmap:error:notRequest");
        assert_eq!(err.detail.as_bytes(), body);
    }

    #[test]
    fn stalwart_capability_is_unknown_on_0_15() {
        let body =
            br#"{"using":["urn:ietf:params:jmap:core","urn:stalwart:jmap"],"methodCalls":[]}"#;
        assert!(parse(body, ServerVersion::V0_16).is_ok());
        assert!(parse(body, ServerVersion::V0_15).is_err());
    }

    #[test]
    fn malformed_calls_fail_the_request() {
        for body in [
            &br#"this is { not json"#[..],
            br#"[]"#,
            br#"{"methodCalls":[["x:ApiKey/get",{}]]}"#,
            br#"{"methodCalls":[["x:ApiKey/get",{},1]]}"#,
            br#"{"methodCalls":[["x:ApiKey/get",{},"a","b"]]}"#,
        ] {
            assert!(parse(body, ServerVersion::V0_16).is_err());
        }
    }

    #[test]
    fn too_many_calls_is_a_limit_error() {
        let calls: Vec<Value> = (0..17)
            .map(|i| serde_json::json!(["Core/echo", {}, i.to_string()]))
            .collect();
        let body = serde_json::json!({"using": [], "methodCalls": calls}).to_string();
        let err = parse(body.as_bytes(), ServerVersion::V0_16).expect_err("limit");
        assert_eq!(err.limit, Some("maxCallsInRequest"));
    }

    #[test]
    fn method_names() {
        let v = ServerVersion::V0_16;
        assert!(MethodName::parse("x:AccountPassword/get", v).is_some());
        assert!(MethodName::parse("x:AccountPassword/query", v).is_none());
        assert!(MethodName::parse("x:Passkey/get", v).is_none());
        assert!(MethodName::parse("x:Nope/get", v).is_none());
        assert!(MethodName::parse("x:AppPassword/changes", v).is_none());
        assert!(MethodName::parse("x:AppPassword/get", ServerVersion::V0_15).is_none());
    }
}
