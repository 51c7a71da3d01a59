//! The web console in real headless Chromium, driven over WebDriver (chromedriver and
//! fantoccini), against a real server on 127.0.0.1: load, filter by event, open a role change
//! and read its old and new roles, see the charts (a continuous time axis, the map with each
//! country's count, a country's click filtering), get a query's error at its column and no
//! stale answer beside it, show a record whose user agent is markup as text with no script
//! run, reload a view from its URL, go Back, open a record from its link, open and close
//! records by keyboard, and at 800 px read the record below the list. Saves screenshots at
//! 1400 and 800 px, light and dark, under `target/tmp/` (copied to `docs/`).
//!
//! Without `/usr/bin/chromedriver` the test says so and passes, unless
//! `CONSOLE_TEST_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs Chromium): then it fails.
#![cfg(feature = "api")]

mod common;
#[path = "../../examples/support/synthetic_log.rs"]
mod synthetic_log;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::middleware::{from_fn, Next};
use axum::response::Response;
use axum::Router;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tracing_security_events::api::{require_role, ReadApi};
use tracing_security_events::http::{RequestSecurity, SecurityContextLayer};
use tracing_security_events::store::FileStore;
use tracing_security_events::Actor;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_driver() -> (Driver, u16) {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (driver, port)
}

/// Every request is the operator's: the browser's sign-in is not what is tested here.
async fn operator(security: RequestSecurity, request: Request, next: Next) -> Response {
    security.record_actor(&Actor::user("ops-1").with_roles(["operator"]));
    next.run(request).await
}

async fn browser(port: u16, profile: &Path) -> Client {
    browser_with(port, profile, 1400, false).await
}

