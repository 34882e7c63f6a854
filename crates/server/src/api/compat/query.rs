//! Query strings of the compatible API, which repeat parameters (`?customerId=a&customerId=b`).

use super::codes::{Code, CompatError};

pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        QueryParams(pairs)
    }

    /// Every value of a parameter, under any of its spellings (matched without case).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
            .collect()
    }

    pub fn first(&self, name: &str) -> Option<String> {
        self.all(name).into_iter().next()
    }

    /// `showinwardlinks`: 0 (profile only, the default), 1 (with linked app profiles'
    /// identities) or 2 (with their full attributes).
    pub fn show_inward_links(&self) -> Result<u8, CompatError> {
        match self.first("showinwardlinks").as_deref() {
            None | Some("") | Some("0") => Ok(0),
            Some("1") => Ok(1),
            Some("2") => Ok(2),
            Some(_) => Err(CompatError::new(
                Code::InvalidAttribute,
                "Invalid Attribute Value: showinwardlinks is 0, 1 or 2",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_differently_cased_parameters() {
        let query = QueryParams::parse(Some("customerId=a&customerid=b%20c&showinwardlinks=1"));
        assert_eq!(query.all("customerId"), ["a", "b c"]);
        assert_eq!(query.show_inward_links().unwrap(), 1);
        assert!(
            QueryParams::parse(Some("showinwardlinks=9"))
                .show_inward_links()
                .is_err()
        );
    }
}
