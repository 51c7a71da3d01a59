//! A record as an OCSF 1.5 event: its class and activity from the mapping, the record's parts in
//! the attributes the class defines, and what the class has no attribute for under `unmapped`.
//! `unmapped` is always the last member: the hash chain's seal goes inside it
//! (`integrity::chain`), where OCSF wants what is not its own.

use crate::event::Outcome;
use crate::record::encode::{fields, ip_address, text_array, texts, uuid, Object};
use crate::record::{SecurityRecord, Target};
use crate::value::FieldValue;

use super::mapping::{FormMapping, OcsfClass};
use super::severity_id;

/// The OCSF version written in `metadata.version`.
pub const OCSF_VERSION: &str = "1.5.0";

/// Which of the record's parts a class has an attribute for.
struct Slots {
    actor: bool,
    src_endpoint: bool,
    http_request: bool,
    /// The class requires `actor` and `src_endpoint` (written empty when unknown).
    endpoint_required: bool,
    /// `user`: the target when it is a user, else the actor; `Some(true)` when required.
    user: Option<bool>,
}

fn slots(class: OcsfClass) -> Slots {
    let s = |actor, src_endpoint, http_request, user| Slots {
        actor,
        src_endpoint,
        http_request,
        endpoint_required: matches!(
            class,
            OcsfClass::ApiActivity | OcsfClass::FileHostingActivity
        ),
        user,
    };
    match class {
        OcsfClass::EventLogActivity => s(true, true, false, None),
        OcsfClass::DetectionFinding
        | OcsfClass::ApplicationLifecycle
        | OcsfClass::ApplicationError => s(false, false, false, None),
        OcsfClass::AccountChange | OcsfClass::Authentication | OcsfClass::UserAccessManagement => {
            s(true, true, true, Some(true))
        }
        OcsfClass::EntityManagement | OcsfClass::ApiActivity => s(true, true, true, None),
        OcsfClass::EmailActivity => s(false, true, false, None),
        OcsfClass::WebResourcesActivity => s(false, true, true, None),
        OcsfClass::FileHostingActivity => s(true, true, false, None),
    }
}

