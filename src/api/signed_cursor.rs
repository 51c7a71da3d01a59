//! Cursors handed to readers are signed with the API's key and bound to the reader's scope and
//! order: an edited cursor, or one obtained under another tenant, is refused.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::store::{Cursor, Order, Scope};

/// The signature's length in bytes (truncated HMAC-SHA256, as in RFC 2104 section 5).
const TAG_LEN: usize = 16;

/// Signs and checks the cursors of one API.
#[derive(Clone)]
pub(crate) struct CursorSigner {
    key: Hmac<Sha256>,
}

impl std::fmt::Debug for CursorSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorSigner(key hidden)")
    }
}

impl CursorSigner {
    pub(crate) fn new(key: &[u8]) -> Self {
        CursorSigner {
            key: Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key size"),
        }
    }

    /// A key no one else knows, for an API whose cursors need not outlive the process.
    pub(crate) fn random() -> Self {
        let mut key = [0_u8; 32];
        // The operating system's random source; without one no key could be trusted, and a
        // service that cannot read it cannot run safely either.
        getrandom::fill(&mut key).expect("the operating system's random source");
        CursorSigner::new(&key)
    }

    pub(crate) fn sign(&self, cursor: &Cursor, scope: &Scope, order: Order) -> String {
        let text = cursor.to_string();
        let tag = self.tag(&text, scope, order);
        format!("{text}.{}", crate::hex::encode(&tag))
    }

    /// The cursor, if `signed` is one this API handed out under this scope and order.
    pub(crate) fn open(&self, signed: &str, scope: &Scope, order: Order) -> Option<Cursor> {
        let (text, tag) = signed.rsplit_once('.')?;
        let tag = crate::hex::decode(tag).filter(|tag| tag.len() == TAG_LEN)?;
        // Compared in constant time.
        self.mac(text, scope, order)
            .verify_truncated_left(&tag)
            .ok()?;
        text.parse().ok()
    }

    fn tag(&self, text: &str, scope: &Scope, order: Order) -> Vec<u8> {
        self.mac(text, scope, order).finalize().into_bytes()[..TAG_LEN].to_vec()
    }

    fn mac(&self, text: &str, scope: &Scope, order: Order) -> Hmac<Sha256> {
        let mut mac = self.key.clone();
        let scope = match scope {
            Scope::Tenant(tenant) => format!("tenant:{tenant}"),
            _ => "all".to_owned(),
        };
        let order = match order {
            Order::OldestFirst => "asc",
            Order::NewestFirst => "desc",
        };
        // Each part ends with a byte no part contains, so no two inputs read alike.
        for part in [text, &scope, order] {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_opens_only_as_it_was_signed() {
        let signer = CursorSigner::random();
        let cursor: Cursor = crate::hex::encode(b"1|f|3|9|id").parse().unwrap();
        let acme = Scope::Tenant("acme".into());
        let signed = signer.sign(&cursor, &acme, Order::NewestFirst);
        assert_eq!(
            signer.open(&signed, &acme, Order::NewestFirst),
            Some(cursor.clone())
        );
        assert_eq!(
            signer.open(&signed, &Scope::Tenant("globex".into()), Order::NewestFirst),
            None
        );
        assert_eq!(signer.open(&signed, &Scope::All, Order::NewestFirst), None);
        assert_eq!(signer.open(&signed, &acme, Order::OldestFirst), None);
        assert_eq!(
            CursorSigner::random().open(&signed, &acme, Order::NewestFirst),
            None
        );
        let (text, tag) = signed.rsplit_once('.').unwrap();
        let edited = format!("{}0.{tag}", &text[..text.len() - 1]);
        assert_eq!(signer.open(&edited, &acme, Order::NewestFirst), None);
        assert_eq!(signer.open(text, &acme, Order::NewestFirst), None);
        assert_eq!(
            signer.open(&format!("{text}.{}", &tag[..8]), &acme, Order::NewestFirst),
            None
        );
    }
}
