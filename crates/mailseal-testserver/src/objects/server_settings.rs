//! The administrator's read-only server settings `x:Email`, `x:Search` and `x:Jmap`:
//! singletons with the defaults recorded in fixture 15 (`x:Jmap`'s upload limits follow
//! [`crate::config::UploadLimits`]). Only `/get` exists here; the permission asked for is
//! `sysAccountGet` (the administrator's), standing in for the real settings permissions.

use serde_json::{Map, Value, json};

use crate::config::UploadLimits;
use crate::ids::encode_id;
use crate::jmap::args::{GetArgs, GetResponse};
use crate::jmap::method_error::MethodError;

/// `x:Email/get`, `x:Search/get` or `x:Jmap/get` (`method` is the method name).
pub fn get(
    account_id: u32,
    method: &str,
    limits: &UploadLimits,
    args: GetArgs,
) -> Result<Value, MethodError> {
    let object = match method {
        "x:Email/get" => json!({"encryptAtRest": true, "encryptOnAppend": false}),
        "x:Search/get" => json!({
            "indexEmail": true,
            "indexEmailFields": {
                "from": true, "to": true, "cc": true, "bcc": true, "subject": true,
                "body": true, "attachment": true, "receivedAt": true, "sentAt": true,
                "size": true, "hasAttachment": true,
            },
        }),
        _ => json!({
            "maxUploadSize": limits.max_upload_size,
            "maxUploadCount": limits.max_upload_count,
            "uploadQuota": limits.upload_quota,
            "uploadTtl": limits.upload_ttl_ms,
        }),
    };
    let object: Map<String, Value> = object.as_object().cloned().unwrap_or_default();
    let mut response = GetResponse::new(&encode_id(u64::from(account_id)), args.properties);
    for id in args.ids.unwrap_or_else(|| vec!["singleton".to_owned()]) {
        if id == "singleton" {
            response.push(&id, object.clone());
        } else {
            response.not_found(&id);
        }
    }
    Ok(response.into_json())
}
