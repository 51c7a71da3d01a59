//! Counting a bench's own instructions under callgrind: the bench runs itself as
//! `<exe> --probe <variant>` under valgrind and reads the total it collected.

use std::process::Command;

/// The instructions callgrind counts in `<this bench> --probe <variant>`, only within functions
/// matching `toggle_collect` if given; `None` without valgrind.
pub(crate) fn instructions(variant: &str, toggle_collect: Option<&str>) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let mut valgrind = Command::new("valgrind");
    valgrind.args(["--tool=callgrind", "--callgrind-out-file=/dev/null"]);
    if let Some(pattern) = toggle_collect {
        valgrind.arg(format!("--toggle-collect={pattern}"));
    }
    let output = valgrind.arg(exe).args(["--probe", variant]).output().ok()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr.lines().find(|line| line.contains("Collected :"))?;
    line.rsplit(':').next()?.trim().parse().ok()
}
