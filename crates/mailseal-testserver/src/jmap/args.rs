//! Reading the arguments of `/get`, `/set` and `/query`, and writing their responses in
//! Stalwart's shape: no `state` on `/get`, no `oldState`/`newState` on `/set`, empty
//! maps omitted, `queryState` `"n"` on `/query`.

use serde_json::{Map, Value, json};

use crate::jmap::envelope::MAX_OBJECTS;
use crate::jmap::method_error::MethodError;
use crate::jmap::set_error::SetError;

/// A JSON object (a create object or an update patch).
pub type Object = Map<String, Value>;

/// The most ids a `/query` returns.
pub const MAX_QUERY_RESULTS: usize = 5000;

fn invalid(what: &str) -> MethodError {
    MethodError::InvalidArguments(format!("Invalid value for argument {what:?}."))
}

/// `accountId`, when given.
pub fn account_id(args: &Map<String, Value>) -> Result<Option<String>, MethodError> {
    match args.get("accountId") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => Ok(Some(id.clone())),
        Some(_) => Err(invalid("accountId")),
    }
}

fn string_list(args: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, MethodError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(|| invalid(key)))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(invalid(key)),
    }
}

/// The arguments of a `/get`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetArgs {
    /// `ids` (`None` for all).
    pub ids: Option<Vec<String>>,
    /// `properties` (`None` for all).
    pub properties: Option<Vec<String>>,
}

impl GetArgs {
    /// Reads `/get` arguments.
    pub fn parse(args: &Map<String, Value>) -> Result<Self, MethodError> {
        let ids = string_list(args, "ids")?;
        if ids.as_ref().is_some_and(|ids| ids.len() > MAX_OBJECTS) {
            return Err(MethodError::RequestTooLarge);
        }
        Ok(Self {
            ids,
            properties: string_list(args, "properties")?,
        })
    }
}

/// The arguments of a `/set`, in request order where JSON keeps one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SetArgs {
    /// `create`: creation id and object.
    pub create: Vec<(String, Object)>,
    /// `update`: id and patch object.
    pub update: Vec<(String, Object)>,
    /// `destroy`.
    pub destroy: Vec<String>,
}

impl SetArgs {
    /// Reads `/set` arguments.
    pub fn parse(args: &Map<String, Value>) -> Result<Self, MethodError> {
        let set = Self {
            create: objects(args, "create")?,
            update: objects(args, "update")?,
            destroy: string_list(args, "destroy")?.unwrap_or_default(),
        };
        if set.create.len() + set.update.len() + set.destroy.len() > MAX_OBJECTS {
            return Err(MethodError::RequestTooLarge);
        }
        Ok(set)
    }
}

/// A map of objects (`create`, `update`) as a list of id and object.
fn objects(args: &Map<String, Value>, key: &str) -> Result<Vec<(String, Object)>, MethodError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(id, value)| match value {
                Value::Object(object) => Ok((id.clone(), object.clone())),
                _ => Err(invalid(key)),
            })
            .collect(),
        Some(_) => Err(invalid(key)),
    }
}

/// The arguments of a `/query`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueryArgs {
    /// `filter`.
    pub filter: Option<Map<String, Value>>,
    /// `sort`: property and ascending flag.
    pub sort: Vec<(String, bool)>,
    /// `position`.
    pub position: i64,
    /// `anchor`.
    pub anchor: Option<String>,
    /// `anchorOffset`.
    pub anchor_offset: i64,
    /// `limit`.
    pub limit: Option<usize>,
    /// `calculateTotal`.
    pub calculate_total: bool,
}

