//! Attribute values as clients write them, and the shape rules shared by every profile kind.

use crate::DomainError;

/// Longest attribute value accepted, in bytes. Protects the store from megabyte "names".
pub const MAX_VALUE_BYTES: usize = 4096;
/// Longest attribute name accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 64;

/// One attribute write: a value, a list of strings, or the instruction to clear the attribute.
/// Protocol adapters turn their scalars (strings, numbers, booleans) into text; objects and
/// lists of anything but strings never reach the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    Text(String),
    List(Vec<String>),
    Clear,
}

/// A raw `(name, value)` pair as it arrived, before any catalogue or schema has looked at it.
pub type RawAttribute = (String, AttributeValue);

/// Names of tenant-defined attributes look like identifiers, so that every protocol and every
/// backend can carry them unquoted: a letter or `_`, then letters, digits, `_`, `-` or `.`.
pub fn check_custom_name(name: &str) -> Result<(), DomainError> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !first_ok || !rest_ok || name.len() > MAX_NAME_BYTES {
        return Err(DomainError::invalid(
            name,
            format!(
                "attribute names start with a letter or '_' and hold at most {MAX_NAME_BYTES} letters, digits, '_', '-' or '.'"
            ),
        ));
    }
    Ok(())
}

/// Any text value: bounded in size and free of control characters other than tab and newline.
pub fn check_text(name: &str, value: &str) -> Result<(), DomainError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(DomainError::invalid(
            name,
            format!("longer than {MAX_VALUE_BYTES} bytes"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\t' && c != '\n')
    {
        return Err(DomainError::invalid(name, "contains control characters"));
    }
    Ok(())
}

/// An e-mail address in the practical sense of RFC 5321: `local@domain`, no spaces, a dotted
/// domain, at most 254 bytes. Returned unchanged; comparison elsewhere is exact.
pub fn check_email(name: &str, value: &str) -> Result<(), DomainError> {
    let bad = || DomainError::invalid(name, "not an e-mail address (local@domain.tld)");
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    let labels_ok = domain
        .split('.')
        .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    if local.is_empty()
        || local.len() > 64
        || domain.contains('@')
        || !domain.contains('.')
        || !labels_ok
    {
        return Err(bad());
    }
    Ok(())
}

/// An MSISDN in E.164 form: an optional `+`, then 6 to 15 digits, the first not zero.
pub fn check_msisdn(name: &str, value: &str) -> Result<(), DomainError> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    let ok = (6..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if !ok {
        return Err(DomainError::invalid(
            name,
            "not an MSISDN (E.164: optional '+', 6 to 15 digits, no leading 0)",
        ));
    }
    Ok(())
}

/// Flags travel as "0"/"1" on the compatible API; "true"/"false" are accepted and normalised.
pub fn normalise_flag(name: &str, value: &str) -> Result<String, DomainError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" => Ok("1".to_owned()),
        "0" | "false" => Ok("0".to_owned()),
        _ => Err(DomainError::invalid(
            name,
            "a flag is 0 or 1 (or true/false)",
        )),
    }
}

/// Booleans that the product prints as "true"/"false" (the app profile's `guest`).
pub fn normalise_bool_word(name: &str, value: &str) -> Result<String, DomainError> {
    normalise_flag(name, value).map(|flag| if flag == "1" { "true" } else { "false" }.to_owned())
}

/// A whole number, as text, within `i64`.
pub fn check_integer(name: &str, value: &str) -> Result<(), DomainError> {
    value
        .parse::<i64>()
        .map(|_| ())
        .map_err(|_| DomainError::invalid(name, "not a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(check_email("email", "ann@example.org").is_ok());
        for bad in [
            "ann",
            "ann@",
            "@example.org",
            "ann@example",
            "a b@example.org",
            "a@b@c.org",
            "a@-x.org",
        ] {
            assert!(check_email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn msisdns() {
        assert!(check_msisdn("msisdn", "447700900001").is_ok());
        assert!(check_msisdn("msisdn", "+447700900001").is_ok());
        for bad in [
            "",
            "+",
            "07700900001",
            "4477009000011234",
            "44770a",
            "12345",
        ] {
            assert!(check_msisdn("msisdn", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_normalise() {
        assert_eq!(normalise_flag("sms", "true").unwrap(), "1");
        assert_eq!(normalise_flag("sms", "0").unwrap(), "0");
        assert!(normalise_flag("sms", "yes").is_err());
        assert_eq!(normalise_bool_word("guest", "1").unwrap(), "true");
    }

    #[test]
    fn custom_names() {
        assert!(check_custom_name("date_of_birth").is_ok());
        assert!(check_custom_name("a.b-c").is_ok());
        for bad in ["", "1abc", "a b", "ä", &"x".repeat(65)] {
            assert!(check_custom_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_limits() {
        assert!(check_text("n", &"x".repeat(MAX_VALUE_BYTES)).is_ok());
        assert!(check_text("n", &"x".repeat(MAX_VALUE_BYTES + 1)).is_err());
        assert!(check_text("n", "a\u{0}b").is_err());
    }
}
