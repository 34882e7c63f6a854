//! An attribute definition: its type, whether it is required or unique, its constraints and
//! default, and the checks that a definition is coherent and that a value satisfies it.

use super::types::{AttributeType, TypedValue};
use crate::DomainError;
use crate::attribute::{AttributeValue, check_custom_name};
use crate::customer::default_attribute_named;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Longest `pattern` accepted, and the compiled size limit: a pattern cannot exhaust memory.
const MAX_PATTERN_BYTES: usize = 512;
const PATTERN_SIZE_LIMIT: usize = 1 << 20;
/// Most values an enum may list.
pub const MAX_ENUM_VALUES: usize = 500;

/// One field of a definition that is wrong, and why (the problem+json `errors` list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Constraints by type. Bounds are kept in their canonical text form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeDefinition {
    /// Stable column id, shown as `ID` by the compatible API.
    pub id: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub attribute_type: AttributeType,
    pub required: bool,
    pub unique: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The allowed values of an enum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default)]
    pub constraints: Constraints,
    /// Canonical text of the default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Retired attributes refuse writes; their stored values stay readable until purged.
    #[serde(default)]
    pub retired: bool,
    /// Registered by a write to a tenant that has no schema yet (a string, no constraints),
    /// not by a definition. A tenant's schema is open while all its attributes are implicit.
    #[serde(default)]
    pub implicit: bool,
}

impl AttributeDefinition {
    /// An explicit definition of `attribute_type` with nothing else set: optional, not unique,
    /// no values, constraints or default, active.
    pub fn new(id: i64, name: &str, attribute_type: AttributeType) -> Self {
        AttributeDefinition {
            id,
            name: name.to_owned(),
            attribute_type,
            required: false,
            unique: false,
            description: None,
            values: Vec::new(),
            constraints: Constraints::default(),
            default: None,
            retired: false,
            implicit: false,
        }
    }

    /// The implicit definition of an attribute first written to an open schema.
    pub fn implicit_string(id: i64, name: &str) -> Self {
        AttributeDefinition {
            implicit: true,
            ..AttributeDefinition::new(id, name, AttributeType::String)
        }
    }

