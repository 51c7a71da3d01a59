//! A record in the Elastic Common Schema (ECS 9): the record's parts where ECS has a field for
//! them, the rest under the custom field set `security_event` (ECS's advice for fields of one's
//! own: a name ECS does not use).

use crate::record::encode::{fields, ip_address, text_array, texts, timestamp, uuid, Object};
use crate::record::SecurityRecord;

use super::mapping::FormMapping;
use super::severity_id;

/// The custom field set holding what ECS has no field for.
pub const CUSTOM: &str = "security_event";

/// Appends `record` in ECS as compact JSON, without a line feed.
pub fn encode_ecs(
    out: &mut Vec<u8>,
    record: &SecurityRecord,
    mapping: &FormMapping,
) -> serde_json::Result<()> {
    let mut object = Object::open(out);
    object.key("@timestamp");
    timestamp(object.out, &record.timestamp);
    object.key("message");
    object.text(&record.message)?;
    object.key("event");
    event(object.out, record, mapping)?;

    let target_user = record.target.kind.as_deref() == Some("user");
    if !record.actor.is_empty() || target_user {
        object.key("user");
        let mut user = Object::open(object.out);
        user.optional_text("id", record.actor.id.as_deref())?;
        user.optional_text("name", record.actor.name.as_deref())?;
        user.optional_text("email", record.actor.email.as_deref())?;
        if let Some(roles) = &record.actor.roles {
            user.key("roles");
            text_array(user.out, roles.iter().map(String::as_str))?;
        }
        if target_user {
            user.key("target");
            texts(
                user.out,
                &[
                    ("id", record.target.id.as_deref()),
                    ("name", record.target.name.as_deref()),
                ],
            )?;
        }
        user.close();
    }
    if !record.tenant.is_empty() {
        object.key("organization");
        texts(
            object.out,
            &[
                ("id", record.tenant.id.as_deref()),
                ("name", record.tenant.name.as_deref()),
            ],
        )?;
    }
    if !record.client.is_empty() {
        object.key("source");
        source(object.out, record)?;
    }
    if !record.user_agent.is_empty() {
        object.key("user_agent");
        let agent = &record.user_agent;
        let mut part = Object::open(object.out);
        part.optional_text("original", agent.original.as_deref())?;
        part.optional_text("name", agent.name.as_deref())?;
        part.optional_text("version", agent.version.as_deref())?;
        if let Some(os) = &agent.os {
            part.key("os");
            texts(part.out, &[("name", Some(os))])?;
        }
        if let Some(device) = &agent.device {
            part.key("device");
            texts(part.out, &[("name", Some(device))])?;
        }
        part.close();
    }
    let request = &record.request;
    if request.id.is_some() || request.method.is_some() {
        object.key("http");
        let mut http = Object::open(object.out);
        http.key("request");
        texts(
            http.out,
            &[
                ("id", request.id.as_deref()),
                ("method", request.method.as_deref()),
            ],
        )?;
        http.close();
    }
    if let Some(path) = &request.path {
        object.key("url");
        texts(object.out, &[("path", Some(path))])?;
    }
    if let Some(trace) = &record.trace {
        object.key("trace");
        texts(object.out, &[("id", Some(&trace.trace_id))])?;
        object.key("span");
        texts(object.out, &[("id", Some(&trace.span_id))])?;
    }
    if !record.service.is_empty() {
        object.key("service");
        let service = &record.service;
        let mut part = Object::open(object.out);
        part.optional_text("name", service.name.as_deref())?;
        part.optional_text("version", service.version.as_deref())?;
        if let Some(instance) = &service.instance {
            part.key("node");
            texts(part.out, &[("name", Some(instance))])?;
        }
        part.close();
    }
    related(&mut object, record)?;
    object.key(CUSTOM);
    custom(object.out, record, target_user)?;
    object.close();
    Ok(())
}

fn event(
    out: &mut Vec<u8>,
    record: &SecurityRecord,
    mapping: &FormMapping,
) -> serde_json::Result<()> {
    let event = &record.event;
    let mut object = Object::open(out);
    object.key("kind");
    object.text(mapping.ecs_kind())?;
    object.key("category");
    text_array(object.out, mapping.ecs_category.iter().copied())?;
    object.key("type");
    text_array(object.out, mapping.ecs_type.iter().copied())?;
    object.key("action");
    object.text(&event.name)?;
    object.key("outcome");
    // ECS's outcomes are the catalog's: success, failure, unknown.
    object.text(event.outcome.as_str())?;
    object.key("id");
    uuid(object.out, &record.id);
    object.key("sequence");
    object.value(&record.seq)?;
    object.key("severity");
    object.value(&severity_id(event.severity))?;
    object.optional_text("reason", event.reason.as_deref())?;
    if let Some(duration) = event.duration_us {
        // ECS measures durations in nanoseconds.
        object.key("duration");
        object.value(&duration.saturating_mul(1000))?;
    }
    object.close();
    Ok(())
}

