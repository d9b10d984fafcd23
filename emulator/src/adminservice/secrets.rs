//! Write-only properties at rest: sealed with AES-256-GCM under a site key kept in the
//! state's meta table, so neither the plaintext nor anything a reader could replay is in
//! a row. The site itself opens them (the discovery agent needs the server app's secret).
//! The product stores such values encrypted too (`SecretKey` reads back as an encrypted
//! hex blob, api-surface.md §0.2); its scheme is not public, this one is the emulator's.

use crate::store::{Db, StoreError};
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use rand::Rng;

const META_KEY: &str = "site_secret_key";

fn bad(e: impl std::fmt::Display) -> StoreError {
    StoreError(format!("site secret: {e}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// The site key, made on first use.
fn key(db: &Db<'_>) -> Result<LessSafeKey, StoreError> {
    let raw = match db.meta(META_KEY)? {
        Some(h) => unhex(&h).ok_or_else(|| bad("the stored key is not hex"))?,
        None => {
            let mut k = vec![0u8; 32];
            rand::rng().fill(&mut k[..]);
            db.set_meta(META_KEY, &hex(&k))?;
            k
        }
    };
    Ok(LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &raw).map_err(bad)?,
    ))
}

/// Seal `plain` for storage: hex of nonce ‖ ciphertext ‖ tag.
pub fn seal(db: &Db<'_>, plain: &str) -> Result<String, StoreError> {
    let key = key(db)?;
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill(&mut nonce[..]);
    let mut buf = plain.as_bytes().to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
        .map_err(bad)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buf);
    Ok(hex(&out))
}

/// Open what [`seal`] made.
pub fn open(db: &Db<'_>, sealed: &str) -> Result<String, StoreError> {
    let key = key(db)?;
    let raw = unhex(sealed).ok_or_else(|| bad("not hex"))?;
    if raw.len() < NONCE_LEN {
        return Err(bad("too short"));
    }
    let (nonce, body) = raw.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(bad)?;
    let mut buf = body.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::empty(), &mut buf)
        .map_err(bad)?;
    String::from_utf8(plain.to_vec()).map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn seal_and_open() {
        let s = Store::open_memory().unwrap();
        let (sealed, opened) = s
            .write(|db| {
                let sealed = seal(db, "p@ss word")?;
                let opened = open(db, &sealed)?;
                Ok::<_, StoreError>((sealed, opened))
            })
            .unwrap();
        assert_eq!(opened, "p@ss word");
        assert!(!sealed.contains("p@ss"));
        let again = s.write(|db| seal(db, "p@ss word")).unwrap();
        assert_ne!(again, sealed, "a fresh nonce each time");
        assert!(s.read(|db| open(db, "00")).is_err());
        assert!(s.read(|db| open(db, &sealed[..sealed.len() - 2])).is_err());
    }
}
