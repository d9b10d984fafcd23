//! `cert::check_cmg`: every check triggered by a crafted certificate (Rust level, with a
//! pinned clock), plus the script-level binding.

#[path = "fixtures/cert/common.rs"]
mod common;

use ::time::{Duration, OffsetDateTime};
use comgmt_stdlib::cert::check::check_cmg;
use comgmt_stdlib::cert::model::CheckOptions;
use comgmt_stdlib::cert::objects::{Certificate, KeyMaterial, PlannedCert, LAB_ORGANIZATION};
use comgmt_stdlib::cert::x509::CertInfo;
use comgmt_stdlib::cert::{Finding, Severity};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType,
};
use std::sync::OnceLock;
use zeroize::Zeroizing;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cert");

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn rsa(bits: rcgen::RsaKeySize) -> KeyPair {
    KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, bits).unwrap()
}

/// One RSA key reused by most leaves (key generation is slow in debug builds).
fn leaf_key() -> &'static KeyPair {
    static K: OnceLock<KeyPair> = OnceLock::new();
    K.get_or_init(|| rsa(rcgen::RsaKeySize::_2048))
}

struct Ca {
    root: CertInfo,
    root_issuer: Issuer<'static, KeyPair>,
    int: CertInfo,
    int_issuer: Issuer<'static, KeyPair>,
}

fn ca_params(cn: &str, org: &str, not_after: OffsetDateTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, org);
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = now() - Duration::days(400);
    p.not_after = not_after;
    p
}

fn make_ca(org: &str, int_not_after: OffsetDateTime) -> Ca {
    let rk = rsa(rcgen::RsaKeySize::_2048);
    let rp = ca_params("Test Root", org, now() + Duration::days(3650));
    let root = rp.self_signed(&rk).unwrap();
    let root_issuer = Issuer::new(rp, rk);
    let ik = rsa(rcgen::RsaKeySize::_2048);
    let ip = ca_params("Test Intermediate", org, int_not_after);
    let int = ip.signed_by(&ik, &root_issuer).unwrap();
    Ca {
        root: CertInfo::from_der(root.der()).unwrap(),
        root_issuer,
        int: CertInfo::from_der(int.der()).unwrap(),
        int_issuer: Issuer::new(ip, ik),
    }
}

fn ca() -> &'static Ca {
    static C: OnceLock<Ca> = OnceLock::new();
    C.get_or_init(|| make_ca("Contoso Test PKI", now() + Duration::days(1000)))
}

struct Leaf {
    cn: Option<&'static str>,
    sans: Vec<&'static str>,
    eku: Vec<ExtendedKeyUsagePurpose>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl Default for Leaf {
    fn default() -> Self {
        Leaf {
            cn: Some("granitefalls.contoso.com"),
            sans: vec!["granitefalls.contoso.com"],
            eku: vec![ExtendedKeyUsagePurpose::ServerAuth],
            not_before: now() - Duration::days(1),
            not_after: now() + Duration::days(300),
        }
    }
}

fn params(l: &Leaf) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    if let Some(cn) = l.cn {
        dn.push(DnType::CommonName, cn);
    }
    p.distinguished_name = dn;
    p.subject_alt_names = l
        .sans
        .iter()
        .map(|s| SanType::DnsName((*s).try_into().unwrap()))
        .collect();
    p.extended_key_usages = l.eku.clone();
    p.not_before = l.not_before;
    p.not_after = l.not_after;
    p.use_authority_key_identifier_extension = true;
    p
}

fn key_of(k: &KeyPair) -> KeyMaterial {
    KeyMaterial::new(Zeroizing::new(k.serialize_der()))
}

/// A leaf from the test intermediate with `leaf_key()`, chain [int, root], key present.
fn good(l: Leaf) -> Certificate {
    let c = params(&l).signed_by(leaf_key(), &ca().int_issuer).unwrap();
    let info = CertInfo::from_der(c.der()).unwrap();
    Certificate::from_parts(
        info,
        &[ca().int.clone(), ca().root.clone()],
        Some(key_of(leaf_key())),
    )
}

fn checks(c: &Certificate, o: &CheckOptions) -> Vec<Finding> {
    check_cmg(c, o, now())
}

fn opts() -> CheckOptions {
    CheckOptions {
        region: None,
        content: true,
        service_name: None,
        existing_service_name: None,
    }
}

fn ids(f: &[Finding]) -> Vec<String> {
    f.iter()
        .map(|x| format!("{}:{}", x.severity.as_str(), x.check))
        .collect()
}

