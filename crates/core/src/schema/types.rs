//! Attribute types and their values: parse what a client wrote (a string or a JSON scalar
//! turned to text, or a list) into one canonical typed value, render it back canonically, and
//! give it a sort key whose byte order is the type's order.

use crate::attribute::{AttributeValue, check_email, check_msisdn, check_text};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    String,
    Integer,
    /// Exact decimal (money): never a float.
    Decimal,
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339; stored in UTC.
    Datetime,
    Email,
    /// E.164: `+` and 6 to 15 digits.
    Msisdn,
    /// One of the definition's `values`.
    Enum,
    /// A list of strings.
    List,
}

impl AttributeType {
    pub const ALL: [AttributeType; 10] = [
        AttributeType::String,
        AttributeType::Integer,
        AttributeType::Decimal,
        AttributeType::Boolean,
        AttributeType::Date,
        AttributeType::Datetime,
        AttributeType::Email,
        AttributeType::Msisdn,
        AttributeType::Enum,
        AttributeType::List,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::String => "string",
            AttributeType::Integer => "integer",
            AttributeType::Decimal => "decimal",
            AttributeType::Boolean => "boolean",
            AttributeType::Date => "date",
            AttributeType::Datetime => "datetime",
            AttributeType::Email => "email",
            AttributeType::Msisdn => "msisdn",
            AttributeType::Enum => "enum",
            AttributeType::List => "list",
        }
    }

    /// Types whose values have an order, so `min`/`max` apply.
    pub fn is_ordered(self) -> bool {
        matches!(
            self,
            AttributeType::Integer
                | AttributeType::Decimal
                | AttributeType::Date
                | AttributeType::Datetime
        )
    }

    /// Types whose values are free text, so `min_length`/`max_length`/`pattern` apply.
    pub fn is_textual(self) -> bool {
        matches!(self, AttributeType::String)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedValue {
    String(String),
    Integer(i64),
    Decimal(Decimal),
    Boolean(bool),
    Date(NaiveDate),
    Datetime(DateTime<Utc>),
    Email(String),
    Msisdn(String),
    Enum(String),
    List(Vec<String>),
}

/// Why a written value is not a value of the type (the caller names the attribute).
pub type ParseFailure = String;

fn text_of(input: &AttributeValue) -> Result<&str, ParseFailure> {
    match input {
        AttributeValue::Text(text) => Ok(text.as_str()),
        AttributeValue::List(_) => Err("a list is not a single value".into()),
        AttributeValue::Clear => Err("null is not a value".into()),
    }
}

impl TypedValue {
    /// Parses a written value as `attribute_type`. `name` is only used in messages.
    pub fn parse(
        attribute_type: AttributeType,
        name: &str,
        input: &AttributeValue,
    ) -> Result<Self, ParseFailure> {
        if attribute_type == AttributeType::List {
            return parse_list(name, input).map(TypedValue::List);
        }
        let text = text_of(input)?;
        check_text(name, text).map_err(|e| e.to_string())?;
        match attribute_type {
            AttributeType::String => Ok(TypedValue::String(text.to_owned())),
            AttributeType::Integer => parse_integer(text).map(TypedValue::Integer),
            AttributeType::Decimal => parse_decimal(text).map(TypedValue::Decimal),
            AttributeType::Boolean => parse_boolean(text).map(TypedValue::Boolean),
            AttributeType::Date => parse_date(text).map(TypedValue::Date),
            AttributeType::Datetime => parse_datetime(text).map(TypedValue::Datetime),
            AttributeType::Email => parse_email(name, text).map(TypedValue::Email),
            AttributeType::Msisdn => normalise_msisdn(name, text).map(TypedValue::Msisdn),
            AttributeType::Enum => Ok(TypedValue::Enum(text.to_owned())),
            AttributeType::List => unreachable!("handled above"),
        }
    }

    pub fn attribute_type(&self) -> AttributeType {
        match self {
            TypedValue::String(_) => AttributeType::String,
            TypedValue::Integer(_) => AttributeType::Integer,
            TypedValue::Decimal(_) => AttributeType::Decimal,
            TypedValue::Boolean(_) => AttributeType::Boolean,
            TypedValue::Date(_) => AttributeType::Date,
            TypedValue::Datetime(_) => AttributeType::Datetime,
            TypedValue::Email(_) => AttributeType::Email,
            TypedValue::Msisdn(_) => AttributeType::Msisdn,
            TypedValue::Enum(_) => AttributeType::Enum,
            TypedValue::List(_) => AttributeType::List,
        }
    }

    /// The canonical text form: what reads return and what parses back to the same value.
    pub fn canonical(&self) -> String {
        match self {
            TypedValue::String(text)
            | TypedValue::Email(text)
            | TypedValue::Msisdn(text)
            | TypedValue::Enum(text) => text.clone(),
            TypedValue::Integer(number) => number.to_string(),
            TypedValue::Decimal(number) => number.normalize().to_string(),
            TypedValue::Boolean(flag) => flag.to_string(),
            TypedValue::Date(date) => date.format("%Y-%m-%d").to_string(),
            TypedValue::Datetime(at) => at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            TypedValue::List(items) => serde_json::to_string(items).expect("strings serialise"),
        }
    }

    /// A key whose byte order is the value's order within its type (memcmp in every backend):
    /// numbers by magnitude, dates and datetimes by time, text by bytes.
    pub fn sort_key(&self) -> Vec<u8> {
        match self {
            TypedValue::Integer(number) => ordered_i64(*number).to_vec(),
            TypedValue::Decimal(number) => decimal_key(*number),
            TypedValue::Boolean(flag) => vec![u8::from(*flag)],
            TypedValue::Date(date) => {
                ordered_i64((*date - NaiveDate::default()).num_days()).to_vec()
            }
            TypedValue::Datetime(at) => ordered_i64(at.timestamp_micros()).to_vec(),
            TypedValue::Email(text) => text.to_lowercase().into_bytes(),
            TypedValue::String(text) | TypedValue::Msisdn(text) | TypedValue::Enum(text) => {
                text.as_bytes().to_vec()
            }
            TypedValue::List(_) => self.canonical().into_bytes(),
        }
    }

    /// Order between two values of the same ordered type; None across types or for unordered ones.
    pub fn compare(&self, other: &TypedValue) -> Option<Ordering> {
        match (self, other) {
            (TypedValue::Integer(a), TypedValue::Integer(b)) => Some(a.cmp(b)),
            (TypedValue::Decimal(a), TypedValue::Decimal(b)) => Some(a.cmp(b)),
            (TypedValue::Date(a), TypedValue::Date(b)) => Some(a.cmp(b)),
            (TypedValue::Datetime(a), TypedValue::Datetime(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// Big-endian with the sign bit flipped: byte order equals numeric order.
fn ordered_i64(number: i64) -> [u8; 8] {
    ((number as u64) ^ (1 << 63)).to_be_bytes()
}

/// Sign byte, then the integer part and the fraction (scaled to 28 digits) as fixed-width
/// big-endian numbers; negatives are the complement of their magnitude's key, so that a
/// larger magnitude sorts lower.
fn decimal_key(number: Decimal) -> Vec<u8> {
    let magnitude = number.abs();
    let integer = magnitude.trunc();
    let fraction = magnitude - integer;
    let integer_part = integer.mantissa().unsigned_abs() / 10u128.pow(integer.scale());
    let mut scaled_fraction = fraction;
    scaled_fraction.rescale(28);
    let fraction_part = scaled_fraction.mantissa().unsigned_abs();
    let mut body = integer_part.to_be_bytes().to_vec();
    body.extend(fraction_part.to_be_bytes());
    let zero_or_positive = number.is_sign_positive() || number.is_zero();
    if zero_or_positive {
        let mut key = vec![1u8];
        key.extend(body);
        key
    } else {
        let mut key = vec![0u8];
        key.extend(body.iter().map(|byte| !byte));
        key
    }
}

fn parse_integer(text: &str) -> Result<i64, ParseFailure> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a whole number".into());
    }
    text.trim_start_matches('+')
        .parse()
        .map_err(|_| "a whole number out of range (64-bit)".into())
}

fn parse_decimal(text: &str) -> Result<Decimal, ParseFailure> {
    let looks_numeric = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if !looks_numeric {
        return Err("not a decimal number".into());
    }
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str(text)
    };
    parsed.map_err(|_| "not a decimal number within 28 significant digits".into())
}

fn parse_boolean(text: &str) -> Result<bool, ParseFailure> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err("a boolean is true or false (or 1 or 0)".into()),
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, ParseFailure> {
    let shaped = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| "a date is YYYY-MM-DD".into())
}

fn parse_datetime(text: &str) -> Result<DateTime<Utc>, ParseFailure> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| "a datetime is RFC 3339, e.g. 2026-01-31T09:30:00Z".into())
}