/// A Chromium session `width` pixels wide, in dark mode when `dark`.
async fn browser_with(port: u16, profile: &Path, width: u32, dark: bool) -> Client {
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        format!("--window-size={width},1000"),
        format!("--user-data-dir={}", profile.display()),
    ];
    if dark {
        // Blink's preferred colour scheme: 0 is dark.
        args.push("--blink-settings=preferredColorScheme=0".to_owned());
    }
    let capabilities = json!({
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session")
}

/// Rows have come, and none of them is from before the last `apply`.
const FRESH_ROWS: &str = "document.querySelectorAll('#records tbody tr').length > 0 && ![...document.querySelectorAll('#records tbody tr')].some(r => r.dataset.stale)";

/// Runs `script` (an expression) until it is true, or fails after ten seconds.
async fn wait_until(browser: &Client, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let value = browser
            .execute(&format!("return ({script});"), vec![])
            .await
            .unwrap();
        if value == Value::Bool(true) {
            return;
        }
        if Instant::now() > deadline {
            let status = browser
                .execute(
                    "return document.getElementById('status').textContent;",
                    vec![],
                )
                .await
                .unwrap();
            panic!("waited ten seconds for {what} ({script}); status: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn js(browser: &Client, script: &str) -> Value {
    browser
        .execute(&format!("return ({script});"), vec![])
        .await
        .unwrap()
}

async fn apply(browser: &Client, events: &str, query: &str) {
    for (id, value) in [("events", events), ("q", query)] {
        let input = browser.find(Locator::Id(id)).await.unwrap();
        input.clear().await.unwrap();
        if !value.is_empty() {
            input.send_keys(value).await.unwrap();
        }
    }
    // Marks the current rows, so that waiting sees the new ones.
    js(
        browser,
        "[...document.querySelectorAll('#records tbody tr')].forEach(r => r.dataset.stale = '1')",
    )
    .await;
    browser
        .find(Locator::Id("apply"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn click_first_row(browser: &Client) {
    // Scrolled to the top, so that the table's sticky header does not cover the row.
    js(browser, "window.scrollTo(0, 0) || true").await;
    browser
        .find(Locator::Css("#records tbody tr"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[test]
fn the_console_filters_shows_a_role_change_and_renders_markup_as_text() {
    if !Path::new(CHROMEDRIVER).exists() {
        let required = std::env::var("CONSOLE_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{CHROMEDRIVER} is missing and CONSOLE_TEST_REQUIRE_BROWSER=1"
        );
        println!("skipped: {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    synthetic_log::SyntheticLog {
        records: 3000,
        rotate_mb: 64,
        seed: 9,
        days: 2,
        checkpoint_key: None,
        actors: None,
        index: false,
    }
    .write(dir.path())
    .unwrap();
    let path = dir.path().join("security.jsonl");
    let records = common::read_records(&path);
    let hostile = records
        .iter()
        .filter(|r| r["user_agent"]["original"] == synthetic_log::HOSTILE_USER_AGENT)
        .count();
    assert!(
        hostile > 0,
        "the log has a record with the markup user agent"
    );
    let profile = tempfile::tempdir().unwrap();
    let (_driver, driver_port) = start_driver();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let screenshot = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app: Router = ReadApi::new(FileStore::open(&path).unwrap())
            .with_authorizer(require_role("operator").across_tenants())
            .router()
            .layer(from_fn(operator))
            .layer(SecurityContextLayer::new());
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });

        let browser = browser(driver_port, profile.path()).await;
        browser.goto(&format!("http://{addr}/console")).await.unwrap();
        wait_until(&browser, "the first page", "document.querySelectorAll('#records tbody tr').length === 50").await;
        let shown = js(&browser, "document.getElementById('end').textContent").await;
        let pages = records.len().div_ceil(50);
        assert_eq!(shown, format!("50 of {} shown · page 1 of {pages}", records.len()));
        wait_until(&browser, "the time chart", "document.querySelectorAll('#chart svg rect').length > 10").await;
        wait_until(&browser, "the map", "document.querySelectorAll('#countries svg path[data-count]').length > 3").await;
        // Each country of the records drawn with its count.
        let mut by_country = std::collections::BTreeMap::<String, u64>::new();
        for record in &records {
            if let Some(country) = record["client"]["geo"]["country"].as_str() {
                *by_country.entry(country.to_uppercase()).or_default() += 1;
            }
        }
        let drawn = js(&browser, "Object.fromEntries([...document.querySelectorAll('#countries path[data-count]')].map(p => [p.dataset.country, Number(p.dataset.count)]))").await;
        let drawn: std::collections::BTreeMap<String, u64> = serde_json::from_value(drawn).unwrap();
        assert!(drawn.len() > 3, "{drawn:?}");
        for (country, count) in &drawn {
            assert_eq!(by_country.get(country), Some(count), "{country}");
        }

        // A country on the map filters to it.
        let (country, _) = drawn.iter().max_by_key(|(_, n)| **n).unwrap();
        js(&browser, "[...document.querySelectorAll('#records tbody tr')].forEach(r => r.dataset.stale = '1') || true").await;
        js(&browser, &format!("document.querySelector('#countries path[data-country=\"{country}\"]').dispatchEvent(new MouseEvent('click')) || true")).await;
        wait_until(&browser, "the country's records", FRESH_ROWS).await;
        let clients = js(&browser, "[...document.querySelectorAll('#records tbody tr')].map(r => r.cells[5].textContent)").await;
        assert!(
            clients.as_array().unwrap().iter().all(|c| c.as_str().unwrap().ends_with(&format!("· {country}"))),
            "{clients}"
        );
        assert_eq!(js(&browser, "document.getElementById('q').value").await, format!("country = \"{country}\""));
        // Back to the whole log.
        browser.back().await.unwrap();
        wait_until(&browser, "the whole log again", "document.getElementById('q').value === '' && document.querySelectorAll('#records tbody tr').length === 50 && document.querySelectorAll('#chart g').length > 0").await;

        // The time axis is continuous: one column per hour from the first to the last, those
        // without records drawn empty.
        let steps = js(&browser, "(() => { const s = [...document.querySelectorAll('#chart g')].map(g => Date.parse(g.dataset.start)); return s.slice(1).every((t, i) => t - s[i] === 3600e3) && s.length; })()").await;
        let hours = {
            let times: Vec<i64> = records
                .iter()
                .map(|r| chrono::DateTime::parse_from_rfc3339(r["timestamp"].as_str().unwrap()).unwrap().timestamp() / 3600)
                .collect();
            times.iter().max().unwrap() - times.iter().min().unwrap() + 1
        };
        assert_eq!(steps, json!(hours), "one column per hour, consecutive");

        // Load more follows the cursor; the total and the page count stay.
        browser.find(Locator::Id("more")).await.unwrap().click().await.unwrap();
        wait_until(&browser, "the second page", "document.querySelectorAll('#records tbody tr').length === 100").await;
        let shown = js(&browser, "document.getElementById('end').textContent").await;
        assert_eq!(shown, format!("100 of {} shown · page 2 of {pages}", records.len()));
        click_first_row(&browser).await;
        wait_until(&browser, "the detail pane", "!document.getElementById('detail').hidden").await;
        let screenshot = browser.screenshot().await.unwrap();

        // Filter by event; open a role change; its roles old and new, side by side.
        apply(&browser, "user.role_changed", "").await;
        wait_until(&browser, "role changes only", FRESH_ROWS).await;
        wait_until(&browser, "role changes only", "[...document.querySelectorAll('#records tbody tr')].every(r => r.cells[1].textContent === 'user.role_changed')").await;
        let role_changes: Vec<&Value> = records.iter().filter(|r| r["event"]["name"] == "user.role_changed").collect();
        let rows = js(&browser, "document.querySelectorAll('#records tbody tr').length").await;
        assert_eq!(rows, role_changes.len().min(50));
        click_first_row(&browser).await;
        wait_until(&browser, "the detail pane", "!document.getElementById('detail').hidden").await;
        let newest = role_changes.last().unwrap();
        let cells = js(&browser, "[...document.querySelectorAll('#changes tbody tr td')].map(td => td.textContent)").await;
        let joined = |v: &Value| v.as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect::<Vec<_>>().join(", ");
        assert_eq!(
            cells,
            json!(["roles", joined(&newest["changes"]["roles"]["old"]), joined(&newest["changes"]["roles"]["new"])]),
        );
        let detail = js(&browser, "JSON.parse(document.getElementById('record').textContent)").await;
        assert_eq!(&detail, *newest, "the whole record, as written");

        // A misspelt event name: an empty list, and a warning that says which name was meant.
        apply(&browser, "user.rolechanged", "").await;
        wait_until(&browser, "the warning", "!document.getElementById('query-warnings').hidden").await;
        let warning = js(&browser, "document.getElementById('query-warnings').textContent").await;
        assert!(warning.as_str().unwrap().contains("did you mean `user.role_changed`?"), "{warning}");

        // A query with an error: the message at its column.
        apply(&browser, "", "event = x and evnt = y").await;
        wait_until(&browser, "the query's error", "!document.getElementById('query-error').hidden").await;
        let error = js(&browser, "document.getElementById('query-error').textContent").await;
        let error = error.as_str().unwrap();
        assert!(error.contains("column 15") && error.contains("evnt"), "{error}");
        assert!(error.contains("\n              ^"), "the caret under the column: {error:?}");

        // The markup user agent is text: no element made of it, no script run.
        apply(&browser, "", "user_agent.original = \"<img src=x onerror=alert(1)>\"").await;
        wait_until(&browser, "the markup user agent's records", FRESH_ROWS).await;
        let rows = js(&browser, "document.querySelectorAll('#records tbody tr').length").await;
        assert_eq!(rows, hostile.min(50));
        click_first_row(&browser).await;
        wait_until(&browser, "the detail pane", "document.getElementById('record').textContent.includes('onerror')").await;
        assert_eq!(js(&browser, "document.querySelectorAll('img').length").await, 0);
        let text = js(&browser, "document.getElementById('record').textContent").await;
        assert!(text.as_str().unwrap().contains("\"original\": \"<img src=x onerror=alert(1)>\""));
        assert!(browser.get_alert_text().await.is_err(), "no alert was opened");

        // The URL holds the view: a reload shows the same rows, Back the view before.
        apply(&browser, "user.role_changed", "").await;
        wait_until(&browser, "role changes", FRESH_ROWS).await;
        let url = browser.current_url().await.unwrap();
        assert!(url.as_str().contains("events=user.role_changed"), "{url}");
        const IDS: &str = "[...document.querySelectorAll('#records tbody tr')].map(r => r.dataset.id)";
        let role_ids = js(&browser, IDS).await;
        browser.refresh().await.unwrap();
        wait_until(&browser, "the reloaded view", "document.querySelectorAll('#records tbody tr').length > 0").await;
        assert_eq!(js(&browser, IDS).await, role_ids);
        assert_eq!(js(&browser, "document.getElementById('events').value").await, "user.role_changed");
        apply(&browser, "authentication.failed", "").await;
        wait_until(&browser, "failed sign-ins", FRESH_ROWS).await;
        browser.back().await.unwrap();
        wait_until(&browser, "the view before", "document.getElementById('events').value === 'user.role_changed'").await;
        wait_until(&browser, "its rows", &format!("JSON.stringify({IDS}) === {:?}", role_ids.to_string())).await;

        // A link to one record opens it, on a page of its own.
        click_first_row(&browser).await;
        let link = js(&browser, "document.getElementById('permalink').href").await;
        let link = link.as_str().unwrap().to_owned();
        assert!(link.contains("record="), "{link}");
        browser.goto(&link).await.unwrap();
        wait_until(&browser, "the linked record", "!document.getElementById('detail').hidden").await;
        let first = role_ids[0].as_str().unwrap();
        let shown_id = js(&browser, "[...document.querySelectorAll('#fields tbody tr')].find(r => r.cells[0].textContent === 'id').cells[1].textContent").await;
        assert_eq!(shown_id, first);

        // The keyboard alone: a row takes the focus, Enter opens it, Escape closes it.
        js(&browser, "document.getElementById('close').click() || true").await;
        wait_until(&browser, "the pane closed", "document.getElementById('detail').hidden").await;
        js(&browser, "document.querySelector('#records tbody tr').focus() || true").await;
        let row = browser.active_element().await.unwrap();
        row.send_keys("\u{E007}").await.unwrap();
        wait_until(&browser, "Enter opens", "!document.getElementById('detail').hidden").await;
        browser.active_element().await.unwrap().send_keys("\u{E00C}").await.unwrap();
        wait_until(&browser, "Escape closes", "document.getElementById('detail').hidden").await;
        assert_eq!(js(&browser, "document.activeElement.tagName").await, "TR", "the focus back on the row");

        // At 800 px the record opens below the list, over none of its columns.
        browser.set_window_size(800, 1000).await.unwrap();
        click_first_row(&browser).await;
        wait_until(&browser, "the detail pane", "!document.getElementById('detail').hidden").await;
        let overlap = js(&browser, "(() => { const a = document.getElementById('list').getBoundingClientRect(), b = document.getElementById('detail').getBoundingClientRect(); return !(b.top >= a.bottom - 1 || b.left >= a.right - 1); })()").await;
        assert_eq!(overlap, json!(false));
        browser.set_window_size(1400, 1000).await.unwrap();

        // Columns: one hidden stays hidden after a reload; the time order flips.
        apply(&browser, "", "").await;
        wait_until(&browser, "the whole log", FRESH_ROWS).await;
        js(&browser, "document.getElementById('columns').open = true").await;
        browser.find(Locator::Css("#columns input[value=tenant]")).await.unwrap().click().await.unwrap();
        let tenant_shown = "getComputedStyle(document.querySelector('#records tbody tr').cells[4]).display !== 'none'";
        assert_eq!(js(&browser, tenant_shown).await, false);
        browser.refresh().await.unwrap();
        wait_until(&browser, "the reloaded view", "document.querySelectorAll('#records tbody tr').length > 0").await;
        assert_eq!(js(&browser, tenant_shown).await, false, "still hidden after a reload");
        js(&browser, "[...document.querySelectorAll('#records tbody tr')].forEach(r => r.dataset.stale = '1') || true").await;
        browser.find(Locator::Id("order")).await.unwrap().click().await.unwrap();
        wait_until(&browser, "oldest first", FRESH_ROWS).await;
        let times = js(&browser, "[...document.querySelectorAll('#records tbody tr')].map(r => r.cells[0].textContent)").await;
        let times: Vec<String> = serde_json::from_value(times).unwrap();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        assert!(browser.current_url().await.unwrap().as_str().contains("order=asc"));
        // One colour per category, the same for every reader (the charts come after the rows).
        wait_until(&browser, "the legend", "[...document.querySelectorAll('#legend li')].some(li => li.textContent === 'authentication')").await;
        let swatch = js(&browser, "[...document.querySelectorAll('#legend li')].find(li => li.textContent === 'authentication').firstChild.style.background").await;
        assert_eq!(swatch, "rgb(34, 87, 197)");

        // An error clears the answer before it: no stale rows, charts or "Load more".
        apply(&browser, "", "evnt = 1").await;
        wait_until(&browser, "the query's error", "!document.getElementById('query-error').hidden").await;
        assert_eq!(js(&browser, "document.querySelectorAll('#records tbody tr, #chart svg, #countries svg').length").await, 0);
        assert_eq!(js(&browser, "document.getElementById('more').hidden && document.getElementById('end').textContent === ''").await, true);

        browser.close().await.unwrap();

        // The console as an admin sees it, at 1400 and 800 px, light and dark.
        let mut shots = Vec::new();
        for (width, dark) in [(1400, false), (800, false), (1400, true), (800, true)] {
            let profile = tempfile::tempdir().unwrap();
            let browser = browser_with(driver_port, profile.path(), width, dark).await;
            browser.goto(&format!("http://{addr}/console")).await.unwrap();
            wait_until(&browser, "the page", "document.querySelectorAll('#records tbody tr').length === 50 && document.querySelectorAll('#countries path[data-count]').length > 0").await;
            assert_eq!(js(&browser, "matchMedia('(prefers-color-scheme: dark)').matches").await, json!(dark));
            click_first_row(&browser).await;
            wait_until(&browser, "the detail pane", "!document.getElementById('detail').hidden").await;
            js(&browser, "window.scrollTo(0, 0) || true").await;
            let name = format!("console-{width}-{}.png", if dark { "dark" } else { "light" });
            shots.push((name, browser.screenshot().await.unwrap()));
            browser.close().await.unwrap();
        }
        for (name, png) in shots {
            std::fs::write(Path::new(env!("CARGO_TARGET_TMPDIR")).join(name), png).unwrap();
        }
        screenshot
    });
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console.png");
    std::fs::write(&out, screenshot).unwrap();
    println!("screenshot: {}", out.display());
}

/// A clock the test moves: records 14 hours apart.
#[derive(Debug)]
struct ManualClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl tracing_security_events::Clock for ManualClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap()
    }
}

/// Markup in every field a record can carry, the country code included, reaches the page as
/// text: in the table, the map's list and tooltips, the detail pane's keys and values. The
/// two records are 14 hours apart: the gap shows as empty hours on the time axis.
#[test]
fn markup_in_every_field_stays_text() {
    if !Path::new(CHROMEDRIVER).exists() {
        let required = std::env::var("CONSOLE_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{CHROMEDRIVER} is missing and CONSOLE_TEST_REQUIRE_BROWSER=1"
        );
        return;
    }
    const MARKUP: &str = "<img src=x onerror=alert(1)><svg onload=alert(2)>";
    let log = common::TempLog::new();
    let start = chrono::Utc::now() - chrono::Duration::hours(20);
    let clock = std::sync::Arc::new(ManualClock(std::sync::Mutex::new(start)));
    let (layer, guard) = log.builder().with_clock(clock.clone()).build().unwrap();
    tracing::subscriber::with_default(
        tracing_subscriber::layer::SubscriberExt::with(tracing_subscriber::registry(), layer),
        || {
            tracing::info!(
                security_event = "user.role_changed",
                actor.id = MARKUP,
                actor.name = MARKUP,
                actor.email = MARKUP,
                tenant.id = MARKUP,
                tenant.name = MARKUP,
                client.ip = "203.0.113.7",
                client.geo.country = MARKUP,
                client.geo.city = MARKUP,
                user_agent = MARKUP,
                request.id = MARKUP,
                url.path = MARKUP,
                target.kind = MARKUP,
                target.name = MARKUP,
                reason = MARKUP,
                note = MARKUP,
                message = MARKUP,
            );
            *clock.0.lock().unwrap() = start + chrono::Duration::hours(14);
            tracing::info!(
                security_event = "authentication.failed",
                client.geo.country = "FR",
                actor.id = "42"
            );
        },
    );
    guard.shutdown().unwrap();
    // The API's own records (its reads) go to a log of their own, for every thread.
    let reads = common::TempLog::new();
    let (reads_layer, reads_guard) = reads.builder().build().unwrap();
    tracing::subscriber::set_global_default(tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        reads_layer,
    ))
    .expect("the only global subscriber of this test binary");
    let profile = tempfile::tempdir().unwrap();
    let (_driver, driver_port) = start_driver();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app: Router = ReadApi::new(FileStore::open(&log.path).unwrap())
            .with_authorizer(require_role("operator").across_tenants())
            .router()
            .layer(from_fn(operator))
            .layer(SecurityContextLayer::new());
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });
        let browser = browser(driver_port, profile.path()).await;
        browser.goto(&format!("http://{addr}/console")).await.unwrap();
        wait_until(&browser, "the records and the map", "document.querySelectorAll('#records tbody tr').length === 2 && document.querySelectorAll('#countries path[data-count]').length === 1").await;
        // Fifteen hours on the axis, the thirteen between the two records drawn empty.
        wait_until(&browser, "the time chart", "document.querySelectorAll('#chart g').length > 0").await;
        let hours = js(&browser, "[...document.querySelectorAll('#chart g')].map(g => Number(g.dataset.count))").await;
        let hours: Vec<u64> = serde_json::from_value(hours).unwrap();
        assert_eq!(hours.len(), 15, "{hours:?}");
        assert_eq!(hours.iter().filter(|&&n| n == 0).count(), 13, "{hours:?}");
        // The map draws France; the markup "country" is listed beside it, as text.
        let elsewhere = js(&browser, "document.querySelector('#countries p.elsewhere').textContent").await;
        assert!(elsewhere.as_str().unwrap().contains(&MARKUP.to_uppercase()), "{elsewhere}");
        js(&browser, "[...document.querySelectorAll('#records tbody tr')].find(r => r.cells[1].textContent === 'user.role_changed').click() || true").await;
        wait_until(&browser, "the detail pane", "!document.getElementById('detail').hidden").await;
        let texts = js(&browser, "[...document.querySelectorAll('#fields tbody td:last-child')].filter(td => td.textContent.includes('onerror')).length").await;
        assert!(texts.as_u64().unwrap() >= 10, "{texts}");
        // No element was made of the markup, and no script ran.
        assert_eq!(js(&browser, "document.querySelectorAll('img, script:not([src]), #records svg, #detail svg').length").await, 0);
        assert!(browser.get_alert_text().await.is_err(), "no alert was opened");

        // One Apply, one record of the read: the list's, not its two charts'.
        apply(&browser, "", "actor.id = \"one-apply\"").await;
        wait_until(&browser, "the answer", "document.getElementById('end').textContent === 'No records match this view.' && document.querySelectorAll('#chart svg').length === 1 && document.querySelectorAll('#countries svg').length === 1").await;
        browser.close().await.unwrap();
    });
    reads_guard.flush().unwrap();
    let viewed: Vec<serde_json::Value> = common::read_records(&reads.path)
        .into_iter()
        .filter(|r| r["event"]["name"] == "audit.log_viewed")
        .filter(|r| {
            r["fields"]["query"]
                .as_str()
                .is_some_and(|q| q.contains("one-apply"))
        })
        .collect();
    assert_eq!(viewed.len(), 1, "{viewed:#?}");
    assert_eq!(viewed[0]["fields"]["read"], "list");
}
