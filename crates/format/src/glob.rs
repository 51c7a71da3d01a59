//! Case-insensitive glob matching of field and event names: `*` is any run of characters, `?` any one.

/// Whether `name` matches `pattern`, ignoring ASCII case.
pub fn matches(pattern: &str, name: &str) -> bool {
    matches_by(pattern, name, u8::eq_ignore_ascii_case)
}

/// Whether the field name `name` matches `pattern`, ignoring ASCII case and treating `-`, `_`
/// and `.` alike: middleware writes one secret as `x-api-key`, `x_api_key` or
/// `http.request.header.x-api-key`, and a rule for `*api_key*` must see them all.
pub fn matches_field_name(pattern: &str, name: &str) -> bool {
    matches_by(pattern, name, |p, n| {
        p.eq_ignore_ascii_case(n) || (is_separator(*p) && is_separator(*n))
    })
}

fn is_separator(c: u8) -> bool {
    matches!(c, b'-' | b'_' | b'.')
}

fn matches_by(pattern: &str, name: &str, same: impl Fn(&u8, &u8) -> bool) -> bool {
    matches_items(pattern.as_bytes(), name.as_bytes(), (b'*', b'?'), same)
}

/// Whether `name` matches `pattern`, item by item (bytes, or characters for the query
/// language's `like`): `wildcards.0` any run of items, `wildcards.1` any one.
pub fn matches_items<T: Copy + PartialEq>(
    pattern: &[T],
    name: &[T],
    (star, one): (T, T),
    same: impl Fn(&T, &T) -> bool,
) -> bool {
    let (mut p, mut n) = (0, 0);
    // Where to resume after the last `*`: the pattern position after it, and the name position
    // it has swallowed up to.
    let mut resume: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(&c) if c == star => {
                p += 1;
                resume = Some((p, n));
            }
            Some(&c) if c == one || same(&c, &name[n]) => {
                p += 1;
                n += 1;
            }
            _ => match resume {
                Some((after_star, swallowed)) => {
                    p = after_star;
                    n = swallowed + 1;
                    resume = Some((after_star, swallowed + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == star)
}

#[cfg(test)]
mod tests {
    use super::{matches, matches_field_name};

    #[test]
    fn exact_names_match_ignoring_case() {
        assert!(matches("password", "password"));
        assert!(matches("password", "PassWord"));
        assert!(!matches("password", "password2"));
        assert!(!matches("password", "passwor"));
    }

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("*password*", "user.new_password_confirmation"));
        assert!(matches("*password*", "password"));
        assert!(matches("*.token", "oauth.token"));
        assert!(!matches("*.token", "token"));
        assert!(matches("api?key", "api-key"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("*", ""));
        assert!(matches("**cookie", "set-cookie"));
        assert!(!matches("", "x"));
    }

    #[test]
    fn field_names_treat_dash_underscore_and_dot_alike() {
        assert!(matches_field_name("*api_key*", "x-api-key"));
        assert!(matches_field_name(
            "*api_key*",
            "http.request.header.x-api-key"
        ));
        assert!(matches_field_name("session.id", "Session_Id"));
        assert!(matches_field_name("*authorization*", "proxy-authorization"));
        assert!(!matches_field_name("*api_key*", "apikey"));
        assert!(
            !matches("*api_key*", "x-api-key"),
            "event names keep their separators"
        );
    }
}
