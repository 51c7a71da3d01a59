//! "Did you mean": the known name most like a misspelt one.

/// Past this many characters a word is no slip of a known name.
const MAX_SUGGESTED_LEN: usize = 128;

/// The candidate nearest to `written` by edit distance (a transposition counts as one edit),
/// when near enough to be a slip of the keyboard rather than another word: one edit, or one in
/// three characters. The first of equally near candidates wins.
pub(crate) fn closest<'a>(
    written: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = written.chars().count();
    // No name is this long: a hostile query's megabyte value costs no edit-distance table.
    if length > MAX_SUGGESTED_LEN {
        return None;
    }
    candidates
        .into_iter()
        .filter(|candidate| *candidate != written)
        .map(|candidate| (strsim::damerau_levenshtein(written, candidate), candidate))
        .filter(|(distance, _)| *distance <= 1 || distance * 3 <= length)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn slips_find_their_word_and_other_words_find_nothing() {
        let names = ["authentication.failed", "user.role_changed", "event", "ip"];
        assert_eq!(
            closest("authentication.faild", names),
            Some("authentication.failed")
        );
        assert_eq!(
            closest("user.rolechanged", names),
            Some("user.role_changed")
        );
        assert_eq!(closest("evnt", names), Some("event"));
        assert_eq!(closest("x", names), None);
        assert_eq!(closest("payment.refunded", names), None);
        assert_eq!(
            closest("event", names),
            None,
            "a known name is not misspelt"
        );
    }
}
