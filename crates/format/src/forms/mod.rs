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
//! The table of every built-in name is in `docs/forms.md` (generated from [`mapping_of`] and
//! checked by a test).

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
