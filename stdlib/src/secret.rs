//! `Secret`: passwords, client secrets and private keys. It never prints, never
//! serialises and is wiped from memory when the last copy is dropped.

use std::fmt;
use std::sync::Arc;
use zeroize::Zeroizing;

/// What every rendering of a secret shows instead of the value.
pub const REDACTED: &str = "(secret)";

#[derive(Clone)]
pub struct Secret(Arc<Zeroizing<String>>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::new(Zeroizing::new(value.into())))
    }
    /// The value, for the one place that must send or use it. Never format it.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        // Constant-time enough for our purposes: lengths are not secret here.
        let (a, b) = (self.expose().as_bytes(), other.expose().as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_the_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(
            format!("{:?}", Some(s.clone())),
            format!("Some({REDACTED})")
        );
        assert_eq!(s.expose(), "hunter2-very-secret");
    }
}
