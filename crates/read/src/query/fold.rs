//! The one rule by which `~` and `like` ignore case, for every store: Unicode simple case
//! folding (`CaseFolding.txt`, statuses C and S) of each character. One character folds to one
//! character, so folding never changes where a match starts or how long it is, and a store that
//! compiles queries (SQL) can follow it without the database's locale.
//!
//! What it means: `A` and `a`, `Σ`, `σ` and `ς`, `K` (Kelvin sign) and `k` are alike; `İ`
//! (capital I with a dot) folds to itself, so `~ istanbul` does not find "İstanbul"; `ß` stays
//! `ß` (full folding would make it `ss`).

use std::borrow::Cow;

/// The character's simple case folding.
pub(crate) fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    unicode_case_mapping::case_folded(c)
        .and_then(|folded| char::from_u32(folded.get()))
        .unwrap_or(c)
}

/// The text with each character folded; borrowed when nothing changes.
pub(crate) fn fold(text: &str) -> Cow<'_, str> {
    if text.chars().all(|c| fold_char(c) == c) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().map(fold_char).collect())
    }
}

/// The characters other than ASCII that fold to ASCII (`ſ` to `s`, the Kelvin sign to `k`): a
/// store that folds ASCII alone must fold these too for an ASCII needle to find what the rule
/// finds.
#[cfg(any(feature = "postgres", test))]
pub(crate) const FOLDING_TO_ASCII: [(char, char); 2] = [('\u{17F}', 's'), ('\u{212A}', 'k')];

/// Whether the glob `pattern` (already folded: `*` any run of characters, `?` any one) matches
/// `text` folded.
pub(crate) fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().map(fold_char).collect();
    crate::glob::matches_items(&pattern, &text, ('*', '?'), char::eq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_folding_of_each_character() {
        assert_eq!(fold("ABC xyz"), "abc xyz");
        assert_eq!(fold("ΣΑΣ"), "σασ");
        assert_eq!(fold("ς"), "σ");
        assert_eq!(fold("\u{212A} sign"), "k sign");
        assert_eq!(fold("İstanbul"), "İstanbul", "İ has no simple folding");
        assert_eq!(
            fold("Straße"),
            "straße",
            "ß folds to ss only in full folding"
        );
        assert_eq!(fold("a\0b"), "a\0b");
        assert!(matches!(fold("already folded"), Cow::Borrowed(_)));
    }

    #[test]
    fn only_two_characters_fold_into_ascii() {
        let into_ascii: Vec<(char, char)> = (0x80..=0x10FFFF)
            .filter_map(char::from_u32)
            .map(|c| (c, fold_char(c)))
            .filter(|(_, folded)| folded.is_ascii())
            .collect();
        assert_eq!(into_ascii, FOLDING_TO_ASCII);
    }

    #[test]
    fn globs_count_characters() {
        assert!(glob_matches("caf?", "CAFÉ"));
        assert!(glob_matches("*é*", "CAFÉ au lait"));
        assert!(glob_matches("a*b*c", "AxxBxxC"));
        assert!(!glob_matches("a*b*c", "AxxBxx"));
        assert!(glob_matches("?", "\u{1F600}"));
        assert!(glob_matches("*", ""));
        assert!(!glob_matches("", "x"));
    }
}
