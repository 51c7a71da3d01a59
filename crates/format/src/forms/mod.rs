//! The forms a record is written in: `native` (schema v1), `ecs` (the Elastic Common Schema)
//! and `ocsf` (the Open Cybersecurity Schema Framework 1.5), and how each catalog name maps to
//! ECS's categories and OCSF's classes.
//!
//! The file, stdout, syslog and HTTP sinks take a form each; the worker encodes each record once
//! in every form a sink wants. The hash chain seals the line as it is written, in its form, and
//! `verify` reads all three ([`read_view`]).
//!
//! ```
//! use tracing_security_events_format::forms::{mapping_of, OcsfClass, OutputForm};
//!
//! assert_eq!("ocsf".parse(), Ok(OutputForm::Ocsf));
//! let mapping = mapping_of("authentication.failed", "authentication");
//! assert_eq!(mapping.ocsf_class, OcsfClass::Authentication);
//! assert_eq!(mapping.type_uid(), 300201);
//! assert_eq!(mapping.ecs_category, ["authentication"]);
//! ```
//!
//! # Where the record's parts go
//!
//! | record | ECS | OCSF |
//! |---|---|---|
//! | `id`, `seq` | `event.id`, `event.sequence` | `metadata.uid`, `metadata.sequence` |
//! | `timestamp` | `@timestamp` (microseconds) | `time` (milliseconds) |
//! | `event.name` | `event.action` | `metadata.event_code` |
//! | `event.outcome`, `severity`, `reason` | `event.outcome`, `event.severity` (1, 3, 4, 5), `event.reason` | `status_id`/`status`, `severity_id`/`severity`, `status_detail` |
//! | `actor` | `user.id/name/email/roles` | `actor.user` (`uid`, `name`, `email_addr`, `type_id`, `groups`), and `user` unless the target is a user |
//! | `target` | `user.target.*` when its kind is `user` | `user` (a user), `entity` (Entity Management), `web_resources`, `resources`, `file` |
//! | `tenant` | `organization.id/name` | `metadata.tenant_uid` (`unmapped.tenant_name`) |
//! | `session.id` | `security_event.session.id` | `actor.session.uid` |
//! | `client` | `source.ip/port/geo/as` | `src_endpoint.ip/port/location/autonomous_system` |
//! | `user_agent` | `user_agent.original/name/version/os.name/device.name` | `http_request.user_agent` (the parsed parts in `unmapped.user_agent`) |
//! | `request` | `http.request.id/method`, `url.path` | `http_request.uid/http_method/url.path`, `metadata.correlation_uid` |
//! | `trace` | `trace.id`, `span.id` | `unmapped.trace` |
//! | `service` | `service.name/version/node.name` | `metadata.product.name/version`, `unmapped.service_instance` |
//! | `fields`, `changes`, category, OWASP name | `security_event.*` (a custom field set) | `unmapped.*` |
//! | the hash chain's seal | `integrity` | `unmapped.integrity` |
//!
//! A part a class has no attribute for (the client of a Detection Finding) goes to `unmapped`.
//! Names of a service's own catalog map by category (and by the last word of the name:
//! `created`, `deleted`, ...), or as [`FormMappings::with_mapping`] says.
//!
//! # The mapping of every built-in name
//!
//! | name | OCSF class | activity | `type_uid` | ECS `event.category` | ECS `event.type` |
//! |---|---|---|---|---|---|
//! | `authentication.succeeded` | Authentication (3002) | 1 Logon | 300201 | authentication | start |
//! | `authentication.failed` | Authentication (3002) | 1 Logon | 300201 | authentication | start |
//! | `authentication.locked_out` | Account Change (3001) | 9 Lock | 300109 | iam | user, change |
//! | `authentication.failed_max` | Detection Finding (2004) | 1 Create | 200401 | authentication, intrusion_detection | info |
//! | `authentication.new_device` | Detection Finding (2004) | 1 Create | 200401 | authentication, intrusion_detection | info |
//! | `authentication.impossible_travel` | Detection Finding (2004) | 1 Create | 200401 | authentication, intrusion_detection | info |
//! | `authentication.otp_verified` | Authentication (3002) | 6 Preauth | 300206 | authentication | info |
//! | `authentication.token_created` | Authentication (3002) | 3 Authentication Ticket | 300203 | authentication | info |
//! | `authentication.token_revoked` | Authentication (3002) | 99 Token Revoke | 300299 | authentication | end |
//! | `authentication.token_reused` | Authentication (3002) | 99 Token Reuse | 300299 | authentication | info |
//! | `session.created` | Authentication (3002) | 1 Logon | 300201 | authentication, session | start |
//! | `session.renewed` | Authentication (3002) | 99 Session Renew | 300299 | authentication, session | info |
//! | `session.expired` | Authentication (3002) | 2 Logoff | 300202 | authentication, session | end |
//! | `session.terminated` | Authentication (3002) | 2 Logoff | 300202 | authentication, session | end |
//! | `session.signed_out` | Authentication (3002) | 2 Logoff | 300202 | authentication, session | end |
//! | `session.used_after_expiry` | Authentication (3002) | 99 Expired Session Use | 300299 | authentication, session | info |
//! | `user.signed_up` | Account Change (3001) | 1 Create | 300101 | iam | user, creation |
//! | `user.created` | Account Change (3001) | 1 Create | 300101 | iam | user, creation |
//! | `user.invited` | Account Change (3001) | 1 Create | 300101 | iam | user, creation |
//! | `user.updated` | Account Change (3001) | 99 Update | 300199 | iam | user, change |
//! | `user.deleted` | Account Change (3001) | 6 Delete | 300106 | iam | user, deletion |
//! | `user.deletion_scheduled` | Account Change (3001) | 99 Deletion Scheduled | 300199 | iam | user, change |
//! | `user.deletion_unscheduled` | Account Change (3001) | 99 Deletion Unscheduled | 300199 | iam | user, change |
//! | `user.disabled` | Account Change (3001) | 5 Disable | 300105 | iam | user, change |
//! | `user.reenabled` | Account Change (3001) | 2 Enable | 300102 | iam | user, change |
//! | `user.archived` | Account Change (3001) | 99 Archive | 300199 | iam | user, change |
//! | `user.anonymous_promoted` | Account Change (3001) | 99 Anonymous Promote | 300199 | iam | user, change |
//! | `user.role_changed` | User Access Management (3005) | 1 Assign Privileges | 300501 | iam | user, change |
//! | `user.password_reset_requested` | Account Change (3001) | 4 Password Reset | 300104 | iam | user, change |
//! | `user.password_changed` | Account Change (3001) | 3 Password Change | 300103 | iam | user, change |
//! | `user.password_change_failed` | Account Change (3001) | 3 Password Change | 300103 | iam | user, change |
//! | `user.email_verified` | Account Change (3001) | 99 Email Verify | 300199 | iam | user, change |
//! | `user.mfa_enabled` | Account Change (3001) | 10 MFA Factor Enable | 300110 | iam | user, change |
//! | `user.mfa_disabled` | Account Change (3001) | 11 MFA Factor Disable | 300111 | iam | user, change |
//! | `identity.email_added` | Account Change (3001) | 99 Email Add | 300199 | iam | user, change |
//! | `identity.email_removed` | Account Change (3001) | 99 Email Remove | 300199 | iam | user, change |
//! | `identity.email_updated` | Account Change (3001) | 99 Email Update | 300199 | iam | user, change |
//! | `identity.phone_added` | Account Change (3001) | 99 Phone Add | 300199 | iam | user, change |
//! | `identity.phone_removed` | Account Change (3001) | 99 Phone Remove | 300199 | iam | user, change |
//! | `identity.phone_updated` | Account Change (3001) | 99 Phone Update | 300199 | iam | user, change |
//! | `identity.username_added` | Account Change (3001) | 99 Username Add | 300199 | iam | user, change |
//! | `identity.username_removed` | Account Change (3001) | 99 Username Remove | 300199 | iam | user, change |
//! | `identity.username_updated` | Account Change (3001) | 99 Username Update | 300199 | iam | user, change |
//! | `identity.oauth_connected` | Account Change (3001) | 99 OAuth Connect | 300199 | iam | user, change |
//! | `identity.oauth_disconnected` | Account Change (3001) | 99 OAuth Disconnect | 300199 | iam | user, change |
//! | `identity.biometric_enabled` | Account Change (3001) | 10 MFA Factor Enable | 300110 | iam | user, change |
//! | `identity.biometric_disabled` | Account Change (3001) | 11 MFA Factor Disable | 300111 | iam | user, change |
//! | `authorization.denied` | API Activity (6003) | 99 Access Denied | 600399 | api | denied |
//! | `authorization.admin_action` | API Activity (6003) | 99 Admin Action | 600399 | api | admin |
//! | `role.created` | Entity Management (3004) | 1 Create | 300401 | iam | group, creation |
//! | `role.updated` | Entity Management (3004) | 3 Update | 300403 | iam | group, change |
//! | `role.deleted` | Entity Management (3004) | 4 Delete | 300404 | iam | group, deletion |
//! | `api_key.created` | Entity Management (3004) | 1 Create | 300401 | iam | creation |
//! | `api_key.updated` | Entity Management (3004) | 3 Update | 300403 | iam | change |
//! | `api_key.deleted` | Entity Management (3004) | 4 Delete | 300404 | iam | deletion |
//! | `api_key.rotated` | Entity Management (3004) | 3 Update | 300403 | iam | change |
//! | `webhook_endpoint.created` | Entity Management (3004) | 1 Create | 300401 | configuration | creation |
//! | `webhook_endpoint.updated` | Entity Management (3004) | 3 Update | 300403 | configuration | change |
//! | `webhook_endpoint.deleted` | Entity Management (3004) | 4 Delete | 300404 | configuration | deletion |
//! | `integration.created` | Entity Management (3004) | 1 Create | 300401 | configuration | creation |
//! | `integration.updated` | Entity Management (3004) | 3 Update | 300403 | configuration | change |
//! | `integration.deleted` | Entity Management (3004) | 4 Delete | 300404 | configuration | deletion |
//! | `data.exported` | Web Resources Activity (6001) | 7 Export | 600107 | api | access |
//! | `data.sensitive_read` | Web Resources Activity (6001) | 2 Read | 600102 | api | access |
//! | `data.sensitive_created` | Web Resources Activity (6001) | 1 Create | 600101 | api | creation |
//! | `data.sensitive_updated` | Web Resources Activity (6001) | 3 Update | 600103 | api | change |
//! | `data.sensitive_deleted` | Web Resources Activity (6001) | 4 Delete | 600104 | api | deletion |
//! | `upload.completed` | File Hosting Activity (6006) | 1 Upload | 600601 | file | creation |
//! | `upload.stored` | File Hosting Activity (6006) | 1 Upload | 600601 | file | creation |
//! | `upload.validation_failed` | File Hosting Activity (6006) | 1 Upload | 600601 | file | info |
//! | `upload.deleted` | File Hosting Activity (6006) | 4 Delete | 600604 | file | deletion |
//! | `message.email_sent` | Email Activity (4009) | 1 Send | 400901 | email | info |
//! | `message.sms_sent` | API Activity (6003) | 99 SMS Send | 600399 | api | info |
//! | `config.updated` | Entity Management (3004) | 3 Update | 300403 | configuration | change |
//! | `input.validation_failed` | Detection Finding (2004) | 1 Create | 200401 | intrusion_detection | info |
//! | `rate_limit.exceeded` | Detection Finding (2004) | 1 Create | 200401 | intrusion_detection | info |
//! | `malicious.attack_tool` | Detection Finding (2004) | 1 Create | 200401 | intrusion_detection | info |
//! | `malicious.cors` | Detection Finding (2004) | 1 Create | 200401 | intrusion_detection | info |
//! | `malicious.direct_reference` | Detection Finding (2004) | 1 Create | 200401 | intrusion_detection | info |
//! | `malicious.excess_404` | Detection Finding (2004) | 1 Create | 200401 | intrusion_detection | info |
//! | `malicious.extraneous_input` | Detection Finding (2004) | 1 Create | 200401 | intrusion_detection | info |
//! | `sequence.failed` | Detection Finding (2004) | 1 Create | 200401 | intrusion_detection | info |
//! | `crypto.decrypt_failed` | Application Error (6008) | 1 General Error | 600801 | process | info |
//! | `crypto.encrypt_failed` | Application Error (6008) | 1 General Error | 600801 | process | info |
//! | `system.startup` | Application Lifecycle (6002) | 3 Start | 600203 | process | start |
//! | `system.shutdown` | Application Lifecycle (6002) | 4 Stop | 600204 | process | end |
//! | `system.restart` | Application Lifecycle (6002) | 5 Restart | 600205 | process | start |
//! | `system.crash` | Application Error (6008) | 1 General Error | 600801 | process | end |
//! | `audit.enabled` | Event Log Activity (1008) | 9 Enable | 100809 | configuration | change |
//! | `audit.disabled` | Event Log Activity (1008) | 10 Disable | 100810 | configuration | change |
//! | `audit.config_changed` | Event Log Activity (1008) | 99 Configuration Change | 100899 | configuration | change |
//! | `audit.events_dropped` | Event Log Activity (1008) | 99 Events Drop | 100899 | file | info |
//! | `audit.log_viewed` | Event Log Activity (1008) | 99 Read | 100899 | api | access |
//! | `audit.log_exported` | Event Log Activity (1008) | 3 Export | 100803 | api | access |
//! | `audit.notification_failed` | Event Log Activity (1008) | 99 Notification Failure | 100899 | api | info |
//! | `audit.checkpoint` | Event Log Activity (1008) | 99 Checkpoint | 100899 | file | info |
//! | `audit.files_removed` | Event Log Activity (1008) | 2 Delete | 100802 | file | deletion |
//! | `audit.records_removed` | Event Log Activity (1008) | 2 Delete | 100802 | database | change |
//! | `audit.key_rotated` | Event Log Activity (1008) | 99 Key Rotate | 100899 | configuration | change |

