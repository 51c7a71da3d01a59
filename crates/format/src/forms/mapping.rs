//! Which OCSF class and activity, and which ECS categories and types, each event is: a row for
//! every built-in name, and a rule by category (and by the name's last word) for names of a
//! service's own catalog, which [`FormMappings::with_mapping`] can override.

use std::collections::HashMap;

/// An OCSF 1.5 event class this crate writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OcsfClass {
    /// Event Log Activity (1008): the log's own events.
    EventLogActivity,
    /// Detection Finding (2004): what a detection or the application found.
    DetectionFinding,
    /// Account Change (3001).
    AccountChange,
    /// Authentication (3002).
    Authentication,
    /// User Access Management (3005).
    UserAccessManagement,
    /// Entity Management (3004): roles, keys, endpoints, integrations, settings.
    EntityManagement,
    /// Email Activity (4009).
    EmailActivity,
    /// Web Resources Activity (6001): the application's data.
    WebResourcesActivity,
    /// Application Lifecycle (6002).
    ApplicationLifecycle,
    /// API Activity (6003).
    ApiActivity,
    /// File Hosting Activity (6006): uploads.
    FileHostingActivity,
    /// Application Error (6008).
    ApplicationError,
}

impl OcsfClass {
    /// Every class, for the documentation's table and the tests.
    pub const ALL: [OcsfClass; 12] = [
        OcsfClass::EventLogActivity,
        OcsfClass::DetectionFinding,
        OcsfClass::AccountChange,
        OcsfClass::Authentication,
        OcsfClass::UserAccessManagement,
        OcsfClass::EntityManagement,
        OcsfClass::EmailActivity,
        OcsfClass::WebResourcesActivity,
        OcsfClass::ApplicationLifecycle,
        OcsfClass::ApiActivity,
        OcsfClass::FileHostingActivity,
        OcsfClass::ApplicationError,
    ];

    /// `class_uid`.
    pub const fn uid(self) -> u32 {
        match self {
            OcsfClass::EventLogActivity => 1008,
            OcsfClass::DetectionFinding => 2004,
            OcsfClass::AccountChange => 3001,
            OcsfClass::Authentication => 3002,
            OcsfClass::EntityManagement => 3004,
            OcsfClass::UserAccessManagement => 3005,
            OcsfClass::EmailActivity => 4009,
            OcsfClass::WebResourcesActivity => 6001,
            OcsfClass::ApplicationLifecycle => 6002,
            OcsfClass::ApiActivity => 6003,
            OcsfClass::FileHostingActivity => 6006,
            OcsfClass::ApplicationError => 6008,
        }
    }

