//! The JSON "string or array of strings" that most policy elements hold. Its own module, below
//! both the model and the conditions (whose entries hold it), so neither needs the other for it.

use serde_json::Value;

/// A JSON "string or array of strings". Remembers which form was written so that
/// [`Policy::to_json`](crate::Policy::to_json) gives the document back in the same shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values {
    pub items: Vec<String>,
    /// Written as an array (always true when there is not exactly one item).
    pub array: bool,
}

impl Values {
    pub fn one(item: impl Into<String>) -> Self {
        Values { items: vec![item.into()], array: false }
    }

    pub fn many<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Self {
        Values { items: items.into_iter().map(Into::into).collect(), array: true }
    }

    pub(crate) fn to_json(&self) -> Value {
        match self.items.as_slice() {
            [single] if !self.array => Value::String(single.clone()),
            items => Value::Array(items.iter().cloned().map(Value::String).collect()),
        }
    }
}
