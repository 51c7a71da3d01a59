//! Lowercase hexadecimal, for hashes.

/// `bytes` as lowercase hex.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = vec![0; bytes.len() * 2];
    encode_into(bytes, &mut out);
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// Writes `bytes` as lowercase hex into `out`, which has room for exactly two digits a byte.
/// (Pushed one char at a time into a `String`, this was a thousand instructions a hash.)
pub fn encode_into(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    debug_assert_eq!(out.len(), bytes.len() * 2);
    for (pair, &byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
}

/// The bytes of lowercase or uppercase hex; `None` for an odd length or another character.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    if bytes.len() % 2 != 0 {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_lowercase_pairs() {
        assert_eq!(super::encode(&[0x00, 0x9f, 0xff]), "009fff");
    }

    #[cfg(feature = "query")]
    #[test]
    fn decodes_either_case() {
        assert_eq!(super::decode("009fFF"), Some(vec![0x00, 0x9f, 0xff]));
        assert_eq!(super::decode("0"), None);
        assert_eq!(super::decode("0g"), None);
    }
}