    /// `class_name`.
    pub const fn name(self) -> &'static str {
        match self {
            OcsfClass::EventLogActivity => "Event Log Activity",
            OcsfClass::DetectionFinding => "Detection Finding",
            OcsfClass::AccountChange => "Account Change",
            OcsfClass::Authentication => "Authentication",
            OcsfClass::EntityManagement => "Entity Management",
            OcsfClass::UserAccessManagement => "User Access Management",
            OcsfClass::EmailActivity => "Email Activity",
            OcsfClass::WebResourcesActivity => "Web Resources Activity",
            OcsfClass::ApplicationLifecycle => "Application Lifecycle",
            OcsfClass::ApiActivity => "API Activity",
            OcsfClass::FileHostingActivity => "File Hosting Activity",
            OcsfClass::ApplicationError => "Application Error",
        }
    }

    /// `category_uid` and `category_name`.
    pub const fn category(self) -> (u32, &'static str) {
        match self.uid() / 1000 {
            1 => (1, "System Activity"),
            2 => (2, "Findings"),
            3 => (3, "Identity & Access Management"),
            4 => (4, "Network Activity"),
            _ => (6, "Application Activity"),
        }
    }

    /// The name OCSF gives `activity_id` in this class; `None` for an id it does not define
    /// (the caller then writes its own name, as OCSF asks for 99, Other).
    pub fn activity_name(self, id: u8) -> Option<&'static str> {
        let names: &[(u8, &str)] = match self {
            OcsfClass::EventLogActivity => &[
                (1, "Clear"),
                (2, "Delete"),
                (3, "Export"),
                (4, "Archive"),
                (5, "Rotate"),
                (6, "Start"),
                (7, "Stop"),
                (8, "Restart"),
                (9, "Enable"),
                (10, "Disable"),
            ],
            OcsfClass::DetectionFinding => &[(1, "Create"), (2, "Update"), (3, "Close")],
            OcsfClass::AccountChange => &[
                (1, "Create"),
                (2, "Enable"),
                (3, "Password Change"),
                (4, "Password Reset"),
                (5, "Disable"),
                (6, "Delete"),
                (7, "Attach Policy"),
                (8, "Detach Policy"),
                (9, "Lock"),
                (10, "MFA Factor Enable"),
                (11, "MFA Factor Disable"),
                (12, "Unlock"),
            ],
            OcsfClass::Authentication => &[
                (1, "Logon"),
                (2, "Logoff"),
                (3, "Authentication Ticket"),
                (4, "Service Ticket Request"),
                (5, "Service Ticket Renew"),
                (6, "Preauth"),
            ],
            OcsfClass::EntityManagement => &[
                (1, "Create"),
                (2, "Read"),
                (3, "Update"),
                (4, "Delete"),
                (5, "Move"),
                (6, "Enroll"),
                (7, "Unenroll"),
                (8, "Enable"),
                (9, "Disable"),
                (10, "Activate"),
                (11, "Deactivate"),
                (12, "Suspend"),
                (13, "Resume"),
            ],
            OcsfClass::UserAccessManagement => {
                &[(1, "Assign Privileges"), (2, "Revoke Privileges")]
            }
            OcsfClass::EmailActivity => &[(1, "Send"), (2, "Receive"), (3, "Scan"), (4, "Trace")],
            OcsfClass::WebResourcesActivity => &[
                (1, "Create"),
                (2, "Read"),
                (3, "Update"),
                (4, "Delete"),
                (5, "Search"),
                (6, "Import"),
                (7, "Export"),
                (8, "Share"),
            ],
            OcsfClass::ApplicationLifecycle => &[
                (1, "Install"),
                (2, "Remove"),
                (3, "Start"),
                (4, "Stop"),
                (5, "Restart"),
                (6, "Enable"),
                (7, "Disable"),
                (8, "Update"),
            ],
            OcsfClass::ApiActivity => &[(1, "Create"), (2, "Read"), (3, "Update"), (4, "Delete")],
            OcsfClass::FileHostingActivity => {
                &[(1, "Upload"), (2, "Download"), (3, "Update"), (4, "Delete")]
            }
            OcsfClass::ApplicationError => &[(1, "General Error"), (2, "Translation Error")],
        };
        names.iter().find(|(n, _)| *n == id).map(|(_, name)| *name)
    }
}

/// `activity_id` 99: an activity the class does not name.
pub const OTHER_ACTIVITY: u8 = 99;

/// How one event name is written in the OCSF and ECS forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FormMapping {
    /// The OCSF class.
    pub ocsf_class: OcsfClass,
    /// `activity_id`; [`OTHER_ACTIVITY`] where the class has no fitting activity.
    pub ocsf_activity: u8,
    /// `activity_name` for [`OTHER_ACTIVITY`] (the class's own name otherwise).
    pub other_activity: &'static str,
    /// ECS `event.category` values.
    pub ecs_category: &'static [&'static str],
    /// ECS `event.type` values.
    pub ecs_type: &'static [&'static str],
}

