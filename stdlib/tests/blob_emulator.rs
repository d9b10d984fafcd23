//! The blob client against the in-process emulator over real HTTP: a file uploaded as
//! blocks and committed reads back whole, and Storage's errors come back typed without
//! the SAS in them.

use comgmt_emulator::{EmulatorConfig, EmulatorHandle, Surface};
use comgmt_stdlib::cloud::{blob, Cloud, CloudConfig};
use comgmt_stdlib::ErrorKind;

struct Lab {
    rt: tokio::runtime::Runtime,
    emu: Option<EmulatorHandle>,
}

impl Lab {
    fn new() -> Lab {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emu = rt
            .block_on(comgmt_emulator::start(EmulatorConfig::default()))
            .unwrap();
        Lab { rt, emu: Some(emu) }
    }
    fn emu(&self) -> &EmulatorHandle {
        self.emu.as_ref().unwrap()
    }
    fn cloud(&self) -> Cloud {
        let _g = self.rt.enter();
        let url = url::Url::parse(self.emu().url()).unwrap();
        Cloud::new(CloudConfig::single_host(&url, self.emu().tenant_id())).unwrap()
    }
    /// A SAS URL from the emulator's test endpoint (what Graph's `azureStorageUri`
    /// will carry).
    fn sas(&self, blob: &str, permissions: &str, minutes: i64) -> url::Url {
        let fixture = format!(
            "{}_emulator/blob-sas?container=intune&blob={blob}&permissions={permissions}&minutes={minutes}",
            self.emu().url()
        );
        let v: serde_json::Value = self
            .rt
            .block_on(async { reqwest::get(fixture).await?.json().await })
            .unwrap();
        url::Url::parse(v["url"].as_str().unwrap()).unwrap()
    }
    fn read(&self, sas: &url::Url) -> Vec<u8> {
        self.rt
            .block_on(async { reqwest::get(sas.clone()).await?.bytes().await })
            .unwrap()
            .to_vec()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(h) = self.emu.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}

#[test]
fn a_file_uploaded_in_blocks_reads_back_whole() {
    let lab = Lab::new();
    let cloud = lab.cloud();
    let sas = lab.sas("ccmsetup.msi", "rw", 60);
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let blocks = lab
        .rt
        .block_on(cloud.blob.upload(&sas, &data, 4096))
        .unwrap();
    assert_eq!(blocks, 3);
    assert_eq!(lab.read(&sas), data);
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
    assert_eq!(lab.read(&sas), b"second");
}

#[test]
fn storage_errors_are_typed_and_never_show_the_signature() {
    let lab = Lab::new();
    let cloud = lab.cloud();
    let id = blob::block_id(0).unwrap();
    let no_sig = |e: &comgmt_stdlib::ModuleError| {
        let all = format!("{e} {e:?}");
        assert!(!all.contains("sig="), "{all}");
    };

    let expired = lab.sas("late.bin", "rw", -1);
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

    let read_only = lab.sas("ro.bin", "r", 60);
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
    let sas = lab.sas("partial.bin", "rw", 60);
    let err = lab
        .rt
        .block_on(cloud.blob.put_block_list(&sas, &[id]))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Validation);
    assert_eq!(err.remote_code.as_deref(), Some("InvalidBlockList"));
    no_sig(&err);
}
