//! `GET /security_logs/export`: every matching record, streamed as CSV, JSON lines or JSON
//! while it is read; never the whole result in memory.

use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::Response;
use http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use http::request::Parts;
use http::HeaderValue;
use http_body::Frame;
use tokio::sync::mpsc;

use super::audit;
use super::error::ApiError;
use super::params::{Endpoint, Params};
use super::router::{on_blocking_pool, CancelOnDrop, Shared};
use crate::store::{ExportFormat, ExportWriter, Search};

/// Bytes gathered before a chunk is handed to the connection.
const CHUNK_LEN: usize = 64 * 1024;
/// Chunks waiting for a slow client before the export waits too: the memory an export holds
/// is at most about `CHUNK_LEN * (QUEUED_CHUNKS + 1)`.
const QUEUED_CHUNKS: usize = 4;

pub(crate) async fn export(State(api): State<Shared>, parts: Parts) -> Result<Response, ApiError> {
    let scope = api.authorize(&parts)?;
    let params = Params::parse(parts.uri.query(), Endpoint::Export)?;
    let query = params.query()?;
    let format = params.format;
    let deadline = api.export_deadline();
    let cancel = CancelOnDrop(deadline.canceller());
    let search = Search::new(query)
        .with_scope(scope)
        .with_order(params.order)
        .with_deadline(deadline);

    let (sender, receiver) = mpsc::channel(QUEUED_CHUNKS);
    let store = std::sync::Arc::clone(&api.store);
    // The export runs on the blocking pool and waits whenever the client is slower than the
    // disk; a client that goes away ends it.
    on_blocking_pool(&parts, move || {
        let mut chunks = ChunkWriter {
            buffer: Vec::with_capacity(CHUNK_LEN),
            sender,
        };
        let mut written = 0;
        let result = (|| -> io::Result<()> {
            let mut writer = ExportWriter::new(&mut chunks, format)?;
            let mut each = |record: &crate::store::StoredRecord| writer.write(record);
            store.export(&search, &mut each).map_err(io::Error::other)?;
            written = writer.finish()?;
            chunks.flush()
        })();
        let complete = result.is_ok();
        if let Err(error) = result {
            // The body ends with an error, so the client sees a cut transfer, never a short
            // file that looks whole.
            let _ = chunks.sender.blocking_send(Err(error));
        }
        audit::exported(
            search.query(),
            search.scope(),
            format.as_str(),
            written,
            complete,
        );
    });

    let mut response = Response::new(Body::new(ChunkBody {
        receiver,
        _cancel: cancel,
    }));
    let headers = response.headers_mut();
    let (content_type, extension) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Json => ("application/json", "json"),
        _ => ("application/x-ndjson", "jsonl"),
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    let file = format!(
        "attachment; filename=\"security-log-{}.{extension}\"",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    if let Ok(value) = HeaderValue::from_str(&file) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    super::json::no_store(headers);
    Ok(response)
}

/// Gathers the export's bytes into chunks and hands each to the response, waiting while the
/// response's queue is full.
struct ChunkWriter {
    buffer: Vec<u8>,
    sender: mpsc::Sender<io::Result<Bytes>>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_LEN));
        self.sender
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_LEN {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// The response body: the chunks as the export hands them on.
struct ChunkBody {
    receiver: mpsc::Receiver<io::Result<Bytes>>,
    /// A client that goes away drops the body: the export stops reading too, even while it
    /// finds nothing to send.
    _cancel: CancelOnDrop,
}

impl http_body::Body for ChunkBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.receiver
            .poll_recv(cx)
            .map(|chunk| chunk.map(|chunk| chunk.map(Frame::data)))
    }
}
