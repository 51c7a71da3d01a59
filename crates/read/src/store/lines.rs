//! The lines of a log file, read in blocks with `memchr`, forwards or backwards, each with the
//! byte offset where it starts; memory bounded by the block (or the longest line).

use std::fs::File;
use std::io;
use std::ops::ControlFlow;

use super::prefilter::Needles;

const BLOCK: usize = 1 << 20;
/// The first read of a range: a question that wants one line (a file's first or last record,
/// the newest page) reads this much, not a whole block; each read after doubles it up to
/// `BLOCK`.
const FIRST_READ: usize = 64 << 10;

/// One line: where it starts, its bytes without the line feed, whether it had one (the last
/// line of a file being written may not, yet).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub(crate) start: u64,
    pub(crate) bytes: &'a [u8],
    pub(crate) whole: bool,
}

impl Line<'_> {
    /// Where the next line starts.
    pub(crate) fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64 + u64::from(self.whole)
    }
}

/// Appends the bytes `[start, start + len)` of `file` to `out` (fewer if the file is shorter),
/// reading at that position without moving a shared cursor: threads read one handle at once.
fn read_range(file: &File, start: u64, len: usize, out: &mut Vec<u8>) -> io::Result<()> {
    let before = out.len();
    out.resize(before + len, 0);
    match fill(file, start, &mut out[before..]) {
        Ok(filled) => {
            out.truncate(before + filled);
            Ok(())
        }
        Err(e) => {
            out.truncate(before);
            Err(e)
        }
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Reads into `buf` at `offset` until it is full or the file ends; the bytes read.
fn fill(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match read_at(file, &mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Calls `f` with each line starting in `[from, to)`, first to last. `from` must be the start of
/// a line.
pub(crate) fn forward(
    file: &File,
    from: u64,
    to: u64,
    f: &mut dyn FnMut(Line<'_>) -> ControlFlow<()>,
) -> io::Result<()> {
    forward_blocks(file, from, to, &mut |piece| {
        let (base, data) = match piece {
            Piece::Lines(base, data) => (base, data),
            Piece::Unfinished(line) => return f(line),
        };
        let mut line_start = 0;
        for newline in memchr::memchr_iter(b'\n', data) {
            let line = Line {
                start: base + line_start as u64,
                bytes: &data[line_start..newline],
                whole: true,
            };
            line_start = newline + 1;
            f(line)?;
        }
        ControlFlow::Continue(())
    })
}

/// Calls `f` with the lines starting in `[from, to)` that hold one of `needles` or a backslash
/// (or, for texts ignoring case, a byte other than ASCII), and with an unfinished last line,
/// first to last: the needles are searched in whole blocks, not line by line, and the lines
/// without them are never looked at.
pub(crate) fn forward_containing(
    file: &File,
    from: u64,
    to: u64,
    needles: &Needles<'_>,
    f: &mut dyn FnMut(Line<'_>) -> ControlFlow<()>,
) -> io::Result<()> {
    let mut hits: Vec<usize> = Vec::new();
    let mut lowered: Vec<u8> = Vec::new();
    forward_blocks(file, from, to, &mut |piece| {
        let (base, data) = match piece {
            Piece::Lines(base, data) => (base, data),
            Piece::Unfinished(line) => return f(line),
        };
        hits.clear();
        if needles.caseless {
            // Lowering keeps every byte where it was: a hit in the copy is one in the block.
            lowered.resize(data.len(), 0);
            for (low, byte) in lowered.iter_mut().zip(data) {
                *low = byte.to_ascii_lowercase();
            }
            for needle in &needles.finders {
                hits.extend(needle.find_iter(&lowered));
            }
            if !data.is_ascii() {
                hits.extend(
                    data.iter()
                        .enumerate()
                        .filter(|(_, byte)| !byte.is_ascii())
                        .map(|(at, _)| at),
                );
            }
        } else {
            for needle in &needles.finders {
                hits.extend(needle.find_iter(data));
            }
        }
        hits.extend(memchr::memchr_iter(b'\\', data));
        hits.sort_unstable();
        // The line after the last one given: hits before it are in lines already given.
        let mut next = 0;
        for &hit in &hits {
            if hit < next {
                continue;
            }
            let start = memchr::memrchr(b'\n', &data[..hit]).map_or(0, |at| at + 1);
            let end = hit + memchr::memchr(b'\n', &data[hit..]).unwrap_or(data.len() - hit);
            f(Line {
                start: base + start as u64,
                bytes: &data[start..end],
                whole: true,
            })?;
            next = end + 1;
        }
        ControlFlow::Continue(())
    })
}

/// What `forward_blocks` hands on.
enum Piece<'a> {
    /// Whole lines, and the offset of their first byte.
    Lines(u64, &'a [u8]),
    /// The unfinished last line.
    Unfinished(Line<'a>),
}

/// Reads `[from, to)` in blocks of whole lines, then the unfinished last line if any.
fn forward_blocks(
    file: &File,
    from: u64,
    to: u64,
    each: &mut dyn FnMut(Piece<'_>) -> ControlFlow<()>,
) -> io::Result<()> {
    // One buffer, cleared once: each block is read in after what is left of the last line.
    let mut buf: Vec<u8> = vec![0; FIRST_READ.min((to.saturating_sub(from)) as usize + 1)];
    let mut kept = 0;
    // The offset of buf[0].
    let mut base = from;
    let mut read_to = from;
    loop {
        if kept == buf.len() {
            // A line longer than the buffer.
            buf.resize(buf.len() * 2, 0);
        }
        let want = (buf.len() - kept).min((to - read_to) as usize);
        let got = if want > 0 {
            fill(file, read_to, &mut buf[kept..kept + want])?
        } else {
            0
        };
        read_to += got as u64;
        let filled = kept + got;
        let at_end = read_to >= to || got == 0;
        let data = &buf[..filled];
        let whole_lines = memchr::memrchr(b'\n', data).map_or(0, |at| at + 1);
        if whole_lines > 0 && each(Piece::Lines(base, &data[..whole_lines])).is_break() {
            return Ok(());
        }
        if at_end {
            if whole_lines < filled {
                let _ = each(Piece::Unfinished(Line {
                    start: base + whole_lines as u64,
                    bytes: &data[whole_lines..],
                    whole: false,
                }));
            }
            return Ok(());
        }
        buf.copy_within(whole_lines..filled, 0);
        kept = filled - whole_lines;
        base += whole_lines as u64;
        if buf.len() < BLOCK {
            buf.resize((buf.len() * 2).min(BLOCK), 0);
        }
    }
}

/// Calls `f` with each line of `[from, to)`, last to first: `from` is the start of a line,
/// `to` the end of the file or the start of a line. A last line without its line feed is given
/// as not whole.
pub(crate) fn backward(
    file: &File,
    from: u64,
    to: u64,
    f: &mut dyn FnMut(Line<'_>) -> ControlFlow<()>,
) -> io::Result<()> {
    if to <= from {
        return Ok(());
    }
    let mut last = Vec::with_capacity(1);
    read_range(file, to - 1, 1, &mut last)?;
    let ends_whole = last.first() == Some(&b'\n');
    // The end of the text still to give, line feed of the last line excluded.
    let mut pos = to - u64::from(ends_whole);
    // The part of the current line read from later blocks (its start is further back), and
    // whether that line had a line feed.
    let mut pending: Vec<u8> = Vec::new();
    let mut pending_whole = ends_whole;
    let mut step = FIRST_READ;
    let mut block: Vec<u8> = Vec::with_capacity(step.min((pos - from) as usize));
    let mut joined: Vec<u8> = Vec::new();
    while pos > from {
        let base = pos.saturating_sub(step as u64).max(from);
        step = (step * 2).min(BLOCK);
        block.clear();
        read_range(file, base, (pos - base) as usize, &mut block)?;
        let mut segment_end = block.len();
        for newline in memchr::memrchr_iter(b'\n', &block) {
            let bytes = if pending.is_empty() {
                &block[newline + 1..segment_end]
            } else {
                joined.clear();
                joined.extend_from_slice(&block[newline + 1..segment_end]);
                joined.append(&mut pending);
                &joined[..]
            };
            let line = Line {
                start: base + newline as u64 + 1,
                bytes,
                whole: pending_whole,
            };
            if f(line).is_break() {
                return Ok(());
            }
            pending_whole = true;
            segment_end = newline;
        }
        // What is left starts a line that began in an earlier block (or at `from`).
        let mut head = block[..segment_end].to_vec();
        head.append(&mut pending);
        pending = head;
        pos = base;
    }
    let _ = f(Line {
        start: from,
        bytes: &pending,
        whole: pending_whole,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines_both_ways(content: &[u8]) -> (Vec<(u64, String, bool)>, Vec<(u64, String, bool)>) {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(content).unwrap();
        let len = content.len() as u64;
        let mut fwd = Vec::new();
        forward(&file, 0, len, &mut |l| {
            fwd.push((
                l.start,
                String::from_utf8_lossy(l.bytes).into_owned(),
                l.whole,
            ));
            ControlFlow::Continue(())
        })
        .unwrap();
        (fwd, lines_backward(&file, 0, len))
    }

    /// The lines of `[from, to)` read backwards, given first to last.
    fn lines_backward(file: &File, from: u64, to: u64) -> Vec<(u64, String, bool)> {
        let mut back = Vec::new();
        backward(file, from, to, &mut |l| {
            back.push((
                l.start,
                String::from_utf8_lossy(l.bytes).into_owned(),
                l.whole,
            ));
            ControlFlow::Continue(())
        })
        .unwrap();
        back.reverse();
        back
    }

    /// The lines of `content` `forward_containing` gives for `needle`, and whether whole.
    fn lines_found(content: &str, needle: &str, caseless: bool) -> Vec<(String, bool)> {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(content.as_bytes()).unwrap();
        let finder = memchr::memmem::Finder::new(needle).into_owned();
        let needles = Needles {
            finders: vec![&finder],
            caseless,
            clause: 0,
        };
        let mut got = Vec::new();
        forward_containing(&file, 0, content.len() as u64, &needles, &mut |line| {
            assert_eq!(
                &content.as_bytes()[line.start as usize..][..line.bytes.len()],
                line.bytes
            );
            got.push((String::from_utf8_lossy(line.bytes).into_owned(), line.whole));
            ControlFlow::Continue(())
        })
        .unwrap();
        got
    }

    #[test]
    fn lines_holding_a_needle_or_an_escape_and_the_unfinished_one() {
        let mut content = String::new();
        for n in 0..200_000 {
            match n % 1000 {
                7 => content.push_str(&format!("{{\"n\":{n},\"who\":\"alice\"}}\n")),
                9 => content.push_str(&format!("{{\"n\":{n},\"who\":\"\\u0061lice\"}}\n")),
                _ => content.push_str(&format!("{{\"n\":{n},\"who\":\"bob\"}}\n")),
            }
        }
        content.push_str("{\"torn");
        let got = lines_found(&content, "alice", false);
        assert_eq!(got.len(), 401);
        assert!(got[..400]
            .iter()
            .all(|(l, whole)| *whole && (l.contains("alice") || l.contains('\\'))));
        assert_eq!(got[400], ("{\"torn".to_owned(), false));
    }

    #[test]
    fn lines_holding_a_text_in_any_case_or_other_than_ascii() {
        let mut content = String::new();
        for n in 0..50_000 {
            match n % 1000 {
                3 => content.push_str(&format!("{{\"n\":{n},\"who\":\"ALiCe\"}}\n")),
                5 => content.push_str(&format!("{{\"n\":{n},\"who\":\"\u{212a}\"}}\n")),
                _ => content.push_str(&format!("{{\"n\":{n},\"who\":\"bob\"}}\n")),
            }
        }
        let got = lines_found(&content, "alice", true);
        assert_eq!(got.len(), 100);
        assert!(got
            .iter()
            .all(|(l, _)| l.contains("ALiCe") || !l.is_ascii()));
    }

    #[test]
    fn both_directions_give_the_same_lines() {
        let long = "x".repeat(BLOCK * 2 + 17);
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"a\n".to_vec(),
            b"a\nbb\nccc\n".to_vec(),
            b"a\nbb\ntorn".to_vec(),
            b"only torn".to_vec(),
            b"\n\nx\n".to_vec(),
            format!("a\n{long}\nb\n{long}").into_bytes(),
            format!("{long}\n").into_bytes(),
            (0..300_000)
                .map(|n| format!("line {n}\n"))
                .collect::<String>()
                .into_bytes(),
        ];
        for content in cases {
            let (fwd, back) = lines_both_ways(&content);
            assert_eq!(
                fwd,
                back,
                "{:?}",
                String::from_utf8_lossy(&content[..content.len().min(40)])
            );
            let text = String::from_utf8(content.clone()).unwrap();
            let expected: Vec<&str> = text.split_terminator('\n').collect();
            assert_eq!(fwd.len(), expected.len());
            for ((start, line, _), want) in fwd.iter().zip(&expected) {
                assert_eq!(line, want);
                assert_eq!(&text[*start as usize..][..want.len()], *want);
            }
            if let Some(last) = fwd.last() {
                assert_eq!(last.2, text.ends_with('\n'));
            }
            // From a line's start to another's (or the end), backwards: the same lines.
            let mut file = tempfile::tempfile().unwrap();
            file.write_all(&content).unwrap();
            let starts: Vec<u64> = fwd.iter().map(|(start, _, _)| *start).collect();
            for (n, &from) in starts.iter().enumerate().step_by(starts.len() / 5 + 1) {
                let to = starts.get(n + 2).copied().unwrap_or(content.len() as u64);
                let back = lines_backward(&file, from, to);
                let expected: Vec<_> = fwd
                    .iter()
                    .filter(|(start, _, _)| *start >= from && *start < to)
                    .cloned()
                    .collect();
                assert_eq!(back, expected, "{from}..{to}");
            }
        }
    }
}