fn has(f: &[Finding], check: &str, sev: Severity) {
    let found = f.iter().find(|x| x.check == check);
    match found {
        Some(x) => {
            assert_eq!(x.severity, sev, "{check}: {x}");
            assert!(!x.message.is_empty());
            if sev != Severity::Info {
                assert!(!x.fix.is_empty(), "{check} needs a fix text");
            }
        }
        None => panic!("no {check} finding in {:?}", ids(f)),
    }
}

#[test]
fn a_good_certificate_has_no_findings() {
    let f = checks(&good(Leaf::default()), &opts());
    assert!(f.is_empty(), "{:?}", ids(&f));
}

#[test]
fn key_algorithm_and_size() {
    // EC key
    let ec = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let c = params(&Leaf::default())
        .signed_by(&ec, &ca().int_issuer)
        .unwrap();
    let cert = Certificate::from_parts(
        CertInfo::from_der(c.der()).unwrap(),
        &[ca().int.clone(), ca().root.clone()],
        Some(key_of(&ec)),
    );
    has(&checks(&cert, &opts()), "key-algorithm", Severity::Error);

    // 1024-bit RSA (public key only: the fixture holds an OpenSSL-made SPKI)
    let pem_text = std::fs::read_to_string(format!("{FIXTURES}/rsa1024.pub.pem")).unwrap();
    let spki = rcgen::SubjectPublicKeyInfo::from_pem(&pem_text).unwrap();
    let c = params(&Leaf::default())
        .signed_by(&spki, &ca().int_issuer)
        .unwrap();
    let cert = Certificate::from_parts(
        CertInfo::from_der(c.der()).unwrap(),
        &[ca().int.clone(), ca().root.clone()],
        None,
    );
    let f = checks(&cert, &opts());
    has(&f, "key-size", Severity::Error);
    assert!(
        f.iter().any(|x| x.message.contains("1024-bit")),
        "{:?}",
        ids(&f)
    );
    has(&f, "private-key", Severity::Error);

    // 3072-bit: allowed, but not one of the documented sizes
    let k = rsa(rcgen::RsaKeySize::_3072);
    let c = params(&Leaf::default())
        .signed_by(&k, &ca().int_issuer)
        .unwrap();
    let cert = Certificate::from_parts(
        CertInfo::from_der(c.der()).unwrap(),
        &[ca().int.clone(), ca().root.clone()],
        Some(key_of(&k)),
    );
    let f = checks(&cert, &opts());
    has(&f, "key-size", Severity::Info);
    assert_eq!(f.len(), 1, "{:?}", ids(&f));
    let _ = k.subject_public_key_info();
}

#[test]
fn eku_cn_and_san() {
    let f = checks(
        &good(Leaf {
            eku: vec![ExtendedKeyUsagePurpose::ClientAuth],
            ..Leaf::default()
        }),
        &opts(),
    );
    has(&f, "eku-server-auth", Severity::Error);
    assert!(f[0].message.contains("Client Authentication"), "{}", f[0]);
    let f = checks(
        &good(Leaf {
            eku: vec![],
            ..Leaf::default()
        }),
        &opts(),
    );
    has(&f, "eku-server-auth", Severity::Error);
    assert!(f[0].message.contains("no enhanced key usage"), "{}", f[0]);

    let f = checks(
        &good(Leaf {
            sans: vec!["other.contoso.com"],
            ..Leaf::default()
        }),
        &opts(),
    );
    has(&f, "san-contains-cn", Severity::Error);
    let f = checks(
        &good(Leaf {
            sans: vec![],
            ..Leaf::default()
        }),
        &opts(),
    );
    has(&f, "san-contains-cn", Severity::Error);
    let f = checks(
        &good(Leaf {
            cn: None,
            ..Leaf::default()
        }),
        &opts(),
    );
    has(&f, "common-name", Severity::Error);
}

#[test]
fn validity() {
    let f = checks(
        &good(Leaf {
            not_before: now() - Duration::days(400),
            not_after: now() - Duration::days(2),
            ..Leaf::default()
        }),
        &opts(),
    );
    has(&f, "expired", Severity::Error);
    let f = checks(
        &good(Leaf {
            not_before: now() + Duration::days(2),
            not_after: now() + Duration::days(300),
            ..Leaf::default()
        }),
        &opts(),
    );
    has(&f, "not-yet-valid", Severity::Error);
    let f = checks(
        &good(Leaf {
            not_after: now() + Duration::days(10),
            ..Leaf::default()
        }),
        &opts(),
    );
    has(&f, "expiring", Severity::Warning);
    assert_eq!(f.len(), 1, "{:?}", ids(&f));
    let f = checks(
        &good(Leaf {
            not_after: now() + Duration::days(45),
            ..Leaf::default()
        }),
        &opts(),
    );
    assert!(f.is_empty(), "{:?}", ids(&f));
}

