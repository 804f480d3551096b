//! Per-object errors of `/set` (`notCreated`, `notUpdated`, `notDestroyed`), including
//! Stalwart's registry extensions (`objectId`, `linkedObjects`, `validationErrors`).

use serde_json::{Map, Value, json};

/// A SetError (boxed: it travels in `Result`s).
#[derive(Clone, Debug, PartialEq)]
pub struct SetError(Box<Inner>);

#[derive(Clone, Debug, PartialEq)]
struct Inner {
    kind: &'static str,
    description: Option<String>,
    properties: Option<Vec<String>>,
    object_id: Option<(&'static str, String)>,
    linked_objects: Vec<(&'static str, String)>,
    validation_errors: Vec<Value>,
}

impl SetError {
    /// A bare error of type `kind`.
    pub fn new(kind: &'static str) -> Self {
        Self(Box::new(Inner {
            kind,
            description: None,
            properties: None,
            object_id: None,
            linked_objects: Vec::new(),
            validation_errors: Vec::new(),
        }))
    }

    /// `forbidden` with a description.
    pub fn forbidden(description: &str) -> Self {
        Self::new("forbidden").with_description(description)
    }

    /// `notFound`.
    pub fn not_found() -> Self {
        Self::new("notFound")
    }

    /// `invalidProperties`.
    pub fn invalid_properties() -> Self {
        Self::new("invalidProperties")
    }

    /// `invalidPatch` for the property path `path`.
    pub fn invalid_patch(description: &str, path: &str) -> Self {
        Self::new("invalidPatch")
            .with_description(description)
            .with_property(path)
    }

    /// `overQuota`.
    pub fn over_quota(description: String) -> Self {
        Self::new("overQuota").with_description(&description)
    }

    /// `singleton` ("Singletons cannot be created or destroyed.").
    pub fn singleton() -> Self {
        Self::new("singleton").with_description("Singletons cannot be created or destroyed.")
    }

    /// `willDestroy`.
    pub fn will_destroy() -> Self {
        Self::new("willDestroy").with_description("ID will be destroyed.")
    }

    /// `validationFailed` with one `Required` entry per property.
    pub fn required(properties: &[&str]) -> Self {
        let mut err = Self::new("validationFailed");
        err.0.validation_errors = properties
            .iter()
            .map(|p| json!({"type": "Required", "property": p}))
            .collect();
        err
    }

    /// `invalidForeignKey` naming the missing object.
    pub fn invalid_foreign_key(object: &'static str, id: String) -> Self {
        let mut err = Self::new("invalidForeignKey");
        err.0.object_id = Some((object, id));
        err
    }

    /// `objectIsLinked`.
    pub fn object_is_linked(
        object: (&'static str, String),
        linked: Vec<(&'static str, String)>,
    ) -> Self {
        let mut err = Self::new("objectIsLinked");
        err.0.object_id = Some(object);
        err.0.linked_objects = linked;
        err
    }

    /// `primaryKeyViolation`.
    pub fn primary_key_violation(property: &str, object: &'static str, id: String) -> Self {
        let mut err = Self::new("primaryKeyViolation").with_property(property);
        err.0.object_id = Some((object, id));
        err
    }

    /// Sets the description.
    pub fn with_description(mut self, description: &str) -> Self {
        self.0.description = Some(description.to_owned());
        self
    }

    /// Sets `properties` to one property (or JSON pointer path).
    pub fn with_property(mut self, property: &str) -> Self {
        self.0.properties = Some(vec![property.to_owned()]);
        self
    }

    /// The error type.
    pub fn kind(&self) -> &'static str {
        self.0.kind
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        let inner = &self.0;
        map.insert("type".to_owned(), Value::from(inner.kind));
        if let Some(description) = &inner.description {
            map.insert("description".to_owned(), Value::from(description.as_str()));
        }
        if let Some(properties) = &inner.properties {
            map.insert("properties".to_owned(), json!(properties));
        }
        if let Some((object, id)) = &inner.object_id {
            map.insert("objectId".to_owned(), json!({"object": object, "id": id}));
        }
        if !inner.linked_objects.is_empty() {
            let linked: Vec<Value> = inner
                .linked_objects
                .iter()
                .map(|(object, id)| json!({"object": object, "id": id}))
                .collect();
            map.insert("linkedObjects".to_owned(), Value::Array(linked));
        }
        if !inner.validation_errors.is_empty() {
            map.insert(
                "validationErrors".to_owned(),
                Value::Array(inner.validation_errors.clone()),
            );
        }
        Value::Object(map)
    }
}