mod ecs;
mod mapping;
mod ocsf;
mod read;

use std::fmt;
use std::str::FromStr;

use crate::event::Severity;
use crate::record::{encode_record, SecurityRecord};

pub use ecs::{encode_ecs, CUSTOM as ECS_CUSTOM_FIELDS};
pub use mapping::{mapping_of, FormMapping, FormMappings, OcsfClass, OTHER_ACTIVITY};
pub use ocsf::{encode_ocsf, OCSF_VERSION};
pub use read::{form_of, read_view};

/// The form a sink writes records in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[cfg_attr(feature = "config", derive(serde::Deserialize, schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum OutputForm {
    /// The record schema v1.
    #[default]
    Native,
    /// The Elastic Common Schema.
    Ecs,
    /// OCSF 1.5.
    Ocsf,
}

impl OutputForm {
    /// Every form.
    pub const ALL: [OutputForm; 3] = [OutputForm::Native, OutputForm::Ecs, OutputForm::Ocsf];

    /// The name the configuration uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            OutputForm::Native => "native",
            OutputForm::Ecs => "ecs",
            OutputForm::Ocsf => "ocsf",
        }
    }

    /// How many objects the hash chain's seal is nested in: the top level (1) for native and
    /// ECS, `unmapped` (2) for OCSF.
    pub const fn seal_depth(self) -> usize {
        match self {
            OutputForm::Ocsf => 2,
            _ => 1,
        }
    }

    /// Appends `record` in this form as compact JSON, without a line feed.
    pub fn encode(
        self,
        out: &mut Vec<u8>,
        record: &SecurityRecord,
        mappings: &FormMappings,
    ) -> serde_json::Result<()> {
        match self {
            OutputForm::Native => encode_record(out, record),
            OutputForm::Ecs => {
                let mapping = mappings.of(&record.event.name, &record.event.category);
                encode_ecs(out, record, &mapping)
            }
            OutputForm::Ocsf => {
                let mapping = mappings.of(&record.event.name, &record.event.category);
                encode_ocsf(out, record, &mapping)
            }
        }
    }
}

impl fmt::Display for OutputForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A form name that is none of `native`, `ecs`, `ocsf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownForm(pub String);

impl fmt::Display for UnknownForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown form {:?} (native, ecs or ocsf)", self.0)
    }
}

impl std::error::Error for UnknownForm {}

impl FromStr for OutputForm {
    type Err = UnknownForm;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        OutputForm::ALL
            .into_iter()
            .find(|form| form.as_str() == text)
            .ok_or_else(|| UnknownForm(text.to_owned()))
    }
}

/// OCSF's `severity_id` for a catalog severity (also ECS's `event.severity`): 1 Informational,
/// 3 Medium, 4 High, 5 Critical.
pub const fn severity_id(severity: Severity) -> u8 {
    match severity {
        Severity::Debug | Severity::Info => 1,
        Severity::Warn => 3,
        Severity::Error => 4,
        Severity::Critical => 5,
    }
}