/// E-mail: the domain is case-insensitive, so it is lowercased; the local part is kept.
fn parse_email(name: &str, text: &str) -> Result<String, ParseFailure> {
    check_email(name, text).map_err(|_| "not an e-mail address (local@domain.tld)".to_owned())?;
    let (local, domain) = text.split_once('@').expect("checked");
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// E.164 with a leading `+`: spaces, dashes, dots and parentheses are dropped first.
pub fn normalise_msisdn(name: &str, text: &str) -> Result<String, ParseFailure> {
    let separator = |c: char| matches!(c, ' ' | '-' | '.' | '(' | ')');
    // Most values have no separators: checked as they are, and the key is the one allocation
    // (every customer write computes its msisdn's key; through a copy and `format!` it was
    // ~1.5k instructions).
    let compact: Cow<'_, str> = if text.contains(separator) {
        Cow::Owned(text.chars().filter(|c| !separator(*c)).collect())
    } else {
        Cow::Borrowed(text)
    };
    check_msisdn(name, &compact).map_err(|_| {
        "not an MSISDN (E.164: optional '+', 6 to 15 digits, no leading 0)".to_owned()
    })?;
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    let mut key = String::with_capacity(digits.len() + 1);
    key.push('+');
    key.push_str(digits);
    Ok(key)
}

