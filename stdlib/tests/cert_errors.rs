//! The errors issue 3 says must be clear: the message, the script line, and no partial
//! files left behind. And a known password must appear nowhere.

#[path = "fixtures/cert/common.rs"]
mod common;

use ::time::{Duration, OffsetDateTime};
use comgmt_stdlib::cert::model::PfxFormat;
use comgmt_stdlib::cert::objects::{Certificate, KeyMaterial};
use comgmt_stdlib::cert::pfx::build_pfx;
use comgmt_stdlib::cert::x509::CertInfo;
use comgmt_stdlib::{ErrorKind, Mode, Secret};
use common::*;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair,
};
use std::path::Path;
use zeroize::Zeroizing;

/// A folder with a lab request, CA and issued certificate (`cmg.*`, `lab-ca/`).
fn prepared() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = engine(Mode::Apply, dir.path());
    r.run(
        r#"
        let req = cert::request(#{ common_name: "cmg.contoso.com", out: "cmg" });
        let c = cert::lab_ca().issue(req);
        cert::export_pfx(c, #{ out: "cmg.pfx", password: "Right-Pw-123" });
        "#,
    )
    .unwrap();
    dir
}

/// Run `script` (which must fail on its last line) and check the error and the files.
fn fails(dir: &Path, script: &str, want: &str) -> comgmt_stdlib::ModuleError {
    let before = files(dir);
    let r = engine(Mode::Apply, dir);
    let e = r.run(script).expect_err("the script should fail");
    let (m, line) = module_error(&e);
    let lines = script.trim_end().lines().count();
    assert_eq!(line, Some(lines), "error at the failing call's line: {m:?}");
    assert!(
        m.message.contains(want),
        "expected `{want}` in `{}`",
        m.message
    );
    assert_eq!(files(dir), before, "no files written or left behind");
    m
}

#[test]
fn wrong_password_says_wrong_password() {
    let dir = prepared();
    let m = fails(
        dir.path(),
        "let x = 1;\nlet c = cert::load_pfx(\"cmg.pfx\", \"Wrong-Pw-456\");",
        "wrong password",
    );
    assert!(!m.message.to_lowercase().contains("mac"), "{}", m.message);
    assert!(!m.message.contains("Wrong-Pw-456"));
    assert_eq!(m.kind, ErrorKind::Validation);
    // the 3DES file too
    let r = engine(Mode::Apply, dir.path());
    r.run(r#"cert::export_pfx(cert::load_pfx("cmg.pfx", "Right-Pw-123"), #{ out: "old.pfx", password: "Right-Pw-123", format: "3des" });"#)
        .unwrap();
    fails(
        dir.path(),
        "cert::load_pfx(\"old.pfx\", \"nope\");",
        "wrong password",
    );
}

#[test]
fn certificate_not_matching_the_key() {
    let dir = prepared();
    let r = engine(Mode::Apply, dir.path());
    r.run(r#"cert::request(#{ common_name: "other.contoso.com", out: "other" });"#)
        .unwrap();
    let m = fails(
        dir.path(),
        "let x = 0;\ncert::import_cert(#{ certificate: \"cmg.cer\", chain: [\"lab-ca/issuing.cer\", \"lab-ca/root.cer\"], key: \"other.key\" });",
        "does not match the private key",
    );
    assert!(m.hint.unwrap_or_default().contains("CSR"));
}

#[test]
fn missing_intermediate() {
    let dir = prepared();
    let m = fails(
        dir.path(),
        "cert::import_cert(#{ certificate: \"cmg.cer\", chain: \"lab-ca/root.cer\", key: \"cmg.key\" });",
        "intermediate certificate CN=comgmt Lab Issuing CA",
    );
    assert!(m.message.contains("is missing"), "{}", m.message);
    assert!(m.hint.unwrap_or_default().contains("`chain`"));
    fails(
        dir.path(),
        "cert::import_cert(#{ certificate: \"cmg.cer\", key: \"cmg.key\" });",
        "incomplete",
    );
}

fn expired_files(dir: &Path) -> Certificate {
    let ck = KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).unwrap();
    let mut cp = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Old Root");
    cp.distinguished_name = dn;
    cp.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = cp.self_signed(&ck).unwrap();
    let issuer = Issuer::new(cp, ck);
    let lk = KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).unwrap();
    let mut lp = CertificateParams::new(vec!["old.contoso.com".to_string()]).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "old.contoso.com");
    lp.distinguished_name = dn;
    lp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    lp.not_before = OffsetDateTime::now_utc() - Duration::days(400);
    lp.not_after = OffsetDateTime::now_utc() - Duration::days(35);
    let leaf = lp.signed_by(&lk, &issuer).unwrap();
    std::fs::write(dir.join("old.cer"), leaf.pem()).unwrap();
    std::fs::write(dir.join("old-root.cer"), ca.pem()).unwrap();
    std::fs::write(dir.join("old.key"), lk.serialize_pem()).unwrap();
    Certificate::from_parts(
        CertInfo::from_der(leaf.der()).unwrap(),
        &[CertInfo::from_der(ca.der()).unwrap()],
        Some(KeyMaterial::new(Zeroizing::new(lk.serialize_der()))),
    )
}