/// Appends `record` as an OCSF event, compact JSON, without a line feed.
pub fn encode_ocsf(
    out: &mut Vec<u8>,
    record: &SecurityRecord,
    mapping: &FormMapping,
) -> serde_json::Result<()> {
    let class = mapping.ocsf_class;
    let slots = slots(class);
    let event = &record.event;
    let (category_uid, category_name) = class.category();
    let mut object = Object::open(out);
    object.key("class_uid");
    object.value(&class.uid())?;
    object.key("class_name");
    object.text(class.name())?;
    object.key("category_uid");
    object.value(&category_uid)?;
    object.key("category_name");
    object.text(category_name)?;
    object.key("activity_id");
    object.value(&mapping.ocsf_activity)?;
    object.key("activity_name");
    object.text(mapping.activity_name())?;
    object.key("type_uid");
    object.value(&mapping.type_uid())?;
    object.key("type_name");
    // "Class: Activity", both names static and plain: nothing to escape, nothing to allocate
    // (the override's own name goes through the escaping).
    match mapping.ocsf_class.activity_name(mapping.ocsf_activity) {
        Some(activity) => {
            object.out.push(b'"');
            object.out.extend_from_slice(class.name().as_bytes());
            object.out.extend_from_slice(b": ");
            object.out.extend_from_slice(activity.as_bytes());
            object.out.push(b'"');
        }
        None => object.text(&format!("{}: {}", class.name(), mapping.other_activity))?,
    }
    object.key("time");
    object.value(&record.timestamp.timestamp_millis())?;
    let severity = severity_id(event.severity);
    object.key("severity_id");
    object.value(&severity)?;
    object.key("severity");
    object.text(severity_name(severity))?;
    let (status_id, status) = match event.outcome {
        Outcome::Success => (1, "Success"),
        Outcome::Failure => (2, "Failure"),
        Outcome::Unknown => (0, "Unknown"),
    };
    object.key("status_id");
    object.value(&status_id)?;
    object.key("status");
    object.text(status)?;
    object.optional_text("status_detail", event.reason.as_deref())?;
    object.key("message");
    object.text(&record.message)?;
    if let Some(duration) = event.duration_us {
        object.key("duration");
        object.value(&(duration / 1000))?;
    }
    object.key("metadata");
    metadata(object.out, record)?;

    let has_actor = !record.actor.is_empty() || record.session.id.is_some();
    if slots.actor && (has_actor || slots.endpoint_required) {
        object.key("actor");
        let mut actor = Object::open(object.out);
        if !record.actor.is_empty() {
            actor.key("user");
            user_from_actor(actor.out, record)?;
        }
        if let Some(session) = &record.session.id {
            actor.key("session");
            texts(actor.out, &[("uid", Some(session))])?;
        }
        actor.close();
    }
    let target_user = record.target.kind.as_deref() == Some("user");
    if let Some(required) = slots.user {
        if target_user {
            object.key("user");
            user_from_target(object.out, &record.target)?;
        } else if !record.actor.is_empty() || required {
            object.key("user");
            user_from_actor(object.out, record)?;
        }
    }
    let placed_target =
        target_slot(&mut object, record, mapping)? || (target_user && slots.user.is_some());
    if slots.src_endpoint && (!record.client.is_empty() || slots.endpoint_required) {
        object.key("src_endpoint");
        src_endpoint(object.out, record)?;
    }
    let request = &record.request;
    let has_request = !request.is_empty() || record.user_agent.original.is_some();
    if slots.http_request && has_request {
        object.key("http_request");
        let mut http = Object::open(object.out);
        http.optional_text("uid", request.id.as_deref())?;
        http.optional_text("http_method", request.method.as_deref())?;
        if let Some(path) = &request.path {
            http.key("url");
            texts(http.out, &[("path", Some(path))])?;
        }
        http.optional_text("user_agent", record.user_agent.original.as_deref())?;
        http.close();
    }

    object.key("unmapped");
    let mut unmapped = Object::open(object.out);
    unmapped.key("category");
    unmapped.text(&event.category)?;
    unmapped.key("severity");
    unmapped.text(event.severity.as_str())?;
    unmapped.optional_text("owasp", event.owasp)?;
    unmapped.optional_text("source", event.source.as_deref())?;
    if event.unrecognised {
        unmapped.key("unrecognised");
        unmapped.out.extend_from_slice(b"true");
    }
    if let Some(kind) = record.actor.kind {
        unmapped.key("actor_kind");
        unmapped.text(kind.as_str())?;
    }
    if !slots.actor && has_actor {
        unmapped.key("actor");
        let mut actor = Object::open(unmapped.out);
        if !record.actor.is_empty() {
            actor.key("user");
            user_from_actor(actor.out, record)?;
        }
        if let Some(session) = &record.session.id {
            actor.key("session");
            texts(actor.out, &[("uid", Some(session))])?;
        }
        actor.close();
    }
    if let Some(name) = &record.tenant.name {
        unmapped.key("tenant_name");
        unmapped.text(name)?;
    }
    if !slots.src_endpoint && !record.client.is_empty() {
        unmapped.key("src_endpoint");
        src_endpoint(unmapped.out, record)?;
    }
    if !slots.http_request && has_request {
        unmapped.key("request");
        texts(
            unmapped.out,
            &[
                ("id", request.id.as_deref()),
                ("method", request.method.as_deref()),
                ("path", request.path.as_deref()),
                ("user_agent", record.user_agent.original.as_deref()),
            ],
        )?;
    }
    let agent = &record.user_agent;
    if agent.name.is_some()
        || agent.version.is_some()
        || agent.os.is_some()
        || agent.device.is_some()
    {
        unmapped.key("user_agent");
        texts(
            unmapped.out,
            &[
                ("name", agent.name.as_deref()),
                ("version", agent.version.as_deref()),
                ("os", agent.os.as_deref()),
                ("device", agent.device.as_deref()),
            ],
        )?;
    }
    if !record.target.is_empty() && !placed_target {
        unmapped.key("target");
        target_texts(unmapped.out, &record.target)?;
    }
    if !record.fields.is_empty() {
        unmapped.key("fields");
        fields(unmapped.out, &record.fields)?;
    }
    if let Some(changes) = &record.changes {
        unmapped.key("changes");
        unmapped.value(changes)?;
    }
    if let Some(trace) = &record.trace {
        unmapped.key("trace");
        texts(
            unmapped.out,
            &[
                ("trace_id", Some(&trace.trace_id)),
                ("span_id", Some(&trace.span_id)),
            ],
        )?;
    }
    if let Some(instance) = &record.service.instance {
        unmapped.key("service_instance");
        unmapped.text(instance)?;
    }
    unmapped.close();
    object.close();
    Ok(())
}

