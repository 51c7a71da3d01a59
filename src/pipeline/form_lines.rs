//! A batch's records encoded in each form the sinks write: native always (the OTLP,
//! PostgreSQL and notification sinks read it), ECS and OCSF when a sink asks for them.

use crate::escape::write_form_line;
use crate::forms::{FormMappings, OutputForm};
use crate::record::SecurityRecord;
use crate::sink::Batch;

/// One buffer per form, one line per record in each; `None` for a form no sink writes.
#[derive(Default)]
pub(super) struct FormLines {
    native: Vec<u8>,
    ecs: Option<Vec<u8>>,
    ocsf: Option<Vec<u8>>,
}

impl FormLines {
    /// Empty buffers for `forms` (native always).
    pub(super) fn for_forms(forms: &[OutputForm], capacity: usize) -> Self {
        let mut lines = FormLines {
            native: Vec::with_capacity(capacity),
            ..FormLines::default()
        };
        lines.want(forms);
        lines
    }

    /// Empties every buffer and keeps those of `forms` (the sinks may have changed).
    pub(super) fn reset(&mut self, forms: &[OutputForm]) {
        self.native.clear();
        for form in [OutputForm::Ecs, OutputForm::Ocsf] {
            let slot = self.slot(form);
            match slot {
                Some(buffer) if forms.contains(&form) => buffer.clear(),
                _ => *slot = forms.contains(&form).then(Vec::new),
            }
        }
    }

    fn want(&mut self, forms: &[OutputForm]) {
        for &form in forms {
            if form != OutputForm::Native {
                self.slot(form).get_or_insert_with(Vec::new);
            }
        }
    }

    fn slot(&mut self, form: OutputForm) -> &mut Option<Vec<u8>> {
        match form {
            OutputForm::Ecs => &mut self.ecs,
            _ => &mut self.ocsf,
        }
    }

    /// The lines in `form`, if encoded.
    pub(super) fn get(&self, form: OutputForm) -> Option<&[u8]> {
        match form {
            OutputForm::Native => Some(&self.native),
            OutputForm::Ecs => self.ecs.as_deref(),
            OutputForm::Ocsf => self.ocsf.as_deref(),
        }
    }

    /// The forms encoded.
    fn forms(&self) -> impl Iterator<Item = OutputForm> + '_ {
        OutputForm::ALL
            .into_iter()
            .filter(|&form| self.get(form).is_some())
    }

    /// Appends `record` in every form held; on an error, in none.
    pub(super) fn push(
        &mut self,
        record: &SecurityRecord,
        mappings: &FormMappings,
    ) -> serde_json::Result<()> {
        let lengths = [
            self.native.len(),
            self.ecs.as_ref().map_or(0, Vec::len),
            self.ocsf.as_ref().map_or(0, Vec::len),
        ];
        let result = (|| {
            write_form_line(&mut self.native, record, OutputForm::Native, mappings)?;
            for form in [OutputForm::Ecs, OutputForm::Ocsf] {
                if let Some(buffer) = self.slot(form) {
                    write_form_line(buffer, record, form, mappings)?;
                }
            }
            Ok(())
        })();
        if result.is_err() {
            self.native.truncate(lengths[0]);
            if let Some(buffer) = &mut self.ecs {
                buffer.truncate(lengths[1]);
            }
            if let Some(buffer) = &mut self.ocsf {
                buffer.truncate(lengths[2]);
            }
        }
        result
    }

    /// Encodes `records` in `form` when not done yet (a sink a reload added, before the worker
    /// heard of it).
    pub(super) fn ensure(
        &mut self,
        form: OutputForm,
        records: &[SecurityRecord],
        mappings: &FormMappings,
    ) {
        if self.get(form).is_some() {
            return;
        }
        let mut buffer = Vec::new();
        for record in records {
            // The worker encoded it natively: the same values, the same serializer, so this
            // cannot fail either.
            let _ = write_form_line(&mut buffer, record, form, mappings);
        }
        *self.slot(form) = Some(buffer);
    }

    /// The batch of `records` with every form held.
    pub(super) fn batch<'a>(&'a self, records: &'a [SecurityRecord]) -> Batch<'a> {
        let mut batch = Batch::new(records, &self.native);
        for form in [OutputForm::Ecs, OutputForm::Ocsf] {
            if let Some(lines) = self.get(form) {
                batch = batch.with_form(form, lines);
            }
        }
        batch
    }

    /// Where each line starts in each form held, and where the last ends.
    pub(super) fn starts(&self) -> Vec<(OutputForm, Vec<usize>)> {
        self.forms()
            .map(|form| {
                let lines = self.get(form).unwrap_or_default();
                let mut starts = vec![0];
                starts.extend(memchr::memchr_iter(b'\n', lines).map(|end| end + 1));
                (form, starts)
            })
            .collect()
    }

    /// Lines `from..end` (by the `starts` of each form), after `first`'s lines when given.
    pub(super) fn segment(
        &self,
        starts: &[(OutputForm, Vec<usize>)],
        from: usize,
        end: usize,
        first: Option<FormLines>,
    ) -> FormLines {
        let mut out = first.unwrap_or_default();
        for (form, starts) in starts {
            let lines = self.get(*form).unwrap_or_default();
            let piece = &lines[starts[from]..starts[end]];
            match form {
                OutputForm::Native => out.native.extend_from_slice(piece),
                other => out
                    .slot(*other)
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(piece),
            }
        }
        out
    }

    /// `record` alone in every form this batch holds (a record a sink just filled in).
    pub(super) fn single(
        &self,
        record: &SecurityRecord,
        mappings: &FormMappings,
    ) -> serde_json::Result<FormLines> {
        let forms: Vec<OutputForm> = self.forms().collect();
        let mut lines = FormLines::for_forms(&forms, 1024);
        lines.push(record, mappings)?;
        Ok(lines)
    }
}

/// The forms the sinks write, shared by the writer (which knows the sinks, and changes them at
/// a reload) and the worker (which encodes): a bit per form.
#[derive(Clone, Default)]
pub(super) struct WantedForms(std::sync::Arc<std::sync::atomic::AtomicU8>);

impl WantedForms {
    /// Records the forms of `sinks`.
    pub(super) fn set(&self, sinks: &[Box<dyn crate::sink::Sink>]) {
        let bits = sinks
            .iter()
            .map(|sink| 1_u8 << sink.form() as u8)
            .fold(0, |bits, bit| bits | bit);
        self.0.store(bits, std::sync::atomic::Ordering::Relaxed);
    }

    /// The forms last recorded.
    pub(super) fn get(&self) -> Vec<OutputForm> {
        let bits = self.0.load(std::sync::atomic::Ordering::Relaxed);
        OutputForm::ALL
            .into_iter()
            .filter(|&form| bits & (1 << form as u8) != 0)
            .collect()
    }
}