#[test]
fn expired_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = expired_files(dir.path());
    let m = fails(
        dir.path(),
        "cert::import_cert(#{ certificate: \"old.cer\", chain: \"old-root.cer\", key: \"old.key\" });",
        "expired on",
    );
    assert!(m.message.contains("35 days ago"), "{}", m.message);
    // A PFX holding it loads (to inspect), but can't be exported again.
    let pfx = build_pfx(&cert, &Secret::new("e-pw"), true, PfxFormat::Aes256).unwrap();
    std::fs::write(dir.path().join("old.pfx"), pfx).unwrap();
    let r = engine(Mode::Apply, dir.path());
    let checks: rhai::Array =
        r.eval(r#"cert::check_cmg(cert::load_pfx("old.pfx", "e-pw")).map(|f| f.check)"#);
    assert!(checks.iter().any(|c| c.to_string() == "expired"));
    fails(
        dir.path(),
        "let c = cert::load_pfx(\"old.pfx\", \"e-pw\");\ncert::export_pfx(c, #{ out: \"again.pfx\", password: \"e-pw\" });",
        "expired on",
    );
}

#[test]
fn azure_domain_and_bad_country() {
    let dir = tempfile::tempdir().unwrap();
    let m = fails(
        dir.path(),
        "cert::request(#{ common_name: \"GraniteFalls.westus.cloudapp.azure.com\" });",
        "a public certificate provider can't issue a certificate for an Azure domain",
    );
    assert!(m.hint.unwrap_or_default().contains("CNAME"));
    fails(
        dir.path(),
        "cert::request(#{ common_name: \"cmg.cloudapp.net\" });",
        "Azure domain cloudapp.net",
    );
    fails(
        dir.path(),
        "let o = #{ common_name: \"cmg.contoso.com\", country: \"USA\" };\ncert::request(o);",
        "two-letter ISO 3166",
    );
    fails(
        dir.path(),
        "cert::request(#{ common_name: \"cmg.contoso.com\", key_size: 1024 });",
        "key_size 1024",
    );
    fails(
        dir.path(),
        "cert::request(#{ common_name: \"cmg\" });",
        "not a valid DNS name",
    );
    let m = fails(
        dir.path(),
        "cert::request(#{ common_name: \"cmg.contoso.com\", organisation: \"x\" });",
        "unknown option",
    );
    assert!(m
        .hint
        .unwrap_or_default()
        .contains("did you mean `organization`"));
}

#[test]
fn unreadable_and_truncated_files() {
    let dir = prepared();
    let d = dir.path();
    let pfx = std::fs::read(d.join("cmg.pfx")).unwrap();
    std::fs::write(d.join("cut.pfx"), &pfx[..pfx.len() / 2]).unwrap();
    std::fs::write(d.join("empty.pfx"), b"").unwrap();
    let cer = std::fs::read_to_string(d.join("cmg.cer")).unwrap();
    std::fs::write(d.join("cut.cer"), &cer[..cer.len() / 2]).unwrap();
    let der = pem::parse(cer.as_bytes()).unwrap().into_contents();
    std::fs::write(d.join("cut.der"), &der[..der.len() - 10]).unwrap();
    let csr = std::fs::read_to_string(d.join("cmg.csr")).unwrap();
    std::fs::write(d.join("cut.csr"), &csr[..csr.len() - 200]).unwrap();
    let key = std::fs::read_to_string(d.join("cmg.key")).unwrap();
    std::fs::write(d.join("cut.key"), &key[..key.len() / 2]).unwrap();

    fails(
        d,
        "cert::load_pfx(\"cut.pfx\", \"Right-Pw-123\");",
        "is not a readable PFX file",
    );
    fails(
        d,
        "cert::load_pfx(\"empty.pfx\", \"Right-Pw-123\");",
        "is not a readable PFX file",
    );
    let m = fails(
        d,
        "cert::load_pfx(\"missing.pfx\", \"Right-Pw-123\");",
        "does not exist",
    );
    assert_eq!(m.kind, ErrorKind::NotFound);
    fails(
        d,
        "cert::import_cert(#{ certificate: \"cut.cer\", key: \"cmg.key\" });",
        "is not a readable certificate file",
    );
    fails(
        d,
        "cert::import_cert(#{ certificate: \"cut.der\", key: \"cmg.key\" });",
        "is not a readable certificate file",
    );
    fails(
        d,
        "cert::import_cert(#{ certificate: \"cmg.cer\", key: \"cut.key\" });",
        "is not a readable private key",
    );
    fails(
        d,
        "cert::lab_ca().issue(\"cut.csr\");",
        "is not a readable certificate request",
    );
    // A truncated existing key is never replaced by cert::request.
    std::fs::copy(d.join("cut.key"), d.join("cmg.key")).unwrap();
    let m = fails(
        d,
        "cert::request(#{ common_name: \"cmg.contoso.com\", out: \"cmg\" });",
        "is not a readable private key",
    );
    assert!(m.hint.unwrap_or_default().contains("move"));
}

