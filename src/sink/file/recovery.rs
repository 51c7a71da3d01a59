//! Reading what an earlier run left: the last whole line (where the chain continues) and whether
//! the file ends mid-line (a crash).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// The end of an existing file.
#[derive(Debug, Default)]
pub(super) struct FileEnd {
    /// The file's last line has no line feed: the writer died while writing it.
    pub(super) torn: bool,
    /// The last line that has its line feed.
    pub(super) last_whole_line: Option<Vec<u8>>,
}

/// Reads backwards from the end, a growing window at a time, until the last whole line is found.
pub(super) fn read_end(file: &mut File) -> io::Result<FileEnd> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(FileEnd::default());
    }
    let mut window: u64 = 64 * 1024;
    loop {
        let start = len.saturating_sub(window);
        let mut data = Vec::with_capacity((len - start) as usize);
        file.seek(SeekFrom::Start(start))?;
        file.by_ref().take(len - start).read_to_end(&mut data)?;
        let torn = data.last() != Some(&b'\n');
        // The line feed that ends the last whole line.
        let Some(end) = data.iter().rposition(|&b| b == b'\n') else {
            if start == 0 {
                return Ok(FileEnd {
                    torn,
                    last_whole_line: None,
                });
            }
            window *= 4;
            continue;
        };
        match data[..end].iter().rposition(|&b| b == b'\n') {
            Some(before) => {
                return Ok(FileEnd {
                    torn,
                    last_whole_line: Some(data[before + 1..end].to_vec()),
                })
            }
            None if start == 0 => {
                return Ok(FileEnd {
                    torn,
                    last_whole_line: Some(data[..end].to_vec()),
                })
            }
            None => window *= 4,
        }
    }
}

/// The first line of a file, if it has a whole one within the first megabyte.
pub(super) fn read_first_line(file: &mut File) -> io::Result<Option<Vec<u8>>> {
    file.seek(SeekFrom::Start(0))?;
    let mut data = Vec::new();
    file.by_ref().take(1 << 20).read_to_end(&mut data)?;
    Ok(data
        .iter()
        .position(|&b| b == b'\n')
        .map(|end| data[..end].to_vec()))
}

/// The last sealed line of `file` holding `needle` that `accept` takes, and how many sealed
/// lines follow it; read backwards a megabyte at a time, so a recent match costs little
/// however large the file. (`needle` finds candidates fast; `accept` rules out a value that
/// merely holds the same text.)
pub(super) fn last_sealed_line_with(
    file: &mut File,
    needle: &[u8],
    accept: impl Fn(&[u8]) -> bool,
) -> io::Result<(Option<Vec<u8>>, u64)> {
    const CHUNK: u64 = 1024 * 1024;
    let mut end = file.metadata()?.len();
    // The part of a line the previous (later) chunk began with.
    let mut carry: Vec<u8> = Vec::new();
    let mut after = 0_u64;
    let finder = memchr::memmem::Finder::new(needle);
    loop {
        let start = end.saturating_sub(CHUNK);
        let mut data = Vec::with_capacity((end - start) as usize + carry.len());
        file.seek(SeekFrom::Start(start))?;
        file.by_ref().take(end - start).read_to_end(&mut data)?;
        data.extend_from_slice(&carry);
        // Whole lines only: unless at the start of the file, the first piece may be partial.
        let whole_from = if start == 0 {
            0
        } else {
            match memchr::memchr(b'\n', &data) {
                Some(at) => at + 1,
                None => {
                    carry = data;
                    end = start;
                    continue;
                }
            }
        };
        for line in data[whole_from..].rsplit(|&b| b == b'\n') {
            if crate::integrity::chain::unseal(line).is_none() {
                continue;
            }
            if finder.find(line).is_some() && accept(line) {
                return Ok((Some(line.to_vec()), after));
            }
            after += 1;
        }
        if start == 0 {
            return Ok((None, after));
        }
        carry = data[..whole_from].to_vec();
        end = start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn end_of(content: &[u8]) -> FileEnd {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(content).unwrap();
        read_end(&mut file).unwrap()
    }

    #[test]
    fn finds_the_last_whole_line_and_a_torn_tail() {
        let end = end_of(b"one\ntwo\n");
        assert!(!end.torn);
        assert_eq!(end.last_whole_line.as_deref(), Some(&b"two"[..]));

        let end = end_of(b"one\ntwo\nthr");
        assert!(end.torn);
        assert_eq!(end.last_whole_line.as_deref(), Some(&b"two"[..]));

        let end = end_of(b"only\n");
        assert_eq!(end.last_whole_line.as_deref(), Some(&b"only"[..]));

        let end = end_of(b"torn only");
        assert!(end.torn && end.last_whole_line.is_none());
    }

    #[test]
    fn lines_longer_than_the_first_window_are_found() {
        let long = vec![b'x'; 200 * 1024];
        let mut content = b"first\n".to_vec();
        content.extend_from_slice(&long);
        content.push(b'\n');
        let end = end_of(&content);
        assert_eq!(end.last_whole_line.map(|l| l.len()), Some(long.len()));
    }

    #[test]
    fn the_last_sealed_line_holding_a_needle_is_found_across_chunks() {
        use crate::integrity::chain::{ChainHash, ChainHasher};
        let hasher = ChainHasher::new(None);
        let mut out = Vec::new();
        let mut tip = ChainHash::GENESIS;
        let padding = "x".repeat(300);
        // A marked line, then about 3 MB of others (and an unsealed line, not counted).
        tip = hasher.seal(&tip, br#"{"seq":1,"mark":"here"}"#, &mut out);
        for seq in 2..10_000 {
            let record = format!(r#"{{"seq":{seq},"pad":"{padding}"}}"#);
            tip = hasher.seal(&tip, record.as_bytes(), &mut out);
        }
        out.extend_from_slice(b"not sealed\n");
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&out).unwrap();
        let (line, after) = super::last_sealed_line_with(&mut file, b"\"mark\"", |_| true).unwrap();
        assert!(line.unwrap().starts_with(br#"{"seq":1,"mark""#));
        assert_eq!(after, 9_998);
        let (none, all) = super::last_sealed_line_with(&mut file, b"absent", |_| true).unwrap();
        assert_eq!((none, all), (None, 9_999));
    }
}
