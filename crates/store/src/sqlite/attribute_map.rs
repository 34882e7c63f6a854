//! A profile's stored attributes: a JSON object of strings, encoded from its map and decoded
//! into it.
//!
//! Encoded through core's JSON writer into a buffer sized for the whole object: serde's map
//! serialization grew its buffer three times for an install's ~600 bytes and escaped every
//! name through its state machine. The text is the same, byte for byte.
//!
//! The column is written from a `BTreeMap`, so its names come in order. Collected in that
//! order and built bottom up (what `BTreeMap`'s `FromIterator` does with sorted pairs), the
//! map costs a pass; inserted name by name (serde's own map decoding) each name searched the
//! tree first: ~4.6k of an SDK profile update's ~176k instructions (callgrind). Names out of
//! order still decode right (they are sorted first), and a repeated name keeps its last value,
//! as inserting did.

use profilestore_core::json_writer::JsonWriter;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

pub(crate) fn encode(attributes: &BTreeMap<String, String>) -> String {
    // Each member's quotes, colon and comma; escapes are rare and grow the buffer if any.
    let size: usize = attributes
        .iter()
        .map(|(name, value)| name.len() + value.len() + 6)
        .sum();
    let mut json = JsonWriter::with_capacity(size + 2);
    json.raw("{");
    for (index, (name, value)) in attributes.iter().enumerate() {
        if index > 0 {
            json.raw(",");
        }
        json.string(name);
        json.raw(":");
        json.string(value);
    }
    json.raw("}");
    json.into_string()
}

pub(crate) fn decode(json: &str) -> serde_json::Result<BTreeMap<String, String>> {
    let InOrder(pairs) = serde_json::from_str(json)?;
    Ok(pairs.into_iter().collect())
}

/// The object's members in the order of the text.
struct InOrder(Vec<(String, String)>);

impl<'de> Deserialize<'de> for InOrder {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(Members)
    }
}

struct Members;

impl<'de> Visitor<'de> for Members {
    type Value = InOrder;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<InOrder, A::Error> {
        let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(pair) = map.next_entry::<String, String>()? {
            pairs.push(pair);
        }
        Ok(InOrder(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_serdes_map_decoding_gives() {
        for json in [
            r#"{}"#,
            r#"{"a":"1","b":"2","c":"3"}"#,
            r#"{"c":"3","a":"1","b":"2"}"#,
            r#"{"a":"1","a":"2","b":"\"quoted\" \u00e9"}"#,
        ] {
            let expected: BTreeMap<String, String> = serde_json::from_str(json).unwrap();
            assert_eq!(decode(json).unwrap(), expected, "{json}");
        }
    }

    #[test]
    fn encodes_what_serdes_map_encoding_gives_and_decodes_back() {
        let maps: [&[(&str, &str)]; 3] = [
            &[],
            &[("a", "1")],
            &[
                ("b", "\"quoted\" \\ back"),
                ("c", "line\nfeed \u{1} é 漢 /"),
                ("a", ""),
            ],
        ];
        for pairs in maps {
            let map: BTreeMap<String, String> = pairs
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect();
            let json = encode(&map);
            assert_eq!(json, serde_json::to_string(&map).unwrap());
            assert_eq!(decode(&json).unwrap(), map);
        }
    }

    #[test]
    fn refuses_what_is_not_an_object_of_strings() {
        for json in [r#"[]"#, r#"{"a":1}"#, r#"{"a":null}"#, r#"{"a":"1""#, ""] {
            assert!(decode(json).is_err(), "{json}");
        }
    }
}
