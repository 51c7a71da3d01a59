//! [`FileStore`]: a log's files as the file sink writes them (its rotated files in name order,
//! then the active one), searched in either order with a cursor, counted and grouped on every
//! core.

use std::fs::File;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::aggregate::{Aggregate, Aggregation, Tally};
use super::chain_check::ChainCheck;
use super::cursor::Cursor;
use super::deadline::Deadline;
use super::lines::{self, Line};
use super::log_index::{indexed_ranges, record_id, IndexQuestion};
use super::members::Members;
use super::prefilter::Prefilter;
use super::request::{Count, ExportSummary, Order, Page, Scope, Search, StoredRecord};
use super::{LogStore, StoreError};
use crate::forms::OutputForm;
use crate::json_view::Json;
use crate::log_files::LogName;
use crate::query::{Matcher, Query};

/// Bytes one scanning thread takes at a time when counting and grouping.
const CHUNK: u64 = 8 << 20;
/// Lines read between two looks at the deadline: a few milliseconds of work at most, for
/// queries within the limits.
const LINES_PER_CHECK: u32 = 256;

/// A security log on disk: the active file and its rotated files.
///
/// Opened on the active file's path (`/var/log/app/security.jsonl`, which need not exist once
/// everything is rotated) or on the directory that holds one log. The files are listed anew
/// for every request, so a store follows a log that is being written and rotated.
#[derive(Debug, Clone)]
pub struct FileStore {
    log: LogName,
    active: PathBuf,
    /// The records past their kind's age, by the rules the file sink left beside the log
    /// (see [`RetentionRules`](super::RetentionRules)): no answer holds them.
    expired: Option<Query>,
}

/// A file of the log, listed (oldest first) and opened; `rotated_at` bounds its records'
/// times from above.
#[derive(Debug, Clone)]
struct ListedFile {
    path: PathBuf,
    rotated_at: Option<DateTime<Utc>>,
}

/// A file of the log, open: reads go on in it even if it is renamed (rotated) meanwhile, and
/// only its first `len` bytes, as they were when the request began, are read; of them, only
/// `ranges` (whole lines, in order) when its index says the rest cannot hold a match.
#[derive(Debug)]
struct LogFile {
    path: PathBuf,
    rotated_at: Option<DateTime<Utc>>,
    file: File,
    len: u64,
    ranges: Option<Vec<(u64, u64)>>,
}

impl LogFile {
    /// The byte ranges to read, in order.
    fn ranges(&self) -> Vec<(u64, u64)> {
        self.ranges.clone().unwrap_or_else(|| vec![(0, self.len)])
    }
}

/// What a scan needs to decide on a line.
struct Filter {
    prefilter: Prefilter,
    matcher: Matcher,
    members: Members,
    /// What an index can answer of the question (its scope's tenant included).
    question: IndexQuestion,
}

impl Filter {
    fn new(query: &Query, scope: &Scope, now: DateTime<Utc>) -> Filter {
        let scoped = match scope {
            Scope::All => query.clone(),
            Scope::Tenant(tenant) => query.clone().and(Query::new().tenant(tenant)),
        };
        let mut members = Members::of_record();
        members.add_query(&scoped);
        Filter {
            prefilter: Prefilter::of(&scoped),
            matcher: scoped.matcher(now),
            members,
            question: IndexQuestion::of(&scoped, now),
        }
    }
}

/// What a line turned out to be.
enum Read<'a> {
    /// A record that matches.
    Match(Json<'a>),
    /// A record that does not, or a line the pre-filter ruled out.
    NoMatch,
    /// Not a whole record.
    Skipped,
}

