//! Stalwart's identifier text forms.
//!
//! JMAP ids are numbers written big-endian in base 32 with the alphabet
//! `abcdefghijklmnopqrstuvwxyz792013`, without leading zeros (`0` is `"a"`, `1` is `"b"`,
//! alice's account 2 is `"c"`). The literal id `"singleton"` is just such a number.
//! App password secrets use the same alphabet as a plain bit-packed base 32 encoding.

/// The base-32 alphabet of Stalwart ids and app passwords.
pub const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz792013";

/// The value of one alphabet character, if it is one.
fn digit(ch: u8) -> Option<u8> {
    ALPHABET
        .iter()
        .position(|&c| c == ch)
        .and_then(|pos| u8::try_from(pos).ok())
}

/// Writes `n` as a Stalwart id.
pub fn encode_id(mut n: u64) -> String {
    if n == 0 {
        return "a".to_owned();
    }
    let mut digits = Vec::with_capacity(13);
    while n > 0 {
        let d = usize::try_from(n & 31).unwrap_or(0);
        digits.push(ALPHABET.get(d).copied().unwrap_or(b'a'));
        n >>= 5;
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// Reads a Stalwart id; `None` when the text holds a character outside the alphabet, is
/// empty, or is longer than 13 characters.
pub fn decode_id(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 13 {
        return None;
    }
    let mut n: u64 = 0;
    for &ch in text.as_bytes() {
        n = n.checked_shl(5)?.checked_add(u64::from(digit(ch)?))?;
    }
    Some(n)
}

/// Encodes bytes as bit-packed base 32 with [`ALPHABET`] and no padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            push_digit(&mut out, (acc >> bits) & 31);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        push_digit(&mut out, (acc << (5 - bits)) & 31);
    }
    out
}

fn push_digit(out: &mut String, value: u32) {
    let index = usize::try_from(value).unwrap_or(0);
    out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'a')));
}

/// Decodes [`base32_encode`] text; `None` on a character outside the alphabet.
/// Trailing bits that do not fill a byte are dropped.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &ch in text.as_bytes() {
        acc = (acc << 5) | u32::from(digit(ch)?);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
        acc &= (1 << bits) - 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_ids_match_the_fixtures() {
        assert_eq!(encode_id(0), "a");
        assert_eq!(encode_id(1), "b");
        assert_eq!(encode_id(2), "c");
        assert_eq!(decode_id("c"), Some(2));
        assert_eq!(decode_id("h"), Some(7));
    }

    #[test]
    fn singleton_is_an_id() {
        assert_eq!(decode_id("singleton"), Some(20_080_258_862_541));
        assert_eq!(encode_id(20_080_258_862_541), "singleton");
    }

    #[test]
    fn twelve_character_public_key_ids_round_trip() {
        let id = decode_id("jpwj3wd2a1aa").expect("valid id");
        assert_eq!(id, 341_932_712_468_183_040);
        assert_eq!(encode_id(id), "jpwj3wd2a1aa");
    }

    #[test]
    fn invalid_ids_are_refused() {
        assert_eq!(decode_id(""), None);
        assert_eq!(decode_id("not-an-id"), None);
        assert_eq!(decode_id("ABC"), None);
    }

    #[test]
    fn app_password_payload_round_trips() {
        // credential id 1 followed by 18 random bytes, as in fixture 06
        let decoded = base32_decode("aaaaaaleqp1lmocrdwdbv3bocpm2dkugardq").expect("valid");
        assert_eq!(decoded.len(), 22);
        assert_eq!(decoded.get(..4), Some(&[0u8, 0, 0, 1][..]));
        assert_eq!(
            base32_encode(&decoded),
            "aaaaaaleqp1lmocrdwdbv3bocpm2dkugardq"
        );
    }
}