fn metadata(out: &mut Vec<u8>, record: &SecurityRecord) -> serde_json::Result<()> {
    let mut object = Object::open(out);
    object.key("version");
    object.text(OCSF_VERSION)?;
    object.key("product");
    texts(
        object.out,
        &[
            ("name", record.service.name.as_deref()),
            ("version", record.service.version.as_deref()),
        ],
    )?;
    object.key("uid");
    uuid(object.out, &record.id);
    object.key("sequence");
    object.value(&record.seq)?;
    object.key("event_code");
    object.text(&record.event.name)?;
    object.key("log_name");
    object.text("security")?;
    object.key("log_provider");
    object.text("tracing-security-events")?;
    object.optional_text("tenant_uid", record.tenant.id.as_deref())?;
    object.optional_text("correlation_uid", record.request.id.as_deref())?;
    object.close();
    Ok(())
}

/// The class's own attribute for the target, where it has one; whether it wrote it.
fn target_slot(
    object: &mut Object<'_>,
    record: &SecurityRecord,
    mapping: &FormMapping,
) -> serde_json::Result<bool> {
    let target = &record.target;
    match mapping.ocsf_class {
        OcsfClass::EntityManagement => {
            object.key("entity");
            let kind = target.kind.as_deref().unwrap_or(&record.event.category);
            texts(
                object.out,
                &[
                    ("uid", target.id.as_deref()),
                    ("name", target.name.as_deref()),
                    ("type", Some(kind)),
                ],
            )?;
            Ok(!target.is_empty())
        }
        OcsfClass::WebResourcesActivity => {
            object.key("web_resources");
            object.out.push(b'[');
            if !target.is_empty() {
                resource(object.out, target)?;
            }
            object.out.push(b']');
            Ok(!target.is_empty())
        }
        OcsfClass::ApiActivity | OcsfClass::DetectionFinding | OcsfClass::UserAccessManagement
            if !target.is_empty() && target.kind.as_deref() != Some("user") =>
        {
            object.key("resources");
            object.out.push(b'[');
            resource(object.out, target)?;
            object.out.push(b']');
            extra(object, record, mapping)?;
            Ok(true)
        }
        OcsfClass::FileHostingActivity => {
            object.key("file");
            let name = target.name.as_deref().or(target.id.as_deref());
            let mut file = Object::open(object.out);
            file.key("name");
            file.text(name.unwrap_or(""))?;
            file.key("type_id");
            file.value(&u8::from(name.is_some()))?;
            file.optional_text("uid", target.id.as_deref())?;
            file.close();
            Ok(!target.is_empty())
        }
        _ => {
            extra(object, record, mapping)?;
            Ok(false)
        }
    }
}