/// What `line` is to `filter`; `known`: the prefilter's clause the line is known to hold (it was
/// found by that clause's needles in its whole block).
fn read_line<'a>(line: &Line<'a>, filter: &Filter, known: Option<usize>) -> Read<'a> {
    if !line.whole {
        return Read::Skipped;
    }
    if !filter.prefilter.may_match_but(line.bytes, known) {
        // A line ruled out unread might also not be a record; it is not counted as skipped.
        return Read::NoMatch;
    }
    let Some(record) = parse_record(line.bytes, &filter.members) else {
        return Read::Skipped;
    };
    if filter.matcher.matches(&record) {
        Read::Match(record)
    } else {
        Read::NoMatch
    }
}

/// The line as a record (a JSON object with a `schema` and a text `id`), with the members
/// wanted.
fn parse_record<'a>(bytes: &'a [u8], members: &Members) -> Option<Json<'a>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let record = members.parse(text)?;
    let Json::Object(object) = &record else {
        return None;
    };
    (object.get("schema").is_some() && matches!(object.get("id"), Some(Json::Str(_))))
        .then_some(record)
}

fn stored(line: &Line<'_>, record: &Json<'_>) -> StoredRecord {
    let text = |key: &str| match record {
        Json::Object(object) => match object.get(key) {
            Some(Json::Str(value)) => value.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    StoredRecord {
        // Checked as UTF-8 when parsed.
        line: String::from_utf8_lossy(line.bytes).into_owned(),
        id: text("id"),
        timestamp: text("timestamp"),
    }
}

/// The form of the first line of `path`, when it has a whole JSON line within its first 1 MiB.
fn form_of_first_line(path: &Path) -> Option<OutputForm> {
    use std::io::{BufRead, BufReader, Read};
    let mut line = Vec::new();
    BufReader::new(File::open(path).ok()?.take(1 << 20))
        .read_until(b'\n', &mut line)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(line.trim_ascii_end()).ok()?;
    Some(crate::forms::form_of(&value))
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl FileStore {
    /// The log whose active file is `path`, or the one log in the directory `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<FileStore, StoreError> {
        let path = path.as_ref();
        let active = if path.is_dir() {
            let logs = LogName::active_paths_in(path).map_err(io_error(path))?;
            match logs.as_slice() {
                [active] => active.clone(),
                [] => {
                    return Err(StoreError::NotALog(format!(
                        "{}: no .jsonl log in this directory",
                        path.display()
                    )))
                }
                several => {
                    let names: Vec<String> =
                        several.iter().map(|p| p.display().to_string()).collect();
                    return Err(StoreError::NotALog(format!(
                        "{}: several logs in this directory, name one: {}",
                        path.display(),
                        names.join(", ")
                    )));
                }
            }
        } else if path.exists() || path.parent().is_some_and(Path::is_dir) {
            path.to_path_buf()
        } else {
            return Err(StoreError::NotALog(format!(
                "{}: no such file or directory",
                path.display()
            )));
        };
        let expired = super::RetentionRules::load_beside(&active)
            .map_err(io_error(&active))?
            .map(|rules| rules.expired())
            .transpose()
            .map_err(|e| StoreError::NotALog(e.to_string()))?;
        let store = FileStore {
            log: LogName::of(&active),
            active,
            expired,
        };
        let files = store.list()?;
        if files.is_empty() {
            return Err(StoreError::NotALog(format!(
                "{}: no log file there",
                path.display()
            )));
        }
        // Lines in another form would each be skipped as not a record, and every answer be
        // "nothing": say what the log is instead.
        if let Some(form) = files
            .iter()
            .rev()
            .find_map(|file| form_of_first_line(&file.path))
        {
            if form != OutputForm::Native {
                return Err(StoreError::NotALog(format!(
                    "{}: the log is written in the {form} form (its sink's `format`); queries \
                     read the native form: give the log a native file sink beside it and read \
                     that (`security-log verify` reads every form)",
                    path.display()
                )));
            }
        }
        Ok(store)
    }

    /// The log's files now, oldest first.
    fn list(&self) -> Result<Vec<ListedFile>, StoreError> {
        let mut files: Vec<ListedFile> = self
            .log
            .rotated_files()
            .map_err(io_error(&self.active))?
            .into_iter()
            .map(|(path, at)| ListedFile {
                path,
                rotated_at: Some(at),
            })
            .collect();
        if self.active.is_file() {
            files.push(ListedFile {
                path: self.active.clone(),
                rotated_at: None,
            });
        }
        Ok(files)
    }

    /// The log's files, opened, as one consistent snapshot: listed again after opening them,
    /// until no rotation happened in between (a rotation between listing and opening would
    /// open the new active file in place of the one just rotated).
    fn snapshot(&self) -> Result<Vec<LogFile>, StoreError> {
        let mut listed = self.list()?;
        for _ in 0..100 {
            let mut opened = Vec::with_capacity(listed.len());
            for entry in &listed {
                match File::open(&entry.path) {
                    Ok(file) => {
                        let len = file.metadata().map_err(io_error(&entry.path))?.len();
                        opened.push(LogFile {
                            path: entry.path.clone(),
                            rotated_at: entry.rotated_at,
                            file,
                            len,
                            ranges: None,
                        });
                    }
                    // Removed by retention, or rotated away: listed again below.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_error(&entry.path)(e)),
                }
            }
            let again = self.list()?;
            let same = again.len() == listed.len()
                && again.iter().zip(&listed).all(|(a, b)| a.path == b.path)
                && opened.len() == listed.len();
            if same {
                return Ok(opened);
            }
            listed = again;
        }
        Err(StoreError::NotALog(format!(
            "{}: the log rotates faster than it can be listed",
            self.active.display()
        )))
    }

    /// The files that may hold records `question` asks for, each with the ranges of its blocks
    /// that may (only whole files when `blocks` is false): a rotated file with a valid index
    /// beside it ([`log_index`](super::log_index)) as its index says; every other file whole.
    /// (A file's rotation time does not bound its records: one stamped before the rotation can
    /// be written after it, and a clock stepped back puts a later time in an earlier file.)
    fn snapshot_within(
        &self,
        question: &IndexQuestion,
        blocks: bool,
    ) -> Result<Vec<LogFile>, StoreError> {
        let mut files = self.snapshot()?;
        if !question.asks() {
            return Ok(files);
        }
        files.retain_mut(|file| {
            if file.rotated_at.is_none() {
                return true;
            }
            // Whole files only: the time range decides, not the needles.
            let wanted: &[Vec<u128>] = if blocks { &question.wanted } else { &[] };
            let Some(ranges) =
                indexed_ranges(&file.path, &file.file, file.len, question.range, wanted)
            else {
                return true;
            };
            let keep = !ranges.is_empty();
            if blocks {
                file.ranges = Some(ranges);
            }
            keep
        });
        Ok(files)
    }

    /// The paths of the log's rotated files now, oldest first (the active file is not one).
    pub fn rotated_paths(&self) -> Result<Vec<PathBuf>, StoreError> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|file| file.rotated_at.is_some())
            .map(|f| f.path)
            .collect())
    }

    /// The paths of the log's files now, oldest first.
    pub fn paths(&self) -> Result<Vec<PathBuf>, StoreError> {
        Ok(self.list()?.into_iter().map(|f| f.path).collect())
    }

    /// Calls `each` with every line of the files in `order`, from the cursor's position if any.
    fn scan(
        files: &[LogFile],
        order: Order,
        cursor: Option<&Cursor>,
        deadline: &Deadline,
        each: &mut dyn FnMut(usize, &Line<'_>) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let mut ticker = deadline.every(LINES_PER_CHECK);
        let mut late: Option<StoreError> = None;
        // Where to start: the cursor's file, just past its record.
        let (first, resume) = match cursor {
            None => (None, None),
            Some(cursor) => match Self::locate(files, cursor)? {
                // `locate` checked that it is a file position.
                Some(at) => (
                    Some(at),
                    cursor.file_position().map(|(_, start, end)| (start, end)),
                ),
                // The cursor's file is gone (retention): older records went with it.
                None if order == Order::NewestFirst => return Ok(()),
                None => (None, None),
            },
        };
        let indices: Vec<usize> = match order {
            Order::OldestFirst => (first.unwrap_or(0)..files.len()).collect(),
            Order::NewestFirst => (0..=first.unwrap_or(files.len().wrapping_sub(1)))
                .rev()
                .take(files.len())
                .collect(),
        };
        // Set by the line handler, read between ranges while it is still borrowed.
        let stopped = std::cell::Cell::new(false);
        for (n, index) in indices.into_iter().enumerate() {
            let file = &files[index];
            let resume_here = resume.filter(|_| n == 0);
            let mut on_line = |line: Line<'_>| {
                if let Err(error) = ticker.tick() {
                    late = Some(error);
                    stopped.set(true);
                    return ControlFlow::Break(());
                }
                let flow = each(index, &line);
                stopped.set(flow.is_break());
                flow
            };
            let ranges = file.ranges();
            match order {
                Order::OldestFirst => {
                    let from = resume_here.map_or(0, |(_, end)| end);
                    for &(start, end) in ranges.iter().filter(|(_, end)| *end > from) {
                        lines::forward(&file.file, start.max(from), end, &mut on_line)
                            .map_err(io_error(&file.path))?;
                        if stopped.get() {
                            break;
                        }
                    }
                }
                Order::NewestFirst => {
                    let to = resume_here.map_or(file.len, |(start, _)| start.min(file.len));
                    for &(start, end) in ranges.iter().rev().filter(|(start, _)| *start < to) {
                        lines::backward(&file.file, start, end.min(to), &mut on_line)
                            .map_err(io_error(&file.path))?;
                        if stopped.get() {
                            break;
                        }
                    }
                }
            }
            if stopped.get() {
                break;
            }
        }
        late.map_or(Ok(()), Err)
    }

    /// The index of the cursor's file, checked: its record is still at the cursor's place.
    fn locate(files: &[LogFile], cursor: &Cursor) -> Result<Option<usize>, StoreError> {
        let (cursor_file, start, end) = cursor.file_position().ok_or(StoreError::BadCursor)?;
        for (index, file) in files.iter().enumerate() {
            if first_record_id(file)?.as_deref() != Some(cursor_file) {
                continue;
            }
            let mut found = None;
            lines::forward(&file.file, start, end, &mut |line| {
                found = parse_record(line.bytes, &Members::of_record()).and_then(|r| match r {
                    Json::Object(o) => o.get_str("id").map(str::to_owned),
                    _ => None,
                });
                ControlFlow::Break(())
            })
            .map_err(io_error(&file.path))?;
            return if found.as_deref() == Some(cursor.id.as_str()) {
                Ok(Some(index))
            } else {
                Err(StoreError::BadCursor)
            };
        }
        Ok(None)
    }

    /// Runs `visit` over every line of `files` on every core, each thread with its own state,
    /// merged by `merge`; with the prefilter's clause a line is known to hold, when the lines
    /// were found by its needles.
    fn scan_parallel<T: Default + Send>(
        files: &[LogFile],
        filter: &Filter,
        deadline: &Deadline,
        visit: &(dyn Fn(&mut T, &Line<'_>, Option<usize>) + Sync),
        merge: impl Fn(&mut T, T),
    ) -> Result<T, StoreError> {
        let mut chunks: Vec<(usize, u64, u64)> = Vec::new();
        for (index, file) in files.iter().enumerate() {
            for (mut start, range_end) in file.ranges() {
                while start < range_end {
                    let end = line_boundary_after(&file.file, start + CHUNK, range_end)
                        .map_err(io_error(&file.path))?;
                    chunks.push((index, start, end));
                    start = end;
                }
            }
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(chunks.len())
            .max(1);
        let needles = filter.prefilter.needles();
        let known = needles.as_ref().map(|needles| needles.clause);
        let next = AtomicUsize::new(0);
        let failure: Mutex<Option<StoreError>> = Mutex::new(None);
        let results: Vec<T> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut state = T::default();
                        let mut ticker = deadline.every(LINES_PER_CHECK);
                        let fail = |error: StoreError| {
                            let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                            slot.get_or_insert(error);
                        };
                        loop {
                            let n = next.fetch_add(1, AtomicOrdering::Relaxed);
                            let Some(&(index, start, end)) = chunks.get(n) else {
                                break;
                            };
                            if let Err(error) = deadline.check() {
                                fail(error);
                                break;
                            }
                            let file = &files[index];
                            let mut late = false;
                            let mut each = |line: Line<'_>| {
                                if let Err(error) = ticker.tick() {
                                    fail(error);
                                    late = true;
                                    return ControlFlow::Break(());
                                }
                                visit(&mut state, &line, known);
                                ControlFlow::Continue(())
                            };
                            // Lines without the query's literal are not even split out.
                            let result = match &needles {
                                Some(needles) => lines::forward_containing(
                                    &file.file, start, end, needles, &mut each,
                                ),
                                None => lines::forward(&file.file, start, end, &mut each),
                            };
                            if let Err(e) = result {
                                fail(io_error(&file.path)(e));
                            }
                            if late {
                                break;
                            }
                        }
                        state
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_default())
                .collect()
        });
        if let Some(error) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(error);
        }
        let mut total = T::default();
        for result in results {
            merge(&mut total, result);
        }
        Ok(total)
    }
}

