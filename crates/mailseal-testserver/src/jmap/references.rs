//! Back-references (RFC 8620 §3.7): result references in arguments (`"#ids":
//! {"resultOf", "name", "path"}`) and creation-id references in values (`"#k1"`, used
//! for `publicKey` in `x:AccountSettings/set`).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::jmap::method_error::MethodError;

/// A response already produced in this request: name, arguments, call id.
#[derive(Clone, Debug, PartialEq)]
pub struct PriorResponse {
    /// Method name (`"error"` for a method error).
    pub name: String,
    /// Response arguments.
    pub args: Value,
    /// Call id.
    pub call_id: String,
}

/// Replaces every `#name` argument by the value its result reference points at.
pub fn resolve_result_references(
    args: &mut Map<String, Value>,
    prior: &[PriorResponse],
) -> Result<(), MethodError> {
    let references: Vec<String> = args
        .keys()
        .filter(|key| key.starts_with('#'))
        .cloned()
        .collect();
    for key in references {
        let Some(reference) = args.remove(&key) else {
            continue;
        };
        let name = key.trim_start_matches('#').to_owned();
        if args.contains_key(&name) {
            return Err(MethodError::InvalidArguments(format!(
                "Argument {name:?} is given both directly and as a result reference."
            )));
        }
        let field = |f: &str| reference.get(f).and_then(Value::as_str).unwrap_or_default();
        let (result_of, method, path) = (field("resultOf"), field("name"), field("path"));
        let value = prior
            .iter()
            // The real server cannot refer to an `Email/import` result (fixture 15).
            .filter(|r| r.call_id == result_of && r.name == method && r.name != "Email/import")
            .find_map(|r| evaluate_pointer(&r.args, path))
            .ok_or_else(|| {
                MethodError::InvalidResultReference(format!(
                    "Result reference to {result_of}#{method} not found."
                ))
            })?;
        args.insert(name, value);
    }
    Ok(())
}

/// Evaluates an RFC 8620 JSON pointer, where `*` maps over an array and flattens.
pub fn evaluate_pointer(value: &Value, path: &str) -> Option<Value> {
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() {
        return Some(value.clone());
    }
    let (token, rest) = path.split_once('/').unwrap_or((path, ""));
    let token = token.replace("~1", "/").replace("~0", "~");
    match value {
        Value::Array(items) if token == "*" => {
            let mut out = Vec::new();
            for item in items {
                match evaluate_pointer(item, rest)? {
                    Value::Array(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            Some(Value::Array(out))
        }
        Value::Array(items) => evaluate_pointer(items.get(token.parse::<usize>().ok()?)?, rest),
        Value::Object(map) => evaluate_pointer(map.get(&token)?, rest),
        _ => None,
    }
}

/// Resolves a `#creationId` reference to the id created earlier in the request.
pub fn resolve_creation_id(
    created: &HashMap<String, String>,
    text: &str,
) -> Result<String, MethodError> {
    match text.strip_prefix('#') {
        Some(reference) => created.get(reference).cloned().ok_or_else(|| {
            MethodError::InvalidResultReference(format!("Id reference {reference:?} not found."))
        }),
        None => Ok(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_from_a_query() {
        let prior = vec![PriorResponse {
            name: "x:AppPassword/query".to_owned(),
            args: json!({"ids": ["c", "b"]}),
            call_id: "q".to_owned(),
        }];
        let mut args =
            json!({"#ids": {"resultOf": "q", "name": "x:AppPassword/query", "path": "/ids"}});
        let Value::Object(args) = &mut args else {
            panic!("object")
        };
        resolve_result_references(args, &prior).expect("resolved");
        assert_eq!(args.get("ids"), Some(&json!(["c", "b"])));
    }

    #[test]
    fn wildcard_flattens() {
        let value = json!({"list": [{"ids": ["a", "b"]}, {"ids": ["c"]}]});
        assert_eq!(
            evaluate_pointer(&value, "/list/*/ids"),
            Some(json!(["a", "b", "c"]))
        );
    }

    #[test]
    fn missing_reference_is_reported() {
        let mut args = Map::new();
        args.insert(
            "#ids".to_owned(),
            json!({"resultOf": "i", "name": "Email/import", "path": "/created/enc1/id"}),
        );
        assert_eq!(
            resolve_result_references(&mut args, &[]),
            Err(MethodError::InvalidResultReference(
                "Result reference to i#Email/import not found.".to_owned()
            ))
        );
    }

    #[test]
    fn creation_ids() {
        let mut created = HashMap::new();
        created.insert("k1".to_owned(), "jpwj3wfybbaa".to_owned());
        assert_eq!(
            resolve_creation_id(&created, "#k1"),
            Ok("jpwj3wfybbaa".to_owned())
        );
        assert_eq!(resolve_creation_id(&created, "abc"), Ok("abc".to_owned()));
        assert!(resolve_creation_id(&created, "#k9").is_err());
    }
}