impl QueryArgs {
    /// Reads `/query` arguments.
    pub fn parse(args: &Map<String, Value>) -> Result<Self, MethodError> {
        let filter = match args.get("filter") {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map.clone()),
            Some(_) => return Err(invalid("filter")),
        };
        let mut sort = Vec::new();
        match args.get("sort") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let property = item
                        .get("property")
                        .and_then(Value::as_str)
                        .ok_or_else(|| invalid("sort"))?;
                    let ascending = item
                        .get("isAscending")
                        .map_or(Some(true), Value::as_bool)
                        .ok_or_else(|| invalid("sort"))?;
                    sort.push((property.to_owned(), ascending));
                }
            }
            Some(_) => return Err(invalid("sort")),
        }
        let int = |key: &str| -> Result<i64, MethodError> {
            match args.get(key) {
                None | Some(Value::Null) => Ok(0),
                Some(v) => v.as_i64().ok_or_else(|| invalid(key)),
            }
        };
        let limit = match args.get("limit") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| invalid("limit"))?,
            ),
        };
        Ok(Self {
            filter,
            sort,
            position: int("position")?,
            anchor: args
                .get("anchor")
                .and_then(Value::as_str)
                .map(str::to_owned),
            anchor_offset: int("anchorOffset")?,
            limit,
            calculate_total: args
                .get("calculateTotal")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// The `/query` response for numeric `ids` sorted by `id` only, newest (highest) first
    /// unless the request asks for ascending order, as Stalwart lists public keys and queued
    /// messages; any filter is `unsupportedFilter`, sorting on another property
    /// `unsupportedSort`.
    pub fn respond_ids_newest_first(
        &self,
        account_id: &str,
        mut ids: Vec<u64>,
    ) -> Result<Value, MethodError> {
        if let Some(key) = self.filter.as_ref().and_then(|f| f.keys().next()) {
            return Err(MethodError::UnsupportedFilter(format!(
                "Filter on property {key} is not supported or invalid"
            )));
        }
        match self.sort.first().map(|(p, asc)| (p.as_str(), *asc)) {
            None | Some(("id", false)) => ids.sort_unstable_by(|a, b| b.cmp(a)),
            Some(("id", true)) => ids.sort_unstable(),
            Some((other, _)) => {
                return Err(MethodError::UnsupportedSort(format!(
                    "Property {other} is not supported for sorting"
                )));
            }
        }
        self.respond(
            account_id,
            ids.into_iter().map(crate::ids::encode_id).collect(),
        )
    }

    /// The `/query` response for the sorted `ids`.
    pub fn respond(&self, account_id: &str, ids: Vec<String>) -> Result<Value, MethodError> {
        let total = ids.len();
        let limit = self
            .limit
            .map_or(MAX_QUERY_RESULTS, |l| l.min(MAX_QUERY_RESULTS));
        let start = if let Some(anchor) = &self.anchor {
            let index = ids
                .iter()
                .position(|id| id == anchor)
                .ok_or(MethodError::AnchorNotFound)?;
            usize::try_from((i64::try_from(index).unwrap_or(0) + self.anchor_offset).max(0))
                .unwrap_or(0)
        } else if self.position < 0 {
            total.saturating_sub(usize::try_from(self.position.unsigned_abs()).unwrap_or(0))
        } else {
            usize::try_from(self.position).unwrap_or(usize::MAX)
        };
        let page: Vec<String> = ids.into_iter().skip(start).take(limit).collect();
        let mut response = json!({
            "accountId": account_id,
            "queryState": "n",
            "canCalculateChanges": true,
            "position": start.min(total),
            "ids": page,
        });
        if let Value::Object(map) = &mut response {
            if self.calculate_total {
                map.insert("total".to_owned(), json!(total));
            }
            if total > limit {
                map.insert("limit".to_owned(), json!(limit));
            }
        }
        Ok(response)
    }
}

/// A `/get` response under construction.
#[derive(Clone, Debug, PartialEq)]
pub struct GetResponse {
    account_id: String,
    properties: Option<Vec<String>>,
    list: Vec<Value>,
    not_found: Vec<Value>,
}

impl GetResponse {
    /// An empty response keeping only `properties` of each object.
    pub fn new(account_id: &str, properties: Option<Vec<String>>) -> Self {
        Self {
            account_id: account_id.to_owned(),
            properties,
            list: Vec::new(),
            not_found: Vec::new(),
        }
    }

    /// Adds an object (its `id` is always kept).
    pub fn push(&mut self, id: &str, mut object: Map<String, Value>) {
        if let Some(properties) = &self.properties {
            object.retain(|key, _| properties.iter().any(|p| p == key));
        }
        object.insert("id".to_owned(), Value::from(id));
        self.list.push(Value::Object(object));
    }

    /// Reports an id as not found.
    pub fn not_found(&mut self, id: &str) {
        self.not_found.push(Value::from(id));
    }

    /// The response arguments.
    pub fn into_json(self) -> Value {
        json!({
            "accountId": self.account_id,
            "list": self.list,
            "notFound": self.not_found,
        })
    }
}

/// A `/set` response under construction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SetResponse {
    account_id: String,
    created: Map<String, Value>,
    updated: Map<String, Value>,
    destroyed: Vec<Value>,
    not_created: Map<String, Value>,
    not_updated: Map<String, Value>,
    not_destroyed: Map<String, Value>,
}