impl FormMapping {
    /// `class` with `activity` (99 with `name` for one the class does not name), and the ECS
    /// categories and types.
    pub const fn new(
        class: OcsfClass,
        activity: u8,
        name: &'static str,
        ecs_category: &'static [&'static str],
        ecs_type: &'static [&'static str],
    ) -> Self {
        FormMapping {
            ocsf_class: class,
            ocsf_activity: activity,
            other_activity: name,
            ecs_category,
            ecs_type,
        }
    }

    /// `activity_name`.
    pub fn activity_name(&self) -> &'static str {
        self.ocsf_class
            .activity_name(self.ocsf_activity)
            .unwrap_or(self.other_activity)
    }

    /// `type_uid` = `class_uid` * 100 + `activity_id`.
    pub fn type_uid(&self) -> u32 {
        self.ocsf_class.uid() * 100 + u32::from(self.ocsf_activity)
    }

    /// ECS `event.kind`: `alert` for findings, `event` for the rest.
    pub fn ecs_kind(&self) -> &'static str {
        if self.ocsf_class == OcsfClass::DetectionFinding {
            "alert"
        } else {
            "event"
        }
    }
}

/// The mapping of `name` (of category `category`): its built-in row, or the rule for its
/// category.
pub fn mapping_of(name: &str, category: &str) -> FormMapping {
    builtin(name).unwrap_or_else(|| by_category(name, category))
}

/// Names the built-in catalog does not know, mapped by overrides first, then by category.
#[derive(Debug, Clone, Default)]
pub struct FormMappings {
    overrides: HashMap<String, FormMapping>,
}

impl FormMappings {
    /// The built-in rows and the rules by category, no override.
    pub fn new() -> Self {
        FormMappings::default()
    }

    /// Maps the event `name` (of a service's own catalog) as `mapping`.
    pub fn with_mapping(mut self, name: impl Into<String>, mapping: FormMapping) -> Self {
        self.overrides.insert(name.into(), mapping);
        self
    }

    /// The mapping of `name`: an override, its built-in row, or the rule for its category.
    pub fn of(&self, name: &str, category: &str) -> FormMapping {
        if !self.overrides.is_empty() {
            if let Some(mapping) = self.overrides.get(name) {
                return *mapping;
            }
        }
        mapping_of(name, category)
    }
}

use OcsfClass::{
    AccountChange, ApiActivity, ApplicationError, ApplicationLifecycle, Authentication,
    DetectionFinding, EmailActivity, EntityManagement, EventLogActivity, FileHostingActivity,
    UserAccessManagement, WebResourcesActivity,
};

const AUTHN: &[&str] = &["authentication"];
const SESSION: &[&str] = &["authentication", "session"];
const IAM: &[&str] = &["iam"];
const API: &[&str] = &["api"];
const CONFIG: &[&str] = &["configuration"];
const FILE: &[&str] = &["file"];
const DATABASE: &[&str] = &["database"];
const EMAIL: &[&str] = &["email"];
const PROCESS: &[&str] = &["process"];
const INTRUSION: &[&str] = &["intrusion_detection"];
const AUTHN_INTRUSION: &[&str] = &["authentication", "intrusion_detection"];

const START: &[&str] = &["start"];
const END: &[&str] = &["end"];
const INFO: &[&str] = &["info"];
const ACCESS: &[&str] = &["access"];
const CHANGE: &[&str] = &["change"];
const CREATION: &[&str] = &["creation"];
const DELETION: &[&str] = &["deletion"];
const DENIED: &[&str] = &["denied"];
const ADMIN: &[&str] = &["admin"];
const USER_CREATION: &[&str] = &["user", "creation"];
const USER_CHANGE: &[&str] = &["user", "change"];
const USER_DELETION: &[&str] = &["user", "deletion"];
const GROUP_CREATION: &[&str] = &["group", "creation"];
const GROUP_CHANGE: &[&str] = &["group", "change"];
const GROUP_DELETION: &[&str] = &["group", "deletion"];

