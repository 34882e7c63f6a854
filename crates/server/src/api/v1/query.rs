//! Query strings of the native API, read strictly: repeated and comma-separated lists, numbers
//! with bounds, and a 422 problem naming any parameter that is unknown or wrong.

use super::problem::Problem;
pub use super::problem::invalid;
use std::collections::HashMap;

pub struct Query {
    values: HashMap<String, Vec<String>>,
}

impl Query {
    /// Parses `raw`, refusing parameters not in `known`.
    pub fn parse(raw: Option<&str>, known: &[&str]) -> Result<Self, Problem> {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            if !known.contains(&name.as_ref()) {
                return Err(invalid(
                    &name,
                    format!("unknown parameter; known: {}", known.join(", ")),
                ));
            }
            values
                .entry(name.into_owned())
                .or_default()
                .push(value.into_owned());
        }
        Ok(Query { values })
    }

    /// Every value of a list parameter, given repeated (`?a=x&a=y`) or comma-separated.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.values
            .get(name)
            .into_iter()
            .flatten()
            .flat_map(|value| value.split(','))
            .map(|item| item.trim().to_owned())
            .filter(|item| !item.is_empty())
            .collect()
    }

    /// An integer within `min..=max`, if given (once).
    pub fn integer(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, Problem> {
        let Some(values) = self.values.get(name) else {
            return Ok(None);
        };
        let [value] = values.as_slice() else {
            return Err(invalid(name, "give it once"));
        };
        parse_integer(name, value, min, max).map(Some)
    }
}

/// An integer within `min..=max`, or a problem naming `name`.
pub fn parse_integer(name: &str, value: &str, min: i64, max: i64) -> Result<i64, Problem> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            invalid(
                name,
                format!("an integer from {min} to {max}, not {value:?}"),
            )
        })
}