impl SetResponse {
    /// An empty response.
    pub fn new(account_id: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            ..Self::default()
        }
    }

    /// Records a created object.
    pub fn created(&mut self, creation_id: &str, object: Value) {
        self.created.insert(creation_id.to_owned(), object);
    }

    /// Records an update.
    pub fn updated(&mut self, id: &str) {
        self.updated.insert(id.to_owned(), Value::Null);
    }

    /// Records a destroy.
    pub fn destroyed(&mut self, id: &str) {
        self.destroyed.push(Value::from(id));
    }

    /// Records a failed create.
    pub fn not_created(&mut self, creation_id: &str, err: SetError) {
        self.not_created
            .insert(creation_id.to_owned(), err.to_json());
    }

    /// Records a failed update.
    pub fn not_updated(&mut self, id: &str, err: SetError) {
        self.not_updated.insert(id.to_owned(), err.to_json());
    }

    /// Records a failed destroy.
    pub fn not_destroyed(&mut self, id: &str, err: SetError) {
        self.not_destroyed.insert(id.to_owned(), err.to_json());
    }

    /// The created objects (creation id to object).
    pub fn created_objects(&self) -> &Map<String, Value> {
        &self.created
    }

    /// Moves every successful entry into the failure maps with `err` (a failed write of
    /// the whole call).
    pub fn fail_successes(&mut self, err: &SetError) {
        for (id, _) in std::mem::take(&mut self.created) {
            self.not_created.insert(id, err.to_json());
        }
        for (id, _) in std::mem::take(&mut self.updated) {
            self.not_updated.insert(id, err.to_json());
        }
        for id in std::mem::take(&mut self.destroyed) {
            if let Some(id) = id.as_str() {
                self.not_destroyed.insert(id.to_owned(), err.to_json());
            }
        }
    }

    /// The response arguments, with empty maps left out.
    pub fn into_json(self) -> Value {
        let mut map = Map::new();
        map.insert("accountId".to_owned(), Value::from(self.account_id));
        for (key, value) in [
            ("created", self.created),
            ("updated", self.updated),
            ("notCreated", self.not_created),
            ("notUpdated", self.not_updated),
            ("notDestroyed", self.not_destroyed),
        ] {
            if !value.is_empty() {
                map.insert(key.to_owned(), Value::Object(value));
            }
        }
        if !self.destroyed.is_empty() {
            map.insert("destroyed".to_owned(), Value::Array(self.destroyed));
        }
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_response_omits_empty_maps() {
        let mut set = SetResponse::new("c");
        set.updated("singleton");
        assert_eq!(
            set.into_json(),
            json!({"accountId": "c", "updated": {"singleton": null}})
        );
    }

    #[test]
    fn get_keeps_requested_properties_and_id() {
        let mut get = GetResponse::new("c", Some(vec!["description".to_owned()]));
        let mut object = Map::new();
        object.insert("description".to_owned(), json!("d"));
        object.insert("secret".to_owned(), json!("****"));
        get.push("b", object);
        assert_eq!(
            get.into_json(),
            json!({"accountId": "c", "list": [{"description": "d", "id": "b"}], "notFound": []})
        );
    }

    #[test]
    fn query_pages() {
        let args = QueryArgs {
            position: 1,
            limit: Some(1),
            calculate_total: true,
            ..QueryArgs::default()
        };
        let ids = vec!["c".to_owned(), "b".to_owned(), "a".to_owned()];
        assert_eq!(
            args.respond("c", ids).expect("valid"),
            json!({"accountId": "c", "queryState": "n", "canCalculateChanges": true,
                   "position": 1, "ids": ["b"], "total": 3, "limit": 1})
        );
    }

    #[test]
    fn too_many_ids_is_request_too_large() {
        let ids: Vec<Value> = (0..501).map(|i| json!(i.to_string())).collect();
        let mut args = Map::new();
        args.insert("ids".to_owned(), Value::Array(ids));
        assert_eq!(GetArgs::parse(&args), Err(MethodError::RequestTooLarge));
    }
}