#[test]
fn chain_checks() {
    let c = params(&Leaf::default())
        .signed_by(leaf_key(), &ca().int_issuer)
        .unwrap();
    let info = CertInfo::from_der(c.der()).unwrap();
    let key = Some(key_of(leaf_key()));
    // no intermediate at all
    let cert = Certificate::from_parts(info.clone(), &[ca().root.clone()], key.clone());
    let f = checks(&cert, &opts());
    has(&f, "chain-incomplete", Severity::Error);
    assert!(f[0].message.contains("Test Intermediate"), "{}", f[0]);
    // intermediate without the root
    let cert = Certificate::from_parts(info.clone(), &[ca().int.clone()], key.clone());
    has(&checks(&cert, &opts()), "chain-root", Severity::Warning);
    // self-signed
    let s = params(&Leaf::default()).self_signed(leaf_key()).unwrap();
    let cert = Certificate::from_parts(CertInfo::from_der(s.der()).unwrap(), &[], key.clone());
    has(&checks(&cert, &opts()), "self-signed", Severity::Error);
    // an expired intermediate
    let old = make_ca("Old PKI", now() - Duration::days(1));
    let c = params(&Leaf::default())
        .signed_by(leaf_key(), &old.int_issuer)
        .unwrap();
    let cert = Certificate::from_parts(
        CertInfo::from_der(c.der()).unwrap(),
        &[old.int.clone(), old.root.clone()],
        key,
    );
    has(&checks(&cert, &opts()), "chain-expired", Severity::Error);
    let _ = &old.root_issuer;
}

#[test]
fn lab_issued_and_sha1_signed() {
    let lab = make_ca(LAB_ORGANIZATION, now() + Duration::days(1000));
    let c = params(&Leaf::default())
        .signed_by(leaf_key(), &lab.int_issuer)
        .unwrap();
    let cert = Certificate::from_parts(
        CertInfo::from_der(c.der()).unwrap(),
        &[lab.int.clone(), lab.root.clone()],
        Some(key_of(leaf_key())),
    );
    let f = checks(&cert, &opts());
    has(&f, "lab-ca", Severity::Warning);
    assert_eq!(f.len(), 1, "{:?}", ids(&f));

    let pem_text = std::fs::read(format!("{FIXTURES}/sha1-selfsigned.pem")).unwrap();
    let der = pem::parse(pem_text).unwrap().into_contents();
    let cert = Certificate::from_parts(CertInfo::from_der(&der).unwrap(), &[], None);
    let f = checks(&cert, &opts());
    has(&f, "signature-algorithm", Severity::Warning);
    has(&f, "self-signed", Severity::Error);
}

