//! Finding the records a destination refuses for what they hold: a batch so refused is sent
//! again in halves, down to the single records refused, which are counted and recorded with the
//! destination's answer; every other record of the batch is delivered.

use super::DeliveryCounters;

/// What a refusal is, as the destination says it.
pub(crate) struct Refusals<'a, T, E> {
    /// Who refuses, for the record of a refusal (`the database`, `the collector`).
    pub(crate) destination: &'a str,
    /// The answer, when it refuses the data (sending it again would not change it); `None` for
    /// every other error (the connection, the server), which is returned.
    pub(crate) of_data: &'a dyn Fn(&E) -> Option<String>,
    /// The record's id, for the record of a refusal.
    pub(crate) id: &'a dyn Fn(&T) -> String,
}

impl<T, E> Refusals<'_, T, E> {
    /// Sends `items` with `send` (which answers how many were delivered), splitting them on a
    /// refusal of their data. Other errors are returned and the whole batch is sent again by
    /// the caller: parts already delivered are then delivered again unless the destination
    /// drops repeats.
    pub(crate) fn send(
        &self,
        items: &[T],
        counters: &DeliveryCounters,
        send: &mut dyn FnMut(&[T]) -> Result<u64, E>,
    ) -> Result<u64, E> {
        if items.is_empty() {
            return Ok(0);
        }
        let error = match send(items) {
            Ok(delivered) => return Ok(delivered),
            Err(error) => error,
        };
        let Some(answer) = (self.of_data)(&error) else {
            return Err(error);
        };
        if let [item] = items {
            counters.refuse(format!(
                "{} refused record {}: {answer}",
                self.destination,
                (self.id)(item)
            ));
            return Ok(0);
        }
        let (first, second) = items.split_at(items.len() / 2);
        Ok(self.send(first, counters, send)? + self.send(second, counters, send)?)
    }
}
