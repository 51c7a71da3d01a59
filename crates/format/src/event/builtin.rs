//! The built-in catalog: the event vocabulary of real products, one row per event.

crate::security_catalog! {
    /// The built-in security events.
    ///
    /// Each variant names one event; its row gives the category, default severity, outcome,
    /// OWASP Logging Vocabulary name and message template (see [`EventInfo`](crate::EventInfo)).
    /// The names round-trip through `Display` and `FromStr`:
    ///
    /// ```
    /// use tracing_security_events::SecurityEvent;
    ///
    /// assert_eq!(SecurityEvent::LoginFailed.as_str(), "authentication.failed");
    /// assert_eq!("api_key.rotated".parse(), Ok(SecurityEvent::ApiKeyRotated));
    /// ```
    #[non_exhaustive]
    pub enum SecurityEvent {
        // authentication
        /// A user signed in.
        LoginSucceeded => "authentication.succeeded", Authentication, Info, Success,
            Some("authn_login_success"), "{actor} signed in";
        /// A sign-in attempt failed; record `authentication.method`.
        LoginFailed => "authentication.failed", Authentication, Warn, Failure,
            Some("authn_login_fail"), "{actor} failed to sign in";
        /// An account was locked after repeated failures.
        AccountLockedOut => "authentication.locked_out", Authentication, Error, Failure,
            Some("authn_login_lock"), "{actor} was locked out after repeated failed sign-ins";
        /// Too many failed sign-ins of one key (an address, an account) within a window, seen
        /// by a detection; `fields.count`, `fields.window`, `fields.first_id`, `fields.last_id`.
        LoginFailedMax => "authentication.failed_max", Authentication, Error, Failure,
            Some("authn_login_fail_max"), "{count} failed sign-ins within {window}";
        /// A sign-in from a device not seen before for this user.
        NewDeviceLogin => "authentication.new_device", Authentication, Warn, Success,
            None, "{actor} signed in from a new device";
        /// Sign-ins from places too far apart for the time between them.
        ImpossibleTravel => "authentication.impossible_travel", Authentication, Error, Unknown,
            Some("authn_impossible_travel"), "{actor} signed in from places too far apart to travel between";
        /// A one-time password was verified.
        OtpVerified => "authentication.otp_verified", Authentication, Info, Success,
            None, "{actor} verified a one-time password";
        /// An access or refresh token was issued.
        TokenCreated => "authentication.token_created", Authentication, Info, Success,
            Some("authn_token_created"), "a token was issued to {actor}";
        /// A token was revoked.
        TokenRevoked => "authentication.token_revoked", Authentication, Info, Success,
            Some("authn_token_revoked"), "a token of {actor} was revoked";
        /// A revoked or single-use token was presented again.
        TokenReused => "authentication.token_reused", Authentication, Error, Failure,
            Some("authn_token_reuse"), "a revoked or spent token of {actor} was presented again";

        // session
        /// A session began.
        SessionCreated => "session.created", Session, Info, Success,
            Some("session_created"), "{actor} started a session";
        /// A session was extended.
        SessionRenewed => "session.renewed", Session, Info, Success,
            Some("session_renewed"), "{actor} renewed a session";
        /// A session timed out.
        SessionExpired => "session.expired", Session, Info, Success,
            Some("session_expired"), "a session of {actor} expired";
        /// A session was ended by an administrator or the system.
        SessionTerminated => "session.terminated", Session, Warn, Success,
            None, "a session of {actor} was terminated";
        /// A user signed out.
        SignedOut => "session.signed_out", Session, Info, Success,
            None, "{actor} signed out";
        /// An expired session was presented.
        SessionUsedAfterExpiry => "session.used_after_expiry", Session, Warn, Failure,
            Some("session_use_after_expire"), "an expired session of {actor} was used";

        // user
        /// A user registered themselves.
        UserSignedUp => "user.signed_up", User, Info, Success,
            None, "{actor} signed up";
        /// A user account was created by someone else.
        UserCreated => "user.created", User, Info, Success,
            Some("user_created"), "{actor} created user {target}";
        /// A user was invited.
        UserInvited => "user.invited", User, Info, Success,
            None, "{actor} invited {target}";
        /// A user account was changed.
        UserUpdated => "user.updated", User, Info, Success,
            Some("user_updated"), "{actor} updated user {target}";
        /// A user account was deleted.
        UserDeleted => "user.deleted", User, Warn, Success,
            Some("user_deleted"), "{actor} deleted user {target}";
        /// A user account was scheduled for deletion.
        UserDeletionScheduled => "user.deletion_scheduled", User, Info, Success,
            None, "{actor} scheduled the deletion of user {target}";
        /// A scheduled deletion was cancelled.
        UserDeletionUnscheduled => "user.deletion_unscheduled", User, Info, Success,
            None, "{actor} cancelled the deletion of user {target}";
        /// A user account was disabled.
        UserDisabled => "user.disabled", User, Warn, Success,
            None, "{actor} disabled user {target}";
        /// A disabled user account was enabled again.
        UserReenabled => "user.reenabled", User, Info, Success,
            None, "{actor} re-enabled user {target}";
        /// A user account was archived.
        UserArchived => "user.archived", User, Info, Success,
            Some("user_archived"), "{actor} archived user {target}";
        /// An anonymous user became a registered one.
        AnonymousUserPromoted => "user.anonymous_promoted", User, Info, Success,
            None, "anonymous user {actor} became a registered user";
        /// A user's roles or permissions changed.
        UserRoleChanged => "user.role_changed", User, Warn, Success,
            Some("privilege_permissions_changed"), "{actor} changed the roles of {target}";
        /// A password reset was requested.
        PasswordResetRequested => "user.password_reset_requested", User, Info, Success,
            None, "{actor} requested a password reset";
        /// A password was changed.
        PasswordChanged => "user.password_changed", User, Info, Success,
            Some("authn_password_change"), "{actor} changed a password";
        /// A password change was refused.
        PasswordChangeFailed => "user.password_change_failed", User, Warn, Failure,
            Some("authn_password_change_fail"), "{actor} failed to change a password";
        /// An email address was verified.
        EmailVerified => "user.email_verified", User, Info, Success,
            None, "{actor} verified an email address";
        /// Multi-factor authentication was turned on.
        MfaEnabled => "user.mfa_enabled", User, Info, Success,
            None, "{actor} enabled multi-factor authentication";
        /// Multi-factor authentication was turned off.
        MfaDisabled => "user.mfa_disabled", User, Warn, Success,
            None, "{actor} disabled multi-factor authentication";

        // identity
        /// An email address was added to an account.
        EmailAdded => "identity.email_added", Identity, Info, Success,
            None, "{actor} added an email address";
        /// An email address was removed.
        EmailRemoved => "identity.email_removed", Identity, Info, Success,
            None, "{actor} removed an email address";
        /// An email address was changed.
        EmailUpdated => "identity.email_updated", Identity, Info, Success,
            None, "{actor} changed an email address";
        /// A phone number was added.
        PhoneAdded => "identity.phone_added", Identity, Info, Success,
            None, "{actor} added a phone number";
        /// A phone number was removed.
        PhoneRemoved => "identity.phone_removed", Identity, Info, Success,
            None, "{actor} removed a phone number";
        /// A phone number was changed.
        PhoneUpdated => "identity.phone_updated", Identity, Info, Success,
            None, "{actor} changed a phone number";
        /// A username was added.
        UsernameAdded => "identity.username_added", Identity, Info, Success,
            None, "{actor} added a username";
        /// A username was removed.
        UsernameRemoved => "identity.username_removed", Identity, Info, Success,
            None, "{actor} removed a username";
        /// A username was changed.
        UsernameUpdated => "identity.username_updated", Identity, Info, Success,
            None, "{actor} changed a username";
        /// An OAuth provider account was linked.
        OAuthConnected => "identity.oauth_connected", Identity, Info, Success,
            None, "{actor} connected an OAuth account";
        /// An OAuth provider account was unlinked.
        OAuthDisconnected => "identity.oauth_disconnected", Identity, Info, Success,
            None, "{actor} disconnected an OAuth account";
        /// Biometric sign-in was turned on.
        BiometricEnabled => "identity.biometric_enabled", Identity, Info, Success,
            None, "{actor} enabled biometric sign-in";
        /// Biometric sign-in was turned off.
        BiometricDisabled => "identity.biometric_disabled", Identity, Info, Success,
            None, "{actor} disabled biometric sign-in";

        // authorization
        /// An access was refused.
        AuthorizationDenied => "authorization.denied", Authorization, Warn, Failure,
            Some("authz_fail"), "{actor} was denied access to {target}";
        /// An administrator used administrative rights.
        AdminAction => "authorization.admin_action", Authorization, Warn, Success,
            Some("authz_admin"), "{actor} performed an administrative action on {target}";

        // role
        /// A role was defined.
        RoleCreated => "role.created", Role, Info, Success,
            None, "{actor} created role {target}";
        /// A role's permissions changed.
        RoleUpdated => "role.updated", Role, Warn, Success,
            Some("authz_change"), "{actor} changed role {target}";
        /// A role was deleted.
        RoleDeleted => "role.deleted", Role, Warn, Success,
            None, "{actor} deleted role {target}";

        // api_key
        /// An API key was created.
        ApiKeyCreated => "api_key.created", ApiKey, Info, Success,
            None, "{actor} created API key {target}";
        /// An API key's settings changed.
        ApiKeyUpdated => "api_key.updated", ApiKey, Info, Success,
            None, "{actor} updated API key {target}";
        /// An API key was deleted.
        ApiKeyDeleted => "api_key.deleted", ApiKey, Warn, Success,
            None, "{actor} deleted API key {target}";
        /// An API key was replaced by a new secret.
        ApiKeyRotated => "api_key.rotated", ApiKey, Info, Success,
            None, "{actor} rotated API key {target}";

        // webhook_endpoint
        /// A webhook endpoint was added.
        WebhookEndpointCreated => "webhook_endpoint.created", WebhookEndpoint, Info, Success,
            None, "{actor} created webhook endpoint {target}";
        /// A webhook endpoint was changed.
        WebhookEndpointUpdated => "webhook_endpoint.updated", WebhookEndpoint, Info, Success,
            None, "{actor} updated webhook endpoint {target}";
        /// A webhook endpoint was removed.
        WebhookEndpointDeleted => "webhook_endpoint.deleted", WebhookEndpoint, Info, Success,
            None, "{actor} deleted webhook endpoint {target}";

        // integration
        /// An integration was set up.
        IntegrationCreated => "integration.created", Integration, Info, Success,
            None, "{actor} created integration {target}";
        /// An integration was changed.
        IntegrationUpdated => "integration.updated", Integration, Info, Success,
            None, "{actor} updated integration {target}";
        /// An integration was removed.
        IntegrationDeleted => "integration.deleted", Integration, Info, Success,
            None, "{actor} deleted integration {target}";

        // data
        /// Data left the system as an export.
        DataExported => "data.exported", Data, Warn, Success,
            None, "{actor} exported {target}";
        /// Sensitive data was read.
        SensitiveDataRead => "data.sensitive_read", Data, Info, Success,
            Some("sensitive_read"), "{actor} read sensitive data {target}";
        /// Sensitive data was created.
        SensitiveDataCreated => "data.sensitive_created", Data, Info, Success,
            Some("sensitive_create"), "{actor} created sensitive data {target}";
        /// Sensitive data was changed.
        SensitiveDataUpdated => "data.sensitive_updated", Data, Info, Success,
            Some("sensitive_update"), "{actor} changed sensitive data {target}";
        /// Sensitive data was deleted.
        SensitiveDataDeleted => "data.sensitive_deleted", Data, Warn, Success,
            Some("sensitive_delete"), "{actor} deleted sensitive data {target}";

        // upload
        /// An upload finished.
        UploadCompleted => "upload.completed", Upload, Info, Success,
            Some("file_upload_complete"), "{actor} uploaded {target}";
        /// An upload was moved to its storage.
        UploadStored => "upload.stored", Upload, Info, Success,
            Some("file_upload_stored"), "upload {target} was stored";
        /// An upload failed its checks (type, size, malware scan).
        UploadValidationFailed => "upload.validation_failed", Upload, Warn, Failure,
            Some("file_upload_validation"), "upload {target} from {actor} failed validation";
        /// An upload was deleted.
        UploadDeleted => "upload.deleted", Upload, Info, Success,
            Some("file_upload_delete"), "{actor} deleted upload {target}";

        // message
        /// An email was sent.
        EmailSent => "message.email_sent", Message, Info, Success,
            None, "an email was sent to {target}";
        /// An SMS was sent.
        SmsSent => "message.sms_sent", Message, Info, Success,
            None, "an SMS was sent to {target}";

        // config
        /// The application configuration changed; carry the diff in `changes`.
        ConfigUpdated => "config.updated", Config, Warn, Success,
            None, "{actor} changed the configuration";

        // threat
        /// Input was rejected by validation.
        InputValidationFailed => "input.validation_failed", Threat, Warn, Failure,
            Some("input_validation_fail"), "input from {actor} failed validation";
        /// A rate limit was hit.
        RateLimitExceeded => "rate_limit.exceeded", Threat, Warn, Failure,
            Some("excess_rate_limit_exceeded"), "{actor} exceeded a rate limit";
        /// Requests carry the signature of a known attack tool.
        AttackToolDetected => "malicious.attack_tool", Threat, Error, Failure,
            Some("malicious_attack_tool"), "requests from {actor} carry the signature of an attack tool";
        /// A cross-origin request came from a disallowed origin.
        MaliciousCors => "malicious.cors", Threat, Error, Failure,
            Some("malicious_cors"), "{actor} sent a cross-origin request from a disallowed origin";
        /// An object was requested by direct reference without access to it.
        MaliciousDirectReference => "malicious.direct_reference", Threat, Error, Failure,
            Some("malicious_direct_reference"), "{actor} reached for {target} by direct reference without access";
        /// An unusual number of not-found responses.
        Excess404 => "malicious.excess_404", Threat, Warn, Failure,
            Some("malicious_excess_404"), "{actor} caused an unusual number of not-found responses";
        /// Input carried fields or parameters the service does not expect.
        ExtraneousInput => "malicious.extraneous_input", Threat, Warn, Failure,
            Some("malicious_extraneous"), "{actor} sent input the service does not expect";
        /// A multi-step flow was taken out of order.
        SequenceFailed => "sequence.failed", Threat, Warn, Failure,
            Some("sequence_fail"), "{actor} took the steps of a flow out of order";
        /// Decryption failed (wrong key, tampered ciphertext).
        DecryptFailed => "crypto.decrypt_failed", Threat, Error, Failure,
            None, "decryption failed";
        /// Encryption failed.
        EncryptFailed => "crypto.encrypt_failed", Threat, Error, Failure,
            None, "encryption failed";

        // system
        /// The service started.
        SystemStartup => "system.startup", System, Info, Success,
            Some("sys_startup"), "the service started";
        /// The service stopped cleanly.
        SystemShutdown => "system.shutdown", System, Info, Success,
            Some("sys_shutdown"), "the service shut down";
        /// The service restarted.
        SystemRestart => "system.restart", System, Info, Success,
            Some("sys_restart"), "the service restarted";
        /// The service crashed.
        SystemCrash => "system.crash", System, Critical, Failure,
            Some("sys_crash"), "the service crashed";

        // the log's own
        /// Security event logging was turned on.
        AuditEnabled => "audit.enabled", Audit, Info, Success,
            Some("sys_monitor_enabled"), "security event logging was enabled";
        /// Security event logging was turned off.
        AuditDisabled => "audit.disabled", Audit, Warn, Success,
            Some("sys_monitor_disabled"), "security event logging was disabled";
        /// The security log's configuration changed.
        AuditConfigChanged => "audit.config_changed", Audit, Warn, Success,
            None, "the security log configuration changed";
        /// Security records were lost (queue overflow); the count is in `fields.dropped`.
        AuditEventsDropped => "audit.events_dropped", Audit, Error, Failure,
            None, "{dropped} security events were dropped";
        /// Someone read the security log (a list, a record, counts); recorded by the read API
        /// with the query and `fields.records`, whatever the filters say.
        AuditLogViewed => "audit.log_viewed", Audit, Info, Success,
            None, "{actor} viewed the security log";
        /// Someone exported the security log; recorded by the read API with the query and
        /// `fields.records`, whatever the filters say.
        AuditLogExported => "audit.log_exported", Audit, Warn, Success,
            None, "{actor} exported the security log";
        /// A notification could not be delivered (its transport failed after its retries, or
        /// its queue was full); `fields.rule`, `fields.transport`, `fields.error`.
        AuditNotificationFailed => "audit.notification_failed", Audit, Error, Failure,
            None, "a notification of {rule} could not be sent through {transport}";
        /// The file sink signed the tip of its hash chain (Ed25519, under an evolving key);
        /// `fields.checkpoint.*` hold what was signed. Copies in other sinks anchor the log.
        AuditCheckpoint => "audit.checkpoint", Audit, Info, Success,
            None, "the security log was checkpointed";
        /// Retention is about to remove a rotated file: `fields.file`, and the `last_seq` and
        /// `last_hash` of its last record, so that verification tells retention from deletion.
        AuditFilesRemoved => "audit.files_removed", Audit, Info, Success,
            None, "retention removed {file}";
        /// Retention removed rows of a database table: `fields.instance` and
        /// `fields.retention` (the chain they belonged to), `fields.count`, and the `last_seq`
        /// and `last_hash` of the last one, so that verification tells retention from deletion;
        /// `fields.partition` when a whole partition was dropped.
        AuditRecordsRemoved => "audit.records_removed", Audit, Info, Success,
            None, "retention removed {count} records of {instance}";
        /// The checkpoints' signing key moved to its next epoch: `fields.epoch`,
        /// `fields.public_key`, and `fields.key_certificate` (the old key's signature over it).
        AuditKeyRotated => "audit.key_rotated", Audit, Info, Success,
            None, "the checkpoint signing key moved to epoch {epoch}";
    }
}

#[cfg(test)]
mod tests {
    use super::SecurityEvent;
    use crate::event::catalog::check_event_name;
    use std::collections::HashSet;

    #[test]
    fn every_name_is_well_formed_unique_and_round_trips() {
        let mut seen = HashSet::new();
        for &event in SecurityEvent::ALL {
            let name = event.as_str();
            assert_eq!(check_event_name(name), Ok(()), "{name}");
            assert!(seen.insert(name), "duplicate name {name}");
            assert_eq!(name.parse::<SecurityEvent>(), Ok(event));
            assert_eq!(event.to_string(), name);
        }
        assert_eq!(
            SecurityEvent::ALL.len(),
            99,
            "every name of ARCHITECTURE.md, and audit.records_removed (retention of a table)"
        );
        assert!("authentication.unknown".parse::<SecurityEvent>().is_err());
    }

    #[test]
    fn names_start_with_their_category_except_threats() {
        for &event in SecurityEvent::ALL {
            let category = event.category().as_str();
            if category != "threat" {
                assert!(
                    event.as_str().starts_with(&format!("{category}.")),
                    "{event}"
                );
            }
        }
    }
}
