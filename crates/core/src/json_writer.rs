//! A JSON writer for the hottest documents: the compatible API's read envelopes and the
//! event documents the store writes with every change. Keys are written as literals, and a
//! string goes through serde_json's escaping only when it holds a character JSON escapes (a
//! quote, a backslash or a control character), which names and values rarely do. Through
//! serde, every key and value was escaped byte by byte behind a few calls of its own: rendering
//! one customer's read was ~23 % of the server's instructions for that request (callgrind),
//! more than its SQLite lookup. The shapes stay with their owners; this only writes text.

/// A JSON text being written. The caller writes a well-formed document: this only formats
/// values and punctuation, it does not check the nesting.
pub struct JsonWriter {
    out: String,
}

// The methods are `#[inline]`: they are a few instructions each and called from other crates,
// which without it could not inline them (a read envelope rendered ~30 % slower, callgrind).
impl JsonWriter {
    #[inline]
    pub fn with_capacity(capacity: usize) -> Self {
        JsonWriter {
            out: String::with_capacity(capacity),
        }
    }

    /// Writes JSON punctuation or a key written out with its quotes, e.g. `{"Name":`.
    #[inline]
    pub fn raw(&mut self, json: &str) {
        self.out.push_str(json);
    }

    /// Writes `text` as a JSON string.
    #[inline]
    pub fn string(&mut self, text: &str) {
        if needs_escape(text.as_bytes()) {
            let escaped = serde_json::to_string(text).expect("a str always serializes");
            self.out.push_str(&escaped);
        } else {
            self.out.push('"');
            self.out.push_str(text);
            self.out.push('"');
        }
    }

    /// Writes an integer of any width or sign.
    #[inline]
    pub fn int(&mut self, value: impl itoa::Integer) {
        self.out.push_str(itoa::Buffer::new().format(value));
    }

    /// Writes `text` as a JSON string, or `null` when there is none.
    #[inline]
    pub fn optional_string(&mut self, text: Option<&str>) {
        match text {
            Some(text) => self.string(text),
            None => self.raw("null"),
        }
    }

    /// Writes `[item, item, ...]`, each item by `write`.
    #[inline]
    pub fn array<T>(&mut self, items: &[T], mut write: impl FnMut(&mut Self, &T)) {
        self.out.push('[');
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.out.push(',');
            }
            write(self, item);
        }
        self.out.push(']');
    }

    #[inline]
    pub fn into_string(self) -> String {
        self.out
    }

    #[inline]
    pub fn into_bytes(self) -> Vec<u8> {
        self.out.into_bytes()
    }
}

/// Whether `bytes` hold a byte JSON escapes (a control character, a quote, a backslash).
///
/// Eight bytes at a time, as one word: a byte by byte scan was most of the cost of writing a
/// string, and the writer scans every name and value of every event document and profile.
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    let words = bytes.chunks_exact(8);
    let rest = words.remainder();
    for word in words {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        if word_needs_escape(word) {
            return true;
        }
    }
    rest.iter().any(|&byte| byte_needs_escape(byte))
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Whether any byte of `word` is below 0x20, a quote or a backslash. `x - n*ONES & !x & HIGHS`
/// is non-zero exactly when some byte of `x` is below `n` (for `n` up to 0x80; a borrow can
/// mark more bytes, never fewer), and a byte equal to `c` is a zero byte of `word ^ c*ONES`.
#[inline]
fn word_needs_escape(word: u64) -> bool {
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS;
    let control = below(word, 0x20);
    let quote = below(word ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(word ^ (ONES * u64::from(b'\\')), 1);
    control | quote | backslash != 0
}

/// What JSON requires to be escaped in a string (RFC 8259 §7), as serde_json escapes it.
#[inline]
fn byte_needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_reads_back_as_itself_whatever_it_holds() {
        let texts = [
            "",
            "plain",
            "quote \" and backslash \\",
            "controls \n\t\r\u{0}\u{1f}",
            "unicode é 漢字 🎉 and DEL \u{7f}",
            "</script>",
        ];
        let mut writer = JsonWriter::with_capacity(0);
        writer.array(&texts, |w, text| w.string(text));
        let read: Vec<String> = serde_json::from_slice(&writer.into_bytes()).unwrap();
        assert_eq!(read, texts);
    }

    #[test]
    fn strings_without_escapes_are_copied_and_the_others_escaped_as_serde_json_does() {
        for text in ["abc", "a\"b", "a\\b", "a\nb", "\u{1}"] {
            let mut writer = JsonWriter::with_capacity(0);
            writer.string(text);
            assert_eq!(
                writer.into_bytes(),
                serde_json::to_vec(text).unwrap(),
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        /// The word-at-a-time scan finds exactly what a byte-by-byte one does, wherever the
        /// byte sits among the eight and whatever surrounds it (high bytes included).
        #[test]
        fn the_word_scan_agrees_with_the_byte_scan(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::any::<u8>(),
                    proptest::prelude::Just(b'"'),
                    proptest::prelude::Just(b'\\'),
                    proptest::prelude::Just(0x1f_u8),
                    proptest::prelude::Just(0x20_u8),
                    proptest::prelude::Just(b'a'),
                ],
                0..40,
            )
        ) {
            let by_byte = bytes.iter().any(|&byte| byte_needs_escape(byte));
            proptest::prop_assert_eq!(needs_escape(&bytes), by_byte);
        }
    }

    #[test]
    fn each_escaped_byte_is_found_at_each_place_of_a_word() {
        for special in [0u8, 0x1f, b'"', b'\\'] {
            for place in 0..16 {
                let mut bytes = vec![b'a'; 16];
                bytes[place] = special;
                assert!(needs_escape(&bytes), "{special:#x} at {place}");
            }
        }
        for harmless in [0x20u8, 0x7f, 0x80, 0xff, b'!', b'#', b']', b'['] {
            assert!(!needs_escape(&[harmless; 16]), "{harmless:#x}");
        }
    }

    #[test]
    fn integers_and_punctuation_make_a_document() {
        let mut writer = JsonWriter::with_capacity(0);
        writer.raw("{\"ids\":");
        writer.array(&[0i64, -7, i64::MAX], |w, id| w.int(*id));
        writer.raw("}");
        let read: serde_json::Value = serde_json::from_slice(&writer.into_bytes()).unwrap();
        assert_eq!(read, serde_json::json!({"ids": [0, -7, i64::MAX]}));
    }
}
