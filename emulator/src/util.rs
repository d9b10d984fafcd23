//! Small helpers shared by the modules: ids, timestamps, random text.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// Graph's timestamp form for properties such as `createdDateTime`: whole seconds, `Z`.
pub fn iso(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub fn now_iso() -> String {
    iso(now())
}

/// A timestamp with milliseconds, for logs where order within a second matters.
pub fn now_iso_millis() -> String {
    iso_millis(now())
}

/// `t` in RFC 3339 with milliseconds (none shown when they are zero).
pub fn iso_millis(t: OffsetDateTime) -> String {
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// Parse an RFC 3339 timestamp as clients send it.
pub fn parse_iso(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// `innerError.date` has no zone suffix in Graph's error bodies.
pub fn inner_error_date() -> String {
    let s = now_iso();
    s.trim_end_matches('Z').to_string()
}

/// An opaque id like the ones Entra uses for grants and app role assignments.
pub fn opaque_id(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Random text from an alphabet.
pub fn random_text(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

pub const SECRET_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";

/// A client secret in the current Entra format: 40 characters with `8Q~` at 3..6.
pub fn client_secret_text() -> String {
    let head = random_text(3, SECRET_ALPHABET);
    let tail = random_text(34, SECRET_ALPHABET);
    format!("{head}8Q~{tail}")
}

pub fn sha256_b64url(data: &[u8]) -> String {
    use sha2::Digest;
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_shape() {
        let s = client_secret_text();
        assert_eq!(s.len(), 40);
        assert_eq!(&s[3..6], "8Q~");
    }

    #[test]
    fn iso_has_no_fraction() {
        let s = now_iso();
        assert!(s.ends_with('Z') && !s.contains('.'), "{s}");
        assert!(parse_iso(&s).is_some());
        assert!(!inner_error_date().ends_with('Z'));
    }
}