/// The row of a built-in name.
fn builtin(name: &str) -> Option<FormMapping> {
    let m = FormMapping::new;
    Some(match name {
        "authentication.succeeded" => m(Authentication, 1, "", AUTHN, START),
        "authentication.failed" => m(Authentication, 1, "", AUTHN, START),
        "authentication.locked_out" => m(AccountChange, 9, "", IAM, USER_CHANGE),
        "authentication.failed_max" => m(DetectionFinding, 1, "", AUTHN_INTRUSION, INFO),
        "authentication.new_device" => m(DetectionFinding, 1, "", AUTHN_INTRUSION, INFO),
        "authentication.impossible_travel" => m(DetectionFinding, 1, "", AUTHN_INTRUSION, INFO),
        "authentication.otp_verified" => m(Authentication, 6, "", AUTHN, INFO),
        "authentication.token_created" => m(Authentication, 3, "", AUTHN, INFO),
        "authentication.token_revoked" => m(Authentication, 99, "Token Revoke", AUTHN, END),
        "authentication.token_reused" => m(Authentication, 99, "Token Reuse", AUTHN, INFO),
        "session.created" => m(Authentication, 1, "", SESSION, START),
        "session.renewed" => m(Authentication, 99, "Session Renew", SESSION, INFO),
        "session.expired" => m(Authentication, 2, "", SESSION, END),
        "session.terminated" => m(Authentication, 2, "", SESSION, END),
        "session.signed_out" => m(Authentication, 2, "", SESSION, END),
        "session.used_after_expiry" => m(Authentication, 99, "Expired Session Use", SESSION, INFO),
        "user.signed_up" | "user.created" | "user.invited" => {
            m(AccountChange, 1, "", IAM, USER_CREATION)
        }
        "user.updated" => m(AccountChange, 99, "Update", IAM, USER_CHANGE),
        "user.deleted" => m(AccountChange, 6, "", IAM, USER_DELETION),
        "user.deletion_scheduled" => m(AccountChange, 99, "Deletion Scheduled", IAM, USER_CHANGE),
        "user.deletion_unscheduled" => {
            m(AccountChange, 99, "Deletion Unscheduled", IAM, USER_CHANGE)
        }
        "user.disabled" => m(AccountChange, 5, "", IAM, USER_CHANGE),
        "user.reenabled" => m(AccountChange, 2, "", IAM, USER_CHANGE),
        "user.archived" => m(AccountChange, 99, "Archive", IAM, USER_CHANGE),
        "user.anonymous_promoted" => m(AccountChange, 99, "Anonymous Promote", IAM, USER_CHANGE),
        "user.role_changed" => m(UserAccessManagement, 1, "", IAM, USER_CHANGE),
        "user.password_reset_requested" => m(AccountChange, 4, "", IAM, USER_CHANGE),
        "user.password_changed" | "user.password_change_failed" => {
            m(AccountChange, 3, "", IAM, USER_CHANGE)
        }
        "user.email_verified" => m(AccountChange, 99, "Email Verify", IAM, USER_CHANGE),
        "user.mfa_enabled" | "identity.biometric_enabled" => {
            m(AccountChange, 10, "", IAM, USER_CHANGE)
        }
        "user.mfa_disabled" | "identity.biometric_disabled" => {
            m(AccountChange, 11, "", IAM, USER_CHANGE)
        }
        "identity.email_added" => m(AccountChange, 99, "Email Add", IAM, USER_CHANGE),
        "identity.email_removed" => m(AccountChange, 99, "Email Remove", IAM, USER_CHANGE),
        "identity.email_updated" => m(AccountChange, 99, "Email Update", IAM, USER_CHANGE),
        "identity.phone_added" => m(AccountChange, 99, "Phone Add", IAM, USER_CHANGE),
        "identity.phone_removed" => m(AccountChange, 99, "Phone Remove", IAM, USER_CHANGE),
        "identity.phone_updated" => m(AccountChange, 99, "Phone Update", IAM, USER_CHANGE),
        "identity.username_added" => m(AccountChange, 99, "Username Add", IAM, USER_CHANGE),
        "identity.username_removed" => m(AccountChange, 99, "Username Remove", IAM, USER_CHANGE),
        "identity.username_updated" => m(AccountChange, 99, "Username Update", IAM, USER_CHANGE),
        "identity.oauth_connected" => m(AccountChange, 99, "OAuth Connect", IAM, USER_CHANGE),
        "identity.oauth_disconnected" => m(AccountChange, 99, "OAuth Disconnect", IAM, USER_CHANGE),
        "authorization.denied" => m(ApiActivity, 99, "Access Denied", API, DENIED),
        "authorization.admin_action" => m(ApiActivity, 99, "Admin Action", API, ADMIN),
        "role.created" => m(EntityManagement, 1, "", IAM, GROUP_CREATION),
        "role.updated" => m(EntityManagement, 3, "", IAM, GROUP_CHANGE),
        "role.deleted" => m(EntityManagement, 4, "", IAM, GROUP_DELETION),
        "api_key.created" => m(EntityManagement, 1, "", IAM, CREATION),
        "api_key.updated" | "api_key.rotated" => m(EntityManagement, 3, "", IAM, CHANGE),
        "api_key.deleted" => m(EntityManagement, 4, "", IAM, DELETION),
        "webhook_endpoint.created" | "integration.created" => {
            m(EntityManagement, 1, "", CONFIG, CREATION)
        }
        "webhook_endpoint.updated" | "integration.updated" => {
            m(EntityManagement, 3, "", CONFIG, CHANGE)
        }
        "webhook_endpoint.deleted" | "integration.deleted" => {
            m(EntityManagement, 4, "", CONFIG, DELETION)
        }
        "data.exported" => m(WebResourcesActivity, 7, "", API, ACCESS),
        "data.sensitive_read" => m(WebResourcesActivity, 2, "", API, ACCESS),
        "data.sensitive_created" => m(WebResourcesActivity, 1, "", API, CREATION),
        "data.sensitive_updated" => m(WebResourcesActivity, 3, "", API, CHANGE),
        "data.sensitive_deleted" => m(WebResourcesActivity, 4, "", API, DELETION),
        "upload.completed" | "upload.stored" => m(FileHostingActivity, 1, "", FILE, CREATION),
        "upload.validation_failed" => m(FileHostingActivity, 1, "", FILE, INFO),
        "upload.deleted" => m(FileHostingActivity, 4, "", FILE, DELETION),
        "message.email_sent" => m(EmailActivity, 1, "", EMAIL, INFO),
        "message.sms_sent" => m(ApiActivity, 99, "SMS Send", API, INFO),
        "config.updated" => m(EntityManagement, 3, "", CONFIG, CHANGE),
        "input.validation_failed"
        | "rate_limit.exceeded"
        | "malicious.attack_tool"
        | "malicious.cors"
        | "malicious.direct_reference"
        | "malicious.excess_404"
        | "malicious.extraneous_input"
        | "sequence.failed" => m(DetectionFinding, 1, "", INTRUSION, INFO),
        "crypto.decrypt_failed" | "crypto.encrypt_failed" => {
            m(ApplicationError, 1, "", PROCESS, INFO)
        }
        "system.startup" => m(ApplicationLifecycle, 3, "", PROCESS, START),
        "system.shutdown" => m(ApplicationLifecycle, 4, "", PROCESS, END),
        "system.restart" => m(ApplicationLifecycle, 5, "", PROCESS, START),
        "system.crash" => m(ApplicationError, 1, "", PROCESS, END),
        "audit.enabled" => m(EventLogActivity, 9, "", CONFIG, CHANGE),
        "audit.disabled" => m(EventLogActivity, 10, "", CONFIG, CHANGE),
        "audit.config_changed" => m(EventLogActivity, 99, "Configuration Change", CONFIG, CHANGE),
        "audit.events_dropped" => m(EventLogActivity, 99, "Events Drop", FILE, INFO),
        "audit.log_viewed" => m(EventLogActivity, 99, "Read", API, ACCESS),
        "audit.log_exported" => m(EventLogActivity, 3, "", API, ACCESS),
        "audit.notification_failed" => m(EventLogActivity, 99, "Notification Failure", API, INFO),
        "audit.checkpoint" => m(EventLogActivity, 99, "Checkpoint", FILE, INFO),
        "audit.files_removed" => m(EventLogActivity, 2, "", FILE, DELETION),
        "audit.records_removed" => m(EventLogActivity, 2, "", DATABASE, CHANGE),
        "audit.key_rotated" => m(EventLogActivity, 99, "Key Rotate", CONFIG, CHANGE),
        _ => return None,
    })
}