    /// Checks that the definition is coherent: a legal, non-default name; constraints that apply
    /// to the type; bounds that parse and are in order; a compilable pattern; enum values; a
    /// default that is itself a valid value. Bounds and default are normalised to canonical text.
    pub fn validate(&mut self) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        if let Err(error) = check_custom_name(&self.name) {
            errors.push(FieldError::new("name", error.to_string()));
        } else if default_attribute_named(&self.name).is_some() {
            errors.push(FieldError::new(
                "name",
                format!("{} is a default attribute of every customer", self.name),
            ));
        }
        let kind = self.attribute_type;
        let c = &mut self.constraints;
        if !kind.is_ordered() {
            for (field, present) in [("min", c.min.is_some()), ("max", c.max.is_some())] {
                if present {
                    errors.push(FieldError::new(
                        field,
                        format!(
                            "applies to integer, decimal, date and datetime, not {}",
                            kind.as_str()
                        ),
                    ));
                }
            }
        } else {
            for (field, bound) in [("min", &mut c.min), ("max", &mut c.max)] {
                if let Some(text) = bound {
                    match TypedValue::parse(kind, field, &AttributeValue::Text(text.clone())) {
                        Ok(value) => *text = value.canonical(),
                        Err(reason) => errors.push(FieldError::new(field, reason)),
                    }
                }
            }
            if let (Some(min), Some(max)) = (bounded(kind, &c.min), bounded(kind, &c.max))
                && min.compare(&max) == Some(Ordering::Greater)
            {
                errors.push(FieldError::new("max", "max is below min"));
            }
        }
        if !kind.is_textual() {
            for (field, present) in [
                ("min_length", c.min_length.is_some()),
                ("max_length", c.max_length.is_some()),
                ("pattern", c.pattern.is_some()),
            ] {
                if present {
                    errors.push(FieldError::new(
                        field,
                        format!("applies to string, not {}", kind.as_str()),
                    ));
                }
            }
        } else {
            if let (Some(min), Some(max)) = (c.min_length, c.max_length)
                && min > max
            {
                errors.push(FieldError::new(
                    "max_length",
                    "max_length is below min_length",
                ));
            }
            if let Some(pattern) = &c.pattern
                && let Err(reason) = compile(pattern)
            {
                errors.push(FieldError::new("pattern", reason));
            }
        }
        if c.max_items.is_some() && kind != AttributeType::List {
            errors.push(FieldError::new(
                "max_items",
                format!("applies to list, not {}", kind.as_str()),
            ));
        }
        if kind == AttributeType::Enum {
            if self.values.is_empty() {
                errors.push(FieldError::new(
                    "values",
                    "an enum lists its allowed values",
                ));
            }
            let mut seen = std::collections::HashSet::new();
            for value in &self.values {
                if value.is_empty() || value.len() > 256 || !seen.insert(value) {
                    errors.push(FieldError::new(
                        "values",
                        format!("{value:?} is empty, longer than 256 bytes or repeated"),
                    ));
                }
            }
            if self.values.len() > MAX_ENUM_VALUES {
                errors.push(FieldError::new(
                    "values",
                    format!("at most {MAX_ENUM_VALUES} values"),
                ));
            }
        } else if !self.values.is_empty() {
            errors.push(FieldError::new("values", "applies to enum only"));
        }
        if self.unique && kind == AttributeType::List {
            errors.push(FieldError::new("unique", "a list cannot be unique"));
        }
        if let Some(description) = &self.description
            && description.len() > 1024
        {
            errors.push(FieldError::new("description", "at most 1024 bytes"));
        }
        if errors.is_empty()
            && let Some(default) = self.default.clone()
        {
            match self.check(&AttributeValue::Text(default)) {
                Ok(value) => self.default = Some(value.canonical()),
                Err(DomainError::InvalidAttribute { reason, .. }) => {
                    errors.push(FieldError::new("default", reason))
                }
                Err(other) => errors.push(FieldError::new("default", other.to_string())),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::InvalidDefinition { errors })
        }
    }

    /// Parses a written value and checks it against every constraint: the typed value, or a
    /// 7011-style refusal naming the attribute and the rule.
    pub fn check(&self, input: &AttributeValue) -> Result<TypedValue, DomainError> {
        let refuse = |reason: String| DomainError::invalid(&self.name, reason);
        if self.retired {
            return Err(refuse(
                "the attribute is retired: it can no longer be written".into(),
            ));
        }
        let value =
            TypedValue::parse(self.attribute_type, &self.name, input).map_err(|reason| {
                refuse(format!(
                    "{} (type {})",
                    reason,
                    self.attribute_type.as_str()
                ))
            })?;
        self.check_constraints(&value).map_err(refuse)?;
        Ok(value)
    }

    /// Whether a stored value satisfies the current constraints (re-checked on tightening).
    pub fn check_constraints(&self, value: &TypedValue) -> Result<(), String> {
        let c = &self.constraints;
        if let Some(min) = bounded(self.attribute_type, &c.min)
            && value.compare(&min) == Some(Ordering::Less)
        {
            return Err(format!("below the minimum {}", min.canonical()));
        }
        if let Some(max) = bounded(self.attribute_type, &c.max)
            && value.compare(&max) == Some(Ordering::Greater)
        {
            return Err(format!("above the maximum {}", max.canonical()));
        }
        if let TypedValue::String(text) = value {
            let length = text.chars().count() as u64;
            if let Some(min) = c.min_length
                && length < u64::from(min)
            {
                return Err(format!("shorter than {min} characters"));
            }
            if let Some(max) = c.max_length
                && length > u64::from(max)
            {
                return Err(format!("longer than {max} characters"));
            }
            if let Some(pattern) = &c.pattern
                && !compile(pattern)
                    .map(|regex| regex.is_match(text))
                    .unwrap_or(false)
            {
                return Err(format!("does not match the pattern {pattern}"));
            }
        }
        if let TypedValue::Enum(text) = value
            && !self.values.contains(text)
        {
            return Err(format!("not one of {}", self.values.join(", ")));
        }
        if let TypedValue::List(items) = value
            && let Some(max) = c.max_items
            && items.len() as u64 > u64::from(max)
        {
            return Err(format!("more than {max} items"));
        }
        Ok(())
    }
}