/// A list arrives as a list, or as text holding a JSON array of strings.
fn parse_list(name: &str, input: &AttributeValue) -> Result<Vec<String>, ParseFailure> {
    let items = match input {
        AttributeValue::List(items) => items.clone(),
        AttributeValue::Text(text) => serde_json::from_str::<Vec<String>>(text)
            .map_err(|_| "a list is a JSON array of strings".to_owned())?,
        AttributeValue::Clear => return Err("null is not a value".into()),
    };
    for item in &items {
        check_text(name, item).map_err(|e| e.to_string())?;
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(value: &str) -> AttributeValue {
        AttributeValue::Text(value.to_owned())
    }

    fn parse(attribute_type: AttributeType, value: &str) -> Result<TypedValue, ParseFailure> {
        TypedValue::parse(attribute_type, "a", &text(value))
    }

    fn canonical(attribute_type: AttributeType, value: &str) -> String {
        parse(attribute_type, value).unwrap().canonical()
    }

    #[test]
    fn accepted_forms_normalise_to_the_canonical_one() {
        assert_eq!(canonical(AttributeType::Integer, "+0042"), "42");
        assert_eq!(canonical(AttributeType::Decimal, "12.50"), "12.5");
        assert_eq!(canonical(AttributeType::Decimal, "1e3"), "1000");
        assert_eq!(canonical(AttributeType::Boolean, "TRUE"), "true");
        assert_eq!(canonical(AttributeType::Boolean, "0"), "false");
        assert_eq!(canonical(AttributeType::Date, "1990-04-01"), "1990-04-01");
        assert_eq!(
            canonical(AttributeType::Datetime, "2026-01-31T10:30:00+01:00"),
            "2026-01-31T09:30:00Z"
        );
        assert_eq!(
            canonical(AttributeType::Email, "Ann@Example.ORG"),
            "Ann@example.org"
        );
        assert_eq!(
            canonical(AttributeType::Msisdn, "+44 7700-900001"),
            "+447700900001"
        );
        assert_eq!(
            canonical(AttributeType::Msisdn, "447700900001"),
            "+447700900001"
        );
        assert_eq!(
            canonical(AttributeType::List, r#"["a","b"]"#),
            r#"["a","b"]"#
        );
    }

    #[test]
    fn refused_forms() {
        for (attribute_type, value) in [
            (AttributeType::Integer, "12.5"),
            (AttributeType::Integer, "99999999999999999999"),
            (AttributeType::Integer, ""),
            (AttributeType::Decimal, "NaN"),
            (AttributeType::Decimal, "12,5"),
            (AttributeType::Decimal, "inf"),
            (AttributeType::Boolean, "yes"),
            (AttributeType::Date, "1990-4-1"),
            (AttributeType::Date, "1990-02-30"),
            (AttributeType::Datetime, "2026-01-31 09:30"),
            (AttributeType::Email, "nope"),
            (AttributeType::Msisdn, "07700900001"),
            (AttributeType::List, "a,b"),
        ] {
            assert!(
                parse(attribute_type, value).is_err(),
                "{attribute_type:?} {value:?}"
            );
        }
    }

    #[test]
    fn lists_also_arrive_as_lists() {
        let value = TypedValue::parse(
            AttributeType::List,
            "a",
            &AttributeValue::List(vec!["x".into()]),
        )
        .unwrap();
        assert_eq!(value.canonical(), r#"["x"]"#);
        assert!(
            TypedValue::parse(AttributeType::String, "a", &AttributeValue::List(vec![])).is_err()
        );
    }

    fn decimal_strategy() -> impl Strategy<Value = Decimal> {
        (any::<i64>(), 0u32..10).prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale))
    }

    proptest! {
        #[test]
        fn canonical_forms_round_trip(
            attribute_type in proptest::sample::select(AttributeType::ALL.to_vec()),
            input in ".{0,40}",
        ) {
            if let Ok(value) = parse(attribute_type, &input) {
                let again = parse(attribute_type, &value.canonical()).unwrap();
                prop_assert_eq!(again.canonical(), value.canonical());
            }
        }

        #[test]
        fn integers_round_trip_and_sort_keys_keep_order(a in any::<i64>(), b in any::<i64>()) {
            let (x, y) = (parse(AttributeType::Integer, &a.to_string()).unwrap(), parse(AttributeType::Integer, &b.to_string()).unwrap());
            prop_assert_eq!(x.canonical(), a.to_string());
            prop_assert_eq!(x.sort_key().cmp(&y.sort_key()), a.cmp(&b));
        }

        #[test]
        fn decimals_are_exact_and_sort_keys_keep_order(a in decimal_strategy(), b in decimal_strategy()) {
            let x = parse(AttributeType::Decimal, &a.to_string()).unwrap();
            let y = parse(AttributeType::Decimal, &b.to_string()).unwrap();
            prop_assert_eq!(&x, &TypedValue::Decimal(a));
            prop_assert_eq!(x.sort_key().cmp(&y.sort_key()), a.cmp(&b));
        }

        #[test]
        fn dates_and_datetimes_round_trip_and_sort(days_a in -700_000i64..700_000, days_b in -700_000i64..700_000, micros in 0i64..86_400_000_000) {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
            let (a, b) = (epoch + chrono::Duration::days(days_a), epoch + chrono::Duration::days(days_b));
            if a.format("%Y").to_string().len() == 4 && b.format("%Y").to_string().len() == 4 {
                let x = parse(AttributeType::Date, &a.format("%Y-%m-%d").to_string()).unwrap();
                let y = parse(AttributeType::Date, &b.format("%Y-%m-%d").to_string()).unwrap();
                prop_assert_eq!(x.sort_key().cmp(&y.sort_key()), a.cmp(&b));
                let at = a.and_hms_opt(0, 0, 0).unwrap().and_utc() + chrono::Duration::microseconds(micros);
                let value = parse(AttributeType::Datetime, &at.to_rfc3339()).unwrap();
                prop_assert_eq!(value, TypedValue::Datetime(at));
            }
        }

        #[test]
        fn msisdns_normalise_idempotently(digits in "[1-9][0-9]{5,14}") {
            let value = parse(AttributeType::Msisdn, &digits).unwrap();
            prop_assert_eq!(value.canonical(), format!("+{digits}"));
            prop_assert_eq!(parse(AttributeType::Msisdn, &value.canonical()).unwrap(), value);
        }

        #[test]
        fn nothing_panics_on_arbitrary_text(attribute_type in proptest::sample::select(AttributeType::ALL.to_vec()), input in any::<String>()) {
            let _ = parse(attribute_type, &input);
        }
    }
}