/// The rule for a name no row maps: its category's class, its last word's activity.
fn by_category(name: &str, category: &str) -> FormMapping {
    let action = name.rsplit('.').next().unwrap_or(name);
    let verb = Verb::of(action);
    let m = FormMapping::new;
    match category {
        "authentication" | "session" => {
            let ecs = if category == "session" {
                SESSION
            } else {
                AUTHN
            };
            m(Authentication, 99, "Other", ecs, INFO)
        }
        "user" | "identity" => {
            let (activity, ecs_type) = match verb {
                Verb::Create => (1, USER_CREATION),
                Verb::Delete => (6, USER_DELETION),
                Verb::Enable => (2, USER_CHANGE),
                Verb::Disable => (5, USER_CHANGE),
                _ => (99, USER_CHANGE),
            };
            m(AccountChange, activity, "Other", IAM, ecs_type)
        }
        "role" | "api_key" => m(
            EntityManagement,
            verb.entity_activity(),
            "Other",
            IAM,
            verb.ecs_change(),
        ),
        "webhook_endpoint" | "integration" | "config" => m(
            EntityManagement,
            verb.entity_activity(),
            "Other",
            CONFIG,
            verb.ecs_change(),
        ),
        "data" => m(
            WebResourcesActivity,
            verb.crud_activity(),
            "Other",
            API,
            verb.ecs_api(),
        ),
        "upload" => m(FileHostingActivity, 99, "Other", FILE, INFO),
        "message" => m(ApiActivity, 99, "Other", API, INFO),
        "threat" => m(DetectionFinding, 1, "", INTRUSION, INFO),
        "system" => m(ApplicationLifecycle, 99, "Other", PROCESS, INFO),
        "audit" => m(EventLogActivity, 99, "Other", FILE, INFO),
        // A family of the service's own: an action through its API.
        _ => m(
            ApiActivity,
            verb.crud_activity(),
            "Other",
            API,
            verb.ecs_api(),
        ),
    }
}

