//! Checks on a GraphQL document before the parser sees it.
//!
//! The parser recurses once per nesting level without a limit, so a few
//! kilobytes of brackets would overflow the stack; this scan is iterative.

/// Why a document was refused before parsing.
#[derive(Debug, PartialEq, Eq)]
pub enum Oversized {
    /// Longer than the configured number of bytes.
    TooLarge,
    /// Brackets nest deeper than the configured limit.
    TooDeep,
}

/// Refuse documents longer than `max_bytes` or nesting `{`, `[` or `(` deeper
/// than `max_depth`, ignoring brackets inside strings and comments.
pub fn check_document(document: &str, max_bytes: usize, max_depth: usize) -> Result<(), Oversized> {
    if document.len() > max_bytes {
        return Err(Oversized::TooLarge);
    }
    let bytes = document.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // An escaped triple quote inside a block string.
                    if bytes[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else {
                        i += 1;
                    }
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max_depth {
                    return Err(Oversized::TooDeep);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_brackets_are_refused_before_parsing() {
        let deep = format!("{{ a(x: {}1{}) }}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(check_document(&deep, 1 << 20, 48), Err(Oversized::TooDeep));
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let doc = format!(
            "# {}\n{{ a(x: \"{}\", y: \"\"\"{}\"\"\") }}",
            "{".repeat(100),
            "[".repeat(100),
            "(".repeat(100)
        );
        assert_eq!(check_document(&doc, 1 << 20, 5), Ok(()));
    }

    #[test]
    fn large_documents_are_refused() {
        assert_eq!(
            check_document(&"a".repeat(11), 10, 5),
            Err(Oversized::TooLarge)
        );
    }

    #[test]
    fn ordinary_queries_pass() {
        assert_eq!(
            check_document(
                "query { programs(first: 10) { nodes { id name } } }",
                1000,
                8
            ),
            Ok(())
        );
    }
}
