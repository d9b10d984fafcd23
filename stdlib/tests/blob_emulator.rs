//! The blob client against the in-process emulator over real HTTP: a file uploaded as
//! blocks and committed reads back whole, and Storage's errors come back typed without
//! the SAS in them.

mod common;

use comgmt_emulator::Surface;
use comgmt_stdlib::cloud::blob;
use comgmt_stdlib::ErrorKind;
use common::Lab;

/// A SAS URL from the emulator's test endpoint (what Graph's `azureStorageUri`
/// will carry).
fn sas(lab: &Lab, blob: &str, permissions: &str, minutes: i64) -> url::Url {
    let fixture = format!(
        "{}_emulator/blob-sas?container=intune&blob={blob}&permissions={permissions}&minutes={minutes}",
        lab.emu().url()
    );
    let v: serde_json::Value = lab
        .rt
        .block_on(async { reqwest::get(fixture).await?.json().await })
        .unwrap();
    url::Url::parse(v["url"].as_str().unwrap()).unwrap()
}

fn read(lab: &Lab, sas: &url::Url) -> Vec<u8> {
    lab.rt
        .block_on(async { reqwest::get(sas.clone()).await?.bytes().await })
        .unwrap()
        .to_vec()
}

#[test]
fn a_file_uploaded_in_blocks_reads_back_whole() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    let sas = sas(&lab, "ccmsetup.msi", "rw", 60);
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let blocks = lab
        .rt
        .block_on(cloud.blob.upload(&sas, &data, 4096))
        .unwrap();
    assert_eq!(blocks, 3);
    assert_eq!(read(&lab, &sas), data);
    let writes = lab
        .emu()
        .requests()
        .into_iter()
        .filter(|r| r.surface == Surface::Blob && r.write)
        .count();
    assert_eq!(writes, 4, "three blocks and a block list");

    // Uploading again replaces the content: re-running is safe.
    lab.rt
        .block_on(cloud.blob.upload(&sas, b"second", 4096))
        .unwrap();
    assert_eq!(read(&lab, &sas), b"second");
}

#[test]
fn storage_errors_are_typed_and_never_show_the_signature() {
    let lab = Lab::new();
    let cloud = lab.cloud(lab.config());
    let id = blob::block_id(0).unwrap();
    let no_sig = |e: &comgmt_stdlib::ModuleError| {
        let all = format!("{e} {e:?}");
        assert!(!all.contains("sig="), "{all}");
    };

    let expired = sas(&lab, "late.bin", "rw", -1);
    let err = lab
        .rt
        .block_on(cloud.blob.put_block(&expired, &id, b"x"))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(err.remote_code.as_deref(), Some("AuthenticationFailed"));
    assert!(err
        .hint
        .as_deref()
        .unwrap_or_default()
        .contains("renewUpload"));
    assert!(err.request_id.is_some());
    no_sig(&err);

    let read_only = sas(&lab, "ro.bin", "r", 60);
    let err = lab
        .rt
        .block_on(cloud.blob.put_block(&read_only, &id, b"x"))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permission);
    assert_eq!(
        err.remote_code.as_deref(),
        Some("AuthorizationPermissionMismatch")
    );
    no_sig(&err);

    // A block list naming a block never staged.
    let sas = sas(&lab, "partial.bin", "rw", 60);
    let err = lab
        .rt
        .block_on(cloud.blob.put_block_list(&sas, &[id]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Validation);
    assert_eq!(err.remote_code.as_deref(), Some("InvalidBlockList"));
    no_sig(&err);
}