/// The attributes a class requires that are not a record part: the API operation, the
/// finding's identity, the privileges, the e-mail's direction, the application.
fn extra(
    object: &mut Object<'_>,
    record: &SecurityRecord,
    mapping: &FormMapping,
) -> serde_json::Result<()> {
    match mapping.ocsf_class {
        OcsfClass::ApiActivity => {
            object.key("api");
            texts(object.out, &[("operation", Some(&record.event.name))])?;
        }
        OcsfClass::DetectionFinding => {
            object.key("finding_info");
            let mut info = Object::open(object.out);
            info.key("uid");
            uuid(info.out, &record.id);
            info.key("title");
            info.text(&record.message)?;
            info.key("types");
            text_array(info.out, [record.event.name.as_ref()])?;
            info.close();
        }
        OcsfClass::UserAccessManagement => {
            object.key("privileges");
            let roles = ["role", "roles"]
                .iter()
                .filter_map(|name| record.fields.iter().find(|(n, _)| n == name))
                .map(|(_, value)| match value {
                    FieldValue::Str(text) => text.as_str(),
                    _ => "",
                })
                .filter(|text| !text.is_empty());
            text_array(object.out, roles)?;
        }
        OcsfClass::EmailActivity => {
            object.key("email");
            object.out.extend_from_slice(b"{}");
            object.key("direction_id");
            object.value(&2)?;
            object.key("direction");
            object.text("Outbound")?;
        }
        OcsfClass::ApplicationLifecycle => {
            object.key("app");
            texts(
                object.out,
                &[
                    ("name", record.service.name.as_deref()),
                    ("version", record.service.version.as_deref()),
                ],
            )?;
        }
        _ => {}
    }
    Ok(())
}

fn resource(out: &mut Vec<u8>, target: &Target) -> serde_json::Result<()> {
    texts(
        out,
        &[
            ("uid", target.id.as_deref()),
            ("name", target.name.as_deref()),
            ("type", target.kind.as_deref()),
        ],
    )
}

fn target_texts(out: &mut Vec<u8>, target: &Target) -> serde_json::Result<()> {
    texts(
        out,
        &[
            ("kind", target.kind.as_deref()),
            ("id", target.id.as_deref()),
            ("name", target.name.as_deref()),
        ],
    )
}

fn user_from_actor(out: &mut Vec<u8>, record: &SecurityRecord) -> serde_json::Result<()> {
    let actor = &record.actor;
    let mut object = Object::open(out);
    object.optional_text("uid", actor.id.as_deref())?;
    object.optional_text("name", actor.name.as_deref())?;
    object.optional_text("email_addr", actor.email.as_deref())?;
    object.optional_text("uid_alt", actor.anonymous_id.as_deref())?;
    if let Some(kind) = actor.kind {
        // OCSF's user types: 1 User, 3 System, 99 Other (named in `type`).
        let (id, name) = match kind.as_str() {
            "user" => (1, "User"),
            "system" => (3, "System"),
            other => (99, other),
        };
        object.key("type_id");
        object.value(&id)?;
        object.key("type");
        object.text(name)?;
    }
    if let Some(roles) = &actor.roles {
        object.key("groups");
        object.out.push(b'[');
        for (at, role) in roles.iter().enumerate() {
            if at > 0 {
                object.out.push(b',');
            }
            texts(object.out, &[("name", Some(role))])?;
        }
        object.out.push(b']');
    }
    object.close();
    Ok(())
}

fn user_from_target(out: &mut Vec<u8>, target: &Target) -> serde_json::Result<()> {
    texts(
        out,
        &[
            ("uid", target.id.as_deref()),
            ("name", target.name.as_deref()),
        ],
    )
}

fn src_endpoint(out: &mut Vec<u8>, record: &SecurityRecord) -> serde_json::Result<()> {
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
            object.key("location");
            let mut part = Object::open(object.out);
            part.optional_text("country", geo.country.as_deref())?;
            part.optional_text("city", geo.city.as_deref())?;
            if let Some((lat, lon)) = location {
                part.key("lat");
                part.value(&lat)?;
                part.key("long");
                part.value(&lon)?;
            }
            part.close();
        }
        if let Some(asn) = geo.asn {
            object.key("autonomous_system");
            let mut part = Object::open(object.out);
            part.key("number");
            part.value(&asn)?;
            part.close();
        }
    }
    object.close();
    Ok(())
}

fn severity_name(id: u8) -> &'static str {
    match id {
        1 => "Informational",
        2 => "Low",
        3 => "Medium",
        4 => "High",
        5 => "Critical",
        6 => "Fatal",
        _ => "Unknown",
    }
}
