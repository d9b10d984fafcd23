//! `cert` end to end at script level: request -> lab CA -> issue -> PFX -> load, the
//! "ensure" re-run, plan mode, and the files OpenSSL must accept.

#[path = "fixtures/cert/common.rs"]
mod common;

use comgmt_stdlib::Mode;
use common::*;

const FLOW: &str = r#"
let req = cert::request(#{
    common_name: "GraniteFalls.contoso.com",
    organization: "Contoso", department: "IT", city: "Redmond", state: "WA", country: "us",
    out: "certs/cmg",
});
let ca = cert::lab_ca(#{ name: "Test Lab" });
let cert = ca.issue(req, #{ days: 200 });
cert::export_pfx(cert, #{ out: "certs/cmg.pfx", password: "Pa55-flow-word" });
cert::export_pfx(cert, #{ out: "certs/cmg-3des.pfx", password: "Pa55-flow-word", format: "3des" });
let back = cert::load_pfx("certs/cmg.pfx", "Pa55-flow-word");
#{
    subject: req.subject, csr: req.csr, thumb: cert.thumbprint, back_thumb: back.thumbprint,
    service: back.service_name, deployment: back.deployment_name("WestUS"),
    chain: back.chain.len(), complete: back.chain_complete, key: back.has_private_key,
    ekus: back.ekus, alg: back.key_algorithm, size: back.key_size, sans: back.sans,
    days: back.days_left, lab: back.is_lab, issuer: back.issuer,
}
"#;

#[test]
fn request_issue_export_load_and_rerun_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let r = engine(Mode::Apply, dir.path());
    let m: rhai::Map = r.eval(FLOW);
    let s = |k: &str| m.get(k).map(|v| v.to_string()).unwrap_or_default();
    assert_eq!(
        s("subject"),
        "CN=GraniteFalls.contoso.com, OU=IT, O=Contoso, L=Redmond, S=WA, C=US"
    );
    assert!(s("csr").starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
    assert_eq!(s("thumb").len(), 40);
    assert!(s("thumb")
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
    assert_eq!(s("thumb"), s("back_thumb"));
    assert_eq!(s("service"), "GraniteFalls.contoso.com");
    assert_eq!(s("deployment"), "GraniteFalls.westus.cloudapp.azure.com");
    assert_eq!(s("chain"), "2");
    assert_eq!(s("complete"), "true");
    assert_eq!(s("key"), "true");
    assert_eq!(s("alg"), "RSA");
    assert_eq!(s("size"), "2048");
    assert_eq!(s("sans"), r#"["GraniteFalls.contoso.com"]"#);
    assert_eq!(s("ekus"), r#"["Server Authentication"]"#);
    assert_eq!(s("lab"), "true");
    assert_eq!(
        s("issuer"),
        "CN=Test Lab Issuing CA, O=comgmt lab CA - not for production"
    );
    let days: i64 = s("days").parse().unwrap();
    assert!((198..=200).contains(&days), "{days}");

    #[cfg(unix)]
    for (f, want) in [
        ("certs/cmg.key", 0o600),
        ("certs/cmg.pfx", 0o600),
        ("certs/cmg-3des.pfx", 0o600),
        ("lab-ca/issuing.key", 0o600),
        ("certs/cmg.csr", 0o644),
    ] {
        assert_eq!(mode(&dir.path().join(f)), want, "{f}");
    }
    assert_eq!(
        files(dir.path()),
        vec![
            "certs/cmg-3des.pfx",
            "certs/cmg.cer",
            "certs/cmg.csr",
            "certs/cmg.key",
            "certs/cmg.pfx",
            "lab-ca/issuing.cer",
            "lab-ca/issuing.key",
            "lab-ca/root.cer",
        ]
    );
    let created: Vec<_> = r
        .changes()
        .into_iter()
        .filter(|c| c.2 == "create")
        .map(|c| c.1)
        .collect();
    assert_eq!(
        created,
        vec![
            "private key",
            "certificate request",
            "lab CA",
            "certificate",
            "PFX file",
            "PFX file"
        ]
    );
    let key_before = std::fs::read(dir.path().join("certs/cmg.key")).unwrap();
    let journal = std::fs::read_to_string(dir.path().join(".comgmt/journal.jsonl")).unwrap();
    assert_eq!(journal.lines().count(), 6);

    // Second run: nothing changes, the key is the same file.
    let r2 = engine(Mode::Apply, dir.path());
    let m2: rhai::Map = r2.eval(FLOW);
    assert_eq!(m2.get("thumb").map(|v| v.to_string()), Some(s("thumb")));
    let actions: Vec<_> = r2.changes().into_iter().map(|c| c.2).collect();
    assert!(
        actions.iter().all(|a| a == "unchanged"),
        "{:?}",
        r2.changes()
    );
    assert_eq!(
        std::fs::read(dir.path().join("certs/cmg.key")).unwrap(),
        key_before
    );
    let journal2 = std::fs::read_to_string(dir.path().join(".comgmt/journal.jsonl")).unwrap();
    assert_eq!(journal2.lines().count(), 6);

    // A plan over the finished folder is also all unchanged.
    let p = engine(Mode::Plan, dir.path());
    let _: rhai::Map = p.eval(FLOW);
    assert!(
        p.changes().iter().all(|c| c.2 == "unchanged"),
        "{:?}",
        p.changes()
    );

    // Changing the organisation gives a new CSR from the same key.
    let r3 = engine(Mode::Apply, dir.path());
    r3.run(r#"cert::request(#{ common_name: "GraniteFalls.contoso.com", organization: "Fabrikam", out: "certs/cmg" });"#)
        .unwrap();
    let ch = r3.changes();
    assert_eq!(ch[0].1, "private key");
    assert_eq!(ch[0].2, "unchanged");
    assert_eq!(ch[1].1, "certificate request");
    assert_eq!(ch[1].2, "update");
    assert_eq!(
        std::fs::read(dir.path().join("certs/cmg.key")).unwrap(),
        key_before
    );
}

#[test]
fn plan_writes_nothing_and_shows_known_after_apply() {
    let dir = tempfile::tempdir().unwrap();
    let p = engine(Mode::Plan, dir.path());
    let m: rhai::Map = p.eval(
        r#"
        let req = cert::request(#{ common_name: "cmg.contoso.com", out: "certs/cmg" });
        let cert = cert::lab_ca().issue(req);
        let c2 = cert::export_pfx(cert, #{ out: "certs/cmg.pfx", password: "x-plan-pw" });
        let findings = cert::check_cmg(cert, #{ region: "westus" });
        #{ csr: req.csr, thumb: cert.thumbprint, subject: cert.subject, dep: cert.deployment_name("westus"),
           pfx: c2.pfx_path, n: findings.len(), checks: findings.map(|f| f.check) }
        "#,
    );
    assert_eq!(m["csr"].to_string(), "(known after apply)");
    assert_eq!(m["thumb"].to_string(), "(known after apply)");
    assert_eq!(m["subject"].to_string(), "CN=cmg.contoso.com");
    assert_eq!(m["dep"].to_string(), "cmg.westus.cloudapp.azure.com");
    assert!(m["pfx"].to_string().ends_with("certs/cmg.pfx"));
    assert!(files(dir.path()).is_empty(), "{:?}", files(dir.path()));
    let actions: Vec<_> = p.changes().into_iter().map(|c| (c.1, c.2)).collect();
    assert_eq!(
        actions,
        vec![
            ("private key".to_string(), "create".to_string()),
            ("certificate request".into(), "create".into()),
            ("lab CA".into(), "create".into()),
            ("certificate".into(), "create".into()),
            ("PFX file".into(), "create".into()),
        ]
    );
    assert!(!p.all_output().contains("x-plan-pw"));
}

#[test]
fn openssl_accepts_the_csr_and_reads_both_pfx_formats() {
    if !openssl("openssl_accepts_the_csr_and_reads_both_pfx_formats") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = engine(Mode::Apply, dir.path());
    let _: rhai::Map = r.eval(FLOW);
    let d = dir.path();
    let (ok, text) = openssl_run(
        d,
        &["req", "-in", "certs/cmg.csr", "-noout", "-verify", "-text"],
    );
    assert!(ok, "{text}");
    assert!(text.contains("verify OK"), "{text}");
    assert!(
        text.contains("CN = GraniteFalls.contoso.com")
            || text.contains("CN=GraniteFalls.contoso.com"),
        "{text}"
    );
    assert!(text.contains("DNS:GraniteFalls.contoso.com"), "{text}");
    assert!(text.contains("2048 bit"), "{text}");
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    let (ok, text) = openssl_run(d, &["rsa", "-in", "certs/cmg.key", "-check", "-noout"]);
    assert!(ok && text.contains("RSA key ok"), "{text}");
    for pfx in ["certs/cmg.pfx", "certs/cmg-3des.pfx"] {
        let (ok, text) = openssl_run(
            d,
            &[
                "pkcs12",
                "-in",
                pfx,
                "-info",
                "-passin",
                "pass:Pa55-flow-word",
                "-nodes",
            ],
        );
        assert!(ok, "{pfx}: {text}");
        assert!(text.contains("BEGIN PRIVATE KEY"), "{pfx}: {text}");
        assert_eq!(
            text.matches("BEGIN CERTIFICATE").count(),
            3,
            "{pfx}: leaf, intermediate, root\n{text}"
        );
        assert!(text.contains("Test Lab Issuing CA"), "{text}");
        if pfx.contains("3des") {
            assert!(text.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{text}");
            assert!(text.contains("MAC: sha1"), "{text}");
        } else {
            assert!(text.contains("AES-256-CBC"), "{text}");
            assert!(text.contains("MAC: sha256"), "{text}");
        }
    }
    let (ok, text) = openssl_run(
        d,
        &[
            "verify",
            "-CAfile",
            "lab-ca/root.cer",
            "-untrusted",
            "lab-ca/issuing.cer",
            "-purpose",
            "sslserver",
            "certs/cmg.cer",
        ],
    );
    assert!(ok && text.contains("OK"), "{text}");
}

#[test]
fn openssl_made_pfx_loads_with_names() {
    if !openssl("openssl_made_pfx_loads_with_names") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // An independent CA, intermediate and leaf made by OpenSSL alone.
    let cmds: &[&[&str]] = &[
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/CN=OpenSSL Root",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "int.key",
            "-out",
            "int.csr",
            "-subj",
            "/CN=OpenSSL Intermediate",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "int.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "int.pem",
            "-days",
            "30",
            "-extfile",
            "ca.ext",
        ],
        &[
            "req",
            "-newkey",
            "rsa:3072",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/C=GB/O=Fabrikam/CN=Contosocmg1.fabrikam.com",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "int.pem",
            "-CAkey",
            "int.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "20",
            "-extfile",
            "leaf.ext",
        ],
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "leaf.key",
            "-in",
            "leaf.pem",
            "-certfile",
            "int.pem",
            "-out",
            "leaf.pfx",
            "-passout",
            "pass:ossl-Pw-1",
            "-name",
            "cmg",
        ],
    ];
    std::fs::write(
        d.join("ca.ext"),
        "basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n",
    )
    .unwrap();
    std::fs::write(
        d.join("leaf.ext"),
        "subjectAltName=DNS:Contosocmg1.fabrikam.com\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n",
    )
    .unwrap();
    for c in cmds {
        let (ok, text) = openssl_run(d, c);
        assert!(ok, "{c:?}: {text}");
    }
    let r = engine(Mode::Apply, d);
    let m: rhai::Map = r.eval(
        r#"
        let c = cert::load_pfx("leaf.pfx", "ossl-Pw-1");
        let f = cert::check_cmg(c, #{ region: "northeurope" });
        #{ service: c.service_name, dep: c.deployment_name("northeurope"), size: c.key_size, key: c.has_private_key,
           chain: c.chain.len(), complete: c.chain_complete, subject: c.subject,
           checks: f.map(|x| x.check), severities: f.map(|x| x.severity) }
        "#,
    );
    assert_eq!(m["service"].to_string(), "Contosocmg1.fabrikam.com");
    assert_eq!(
        m["dep"].to_string(),
        "Contosocmg1.northeurope.cloudapp.azure.com"
    );
    assert_eq!(m["size"].to_string(), "3072");
    assert_eq!(m["key"].to_string(), "true");
    assert_eq!(m["chain"].to_string(), "1");
    assert_eq!(m["complete"].to_string(), "false");
    assert_eq!(
        m["subject"].to_string(),
        "CN=Contosocmg1.fabrikam.com, O=Fabrikam, C=GB"
    );
    // 3072 (info), expiring in 20 days (warning), root not included (warning),
    // upper-case prefix (info), deployment name (info).
    let checks = m["checks"].to_string();
    for want in [
        "key-size",
        "expiring",
        "chain-root",
        "prefix-case",
        "deployment-name",
    ] {
        assert!(checks.contains(want), "{want} missing in {checks}");
    }
    assert!(!m["severities"].to_string().contains("error"), "{checks}");
}

#[test]
fn lab_ca_signs_an_openssl_csr_with_subject_key_identifier() {
    if !openssl("lab_ca_signs_an_openssl_csr_with_subject_key_identifier") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, text) = openssl_run(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "win.key",
            "-out",
            "win.csr",
            "-subj",
            "/C=US/O=Contoso/CN=cmgwin.contoso.com",
            "-addext",
            "subjectKeyIdentifier=hash",
            "-addext",
            "subjectAltName=DNS:cmgwin.contoso.com",
            "-addext",
            "keyUsage=digitalSignature,keyEncipherment",
        ],
    );
    assert!(ok, "{text}");
    let (_, text) = openssl_run(d, &["req", "-in", "win.csr", "-noout", "-text"]);
    assert!(text.contains("Subject Key Identifier"), "{text}");
    let r = engine(Mode::Apply, d);
    let m: rhai::Map = r.eval(
        r#"
        let cert = cert::lab_ca().issue("win.csr", #{ days: 90 });
        let imported = cert::import_cert(#{ certificate: "win.cer", chain: ["lab-ca/issuing.cer", "lab-ca/root.cer"], key: "win.key" });
        cert::export_pfx(imported, #{ out: "win.pfx", password: "w-Pw" });
        #{ subject: cert.subject, key: cert.has_private_key, ikey: imported.has_private_key, same: cert.thumbprint == imported.thumbprint }
        "#,
    );
    assert_eq!(
        m["subject"].to_string(),
        "CN=cmgwin.contoso.com, O=Contoso, C=US"
    );
    assert_eq!(m["key"].to_string(), "false");
    assert_eq!(m["ikey"].to_string(), "true");
    assert_eq!(m["same"].to_string(), "true");
    let (ok, text) = openssl_run(
        d,
        &[
            "pkcs12",
            "-in",
            "win.pfx",
            "-info",
            "-passin",
            "pass:w-Pw",
            "-nodes",
        ],
    );
    assert!(ok, "{text}");
}

#[test]
fn import_reads_p7b_der_and_pkcs1_keys() {
    if !openssl("import_reads_p7b_der_and_pkcs1_keys") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let r = engine(Mode::Apply, d);
    r.run(r#"let req = cert::request(#{ common_name: "cmg.contoso.com", out: "cmg" }); cert::lab_ca().issue(req);"#)
        .unwrap();
    for c in [
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            "cmg.cer",
            "-certfile",
            "lab-ca/issuing.cer",
            "-certfile",
            "lab-ca/root.cer",
            "-out",
            "bundle.p7b",
            "-outform",
            "DER",
        ][..],
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            "cmg.cer",
            "-certfile",
            "lab-ca/issuing.cer",
            "-out",
            "bundle-pem.p7b",
        ][..],
        &[
            "x509", "-in", "cmg.cer", "-outform", "DER", "-out", "cmg.der",
        ][..],
        &[
            "x509",
            "-in",
            "lab-ca/issuing.cer",
            "-outform",
            "DER",
            "-out",
            "issuing.der",
        ][..],
        &[
            "rsa",
            "-in",
            "cmg.key",
            "-traditional",
            "-out",
            "cmg-pkcs1.key",
        ][..],
    ] {
        let (ok, text) = openssl_run(d, c);
        assert!(ok, "{c:?}: {text}");
    }
    let m: rhai::Map = r.eval(
        r#"
        let a = cert::import_cert(#{ certificate: "bundle.p7b", key: "cmg.key" });
        let b = cert::import_cert(#{ certificate: "bundle-pem.p7b", key: "cmg-pkcs1.key" });
        let c = cert::import_cert(#{ certificate: "cmg.der", chain: "issuing.der", key: "cmg.key" });
        cert::export_pfx(b, #{ out: "b.pfx", password: "b-pw" });
        #{ a: a.chain.len(), ac: a.chain_complete, b: b.chain.len(), bc: b.chain_complete, c: c.chain.len(),
           same: a.thumbprint == c.thumbprint, bk: b.has_private_key }
        "#,
    );
    assert_eq!(m["a"].to_string(), "2");
    assert_eq!(m["ac"].to_string(), "true");
    assert_eq!(m["b"].to_string(), "1");
    assert_eq!(m["bc"].to_string(), "false");
    assert_eq!(m["c"].to_string(), "1");
    assert_eq!(m["same"].to_string(), "true");
    assert_eq!(m["bk"].to_string(), "true");
}
