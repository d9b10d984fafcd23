//! PFX (PKCS#12) files: `cert::export_pfx` and `cert::load_pfx` (p12-keystore).
//! AES-256 by default, 3DES + SHA-1 for Windows Server 2016 and older (older
//! Windows reads only 3DES PFX files, and says "wrong password" for an AES one).

use super::files;
use super::model::PfxFormat;
use super::objects::{Certificate, KeyMaterial};
use super::x509::CertInfo;
use crate::error::{ModuleError, Result};
use crate::secret::Secret;
use p12_keystore::{
    EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, Pkcs12Archive, PrivateKey,
    PrivateKeyChain,
};
use std::path::Path;
use zeroize::Zeroizing;

/// DER of the PBES2 OID (AES PFX) and of pbeWithSHAAnd3-KeyTripleDES-CBC.
const PBES2_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d,
];
const PBE_3DES_OID: &[u8] = &[
    0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x03,
];

/// The encryption a PFX file uses, when it is one of the two this module writes.
pub fn detect_format(bytes: &[u8]) -> Option<PfxFormat> {
    let has = |oid: &[u8]| bytes.windows(oid.len()).any(|w| w == oid);
    match (has(PBES2_OID), has(PBE_3DES_OID)) {
        (true, false) => Some(PfxFormat::Aes256),
        (false, true) => Some(PfxFormat::TripleDes),
        _ => None,
    }
}