#[test]
fn export_needs_a_key_and_a_password() {
    let dir = prepared();
    fails(
        dir.path(),
        "let c = cert::import_cert(#{ certificate: \"cmg.cer\", chain: \"lab-ca/issuing.cer\" });\ncert::export_pfx(c, #{ out: \"x.pfx\", password: \"p\" });",
        "has no private key",
    );
    fails(
        dir.path(),
        "let c = cert::load_pfx(\"cmg.pfx\", \"Right-Pw-123\");\ncert::export_pfx(c, #{ out: \"x.pfx\" });",
        "`password` is required",
    );
    fails(
        dir.path(),
        "let c = cert::load_pfx(\"cmg.pfx\", \"Right-Pw-123\");\ncert::export_pfx(c, #{ out: \"x.pfx\", password: \"p\", format: \"rc2\" });",
        "format",
    );
}

#[test]
fn a_known_password_appears_nowhere() {
    const PW: &str = "Zq7-very-known-password-314";
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("COMGMT_TEST_CERT_PW", PW);
    let r = engine(Mode::Apply, dir.path());
    r.run(
        r#"
        let pw = secret("COMGMT_TEST_CERT_PW");
        print(pw);
        let req = cert::request(#{ common_name: "cmg.contoso.com", out: "cmg" });
        let c = cert::lab_ca().issue(req);
        let c2 = cert::export_pfx(c, #{ out: "cmg.pfx", password: pw });
        cert::export_pfx(c, #{ out: "cmg-plain.pfx", password: "Zq7-very-known-password-314", format: "3des" });
        let back = cert::load_pfx("cmg.pfx", pw);
        print(back); print(c2); print(req);
        for f in cert::check_cmg(back) { print(f); }
        debug(back);
        "#,
    )
    .unwrap();
    // errors carry no password either
    let e = r
        .run("cert::load_pfx(\"cmg.pfx\", \"Zq7-very-known-password-315\");")
        .unwrap_err();
    let (m, _) = module_error(&e);
    let mut seen = r.all_output();
    seen.push_str(&format!("{e} {e:?} {m:?}"));
    seen.push_str(&std::fs::read_to_string(dir.path().join(".comgmt/journal.jsonl")).unwrap());
    assert!(seen.contains("(secret)"), "print(secret) shows (secret)");
    assert!(!seen.contains(PW), "the password leaked: {seen}");
    assert!(!seen.contains("Zq7-very-known-password-315"));
    // the plan of a changed password shows only (secret)
    let p = engine(Mode::Plan, dir.path());
    p.run(r#"cert::export_pfx(cert::load_pfx("cmg.pfx", secret("COMGMT_TEST_CERT_PW")), #{ out: "cmg.pfx", password: "other-Pw-999" });"#)
        .unwrap();
    let plan = p.all_output();
    assert!(plan.contains("\"update\""), "{plan}");
    assert!(
        !plan.contains(PW) && !plan.contains("other-Pw-999"),
        "{plan}"
    );
    // no files hold the password in clear
    for f in files(dir.path()) {
        let bytes = std::fs::read(dir.path().join(&f)).unwrap();
        assert!(!bytes.windows(PW.len()).any(|w| w == PW.as_bytes()), "{f}");
    }
}