fn bounded(kind: AttributeType, bound: &Option<String>) -> Option<TypedValue> {
    bound
        .as_ref()
        .and_then(|text| TypedValue::parse(kind, "bound", &AttributeValue::Text(text.clone())).ok())
}

/// A pattern matches the whole value (anchored), like a schema pattern users expect.
fn compile(pattern: &str) -> Result<regex::Regex, String> {
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(format!("at most {MAX_PATTERN_BYTES} bytes"));
    }
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|error| format!("not a valid regular expression: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn definition(name: &str, attribute_type: AttributeType) -> AttributeDefinition {
        AttributeDefinition::new(1001, name, attribute_type)
    }

    fn text(value: &str) -> AttributeValue {
        AttributeValue::Text(value.into())
    }

    fn fields(result: Result<(), DomainError>) -> Vec<String> {
        match result {
            Err(DomainError::InvalidDefinition { errors }) => {
                errors.into_iter().map(|e| e.field).collect()
            }
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn constraints_must_fit_the_type() {
        let mut d = definition("balance", AttributeType::Decimal);
        d.constraints.pattern = Some("x".into());
        d.constraints.max_items = Some(3);
        d.values = vec!["a".into()];
        assert_eq!(fields(d.validate()), ["pattern", "max_items", "values"]);
    }

    #[test]
    fn names_are_identifiers_and_not_default_columns() {
        assert_eq!(
            fields(definition("email", AttributeType::String).validate()),
            ["name"]
        );
        assert_eq!(
            fields(definition("1x", AttributeType::String).validate()),
            ["name"]
        );
    }

    #[test]
    fn bounds_are_normalised_and_ordered() {
        let mut d = definition("balance", AttributeType::Decimal);
        d.constraints.min = Some("0.50".into());
        d.constraints.max = Some("100.00".into());
        d.validate().unwrap();
        assert_eq!(d.constraints.min.as_deref(), Some("0.5"));
        assert!(d.check(&text("0.49")).is_err());
        assert_eq!(d.check(&text("12.50")).unwrap().canonical(), "12.5");
        d.constraints.max = Some("0.1".into());
        assert_eq!(fields(d.validate()), ["max"]);
    }

    #[test]
    fn string_constraints_and_anchored_patterns() {
        let mut d = definition("code", AttributeType::String);
        d.constraints.pattern = Some("[A-Z]{3}".into());
        d.constraints.max_length = Some(3);
        d.validate().unwrap();
        assert!(d.check(&text("ABC")).is_ok());
        assert!(
            d.check(&text("xABCx")).is_err(),
            "the pattern matches the whole value"
        );
        let mut bad = definition("code", AttributeType::String);
        bad.constraints.pattern = Some("(".into());
        assert_eq!(fields(bad.validate()), ["pattern"]);
    }

    #[test]
    fn enums_lists_and_defaults() {
        let mut tier = definition("tier", AttributeType::Enum);
        tier.values = vec!["gold".into(), "silver".into()];
        tier.default = Some("bronze".into());
        assert_eq!(fields(tier.validate()), ["default"]);
        tier.default = Some("gold".into());
        tier.validate().unwrap();
        assert!(tier.check(&text("platinum")).is_err());

        let mut tags = definition("tags", AttributeType::List);
        tags.constraints.max_items = Some(2);
        tags.validate().unwrap();
        assert!(tags.check(&text(r#"["a","b","c"]"#)).is_err());
        assert!(tags.check(&AttributeValue::List(vec!["a".into()])).is_ok());
    }

    #[test]
    fn retired_attributes_refuse_writes_naming_the_attribute() {
        let mut d = definition("old", AttributeType::String);
        d.retired = true;
        let error = d.check(&text("x")).unwrap_err();
        assert!(
            matches!(error, DomainError::InvalidAttribute { attribute, .. } if attribute == "old")
        );
    }
}