/// What the last word of a name says was done.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Create,
    Read,
    Update,
    Delete,
    Enable,
    Disable,
    Other,
}

impl Verb {
    fn of(action: &str) -> Verb {
        match action {
            "created" | "added" | "invited" | "signed_up" | "registered" | "issued" => Verb::Create,
            "read" | "viewed" | "listed" | "exported" | "downloaded" => Verb::Read,
            "updated" | "changed" | "modified" | "rotated" | "renamed" => Verb::Update,
            "deleted" | "removed" | "revoked" | "destroyed" => Verb::Delete,
            "enabled" | "reenabled" | "activated" => Verb::Enable,
            "disabled" | "deactivated" | "suspended" => Verb::Disable,
            _ => Verb::Other,
        }
    }

    /// Entity Management's activity.
    fn entity_activity(self) -> u8 {
        match self {
            Verb::Create => 1,
            Verb::Read => 2,
            Verb::Update => 3,
            Verb::Delete => 4,
            Verb::Enable => 8,
            Verb::Disable => 9,
            Verb::Other => OTHER_ACTIVITY,
        }
    }

    /// API Activity's and Web Resources Activity's (create, read, update, delete).
    fn crud_activity(self) -> u8 {
        match self {
            Verb::Create => 1,
            Verb::Read => 2,
            Verb::Update | Verb::Enable | Verb::Disable => 3,
            Verb::Delete => 4,
            Verb::Other => OTHER_ACTIVITY,
        }
    }

    /// ECS `event.type` for categories of changes (`iam`, `configuration`).
    fn ecs_change(self) -> &'static [&'static str] {
        match self {
            Verb::Create => CREATION,
            Verb::Delete => DELETION,
            Verb::Read | Verb::Other => INFO,
            Verb::Update | Verb::Enable | Verb::Disable => CHANGE,
        }
    }

    /// ECS `event.type` for the `api` category.
    fn ecs_api(self) -> &'static [&'static str] {
        match self {
            Verb::Read => ACCESS,
            Verb::Other => INFO,
            other => other.ecs_change(),
        }
    }
}
