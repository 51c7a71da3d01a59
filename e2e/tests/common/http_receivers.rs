//! Receivers on 127.0.0.1 that check each protocol's contract the way the real servers do,
//! since no Splunk or Elasticsearch can run here: NDJSON (content type, gzip, one JSON object
//! per line), Splunk HEC (the `Authorization: Splunk` token, the channel, event envelopes,
//! indexer acknowledgement, code 6 for a bad event), Elasticsearch `_bulk` (action and
//! document lines, `create` with `_id`, 409 for an id already there, per-item errors).
//! Each can refuse requests for a while or fail chosen items.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

pub const TOKEN: &str = "11111111-2222-3333-4444-555555555555";

/// What the receivers saw and how they behave.
#[derive(Default)]
pub struct Seen {
    /// Requests answered 503 before the receiver takes any.
    pub refuse_first: usize,
    /// NDJSON: every line taken, in order; requests taken and their record counts.
    pub lines: Vec<Value>,
    pub batches: Vec<usize>,
    pub gzip_requests: usize,
    /// HEC: events taken, in order; ack ids handed out and how often each was polled.
    pub events: Vec<Value>,
    pub acks: HashMap<u64, u32>,
    /// `_bulk`: documents by `_id`, in the order created, and every action seen.
    pub documents: Vec<(String, Value)>,
    pub actions: usize,
    /// `_bulk`: every n-th new id is answered 429 the first time it is seen (0: none).
    pub flaky_every: usize,
    new_ids: usize,
    pub flaked: HashSet<String>,
    /// Requests refused, and contract violations found (each fails the test).
    pub refused: usize,
    pub violations: Vec<String>,
}

pub type Shared = Arc<Mutex<Seen>>;

/// Starts the receivers on `addr` (port 0 for any); returns the address and the shared state.
/// The server runs until the process ends.
pub fn start(addr: SocketAddr, seen: Shared) -> SocketAddr {
    let app = Router::new()
        .route("/ndjson", post(ndjson))
        .route("/services/collector/event", post(hec_event))
        .route("/services/collector/ack", post(hec_ack))
        .route("/_bulk", post(bulk))
        .with_state(seen);
    let listener = std::net::TcpListener::bind(addr).expect("bind");
    listener.set_nonblocking(true).unwrap();
    let local = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    local
}

/// The body, gunzipped when the request says so; a violation when the type is not NDJSON.
fn body_of(seen: &mut Seen, headers: &HeaderMap, body: &Bytes, content_type: bool) -> Vec<u8> {
    if content_type
        && headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/x-ndjson")
    {
        seen.violations
            .push(format!("content-type {:?}", headers.get("content-type")));
    }
    if headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        == Some("gzip")
    {
        seen.gzip_requests += 1;
        let mut out = Vec::new();
        if flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .is_err()
        {
            seen.violations
                .push("a gzip body that does not decompress".into());
        }
        out
    } else {
        body.to_vec()
    }
}

/// Whether this request is refused with a 503 (the receiver is "down").
fn down(seen: &mut Seen) -> bool {
    if seen.refuse_first > 0 {
        seen.refuse_first -= 1;
        seen.refused += 1;
        return true;
    }
    false
}

async fn ndjson(State(seen): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut seen = seen.lock().unwrap();
    if down(&mut seen) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let body = body_of(&mut seen, &headers, &body, true);
    let text = String::from_utf8(body).unwrap_or_default();
    if !text.ends_with('\n') {
        seen.violations
            .push("an NDJSON body not ending in a line feed".into());
    }
    let mut parsed = Vec::new();
    for line in text.lines() {
        match serde_json::from_str::<Value>(line) {
            Ok(value) => parsed.push(value),
            Err(e) => {
                seen.violations
                    .push(format!("an NDJSON line that is not JSON: {e}"));
                return StatusCode::BAD_REQUEST;
            }
        }
    }
    seen.batches.push(parsed.len());
    seen.lines.extend(parsed);
    StatusCode::OK
}

fn hec_error(status: StatusCode, code: u64, text: &str) -> (StatusCode, Json<Value>) {
    (status, Json(json!({"text": text, "code": code})))
}

