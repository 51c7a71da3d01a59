//! The event vocabulary: the built-in [`SecurityEvent`] catalog, its classifications, and the
//! [`security_catalog!`](crate::security_catalog) macro that generates it and a service's own.
//!
//! # The built-in catalog
//!
//! Generated from one table (`src/event/builtin.rs`); `e2e/tests/readme.rs` checks that this copy
//! matches it.
//!
//! | event name | variant | category | severity | outcome | OWASP vocabulary | message template |
//! |---|---|---|---|---|---|---|
//! | `authentication.succeeded` | `LoginSucceeded` | authentication | info | success | `authn_login_success` | {actor} signed in |
//! | `authentication.failed` | `LoginFailed` | authentication | warn | failure | `authn_login_fail` | {actor} failed to sign in |
//! | `authentication.locked_out` | `AccountLockedOut` | authentication | error | failure | `authn_login_lock` | {actor} was locked out after repeated failed sign-ins |
//! | `authentication.failed_max` | `LoginFailedMax` | authentication | error | failure | `authn_login_fail_max` | {count} failed sign-ins within {window} |
//! | `authentication.new_device` | `NewDeviceLogin` | authentication | warn | success | - | {actor} signed in from a new device |
//! | `authentication.impossible_travel` | `ImpossibleTravel` | authentication | error | unknown | `authn_impossible_travel` | {actor} signed in from places too far apart to travel between |
//! | `authentication.otp_verified` | `OtpVerified` | authentication | info | success | - | {actor} verified a one-time password |
//! | `authentication.token_created` | `TokenCreated` | authentication | info | success | `authn_token_created` | a token was issued to {actor} |
//! | `authentication.token_revoked` | `TokenRevoked` | authentication | info | success | `authn_token_revoked` | a token of {actor} was revoked |
//! | `authentication.token_reused` | `TokenReused` | authentication | error | failure | `authn_token_reuse` | a revoked or spent token of {actor} was presented again |
//! | `session.created` | `SessionCreated` | session | info | success | `session_created` | {actor} started a session |
//! | `session.renewed` | `SessionRenewed` | session | info | success | `session_renewed` | {actor} renewed a session |
//! | `session.expired` | `SessionExpired` | session | info | success | `session_expired` | a session of {actor} expired |
//! | `session.terminated` | `SessionTerminated` | session | warn | success | - | a session of {actor} was terminated |
//! | `session.signed_out` | `SignedOut` | session | info | success | - | {actor} signed out |
//! | `session.used_after_expiry` | `SessionUsedAfterExpiry` | session | warn | failure | `session_use_after_expire` | an expired session of {actor} was used |
//! | `user.signed_up` | `UserSignedUp` | user | info | success | - | {actor} signed up |
//! | `user.created` | `UserCreated` | user | info | success | `user_created` | {actor} created user {target} |
//! | `user.invited` | `UserInvited` | user | info | success | - | {actor} invited {target} |
//! | `user.updated` | `UserUpdated` | user | info | success | `user_updated` | {actor} updated user {target} |
//! | `user.deleted` | `UserDeleted` | user | warn | success | `user_deleted` | {actor} deleted user {target} |
//! | `user.deletion_scheduled` | `UserDeletionScheduled` | user | info | success | - | {actor} scheduled the deletion of user {target} |
//! | `user.deletion_unscheduled` | `UserDeletionUnscheduled` | user | info | success | - | {actor} cancelled the deletion of user {target} |
//! | `user.disabled` | `UserDisabled` | user | warn | success | - | {actor} disabled user {target} |
//! | `user.reenabled` | `UserReenabled` | user | info | success | - | {actor} re-enabled user {target} |
//! | `user.archived` | `UserArchived` | user | info | success | `user_archived` | {actor} archived user {target} |
//! | `user.anonymous_promoted` | `AnonymousUserPromoted` | user | info | success | - | anonymous user {actor} became a registered user |
//! | `user.role_changed` | `UserRoleChanged` | user | warn | success | `privilege_permissions_changed` | {actor} changed the roles of {target} |
//! | `user.password_reset_requested` | `PasswordResetRequested` | user | info | success | - | {actor} requested a password reset |
//! | `user.password_changed` | `PasswordChanged` | user | info | success | `authn_password_change` | {actor} changed a password |
//! | `user.password_change_failed` | `PasswordChangeFailed` | user | warn | failure | `authn_password_change_fail` | {actor} failed to change a password |
//! | `user.email_verified` | `EmailVerified` | user | info | success | - | {actor} verified an email address |
//! | `user.mfa_enabled` | `MfaEnabled` | user | info | success | - | {actor} enabled multi-factor authentication |
//! | `user.mfa_disabled` | `MfaDisabled` | user | warn | success | - | {actor} disabled multi-factor authentication |
//! | `identity.email_added` | `EmailAdded` | identity | info | success | - | {actor} added an email address |
//! | `identity.email_removed` | `EmailRemoved` | identity | info | success | - | {actor} removed an email address |
//! | `identity.email_updated` | `EmailUpdated` | identity | info | success | - | {actor} changed an email address |
//! | `identity.phone_added` | `PhoneAdded` | identity | info | success | - | {actor} added a phone number |
//! | `identity.phone_removed` | `PhoneRemoved` | identity | info | success | - | {actor} removed a phone number |
//! | `identity.phone_updated` | `PhoneUpdated` | identity | info | success | - | {actor} changed a phone number |
//! | `identity.username_added` | `UsernameAdded` | identity | info | success | - | {actor} added a username |
//! | `identity.username_removed` | `UsernameRemoved` | identity | info | success | - | {actor} removed a username |
//! | `identity.username_updated` | `UsernameUpdated` | identity | info | success | - | {actor} changed a username |
//! | `identity.oauth_connected` | `OAuthConnected` | identity | info | success | - | {actor} connected an OAuth account |
//! | `identity.oauth_disconnected` | `OAuthDisconnected` | identity | info | success | - | {actor} disconnected an OAuth account |
//! | `identity.biometric_enabled` | `BiometricEnabled` | identity | info | success | - | {actor} enabled biometric sign-in |
//! | `identity.biometric_disabled` | `BiometricDisabled` | identity | info | success | - | {actor} disabled biometric sign-in |
//! | `authorization.denied` | `AuthorizationDenied` | authorization | warn | failure | `authz_fail` | {actor} was denied access to {target} |
//! | `authorization.admin_action` | `AdminAction` | authorization | warn | success | `authz_admin` | {actor} performed an administrative action on {target} |
//! | `role.created` | `RoleCreated` | role | info | success | - | {actor} created role {target} |
//! | `role.updated` | `RoleUpdated` | role | warn | success | `authz_change` | {actor} changed role {target} |
//! | `role.deleted` | `RoleDeleted` | role | warn | success | - | {actor} deleted role {target} |
//! | `api_key.created` | `ApiKeyCreated` | api_key | info | success | - | {actor} created API key {target} |
//! | `api_key.updated` | `ApiKeyUpdated` | api_key | info | success | - | {actor} updated API key {target} |
//! | `api_key.deleted` | `ApiKeyDeleted` | api_key | warn | success | - | {actor} deleted API key {target} |
//! | `api_key.rotated` | `ApiKeyRotated` | api_key | info | success | - | {actor} rotated API key {target} |
//! | `webhook_endpoint.created` | `WebhookEndpointCreated` | webhook_endpoint | info | success | - | {actor} created webhook endpoint {target} |
//! | `webhook_endpoint.updated` | `WebhookEndpointUpdated` | webhook_endpoint | info | success | - | {actor} updated webhook endpoint {target} |
//! | `webhook_endpoint.deleted` | `WebhookEndpointDeleted` | webhook_endpoint | info | success | - | {actor} deleted webhook endpoint {target} |
//! | `integration.created` | `IntegrationCreated` | integration | info | success | - | {actor} created integration {target} |
//! | `integration.updated` | `IntegrationUpdated` | integration | info | success | - | {actor} updated integration {target} |
//! | `integration.deleted` | `IntegrationDeleted` | integration | info | success | - | {actor} deleted integration {target} |
//! | `data.exported` | `DataExported` | data | warn | success | - | {actor} exported {target} |
//! | `data.sensitive_read` | `SensitiveDataRead` | data | info | success | `sensitive_read` | {actor} read sensitive data {target} |
//! | `data.sensitive_created` | `SensitiveDataCreated` | data | info | success | `sensitive_create` | {actor} created sensitive data {target} |
//! | `data.sensitive_updated` | `SensitiveDataUpdated` | data | info | success | `sensitive_update` | {actor} changed sensitive data {target} |
//! | `data.sensitive_deleted` | `SensitiveDataDeleted` | data | warn | success | `sensitive_delete` | {actor} deleted sensitive data {target} |
//! | `upload.completed` | `UploadCompleted` | upload | info | success | `file_upload_complete` | {actor} uploaded {target} |
//! | `upload.stored` | `UploadStored` | upload | info | success | `file_upload_stored` | upload {target} was stored |
//! | `upload.validation_failed` | `UploadValidationFailed` | upload | warn | failure | `file_upload_validation` | upload {target} from {actor} failed validation |
//! | `upload.deleted` | `UploadDeleted` | upload | info | success | `file_upload_delete` | {actor} deleted upload {target} |
//! | `message.email_sent` | `EmailSent` | message | info | success | - | an email was sent to {target} |
//! | `message.sms_sent` | `SmsSent` | message | info | success | - | an SMS was sent to {target} |
//! | `config.updated` | `ConfigUpdated` | config | warn | success | - | {actor} changed the configuration |
//! | `input.validation_failed` | `InputValidationFailed` | threat | warn | failure | `input_validation_fail` | input from {actor} failed validation |
//! | `rate_limit.exceeded` | `RateLimitExceeded` | threat | warn | failure | `excess_rate_limit_exceeded` | {actor} exceeded a rate limit |
//! | `malicious.attack_tool` | `AttackToolDetected` | threat | error | failure | `malicious_attack_tool` | requests from {actor} carry the signature of an attack tool |
//! | `malicious.cors` | `MaliciousCors` | threat | error | failure | `malicious_cors` | {actor} sent a cross-origin request from a disallowed origin |
//! | `malicious.direct_reference` | `MaliciousDirectReference` | threat | error | failure | `malicious_direct_reference` | {actor} reached for {target} by direct reference without access |
//! | `malicious.excess_404` | `Excess404` | threat | warn | failure | `malicious_excess_404` | {actor} caused an unusual number of not-found responses |
//! | `malicious.extraneous_input` | `ExtraneousInput` | threat | warn | failure | `malicious_extraneous` | {actor} sent input the service does not expect |
//! | `sequence.failed` | `SequenceFailed` | threat | warn | failure | `sequence_fail` | {actor} took the steps of a flow out of order |
//! | `crypto.decrypt_failed` | `DecryptFailed` | threat | error | failure | - | decryption failed |
//! | `crypto.encrypt_failed` | `EncryptFailed` | threat | error | failure | - | encryption failed |
//! | `system.startup` | `SystemStartup` | system | info | success | `sys_startup` | the service started |
//! | `system.shutdown` | `SystemShutdown` | system | info | success | `sys_shutdown` | the service shut down |
//! | `system.restart` | `SystemRestart` | system | info | success | `sys_restart` | the service restarted |
//! | `system.crash` | `SystemCrash` | system | critical | failure | `sys_crash` | the service crashed |
//! | `audit.enabled` | `AuditEnabled` | audit | info | success | `sys_monitor_enabled` | security event logging was enabled |
//! | `audit.disabled` | `AuditDisabled` | audit | warn | success | `sys_monitor_disabled` | security event logging was disabled |
//! | `audit.config_changed` | `AuditConfigChanged` | audit | warn | success | - | the security log configuration changed |
//! | `audit.events_dropped` | `AuditEventsDropped` | audit | error | failure | - | {dropped} security events were dropped |
//! | `audit.log_viewed` | `AuditLogViewed` | audit | info | success | - | {actor} viewed the security log |
//! | `audit.log_exported` | `AuditLogExported` | audit | warn | success | - | {actor} exported the security log |
//! | `audit.notification_failed` | `AuditNotificationFailed` | audit | error | failure | - | a notification of {rule} could not be sent through {transport} |
//! | `audit.checkpoint` | `AuditCheckpoint` | audit | info | success | - | the security log was checkpointed |
//! | `audit.files_removed` | `AuditFilesRemoved` | audit | info | success | - | retention removed {file} |
//! | `audit.records_removed` | `AuditRecordsRemoved` | audit | info | success | - | retention removed {count} records of {instance} |
//! | `audit.key_rotated` | `AuditKeyRotated` | audit | info | success | - | the checkpoint signing key moved to epoch {epoch} |
//!

mod builtin;
mod catalog;
mod taxonomy;

pub use builtin::SecurityEvent;
#[doc(hidden)]
pub use catalog::check_event_name;
pub use catalog::{Catalog, EventInfo, UnknownEventName};
pub use taxonomy::{Category, Outcome, ParseLabelError, Severity};
