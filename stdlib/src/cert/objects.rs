//! The objects scripts hold: `CertRequest`, `Certificate`, `LabCa` (plain Rust; the
//! getters are in mod.rs). A plan-mode object whose files do not exist yet is "planned":
//! what the script asked for is known, what the write produces is not.

use super::model::RequestSpec;
use super::x509::{self, CertInfo};
use crate::change::Known;
use crate::error::{ModuleError, Result};
use std::path::PathBuf;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Organisation name the lab CA puts in its certificates, and how lab-issued
/// certificates are recognised.
pub const LAB_ORGANIZATION: &str = "comgmt lab CA - not for production";

/// A private key (PKCS#8 DER). Never printed; wiped when the last copy is dropped.
#[derive(Clone)]
pub struct KeyMaterial(Arc<Zeroizing<Vec<u8>>>);

impl KeyMaterial {
    pub fn new(pkcs8: Zeroizing<Vec<u8>>) -> Self {
        KeyMaterial(Arc::new(pkcs8))
    }
    pub fn pkcs8(&self) -> &[u8] {
        &self.0
    }
    /// The raw public key, to match against a certificate or CSR.
    pub fn public_key(&self) -> Result<Vec<u8>> {
        x509::private_key_public(self.pkcs8())
    }
    pub fn key_pair(&self) -> Result<rcgen::KeyPair> {
        rcgen::KeyPair::try_from(self.pkcs8())
            .map_err(|e| ModuleError::validation(format!("the private key is not usable: {e}")))
    }
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(private key)")
    }
}

/// The result of `cert::request`: the key and CSR files and what the CSR says.
#[derive(Debug, Clone)]
pub struct CertRequest {
    pub spec: RequestSpec,
    pub key_path: PathBuf,
    pub csr_path: PathBuf,
    /// The CSR's PEM text; unknown while planned.
    pub csr_pem: Known<String>,
    /// The private key; unknown while planned.
    pub key: Known<KeyMaterial>,
}

impl CertRequest {
    pub fn is_planned(&self) -> bool {
        !self.csr_pem.is_known()
    }
}

/// What a planned certificate is known to hold.
#[derive(Debug, Clone)]
pub struct PlannedCert {
    pub subject: String,
    pub common_name: String,
    pub sans: Vec<String>,
    pub key_size: u32,
    pub issuer: String,
}

/// A certificate with its issuer chain and, when known, its private key.
#[derive(Debug, Clone)]
pub struct Certificate {
    /// `None` while planned (see `planned`).
    pub leaf: Option<CertInfo>,
    pub planned: Option<PlannedCert>,
    /// The issuers, nearest first (the leaf is not included).
    pub chain: Vec<CertInfo>,
    /// True when the chain ends at a self-signed root (or the leaf is self-signed).
    pub chain_complete: bool,
    pub key: Option<KeyMaterial>,
    /// The certificate file it came from or was written to.
    pub path: Option<PathBuf>,
    /// The PFX it was loaded from or exported to.
    pub pfx_path: Option<PathBuf>,
}

impl Certificate {
    /// A certificate from its DER, issuers to choose from, and optionally its key.
    pub fn from_parts(leaf: CertInfo, pool: &[CertInfo], key: Option<KeyMaterial>) -> Self {
        let (chain, complete) = x509::build_chain(&leaf, pool);
        Certificate {
            leaf: Some(leaf),
            planned: None,
            chain,
            chain_complete: complete,
            key,
            path: None,
            pfx_path: None,
        }
    }

    pub fn planned(p: PlannedCert, key_known: Option<KeyMaterial>) -> Self {
        Certificate {
            leaf: None,
            planned: Some(p),
            chain: Vec::new(),
            chain_complete: false,
            key: key_known,
            path: None,
            pfx_path: None,
        }
    }

    pub fn is_planned(&self) -> bool {
        self.leaf.is_none()
    }

    pub fn subject(&self) -> String {
        match (&self.leaf, &self.planned) {
            (Some(l), _) => l.subject.clone(),
            (None, Some(p)) => p.subject.clone(),
            _ => String::new(),
        }
    }

    pub fn common_name(&self) -> String {
        match (&self.leaf, &self.planned) {
            (Some(l), _) => l.common_name.clone().unwrap_or_default(),
            (None, Some(p)) => p.common_name.clone(),
            _ => String::new(),
        }
    }

    pub fn sans(&self) -> Vec<String> {
        match (&self.leaf, &self.planned) {
            (Some(l), _) => l.sans.clone(),
            (None, Some(p)) => p.sans.clone(),
            _ => Vec::new(),
        }
    }

    pub fn key_size(&self) -> u32 {
        match (&self.leaf, &self.planned) {
            (Some(l), _) => l.key_size,
            (None, Some(p)) => p.key_size,
            _ => 0,
        }
    }

    pub fn issuer(&self) -> String {
        match (&self.leaf, &self.planned) {
            (Some(l), _) => l.issuer.clone(),
            (None, Some(p)) => p.issuer.clone(),
            _ => String::new(),
        }
    }

    /// Whether the chain ends at the comgmt lab CA.
    pub fn is_lab(&self) -> bool {
        let mark = format!("O={LAB_ORGANIZATION}");
        self.chain.iter().any(|c| c.subject.contains(&mark))
            || self.leaf.as_ref().is_some_and(|l| l.issuer.contains(&mark))
            || self
                .planned
                .as_ref()
                .is_some_and(|p| p.issuer.contains(&mark))
    }

    /// The CMG service name: the CN (§2.2).
    pub fn service_name(&self) -> String {
        self.common_name()
    }

    /// The service name with `prefix` in place of a wildcard.
    pub fn service_name_with(&self, prefix: &str) -> Result<String> {
        crate::cmg::names::service_name_with(&self.common_name(), prefix)
    }

    /// `<prefix>.<region>.cloudapp.azure.com`.
    pub fn deployment_name(&self, region: &str, prefix: Option<&str>) -> Result<String> {
        let service = match prefix {
            Some(p) => self.service_name_with(p)?,
            None => self.service_name(),
        };
        crate::cmg::names::deployment_name(&service, region)
    }
}

/// The lab CA: a root (its key is not kept) and an issuing CA whose key signs leaves.
#[derive(Debug, Clone)]
pub struct LabCa {
    pub name: String,
    pub dir: PathBuf,
    /// `None` while planned.
    pub root: Option<CertInfo>,
    pub issuing: Option<CertInfo>,
    pub issuing_key: Option<KeyMaterial>,
}

impl LabCa {
    pub fn root_subject(&self) -> String {
        self.root
            .as_ref()
            .map(|r| r.subject.clone())
            .unwrap_or_else(|| lab_subject(&format!("{} Root CA", self.name)))
    }
    pub fn issuing_subject(&self) -> String {
        self.issuing
            .as_ref()
            .map(|r| r.subject.clone())
            .unwrap_or_else(|| lab_subject(&format!("{} Issuing CA", self.name)))
    }
    pub fn root_path(&self) -> PathBuf {
        self.dir.join("root.cer")
    }
    pub fn issuing_path(&self) -> PathBuf {
        self.dir.join("issuing.cer")
    }
    pub fn issuing_key_path(&self) -> PathBuf {
        self.dir.join("issuing.key")
    }
}

pub fn lab_subject(cn: &str) -> String {
    format!("CN={cn}, O={LAB_ORGANIZATION}")
}
