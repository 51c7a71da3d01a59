//! A real axum service on 127.0.0.1 with sign-in, sign-out, role change and API key rotation,
//! behind `SecurityContextLayer`; the example then calls it with its own HTTP client, as a
//! browser behind a local reverse proxy would, and prints the security records written.
//!
//! `cargo run --example axum_service --features http [PATH]` (default `security-events-axum.jsonl`)

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::{post, put};
use axum::{Json, Router};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tracing_security_events::http::{MemoryDeviceStore, NewDeviceDetector};
use tracing_security_events::http::{RequestSecurity, SecurityContextLayer};
use tracing_security_events::{security_event, Actor, Changes, SecurityEvent};
use tracing_subscriber::prelude::*;

const BROWSER: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";

/// The service's users, sessions and devices (a database in a real service).
#[derive(Clone)]
struct App {
    sessions: Arc<Mutex<HashMap<String, String>>>,
    roles: Arc<Mutex<HashMap<String, String>>>,
    devices: Arc<NewDeviceDetector>,
}

#[derive(serde::Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn sign_in(
    security: RequestSecurity,
    State(app): State<App>,
    Json(credentials): Json<Credentials>,
) -> Result<String, StatusCode> {
    if credentials.password != "correct horse battery staple" {
        security_event!(
            SecurityEvent::LoginFailed,
            actor.name = credentials.username.as_str(),
            authentication.method = "password",
            reason = "wrong password",
        );
        return Err(StatusCode::UNAUTHORIZED);
    }
    let session = format!("sess-{}", security.request_id());
    security.record_actor(&Actor::user("42").with_name(credentials.username));
    security.record_session(&session);
    security_event!(
        SecurityEvent::LoginSucceeded,
        authentication.method = "password"
    );
    // Emits authentication.new_device the first time this browser signs in from this network.
    let _ = app.devices.check_request(&security, "42");
    app.sessions
        .lock()
        .unwrap()
        .insert(session.clone(), "42".into());
    Ok(session)
}

/// The bearer session's user, recorded as the request's actor; a denial is a security event.
fn authenticate(security: &RequestSecurity, app: &App, headers: &HeaderMap) -> Option<String> {
    let session = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))?;
    let user = app.sessions.lock().unwrap().get(session).cloned();
    match &user {
        Some(user) => {
            security.record_actor(&Actor::user(user.as_str()).with_name("alice"));
            security.record_session(session);
        }
        None => security_event!(
            SecurityEvent::AuthorizationDenied,
            reason = "unknown session"
        ),
    }
    user
}

async fn sign_out(
    security: RequestSecurity,
    State(app): State<App>,
    headers: HeaderMap,
) -> StatusCode {
    if authenticate(&security, &app, &headers).is_none() {
        return StatusCode::UNAUTHORIZED;
    }
    security_event!(SecurityEvent::SignedOut);
    StatusCode::NO_CONTENT
}

#[derive(serde::Deserialize)]
struct RoleChange {
    role: String,
}

async fn change_role(
    security: RequestSecurity,
    State(app): State<App>,
    Path(user): Path<String>,
    headers: HeaderMap,
    Json(change): Json<RoleChange>,
) -> StatusCode {
    if authenticate(&security, &app, &headers).is_none() {
        return StatusCode::UNAUTHORIZED;
    }
    let old = app
        .roles
        .lock()
        .unwrap()
        .insert(user.clone(), change.role.clone())
        .unwrap_or_else(|| "viewer".into());
    let changes = Changes::new().field("role", &old, &change.role);
    security_event!(
        SecurityEvent::UserRoleChanged,
        target.kind = "user",
        target.id = user.as_str(),
        changes = %changes,
    );
    StatusCode::NO_CONTENT
}

async fn rotate_api_key(
    security: RequestSecurity,
    State(app): State<App>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> StatusCode {
    if authenticate(&security, &app, &headers).is_none() {
        return StatusCode::UNAUTHORIZED;
    }
    security_event!(
        SecurityEvent::ApiKeyRotated,
        target.kind = "api_key",
        target.id = key.as_str(),
    );
    StatusCode::NO_CONTENT
}

fn router() -> Router {
    let app = App {
        sessions: Arc::default(),
        roles: Arc::default(),
        devices: Arc::new(NewDeviceDetector::new(MemoryDeviceStore::new(100_000))),
    };
    // A reverse proxy on this host forwards the browsers' requests: trust it, and only it.
    let proxies = "127.0.0.1".parse().expect("a valid proxy list");
    Router::new()
        .route("/sign-in", post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/users/{id}/role", put(change_role))
        .route("/api-keys/{id}/rotate", post(rotate_api_key))
        .with_state(app)
        .layer(SecurityContextLayer::new().with_trusted_proxies(proxies))
}

/// The example's own client: a browser at 203.0.113.7 reaching the service through the proxy.
struct Browser {
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    base: String,
}

impl Browser {
    async fn send(
        &self,
        method: &str,
        path: &str,
        session: Option<&str>,
        body: &str,
    ) -> Result<(StatusCode, String), Box<dyn std::error::Error>> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("user-agent", BROWSER)
            .header("x-forwarded-for", "203.0.113.7")
            .header("content-type", "application/json");
        if let Some(session) = session {
            request = request.header("authorization", format!("Bearer {session}"));
        }
        let response = self
            .client
            .request(request.body(Full::new(Bytes::from(body.to_owned())))?)
            .await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "security-events-axum.jsonl".into());
    let (layer, guard) = tracing_security_events::builder()
        .with_file(&path)
        .with_service_name("axum-example")
        .build()?;
    tracing_subscriber::registry().with(layer).init();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router().into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    println!("serving on http://{addr}");

    let browser = Browser {
        client: Client::builder(TokioExecutor::new()).build_http(),
        base: format!("http://{addr}"),
    };
    let wrong = r#"{"username":"alice","password":"hunter2"}"#;
    let right = r#"{"username":"alice","password":"correct horse battery staple"}"#;
    for (method, path, body) in [
        ("POST", "/sign-in", wrong),
        ("POST", "/sign-in", wrong),
        ("POST", "/sign-in", right),
    ] {
        let (status, _) = browser.send(method, path, None, body).await?;
        println!("{method} {path} -> {status}");
    }
    let (_, session) = browser.send("POST", "/sign-in", None, right).await?;
    let session = Some(session.as_str());
    for (method, path, session, body) in [
        ("PUT", "/users/7/role", session, r#"{"role":"admin"}"#),
        ("POST", "/api-keys/k-2024/rotate", session, ""),
        (
            "POST",
            "/api-keys/k-2024/rotate",
            Some("forged-session"),
            "",
        ),
        ("POST", "/sign-out", session, ""),
    ] {
        let (status, _) = browser.send(method, path, session, body).await?;
        println!("{method} {path} -> {status}");
    }

    server.abort();
    guard.shutdown()?;
    println!("\nsecurity records in {path}:");
    print!("{}", std::fs::read_to_string(&path)?);
    Ok(())
}