/// The first line boundary at or after `at` (or `len`).
fn line_boundary_after(file: &File, at: u64, len: u64) -> io::Result<u64> {
    if at >= len {
        return Ok(len);
    }
    let mut boundary = len;
    lines::forward(file, at - 1, len, &mut |line| {
        boundary = line.end();
        ControlFlow::Break(())
    })?;
    Ok(boundary)
}

/// The id of the first record of a file: its name in cursors (rotation renames the file, the
/// id stays).
fn first_record_id(file: &LogFile) -> Result<Option<String>, StoreError> {
    let mut id = None;
    lines::forward(&file.file, 0, file.len, &mut |line| {
        id = record_id(line.bytes);
        if id.is_some() || !line.whole {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .map_err(io_error(&file.path))?;
    Ok(id)
}

impl FileStore {
    /// `query`, less the records past their kind's age.
    fn visible<'a>(&self, query: &'a Query) -> std::borrow::Cow<'a, Query> {
        match &self.expired {
            Some(expired) => std::borrow::Cow::Owned(query.clone().and(!expired.clone())),
            None => std::borrow::Cow::Borrowed(query),
        }
    }
}

impl LogStore for FileStore {
    fn search(&self, search: &Search) -> Result<Page, StoreError> {
        let filter = Filter::new(&self.visible(&search.query), &search.scope, search.now);
        let files = self.snapshot_within(&filter.question, true)?;
        let mut page = Page::default();
        let mut last: Option<(usize, u64, u64, String)> = None;
        Self::scan(
            &files,
            search.order,
            search.cursor.as_ref(),
            &search.deadline,
            &mut |index, line| match read_line(line, &filter, None) {
                Read::Match(record) => {
                    let record = stored(line, &record);
                    last = Some((index, line.start, line.end(), record.id.clone()));
                    page.records.push(record);
                    if page.records.len() >= search.limit {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                }
                Read::NoMatch => ControlFlow::Continue(()),
                Read::Skipped => {
                    page.skipped_lines += 1;
                    ControlFlow::Continue(())
                }
            },
        )?;
        // Newest first, a short page is the end; oldest first, the log may grow after it.
        if page.records.len() >= search.limit || search.order == Order::OldestFirst {
            if let Some((index, start, end, id)) = last {
                if let Some(file) = first_record_id(&files[index])? {
                    page.next_cursor = Some(Cursor::in_file(file, start, end, id));
                }
            }
        }
        Ok(page)
    }

    fn get(
        &self,
        id: &str,
        scope: &Scope,
        deadline: &Deadline,
    ) -> Result<Option<StoredRecord>, StoreError> {
        let query = Query::new().id(id);
        let search = Search::new(query)
            .with_scope(scope.clone())
            .with_limit(1)
            .with_deadline(deadline.clone());
        Ok(self.search(&search)?.records.into_iter().next())
    }

    fn count(&self, search: &Search) -> Result<Count, StoreError> {
        let filter = Filter::new(&self.visible(&search.query), &search.scope, search.now);
        let files = self.snapshot_within(&filter.question, true)?;
        Self::scan_parallel(
            &files,
            &filter,
            &search.deadline,
            &|count: &mut Count, line, known| match read_line(line, &filter, known) {
                Read::Match(_) => count.records += 1,
                Read::NoMatch => {}
                Read::Skipped => count.skipped_lines += 1,
            },
            |total, part| {
                total.records += part.records;
                total.skipped_lines += part.skipped_lines;
            },
        )
    }

    fn aggregate(&self, aggregate: &Aggregate) -> Result<Aggregation, StoreError> {
        let mut filter = Filter::new(
            &self.visible(&aggregate.query),
            &aggregate.scope,
            aggregate.now,
        );
        for field in &aggregate.by {
            filter.members.add_field(field);
        }
        let files = self.snapshot_within(&filter.question, true)?;
        // Counting every record by fields of known places: read each line's few values
        // without parsing it, and parse only the lines where that cannot tell.
        let raw = Tally::can_count_raw(aggregate);
        let (tally, skipped) = Self::scan_parallel(
            &files,
            &filter,
            &aggregate.deadline,
            &|(tally, skipped): &mut (Tally, u64), line, known| {
                if raw && line.whole && tally.add_raw(aggregate, line.bytes) {
                    return;
                }
                match read_line(line, &filter, known) {
                    Read::Match(record) => tally.add(aggregate, &record),
                    Read::NoMatch => {}
                    Read::Skipped => *skipped += 1,
                }
            },
            |(total, skipped), (tally, more)| {
                total.merge(tally);
                *skipped += more;
            },
        )?;
        Ok(Aggregation {
            buckets: tally.into_buckets(aggregate),
            skipped_lines: skipped,
        })
    }

    fn export(
        &self,
        search: &Search,
        each: &mut dyn FnMut(&StoredRecord) -> io::Result<()>,
    ) -> Result<ExportSummary, StoreError> {
        let filter = Filter::new(&self.visible(&search.query), &search.scope, search.now);
        let mut chain = (search.chain_check && search.order == Order::OldestFirst)
            .then(|| ChainCheck::new(search.chain_key.as_deref()));
        // The chain check reads every line of the files it is given: whole files only.
        let files = self.snapshot_within(&filter.question, chain.is_none())?;
        let mut summary = ExportSummary::default();
        let mut failed: Option<io::Error> = None;
        Self::scan(
            &files,
            search.order,
            None,
            &search.deadline,
            &mut |index, line| {
                if let Some(chain) = &mut chain {
                    if line.whole {
                        chain.line(
                            &files[index].path.display().to_string(),
                            line.start,
                            line.bytes,
                        );
                    }
                }
                match read_line(line, &filter, None) {
                    Read::Match(record) => {
                        if let Err(e) = each(&stored(line, &record)) {
                            failed = Some(e);
                            return ControlFlow::Break(());
                        }
                    }
                    Read::NoMatch => {}
                    Read::Skipped => summary.skipped_lines += 1,
                }
                ControlFlow::Continue(())
            },
        )?;
        summary.chain = chain.map(ChainCheck::finish);
        match failed {
            Some(source) => Err(StoreError::Io {
                path: "the export's output".into(),
                source,
            }),
            None => Ok(summary),
        }
    }
}