async fn hec_event(
    State(seen): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let mut seen = seen.lock().unwrap();
    if down(&mut seen) {
        return hec_error(StatusCode::SERVICE_UNAVAILABLE, 9, "Server is busy");
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Splunk {TOKEN}"))
    {
        seen.violations
            .push("a HEC request without the token".into());
        return hec_error(StatusCode::UNAUTHORIZED, 2, "Token is required");
    }
    let channel = headers
        .get("x-splunk-request-channel")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = body_of(&mut seen, &headers, &body, false);
    let mut events = Vec::new();
    for (number, event) in serde_json::Deserializer::from_slice(&body)
        .into_iter::<Value>()
        .enumerate()
    {
        let Ok(event) = event else {
            return hec_error(StatusCode::BAD_REQUEST, 6, "Invalid data format");
        };
        if !event.get("time").is_some_and(Value::is_number) || event.get("event").is_none() {
            seen.violations
                .push(format!("a HEC envelope without time or event: {event}"));
            return hec_error(StatusCode::BAD_REQUEST, 12, "Event field is required");
        }
        if event.to_string().contains("poison") {
            return (
                StatusCode::BAD_REQUEST,
                Json(
                    json!({"text": "Invalid data format", "code": 6, "invalid-event-number": number}),
                ),
            );
        }
        events.push(event);
    }
    seen.events.extend(events);
    match channel {
        Some(_) => {
            let ack = seen.acks.len() as u64;
            seen.acks.insert(ack, 0);
            (
                StatusCode::OK,
                Json(json!({"text": "Success", "code": 0, "ackId": ack})),
            )
        }
        None => (StatusCode::OK, Json(json!({"text": "Success", "code": 0}))),
    }
}

async fn hec_ack(
    State(seen): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let mut seen = seen.lock().unwrap();
    if headers.get("x-splunk-request-channel").is_none() {
        seen.violations
            .push("an ack request without its channel".into());
        return hec_error(StatusCode::BAD_REQUEST, 10, "Data channel is missing");
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut answer = serde_json::Map::new();
    for ack in request["acks"].as_array().cloned().unwrap_or_default() {
        let id = ack.as_u64().unwrap_or(u64::MAX);
        // Indexed on the second poll: the sink must poll, not take the first answer.
        let acked = match seen.acks.get_mut(&id) {
            Some(polls) => {
                *polls += 1;
                *polls >= 2
            }
            None => false,
        };
        answer.insert(id.to_string(), Value::Bool(acked));
    }
    (StatusCode::OK, Json(json!({"acks": answer})))
}

async fn bulk(
    State(seen): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let mut seen = seen.lock().unwrap();
    if down(&mut seen) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "unavailable"})),
        );
    }
    let body = body_of(&mut seen, &headers, &body, true);
    let text = String::from_utf8(body).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() % 2 != 0 {
        seen.violations
            .push("a _bulk body with an action without its document".into());
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "malformed"})));
    }
    let mut items = Vec::new();
    let mut errors = false;
    for pair in lines.chunks(2) {
        seen.actions += 1;
        let action: Value = serde_json::from_str(pair[0]).unwrap_or(Value::Null);
        let (Some(index), Some(id)) = (
            action["create"]["_index"].as_str(),
            action["create"]["_id"].as_str(),
        ) else {
            seen.violations.push(format!(
                "a _bulk action that is not create with _index and _id: {}",
                pair[0]
            ));
            return (StatusCode::BAD_REQUEST, Json(json!({"error": "action"})));
        };
        let document: Value = match serde_json::from_str(pair[1]) {
            Ok(document) => document,
            Err(e) => {
                seen.violations
                    .push(format!("a _bulk document that is not JSON: {e}"));
                return (StatusCode::BAD_REQUEST, Json(json!({"error": "document"})));
            }
        };
        let (status, error) = if seen.documents.iter().any(|(known, _)| known == id) {
            (
                409,
                Some((
                    "version_conflict_engine_exception",
                    "document already exists",
                )),
            )
        } else if pair[1].contains("poison") {
            (
                400,
                Some(("mapper_parsing_exception", "failed to parse field [poison]")),
            )
        } else if seen.flaky_every > 0 && !seen.flaked.contains(id) && {
            seen.new_ids += 1;
            seen.new_ids % seen.flaky_every == 0
        } {
            seen.flaked.insert(id.to_owned());
            (
                429,
                Some(("es_rejected_execution_exception", "rejected execution")),
            )
        } else {
            seen.documents.push((id.to_owned(), document));
            (201, None)
        };
        errors |= error.is_some() && status != 409;
        let mut item = json!({"_index": index, "_id": id, "status": status});
        if let Some((kind, reason)) = error {
            item["error"] = json!({"type": kind, "reason": reason});
        }
        items.push(json!({"create": item}));
    }
    (
        StatusCode::OK,
        Json(json!({"took": 1, "errors": errors, "items": items})),
    )
}
