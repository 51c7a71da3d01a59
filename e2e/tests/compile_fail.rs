//! Mistakes in `security_event!` are compile errors, not silent misspellings in the log.

#[test]
fn misspelled_or_non_constant_events_do_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
