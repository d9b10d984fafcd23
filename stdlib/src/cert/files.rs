//! Local files of the `cert` module: atomic writes with the mode set at creation, and
//! reading certificates (PEM, DER, PKCS#7) and private keys (PKCS#8, PKCS#1) with errors
//! that name the file and what is wrong with it.

use crate::error::{ModuleError, Result};
use std::path::Path;
use zeroize::Zeroizing;

/// Mode of private keys and PFX files.
pub const PRIVATE_MODE: u32 = 0o600;
/// Mode of CSRs and certificates.
pub const PUBLIC_MODE: u32 = 0o644;

/// Read a whole file; a missing file is `not found`, anything else `io`.
pub fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ModuleError::not_found(format!("{what} {} does not exist", path.display()))
        } else {
            ModuleError::io_at(&format!("read {what}"), path, &e)
        }
    })
}

/// Like `read`, but the bytes are wiped when dropped (private keys, PFX files).
pub fn read_secret(path: &Path, what: &str) -> Result<Zeroizing<Vec<u8>>> {
    read(path, what).map(Zeroizing::new)
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    head.windows(11).any(|w| w == b"-----BEGIN ")
}

fn unreadable(path: &Path, what: &str, why: impl std::fmt::Display) -> ModuleError {
    ModuleError::validation(format!(
        "{} is not a readable {what} (the file may be truncated or in another format): {why}",
        path.display()
    ))
}

/// Certificates (DER) from a file holding PEM certificates, one DER certificate, or a
/// PKCS#7 bundle (`.p7b`, PEM or DER). The order of the file is kept.
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    let bytes = read(path, "certificate file")?;
    parse_certificates(&bytes).map_err(|why| unreadable(path, "certificate file", why))
}

/// See [`read_certificates`]; the error is the reason only.
pub fn parse_certificates(bytes: &[u8]) -> std::result::Result<Vec<Vec<u8>>, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    let mut out = Vec::new();
    if looks_like_pem(bytes) {
        let pems = pem::parse_many(bytes).map_err(|e| format!("bad PEM: {e}"))?;
        for p in pems {
            match p.tag() {
                "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                    check_certificate(p.contents())?;
                    out.push(p.contents().to_vec());
                }
                "PKCS7" | "CMS" => out.extend(pkcs7_certificates(p.contents())?),
                _ => {}
            }
        }
        if out.is_empty() {
            return Err("no CERTIFICATE or PKCS7 block in the PEM file".into());
        }
        return Ok(out);
    }
    if check_certificate(bytes).is_ok() {
        return Ok(vec![bytes.to_vec()]);
    }
    match pkcs7_certificates(bytes) {
        Ok(certs) => Ok(certs),
        Err(_) => Err(check_certificate(bytes)
            .err()
            .unwrap_or_else(|| "not a certificate".into())),
    }
}

fn check_certificate(der: &[u8]) -> std::result::Result<(), String> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], _)) => Ok(()),
        Ok(_) => Err("trailing bytes after the certificate".into()),
        Err(e) => Err(format!("not an X.509 certificate ({e})")),
    }
}

/// The certificates of a PKCS#7 SignedData (a "certs-only" `.p7b`).
pub fn pkcs7_certificates(der: &[u8]) -> std::result::Result<Vec<Vec<u8>>, String> {
    const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    let bad = |why: &str| format!("not a PKCS#7 certificate bundle: {why}");
    let (ci, _) = der_read(der, 0x30).ok_or_else(|| bad("no ContentInfo"))?;
    let (oid, rest) = der_read(ci, 0x06).ok_or_else(|| bad("no content type"))?;
    if oid != SIGNED_DATA {
        return Err(bad("the content is not SignedData"));
    }
    let (explicit, _) = der_read(rest, 0xa0).ok_or_else(|| bad("no content"))?;
    let (sd, _) = der_read(explicit, 0x30).ok_or_else(|| bad("bad SignedData"))?;
    let (_, rest) = der_read(sd, 0x02).ok_or_else(|| bad("no version"))?;
    let (_, rest) = der_read(rest, 0x31).ok_or_else(|| bad("no digest algorithms"))?;
    let (_, rest) = der_read(rest, 0x30).ok_or_else(|| bad("no content info"))?;
    let Some((certs, _)) = der_read(rest, 0xa0) else {
        return Err(bad("it holds no certificates"));
    };
    let mut out = Vec::new();
    let mut rest = certs;
    while !rest.is_empty() {
        let (tag, total) = der_header(rest).ok_or_else(|| bad("truncated certificate list"))?;
        let whole = &rest[..total];
        if tag == 0x30 {
            check_certificate(whole)?;
            out.push(whole.to_vec());
        }
        rest = &rest[total..];
    }
    if out.is_empty() {
        return Err(bad("it holds no certificates"));
    }
    Ok(out)
}