fn source(out: &mut Vec<u8>, record: &SecurityRecord) -> serde_json::Result<()> {
    let client = &record.client;
    let mut object = Object::open(out);
    if let Some(ip) = client.ip {
        object.key("ip");
        ip_address(object.out, ip);
    }
    if let Some(port) = client.port {
        object.key("port");
        object.value(&port)?;
    }
    if let Some(geo) = &client.geo {
        let location = geo.location();
        if geo.country.is_some() || geo.city.is_some() || location.is_some() {
            object.key("geo");
            let mut part = Object::open(object.out);
            part.optional_text("country_iso_code", geo.country.as_deref())?;
            part.optional_text("city_name", geo.city.as_deref())?;
            if let Some((lat, lon)) = location {
                part.key("location");
                let mut point = Object::open(part.out);
                point.key("lat");
                point.value(&lat)?;
                point.key("lon");
                point.value(&lon)?;
                point.close();
            }
            part.close();
        }
        if let Some(asn) = geo.asn {
            object.key("as");
            let mut part = Object::open(object.out);
            part.key("number");
            part.value(&asn)?;
            part.close();
        }
    }
    object.close();
    Ok(())
}

/// `related.user` (the actor's and the target user's ids and names) and `related.ip`.
fn related(object: &mut Object<'_>, record: &SecurityRecord) -> serde_json::Result<()> {
    let mut users: Vec<&str> = Vec::new();
    let target_user = record.target.kind.as_deref() == Some("user");
    let candidates = [
        record.actor.id.as_deref(),
        record.actor.name.as_deref(),
        target_user.then_some(record.target.id.as_deref()).flatten(),
        target_user
            .then_some(record.target.name.as_deref())
            .flatten(),
    ];
    for user in candidates.into_iter().flatten() {
        if !users.contains(&user) {
            users.push(user);
        }
    }
    if users.is_empty() && record.client.ip.is_none() {
        return Ok(());
    }
    object.key("related");
    let mut part = Object::open(object.out);
    if !users.is_empty() {
        part.key("user");
        text_array(part.out, users)?;
    }
    if let Some(ip) = record.client.ip {
        part.key("ip");
        part.out.push(b'[');
        ip_address(part.out, ip);
        part.out.push(b']');
    }
    part.close();
    Ok(())
}

/// What ECS has no field for, under [`CUSTOM`]: the catalog's category and severity, the
/// actor's kind, the session, a target that is not a user, the fields and the changes.
fn custom(out: &mut Vec<u8>, record: &SecurityRecord, target_user: bool) -> serde_json::Result<()> {
    let event = &record.event;
    let mut object = Object::open(out);
    object.key("category");
    object.text(&event.category)?;
    object.key("severity");
    object.text(event.severity.as_str())?;
    object.optional_text("owasp", event.owasp)?;
    object.optional_text("source", event.source.as_deref())?;
    if event.unrecognised {
        object.key("unrecognised");
        object.out.extend_from_slice(b"true");
    }
    let actor = &record.actor;
    if actor.kind.is_some() || actor.anonymous_id.is_some() {
        object.key("actor");
        texts(
            object.out,
            &[
                ("kind", actor.kind.map(|kind| kind.as_str())),
                ("anonymous_id", actor.anonymous_id.as_deref()),
            ],
        )?;
    }
    if let Some(session) = &record.session.id {
        object.key("session");
        texts(object.out, &[("id", Some(session))])?;
    }
    if !record.target.is_empty() && !target_user {
        object.key("target");
        texts(
            object.out,
            &[
                ("kind", record.target.kind.as_deref()),
                ("id", record.target.id.as_deref()),
                ("name", record.target.name.as_deref()),
            ],
        )?;
    }
    if !record.fields.is_empty() {
        object.key("fields");
        fields(object.out, &record.fields)?;
    }
    if let Some(changes) = &record.changes {
        object.key("changes");
        object.value(changes)?;
    }
    object.close();
    Ok(())
}
