//! Guards and helpers for JSON from outside (registry responses, bundles, lockfiles).

use serde_json::Value;

/// Rejects JSON nested deeper than `cap` (arrays and objects), before parsing it. Inside a
/// string it jumps to the next quote or backslash (most of a big packument's bytes are readme
/// text), so the guard costs little next to the parse it protects.
pub fn check_depth(bytes: &[u8], cap: usize) -> Result<(), String> {
    let (mut depth, mut i) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Skip the string: a backslash escapes the byte after it.
                let mut j = i + 1;
                loop {
                    match memchr::memchr2(b'"', b'\\', bytes.get(j..).unwrap_or_default()) {
                        // Unterminated: nothing nests after it (the parser reports it).
                        None => return Ok(()),
                        Some(off) if bytes[j + off] == b'\\' => j += off + 2,
                        Some(off) => {
                            i = j + off + 1;
                            break;
                        }
                    }
                }
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > cap {
                    return Err(format!("JSON nested deeper than the cap of {cap} levels"));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Inside a serde `Visitor` impl (lifetime `'de`) that reads a map: consumes any other value
/// (scalars, arrays) and returns `$out` for it, so a streaming parse can tolerate a field of
/// the wrong type the way the whole-document parse does.
macro_rules! not_object {
    ($out:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_seq<A: ::serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            while seq.next_element::<::serde::de::IgnoredAny>()?.is_some() {}
            Ok($out)
        }
    };
}
pub(crate) use not_object;

/// The JSON type of `v`, for error messages ("expected an object, found a string").
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_brackets_inside_strings() {
        assert!(check_depth(br#"{"a":"[[[[[[[[[["}"#, 2).is_ok());
        assert!(check_depth(br#"{"a":"\\"}"#, 1).is_ok());
        assert!(check_depth(b"[[[]]]", 2).is_err());
        assert!(check_depth(b"[[]]", 2).is_ok());
    }

    /// The byte-at-a-time definition the fast scan must agree with.
    fn check_depth_reference(bytes: &[u8], cap: usize) -> bool {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        for &b in bytes {
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth > cap {
                        return false;
                    }
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        true
    }

    #[test]
    fn fast_scan_agrees_with_the_byte_at_a_time_definition() {
        let alphabet = b"[]{}\"\\a ";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for n in 0..20_000usize {
            let len = n % 40;
            let input: Vec<u8> = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            for cap in [0, 1, 2, 4] {
                assert_eq!(
                    check_depth(&input, cap).is_ok(),
                    check_depth_reference(&input, cap),
                    "{:?} cap {cap}",
                    String::from_utf8_lossy(&input)
                );
            }
        }
        // A string ending in an escaped quote, then nesting.
        assert!(check_depth(br#"["a\"", [[["#, 3).is_err());
        assert!(check_depth(br#"["a\\", [[["#, 3).is_err());
        assert!(check_depth(br#"["a\", [[[]]]"#, 3).is_ok());
    }

    #[test]
    fn kind_names_every_type() {
        assert_eq!(kind(&serde_json::json!({})), "an object");
        assert_eq!(kind(&serde_json::json!("x")), "a string");
        assert_eq!(kind(&Value::Null), "null");
    }
}