/// (tag, total length of the TLV) of the element at the start of `b`. Definite lengths only.
fn der_header(b: &[u8]) -> Option<(u8, usize)> {
    let tag = *b.first()?;
    let first = *b.get(1)? as usize;
    let (len, hdr) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let total = hdr.checked_add(len)?;
    if total > b.len() {
        return None;
    }
    Some((tag, total))
}

/// The content of the element at the start of `b` if its tag is `tag`, and what follows.
fn der_read(b: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, total) = der_header(b)?;
    if t != tag {
        return None;
    }
    let hdr = total - content_len(b)?;
    Some((&b[hdr..total], &b[total..]))
}

fn content_len(b: &[u8]) -> Option<usize> {
    let first = *b.get(1)? as usize;
    if first < 0x80 {
        return Some(first);
    }
    let n = first & 0x7f;
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | *b.get(2 + i)? as usize;
    }
    Some(len)
}

/// The number of elements inside the SEQUENCE at the start of `b`.
pub fn der_sequence_len(b: &[u8]) -> Option<usize> {
    let (mut rest, _) = der_read(b, 0x30)?;
    let mut n = 0;
    while !rest.is_empty() {
        let (_, total) = der_header(rest)?;
        rest = &rest[total..];
        n += 1;
    }
    Some(n)
}

/// DER encoding of a TLV.
pub fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A private key as PKCS#8 DER (wiped on drop), from a PEM (`PRIVATE KEY`,
/// `RSA PRIVATE KEY`) or DER file.
pub fn read_private_key(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let bytes = read_secret(path, "private key")?;
    parse_private_key(&bytes).map_err(|why| {
        ModuleError::validation(format!(
            "{} is not a readable private key (the file may be truncated or in another format): {why}",
            path.display()
        ))
    })
}

/// See [`read_private_key`].
pub fn parse_private_key(bytes: &[u8]) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if looks_like_pem(bytes) {
        let pems = pem::parse_many(bytes).map_err(|e| format!("bad PEM: {e}"))?;
        for p in pems {
            let der = Zeroizing::new(p.contents().to_vec());
            match p.tag() {
                "PRIVATE KEY" => return check_pkcs8(der),
                "RSA PRIVATE KEY" => return check_pkcs8(rsa_pkcs1_to_pkcs8(&der)),
                "ENCRYPTED PRIVATE KEY" => {
                    return Err("the key is encrypted; decrypt it first \
                                (openssl pkcs8 -in key.pem -out plain.key)"
                        .into())
                }
                "EC PRIVATE KEY" => {
                    return Err("SEC1 EC keys are not supported; the CMG needs an RSA key".into())
                }
                _ => {}
            }
        }
        return Err("no PRIVATE KEY block in the PEM file".into());
    }
    let der = Zeroizing::new(bytes.to_vec());
    if check_pkcs8(der.clone()).is_ok() {
        return check_pkcs8(der);
    }
    check_pkcs8(rsa_pkcs1_to_pkcs8(&der))
}

fn check_pkcs8(der: Zeroizing<Vec<u8>>) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    match rcgen::KeyPair::try_from(der.as_slice()) {
        Ok(_) => Ok(der),
        Err(e) => Err(format!("not a usable private key ({e})")),
    }
}

/// Wrap a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo.
fn rsa_pkcs1_to_pkcs8(pkcs1: &[u8]) -> Zeroizing<Vec<u8>> {
    // AlgorithmIdentifier { rsaEncryption, NULL }
    const RSA_ALG: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut inner = Zeroizing::new(vec![0x02, 0x01, 0x00]);
    inner.extend_from_slice(RSA_ALG);
    inner.extend(der_tlv(0x04, pkcs1));
    Zeroizing::new(der_tlv(0x30, &inner))
}

/// PEM text of certificates.
pub fn certs_pem(ders: &[&[u8]]) -> String {
    ders.iter()
        .map(|d| pem::encode(&pem::Pem::new("CERTIFICATE", d.to_vec())))
        .collect::<Vec<_>>()
        .join("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncated_inputs_are_errors_not_panics() {
        assert!(parse_certificates(b"").is_err());
        assert!(parse_certificates(b"hello").is_err());
        assert!(parse_certificates(&[0x30, 0x82, 0xff, 0xff, 0x01]).is_err());
        assert!(pkcs7_certificates(&[0x30]).is_err());
        assert!(pkcs7_certificates(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(parse_private_key(b"").is_err());
        assert!(parse_private_key(
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        )
        .is_err());
        assert!(parse_private_key(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
    }

    #[test]
    fn der_tlv_long_lengths() {
        assert_eq!(der_tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let big = vec![0u8; 300];
        let t = der_tlv(0x04, &big);
        assert_eq!(&t[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(der_header(&t), Some((0x04, 304)));
    }
}