#[test]
fn names_prefix_wildcard_region_and_case() {
    let o = opts();
    let f = checks(
        &good(Leaf {
            cn: Some("my-cmg.contoso.com"),
            sans: vec!["my-cmg.contoso.com"],
            ..Leaf::default()
        }),
        &o,
    );
    has(&f, "prefix-storage-name", Severity::Error);
    let no_content = CheckOptions {
        content: false,
        ..opts()
    };
    let f = checks(
        &good(Leaf {
            cn: Some("my-cmg.contoso.com"),
            sans: vec!["my-cmg.contoso.com"],
            ..Leaf::default()
        }),
        &no_content,
    );
    assert!(f.is_empty(), "{:?}", ids(&f));
    let f = checks(
        &good(Leaf {
            cn: Some("9cmg.contoso.com"),
            sans: vec!["9cmg.contoso.com"],
            ..Leaf::default()
        }),
        &no_content,
    );
    has(&f, "prefix-dns-label", Severity::Error);
    let f = checks(
        &good(Leaf {
            cn: Some("GraniteFalls.contoso.com"),
            sans: vec!["GraniteFalls.contoso.com"],
            ..Leaf::default()
        }),
        &o,
    );
    has(&f, "prefix-case", Severity::Info);

    // wildcard: without a service name, and with a right and a wrong one
    let wild = good(Leaf {
        cn: Some("*.contoso.com"),
        sans: vec!["*.contoso.com"],
        ..Leaf::default()
    });
    has(&checks(&wild, &o), "wildcard", Severity::Warning);
    let f = checks(
        &wild,
        &CheckOptions {
            service_name: Some("cmg1.contoso.com".into()),
            region: Some("westus".into()),
            ..opts()
        },
    );
    has(&f, "deployment-name", Severity::Info);
    assert!(
        f.iter()
            .any(|x| x.message.contains("cmg1.westus.cloudapp.azure.com")),
        "{:?}",
        ids(&f)
    );
    let f = checks(
        &wild,
        &CheckOptions {
            service_name: Some("cmg1.fabrikam.com".into()),
            ..opts()
        },
    );
    has(&f, "service-name", Severity::Error);
    let f = checks(
        &wild,
        &CheckOptions {
            service_name: Some("my-cmg.contoso.com".into()),
            ..opts()
        },
    );
    has(&f, "prefix-storage-name", Severity::Error);

    // Azure domain CN (enterprise PKI) and the deployment name's region
    let az = good(Leaf {
        cn: Some("cmgeu.westeurope.cloudapp.azure.com"),
        sans: vec!["cmgeu.westeurope.cloudapp.azure.com"],
        ..Leaf::default()
    });
    has(&checks(&az, &o), "azure-domain", Severity::Info);
    let f = checks(
        &az,
        &CheckOptions {
            region: Some("westus".into()),
            ..opts()
        },
    );
    has(&f, "deployment-name", Severity::Error);
    let f = checks(
        &az,
        &CheckOptions {
            region: Some("westeurope".into()),
            ..opts()
        },
    );
    has(&f, "deployment-name", Severity::Info);
    let f = checks(
        &az,
        &CheckOptions {
            region: Some("West Europe".into()),
            ..opts()
        },
    );
    has(&f, "region", Severity::Error);

    // renewal: case and name changes
    let g = good(Leaf::default());
    let f = checks(
        &g,
        &CheckOptions {
            existing_service_name: Some("GraniteFalls.contoso.com".into()),
            ..opts()
        },
    );
    has(&f, "cn-case", Severity::Error);
    let f = checks(
        &g,
        &CheckOptions {
            existing_service_name: Some("other.contoso.com".into()),
            ..opts()
        },
    );
    has(&f, "service-name-changed", Severity::Error);
    let f = checks(
        &g,
        &CheckOptions {
            existing_service_name: Some("granitefalls.contoso.com".into()),
            ..opts()
        },
    );
    assert!(f.is_empty(), "{:?}", ids(&f));
}

#[test]
fn planned_certificate() {
    let p = Certificate::planned(
        PlannedCert {
            subject: "CN=cmg.contoso.com".into(),
            common_name: "cmg.contoso.com".into(),
            sans: vec!["cmg.contoso.com".into()],
            key_size: 2048,
            issuer: "CN=x".into(),
        },
        None,
    );
    let f = checks(&p, &opts());
    has(&f, "planned", Severity::Info);
    assert_eq!(f.len(), 1, "{:?}", ids(&f));
}

#[test]
fn script_level_findings_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let r = common::engine(comgmt_stdlib::Mode::Apply, dir.path());
    let out: rhai::Array = r.eval(
        r#"
        let req = cert::request(#{ common_name: "my-cmg.contoso.com", out: "c/cmg" });
        let f = cert::check_cmg(cert::lab_ca().issue(req), #{ region: "westus" });
        f.map(|x| `${x.severity}|${x.check}|${x.fix != ""}|${x}`)
        "#,
    );
    let text: Vec<String> = out.iter().map(|d| d.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("error|prefix-storage-name|true|error[prefix-storage-name]: ")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|t| t.starts_with("warning|lab-ca|true|")),
        "{text:?}"
    );
    assert!(
        text.iter().any(|t| t.starts_with("info|deployment-name|")),
        "{text:?}"
    );
    // a misspelt option names the valid ones; a bad region is an error at the call
    let e = r
        .run(r#"let c = cert::load_pfx("nope.pfx", "x");"#)
        .unwrap_err();
    assert!(common::module_error(&e)
        .0
        .message
        .contains("does not exist"));
    let e = r
        .run("let req = cert::request(#{ common_name: \"a1.contoso.com\", out: \"c/a1\" });\nlet c = cert::lab_ca().issue(req);\ncert::check_cmg(c, #{ regoin: \"westus\" });")
        .unwrap_err();
    let (m, line) = common::module_error(&e);
    assert!(
        m.hint.unwrap_or_default().contains("did you mean `region`"),
        "{}",
        m.message
    );
    assert_eq!(line, Some(3));
}