/// Build the PFX bytes for a certificate with its key.
pub fn build_pfx(
    cert: &Certificate,
    password: &Secret,
    include_chain: bool,
    format: PfxFormat,
) -> Result<Vec<u8>> {
    let (Some(leaf), Some(key)) = (&cert.leaf, &cert.key) else {
        return Err(ModuleError::validation(
            "the certificate or its private key is missing",
        ));
    };
    let p12 = |e: p12_keystore::error::Error| ModuleError::io(format!("cannot build the PFX: {e}"));
    let mut certs = vec![p12_keystore::Certificate::from_der(&leaf.der).map_err(p12)?];
    if include_chain {
        for c in &cert.chain {
            certs.push(p12_keystore::Certificate::from_der(&c.der).map_err(p12)?);
        }
    }
    let local_key_id = hex_bytes(&leaf.thumbprint);
    let chain = PrivateKeyChain::new(
        local_key_id,
        PrivateKey::from_der(key.pkcs8()).map_err(p12)?,
        certs,
    );
    let mut ks = KeyStore::new();
    let alias = leaf
        .common_name
        .clone()
        .unwrap_or_else(|| leaf.thumbprint.clone());
    ks.add_entry(&alias, KeyStoreEntry::PrivateKeyChain(chain));
    let writer = ks.writer(password.expose());
    let writer = match format {
        PfxFormat::Aes256 => writer,
        PfxFormat::TripleDes => writer
            .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
            .mac_algorithm(MacAlgorithm::HmacSha1),
    };
    writer.write().map_err(p12)
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// Map a p12-keystore error to what the admin should hear.
fn open_error(path: &Path, e: p12_keystore::error::Error, has_mac: bool) -> ModuleError {
    use p12_keystore::error::Error as E;
    match e {
        E::MacError(_) => wrong_password(path),
        E::UnpadError | E::InvalidData | E::Pkcs5Error(_) | E::InvalidPrivateKey if !has_mac => {
            wrong_password(path).with_hint("check the password; if it is right, the file is damaged")
        }
        E::UnsupportedEncryptionScheme | E::UnsupportedMacAlgorithm => ModuleError::validation(format!(
            "{} uses an encryption this tool can't read",
            path.display()
        ))
        .with_hint("re-export it as AES-256 or 3DES, e.g. openssl pkcs12 -export (OpenSSL 3 default)"),
        other => ModuleError::validation(format!(
            "{} is not a readable PFX file (the file may be truncated or in another format): {other}",
            path.display()
        )),
    }
}

fn wrong_password(path: &Path) -> ModuleError {
    ModuleError::validation(format!(
        "wrong password for the PFX file {}",
        path.display()
    ))
    .with_hint("check the password given (e.g. secret(\"COMGMT_PFX_PASSWORD\"))")
}

/// Open PFX bytes: the leaf (matching the key when there is one), its chain and key.
pub fn open_pfx(path: &Path, bytes: &[u8], password: &Secret) -> Result<Certificate> {
    if bytes.is_empty() {
        return Err(ModuleError::validation(format!(
            "{} is not a readable PFX file: the file is empty",
            path.display()
        )));
    }
    // A PFX without MAC data cannot tell a wrong password from damage; most have one.
    let has_mac = files::der_sequence_len(bytes).is_some_and(|n| n >= 3);
    let archive = Pkcs12Archive::from_pkcs12(bytes, password.expose())
        .map_err(|e| open_error(path, e, has_mac))?;
    let mut infos = Vec::new();
    for bag in &archive.certs {
        infos.push(CertInfo::from_der(bag.cert.as_der()).map_err(|why| {
            ModuleError::validation(format!(
                "{} holds an unreadable certificate: {why}",
                path.display()
            ))
        })?);
    }
    if infos.is_empty() {
        return Err(ModuleError::validation(format!(
            "{} holds no certificate",
            path.display()
        )));
    }
    // The key whose public part matches a certificate; else the first key.
    let mut chosen: Option<(KeyMaterial, usize)> = None;
    for k in &archive.keys {
        let km = KeyMaterial::new(Zeroizing::new(k.key.as_der().to_vec()));
        if let Ok(public) = km.public_key() {
            if let Some(i) = infos.iter().position(|c| c.public_key == public) {
                chosen = Some((km, i));
                break;
            }
        }
    }
    let (key, leaf_index) = match chosen {
        Some((k, i)) => (Some(k), i),
        None => {
            let i = infos.iter().position(|c| !c.is_ca).unwrap_or(0);
            (None, i)
        }
    };
    let leaf = infos.remove(leaf_index);
    let mut cert = Certificate::from_parts(leaf, &infos, key);
    cert.pfx_path = Some(path.to_path_buf());
    Ok(cert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::x509::CertInfo;

    fn sample() -> Certificate {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = rcgen::CertificateParams::new(vec!["cmg.contoso.com".to_string()]).unwrap();
        p.not_before = ::time::OffsetDateTime::now_utc() - ::time::Duration::days(1);
        p.not_after = ::time::OffsetDateTime::now_utc() + ::time::Duration::days(10);
        let c = p.self_signed(&kp).unwrap();
        let key = KeyMaterial::new(Zeroizing::new(kp.serialize_der()));
        Certificate::from_parts(CertInfo::from_der(c.der()).unwrap(), &[], Some(key))
    }

    #[test]
    fn both_formats_round_trip_and_are_detected() {
        let cert = sample();
        let pw = Secret::new("round-trip");
        for f in [PfxFormat::Aes256, PfxFormat::TripleDes] {
            let bytes = build_pfx(&cert, &pw, true, f).unwrap();
            assert_eq!(detect_format(&bytes), Some(f));
            let back = open_pfx(Path::new("x.pfx"), &bytes, &pw).unwrap();
            assert_eq!(
                back.leaf.as_ref().map(|l| &l.thumbprint),
                cert.leaf.as_ref().map(|l| &l.thumbprint)
            );
            assert!(back.key.is_some());
            let e = open_pfx(Path::new("x.pfx"), &bytes, &Secret::new("nope")).unwrap_err();
            assert!(e.message.starts_with("wrong password"), "{}", e.message);
            for cut in [1, 10, bytes.len() / 2, bytes.len() - 1] {
                let e = open_pfx(Path::new("x.pfx"), &bytes[..cut], &pw).unwrap_err();
                assert!(
                    e.message.contains("not a readable PFX"),
                    "{cut}: {}",
                    e.message
                );
            }
        }
    }
}
