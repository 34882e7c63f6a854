//! JSON values as attribute writes and typed values as JSON, for every JSON protocol.

use profilestore_core::DomainError;
use profilestore_core::attribute::AttributeValue;
use profilestore_core::schema::TypedValue;
use serde_json::Value;

/// Strings, numbers and booleans become text; an array of strings is a list (for list
/// attributes); null clears the attribute; anything else is refused naming the attribute.
pub fn attribute_value(name: &str, value: &Value) -> Result<AttributeValue, DomainError> {
    match value {
        Value::Null => Ok(AttributeValue::Clear),
        Value::String(text) => Ok(AttributeValue::Text(text.clone())),
        Value::Number(number) => Ok(AttributeValue::Text(number.to_string())),
        Value::Bool(flag) => Ok(AttributeValue::Text(flag.to_string())),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(AttributeValue::List)
            .ok_or_else(|| DomainError::invalid(name, "a list holds strings only")),
        Value::Object(_) => Err(DomainError::invalid(
            name,
            "must be a string, number, boolean, list of strings or null",
        )),
    }
}

/// A typed value as JSON: integers and booleans as JSON numbers and booleans, decimals as
/// strings (exact: a JSON number would be read as a float by most clients), lists as arrays,
/// everything else as its canonical string.
pub fn typed_json(value: &TypedValue) -> Value {
    match value {
        TypedValue::Integer(number) => Value::from(*number),
        TypedValue::Boolean(flag) => Value::from(*flag),
        TypedValue::List(items) => Value::from(items.clone()),
        other => Value::from(other.canonical()),
    }
}
