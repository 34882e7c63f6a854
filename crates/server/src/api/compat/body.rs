//! Request bodies of the compatible API: the JSON itself (7000 when it is not JSON), and the
//! batch in either of its documented forms — `{"Records":[{customerId, Attributes}]}` or a
//! single `{customerId, attributes}` — with the spellings the product's documents use.

use super::codes::{Code, CompatError};
use crate::api::json_value::attribute_value;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use profilestore_core::DomainError;
use profilestore_core::attribute::{AttributeValue, RawAttribute};
use serde_json::{Map, Value};

/// Most records one request may carry (code 7012 above it).
pub const MAX_RECORDS: usize = 100;

/// A JSON request body. Oversized, slow, non-UTF-8 and non-JSON bodies are refused with 7000.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = CompatError;

    async fn from_request(request: Request, state: &S) -> Result<Self, CompatError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                let description = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    format!(
                        "Invalid JSON: the request body exceeds {} bytes",
                        crate::edge::layers::MAX_BODY_BYTES
                    )
                } else {
                    "Invalid JSON: the request body could not be read in time".to_owned()
                };
                CompatError::new(Code::InvalidJson, description).with_status(status)
            })?;
        // serde_json refuses invalid UTF-8 and nesting deeper than 128 levels.
        let value = serde_json::from_slice(&bytes).map_err(|error| {
            CompatError::new(Code::InvalidJson, format!("Invalid JSON: {error}"))
        })?;
        Ok(JsonBody(value))
    }
}

/// Refuses requests that address more than [`MAX_RECORDS`] profiles (7012).
pub fn check_batch_size(count: usize) -> Result<(), CompatError> {
    if count > MAX_RECORDS {
        return Err(DomainError::BatchTooLarge { max: MAX_RECORDS }.into());
    }
    Ok(())
}

/// One record of a batch before any domain rule has looked at it.
#[derive(Debug)]
pub struct RawRecord {
    /// The record's customerId, if it has one (as text; numbers are accepted).
    pub customer_id: Result<Option<String>, DomainError>,
    pub attributes: Result<Vec<RawAttribute>, DomainError>,
}

fn field<'a>(object: &'a Map<String, Value>, spellings: &[&str]) -> Option<&'a Value> {
    spellings.iter().find_map(|name| object.get(*name))
}

/// The records of a batch body, refusing bodies without any (7003) or with too many (7012).
pub fn records(body: &Value) -> Result<Vec<RawRecord>, CompatError> {
    let object = body.as_object().ok_or_else(|| {
        CompatError::new(
            Code::InvalidJson,
            "Invalid JSON: the body must be a JSON object",
        )
    })?;
    let items: Vec<&Value> = match field(object, &["Records", "records"]) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(_) => {
            return Err(CompatError::new(
                Code::InvalidJson,
                "Invalid JSON: Records must be an array",
            ));
        }
        None if field(object, &["customerId", "customerid", "CustomerId"]).is_some()
            || field(object, &["attributes", "Attributes"]).is_some() =>
        {
            vec![body]
        }
        None => {
            return Err(CompatError::new(
                Code::MandatoryMissing,
                "Mandatory parameters missing: Records",
            ));
        }
    };
    if items.is_empty() {
        return Err(CompatError::new(
            Code::MandatoryMissing,
            "Mandatory parameters missing: Records is empty",
        ));
    }
    check_batch_size(items.len())?;
    Ok(items.into_iter().map(record).collect())
}

fn record(item: &Value) -> RawRecord {
    let Some(object) = item.as_object() else {
        let refused = DomainError::invalid("Records", "each record must be a JSON object");
        return RawRecord {
            customer_id: Err(refused.clone()),
            attributes: Err(refused),
        };
    };
    let customer_id = match field(object, &["customerId", "customerid", "CustomerId"]) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(_)) => Err(DomainError::invalid(
            "customerId",
            "must be a string or a number",
        )),
        Some(value) => scalar_text("customerId", value).map(Some),
    };
    let attributes = match field(object, &["Attributes", "attributes"]) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(name, value)| attribute_value(name, value).map(|value| (name.clone(), value)))
            .collect(),
        Some(_) => Err(DomainError::invalid(
            "Attributes",
            "must be a JSON object of name: value",
        )),
    };
    RawRecord {
        customer_id,
        attributes,
    }
}

fn scalar_text(name: &str, value: &Value) -> Result<String, DomainError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        _ => Err(DomainError::invalid(
            name,
            "must be a string, number, boolean or null",
        )),
    }
}

/// A string attribute among a record's raw attributes (to default an identity from it).
pub fn raw_text<'a>(attributes: &'a [RawAttribute], name: &str) -> Option<&'a str> {
    attributes.iter().find_map(|(key, value)| match value {
        AttributeValue::Text(text) if key.eq_ignore_ascii_case(name) => Some(text.as_str()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_documented_forms_are_accepted() {
        let batch =
            records(&json!({"Records": [{"customerId": "a", "Attributes": {"n": 1}}]})).unwrap();
        assert_eq!(batch[0].customer_id.as_ref().unwrap().as_deref(), Some("a"));
        let single = records(&json!({"customerid": "b", "attributes": {"flag": true}})).unwrap();
        assert_eq!(single.len(), 1);
        let attributes = single[0].attributes.as_ref().unwrap();
        assert_eq!(attributes[0].1, AttributeValue::Text("true".into()));
    }

    #[test]
    fn structural_problems_have_codes() {
        assert_eq!(records(&json!([])).unwrap_err().code, Code::InvalidJson);
        assert_eq!(
            records(&json!({})).unwrap_err().code,
            Code::MandatoryMissing
        );
        assert_eq!(
            records(&json!({"Records": []})).unwrap_err().code,
            Code::MandatoryMissing
        );
        assert_eq!(
            records(&json!({"Records": {}})).unwrap_err().code,
            Code::InvalidJson
        );
        let many: Vec<_> = (0..=MAX_RECORDS)
            .map(|i| json!({"customerId": i.to_string()}))
            .collect();
        assert_eq!(
            records(&json!({"Records": many})).unwrap_err().code,
            Code::BatchTooLarge
        );
    }

    #[test]
    fn non_scalar_values_fail_their_record_only() {
        let batch =
            records(&json!({"Records": [{"customerId": "a", "Attributes": {"x": [1]}}, "nope"]}))
                .unwrap();
        assert!(batch[0].attributes.is_err());
        assert!(batch[1].customer_id.is_err());
    }
}
