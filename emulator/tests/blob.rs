//! Blob upload: SAS, staged blocks committed by a block list, single-shot upload,
//! Azure Storage's XML errors.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use comgmt_emulator::Surface;
use common::Emu;

async fn sas(emu: &Emu, blob: &str, permissions: &str, minutes: i64) -> String {
    let r: serde_json::Value = emu
        .http
        .get(emu.url(&format!(
            "_emulator/blob-sas?container=intune&blob={blob}&permissions={permissions}&minutes={minutes}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["url"].as_str().unwrap().to_string()
}

fn block_id(n: u32) -> String {
    STANDARD.encode(format!("{n:04}"))
}

// Source: Azure/azure-rest-api-specs:specification/storage/data-plane/Microsoft.BlobStorage/stable/2021-12-02/blob.json
// (Put Block and Put Block List answer 201) and
// microsoftgraph/powershell-intune-samples:LOB_Application/Application_LOB_Add.ps1
// (chunks as `&comp=block&blockid=…`, then `&comp=blocklist` with `<BlockList><Latest>…`).
#[tokio::test]
async fn blocks_then_block_list_then_read() {
    let emu = Emu::start().await;
    let url = sas(&emu, "app.intunewin", "rw", 60).await;
    assert!(
        url.starts_with(&emu.url("blob/intune/app.intunewin?sv=")),
        "{url}"
    );
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for (n, chunk) in [b"hello ".as_slice(), b"world".as_slice()]
        .iter()
        .enumerate()
    {
        let id = block_id(n as u32);
        let r = emu
            .http
            .put(format!("{url}&comp=block&blockid={}", urlencode(&id)))
            .body(chunk.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        assert!(r.headers().contains_key("x-ms-request-id"));
        xml.push_str(&format!("<Latest>{id}</Latest>"));
    }
    xml.push_str("</BlockList>");
    let r = emu
        .http
        .put(format!("{url}&comp=blocklist"))
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(r.headers().contains_key("etag"));
    let r = emu.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"hello world");
    let writes: Vec<_> = emu
        .handle
        .requests()
        .into_iter()
        .filter(|e| e.surface == Surface::Blob && e.write)
        .collect();
    assert_eq!(writes.len(), 3, "two blocks and a block list");
}

#[tokio::test]
async fn single_put_and_storage_errors() {
    let emu = Emu::start().await;
    let url = sas(&emu, "small.bin", "rw", 60).await;
    let r = emu.http.put(&url).body("x").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-ms-error-code"], "MissingRequiredHeader");
    let r = emu
        .http
        .put(&url)
        .header("x-ms-blob-type", "BlockBlob")
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // A tampered signature, an expired SAS, a read-only SAS used to write.
    let tampered = url.replace("sp=rw", "sp=rwd");
    let r = emu.http.get(&tampered).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["x-ms-error-code"], "AuthenticationFailed");
    let body = r.text().await.unwrap();
    assert!(
        body.contains("<Error><Code>AuthenticationFailed</Code>"),
        "{body}"
    );
    let expired = sas(&emu, "small.bin", "r", -1).await;
    assert_eq!(emu.http.get(&expired).send().await.unwrap().status(), 403);
    let read_only = sas(&emu, "small.bin", "r", 60).await;
    let r = emu
        .http
        .put(&read_only)
        .header("x-ms-blob-type", "BlockBlob")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["x-ms-error-code"],
        "AuthorizationPermissionMismatch"
    );
    // A block list naming a block never staged; a missing blob.
    let r = emu
        .http
        .put(format!("{url}&comp=blocklist"))
        .body("<BlockList><Latest>QUFB</Latest></BlockList>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-ms-error-code"], "InvalidBlockList");
    let other = sas(&emu, "missing.bin", "r", 60).await;
    let r = emu.http.get(&other).send().await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["x-ms-error-code"].to_str().unwrap()
        ),
        (404, "BlobNotFound")
    );
    let r = emu
        .http
        .put(format!("{url}&comp=block&blockid=%21%21"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-ms-error-code"], "InvalidQueryParameterValue");
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}
