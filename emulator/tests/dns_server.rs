//! The emulator's DNS server answers from what ARM wrote: an Azure DNS zone and a CNAME
//! record set created over HTTP are resolvable at `dns_addr()` at once, and gone when
//! deleted. Loopback UDP only; the sockets close with the emulator.

mod common;

use common::{into_resp, subscription, Emu, ARM_SCOPE};
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use reqwest::Method;
use serde_json::json;

async fn put(emu: &Emu, token: &str, path: &str, body: serde_json::Value) -> u16 {
    let r = emu
        .http
        .request(Method::PUT, emu.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    into_resp(r).await.status.as_u16()
}

async fn ask(emu: &Emu, name: &str, qtype: RecordType) -> Message {
    let mut q = Message::query();
    q.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    let sock = tokio::net::UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
    sock.send_to(&q.to_vec().unwrap(), emu.handle.dns_addr())
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let (n, _) = sock.recv_from(&mut buf).await.unwrap();
    Message::from_vec(&buf[..n]).unwrap()
}

#[tokio::test]
async fn a_cname_written_over_arm_is_served_until_deleted() {
    let emu = Emu::start().await;
    assert!(emu.handle.dns_addr().ip().is_loopback());
    let token = emu.app_token("arm-client", ARM_SCOPE).await;
    let sub = subscription(&emu, &token).await;
    let group = format!("subscriptions/{sub}/resourcegroups/dns-rg");
    let zone = format!("{group}/providers/Microsoft.Network/dnsZones/contoso.com");
    let record = format!("{zone}/CNAME/GraniteFalls?api-version=2018-05-01");
    assert_eq!(
        put(
            &emu,
            &token,
            &format!("{group}?api-version=2021-04-01"),
            json!({"location": "westus"})
        )
        .await,
        201
    );
    // Before the zone: nobody holds the name.
    let r = ask(&emu, "granitefalls.contoso.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(
        put(
            &emu,
            &token,
            &format!("{zone}?api-version=2018-05-01"),
            json!({"location": "global"})
        )
        .await,
        201
    );
    assert_eq!(
        put(
            &emu,
            &token,
            &record,
            json!({"properties": {"TTL": 300, "CNAMERecord": {"cname": "GraniteFalls.westus.cloudapp.azure.com"}}})
        )
        .await,
        201
    );
    let r = ask(&emu, "GRANITEFALLS.contoso.com.", RecordType::CNAME).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert_eq!(r.answers.len(), 1, "{r:?}");
    assert_eq!(r.answers[0].ttl, 300);
    assert_eq!(
        r.answers[0].data.to_string(),
        "GraniteFalls.westus.cloudapp.azure.com."
    );
    // No CMG deployed: the CNAME, then NXDOMAIN for its target.
    let r = ask(&emu, "granitefalls.contoso.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(r.answers.len(), 1, "{r:?}");
    // The zone apex exists.
    let r = ask(&emu, "contoso.com.", RecordType::A).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);

    let del = emu
        .http
        .delete(emu.url(&record))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 200);
    let r = ask(&emu, "granitefalls.contoso.com.", RecordType::CNAME).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    emu.handle.shutdown().await;
}

#[tokio::test]
async fn a_served_emulator_says_where_its_dns_server_is() {
    let emu = Emu::start().await;
    let r = emu.http.get(emu.url("_emulator/dns")).send().await.unwrap();
    let r = into_resp(r).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["address"], emu.handle.dns_addr().to_string());
    // A debug route: not in the request log.
    assert!(emu
        .handle
        .requests()
        .iter()
        .all(|r| !r.path.starts_with("/_emulator/")));
    emu.handle.shutdown().await;
}
