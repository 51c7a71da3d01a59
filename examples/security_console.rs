//! A service with the read API and web console mounted, over a generated log of six tenants:
//!
//! ```text
//! cargo run --example security_console --features api            # stays up until Ctrl-C
//! cargo run --example security_console --features api -- --check # requests every endpoint once
//! ```
//!
//! It prints the console's address and a curl line. Sign-in is a stand-in for the service's
//! own: `/sign-in?as=operator` (every tenant) or `/sign-in?as=acme-admin` (tenant acme only)
//! sets a cookie; curl sends `Authorization: Bearer operator`. Reading the log is recorded in
//! the same log, so the console shows its own `audit.log_viewed` records.

#![allow(clippy::print_stdout, reason = "an example says where it listens")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use tracing_security_events::api::{ReadApi, ReadRequest, ReadScope};
use tracing_security_events::http::{RequestSecurity, SecurityContextLayer};
use tracing_security_events::store::FileStore;
use tracing_security_events::{Actor, Tenant};
use tracing_subscriber::prelude::*;

#[path = "support/synthetic_log.rs"]
mod synthetic_log;

/// The demo's accounts: who they are, their roles, their tenant.
const READERS: [(&str, &str, Option<&str>); 3] = [
    ("operator", "operator", None),
    ("acme-admin", "admin", Some("acme")),
    ("acme-viewer", "viewer", Some("acme")),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let check = std::env::args().any(|a| a == "--check");
    let dir = tempfile::tempdir()?;
    synthetic_log::SyntheticLog {
        records: 20_000,
        rotate_mb: 4,
        seed: 5,
        days: 7,
        checkpoint_key: None,
        actors: None,
        index: false,
    }
    .write(dir.path())?;
    let path = dir.path().join("security.jsonl");

    // The service's own security log is the same log: its reads show up in the console.
    let (layer, guard) = tracing_security_events::builder()
        .with_file(&path)
        .with_service_name("security-console-example")
        .build()?;
    tracing_subscriber::registry().with(layer).init();

    // Operators read every tenant; an admin reads the tenant their sign-in recorded.
    let authorizer = |request: &ReadRequest<'_>| {
        let roles = request.actor().and_then(|a| a.roles).unwrap_or_default();
        match (roles.first().map(String::as_str), request.tenant_id()) {
            (Some("operator"), _) => ReadScope::AllTenants,
            (Some("admin"), Some(tenant)) => ReadScope::Tenant(tenant),
            _ => ReadScope::Denied,
        }
    };
    let app: Router = Router::new()
        .route("/sign-in", get(sign_in))
        .merge(
            ReadApi::new(FileStore::open(&path)?)
                .with_authorizer(authorizer)
                .router(),
        )
        .layer(axum::middleware::from_fn(authenticate))
        .layer(SecurityContextLayer::new());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        println!("security log console: http://{addr}/sign-in?as=operator");
        println!("  as one tenant's admin: http://{addr}/sign-in?as=acme-admin");
        println!("  the API: curl -H 'Authorization: Bearer operator' 'http://{addr}/security_logs?per_page=5&log_events[]=user.role_changed'");
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move { axum::serve(listener, service).await });
        if check {
            tokio::task::spawn_blocking(move || check_every_endpoint(addr)).await??;
            server.abort();
            Ok(())
        } else {
            println!("(Ctrl-C to stop)");
            server.await?.map_err(Into::into)
        }
    })
    .map_err(|e: Box<dyn std::error::Error + Send + Sync>| e as Box<dyn std::error::Error>)?;
    drop(guard);
    Ok(())
}

/// A stand-in for the service's sign-in: a cookie naming a demo account.
async fn sign_in(request: Request) -> Response {
    let who = request
        .uri()
        .query()
        .and_then(|q| q.strip_prefix("as="))
        .filter(|who| READERS.iter().any(|(name, ..)| name == who));
    match who {
        Some(who) => {
            let cookie = format!("demo_session={who}; Path=/; HttpOnly; SameSite=Strict");
            ([("set-cookie", cookie)], Redirect::to("console")).into_response()
        }
        None => (http::StatusCode::NOT_FOUND, "no such demo account").into_response(),
    }
}

/// A stand-in for the service's authentication: the account from the cookie or a bearer
/// token, recorded as the request's actor and tenant.
async fn authenticate(security: RequestSecurity, request: Request, next: Next) -> Response {
    let account = account_of(&request);
    if let Some((name, role, tenant)) = account {
        security.record_actor(&Actor::user(name).with_roles([role]));
        if let Some(tenant) = tenant {
            security.record_tenant(&Tenant::new(tenant));
        }
    }
    next.run(request).await
}

fn account_of(request: &Request) -> Option<(&'static str, &'static str, Option<&'static str>)> {
    let headers = request.headers();
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let cookie = headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split("; "))
        .find_map(|c| c.strip_prefix("demo_session="));
    let who = bearer.or(cookie)?;
    READERS.into_iter().find(|(name, ..)| *name == who)
}

/// Requests every endpoint once as the operator, and says what came back.
fn check_every_endpoint(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let targets = [
        "/console",
        "/console/console.js",
        "/console/console.css",
        "/security_logs?per_page=3&count=true",
        "/security_logs?log_events[]=user.role_changed&per_page=1",
        "/security_logs/stats?by=category&every=1d",
        "/security_logs/export?format=csv&log_events[]=api_key.rotated",
    ];
    for target in targets {
        let (status, body) = http_get(addr, target)?;
        println!("{status} GET {target} ({} bytes)", body.len());
        if status != 200 {
            return Err(format!("GET {target}: {status}").into());
        }
    }
    let (_, list) = http_get(addr, "/security_logs?per_page=1")?;
    let id = list
        .split("\"id\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no record in the list")?;
    let target = format!("/security_logs/{id}");
    let (status, body) = http_get(addr, &target)?;
    println!("{status} GET {target} ({} bytes)", body.len());
    Ok(())
}

/// One HTTP/1.1 GET as the operator; the status and the body.
fn http_get(
    addr: SocketAddr,
    target: &str,
) -> Result<(u16, String), Box<dyn std::error::Error + Send + Sync>> {
    let mut stream = TcpStream::connect(addr)?;
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer operator\r\nconnection: close\r\n\r\n"
    )?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let (head, body) = reply.split_once("\r\n\r\n").ok_or("a cut reply")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    Ok((status, body.to_owned()))
}
