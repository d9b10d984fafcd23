//! The DNS server over loopback, UDP and TCP, with rows put in the store by hand: the
//! public IP rows the ARM routes will write (issue 7 contract), and zone and CNAME rows
//! in the shape `arm::dns` writes (its HTTP path is tested in tests/dns_server.rs).

use super::*;
use crate::app::AppState;
use crate::store::StoreError;
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use serde_json::json;
use std::sync::Arc;

fn state() -> Shared {
    Arc::new(AppState::for_tests(std::time::Duration::from_millis(10)))
}

/// A zone with one CNAME, and a public IP (collection named as the ARM branch may).
fn seed(st: &Shared, ip_collection: &str) {
    st.store
        .write(|db| {
            db.insert(
                "armDnsZones",
                "sub/dns-rg/contoso.com",
                &json!({"name": "contoso.com", "type": "Microsoft.Network/dnsZones"}),
            )?;
            for (rel, target) in [
                ("GraniteFalls", "GraniteFalls.westus.cloudapp.azure.com"),
                ("old", "GraniteFalls.contoso.com."),
                ("notyet", "nobody.westus.cloudapp.azure.com"),
            ] {
                db.insert(
                    "armDnsRecordSets",
                    &format!("sub/dns-rg/contoso.com/cname/{}", rel.to_ascii_lowercase()),
                    &json!({
                        "name": rel,
                        "type": "Microsoft.Network/dnsZones/CNAME",
                        "properties": {"TTL": 3600, "fqdn": format!("{rel}.contoso.com"),
                                       "CNAMERecord": {"cname": target}},
                    }),
                )?;
            }
            db.insert(
                ip_collection,
                "sub/cmg-rg/granitefalls",
                &json!({
                    "name": "GraniteFalls",
                    "type": "Microsoft.Network/publicIPAddresses",
                    "properties": {
                        "ipAddress": "20.30.40.50",
                        "publicIPAllocationMethod": "Static",
                        "dnsSettings": {"domainNameLabel": "granitefalls",
                                        "fqdn": "granitefalls.westus.cloudapp.azure.com"},
                    },
                }),
            )?;
            Ok::<_, StoreError>(())
        })
        .unwrap_or_else(|e| panic!("{}", e.0));
}

fn query(name: &str, qtype: RecordType) -> Message {
    let mut m = Message::query();
    m.add_query(Query::query(
        Name::from_ascii(name).unwrap_or_else(|e| panic!("{e}")),
        qtype,
    ));
    m.metadata.recursion_desired = true;
    m
}

async fn over_udp(addr: SocketAddr, q: &Message) -> Message {
    let sock = UdpSocket::bind(("127.0.0.1", 0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let bytes = q.to_vec().unwrap_or_else(|e| panic!("{e}"));
    sock.send_to(&bytes, addr)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut buf = vec![0u8; 4096];
    // Loopback does not lose datagrams; the test harness's own timeout covers a hang.
    let (n, _) = sock
        .recv_from(&mut buf)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Message::from_vec(&buf[..n]).unwrap_or_else(|e| panic!("{e}"))
}

async fn over_tcp(stream: &mut TcpStream, q: &Message) -> Message {
    let bytes = q.to_vec().unwrap_or_else(|e| panic!("{e}"));
    let len = u16::try_from(bytes.len()).unwrap_or_else(|e| panic!("{e}"));
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    stream
        .write_all(&framed)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut len = [0u8; 2];
    stream
        .read_exact(&mut len)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream
        .read_exact(&mut msg)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Message::from_vec(&msg).unwrap_or_else(|e| panic!("{e}"))
}

fn shown(m: &Message) -> Vec<String> {
    m.answers
        .iter()
        .map(|a| format!("{} {} {}", a.name, a.record_type(), a.data))
        .collect()
}

#[tokio::test]
async fn udp_follows_the_cname_to_the_public_ip_and_says_nxdomain_otherwise() {
    let st = state();
    seed(&st, "armPublicIPAddresses");
    let dns = start(st).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(dns.addr().ip().is_loopback());

    let q = query("granitefalls.CONTOSO.com.", RecordType::A);
    let r = over_udp(dns.addr(), &q).await;
    assert_eq!(r.metadata.id, q.metadata.id);
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        shown(&r),
        [
            "granitefalls.CONTOSO.com. CNAME GraniteFalls.westus.cloudapp.azure.com.",
            "GraniteFalls.westus.cloudapp.azure.com. A 20.30.40.50"
        ]
    );
    // Two hops: old -> GraniteFalls -> the deployment name.
    let r = over_udp(dns.addr(), &query("old.contoso.com.", RecordType::A)).await;
    assert_eq!(r.answers.len(), 3, "{r:?}");
    assert!(matches!(r.answers[2].data, RData::A(_)), "{r:?}");

    let r = over_udp(dns.addr(), &query("nobody.contoso.com.", RecordType::A)).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert!(r.answers.is_empty());
    // A CNAME to a deployment name with no public IP yet: the CNAME, then NXDOMAIN.
    let r = over_udp(dns.addr(), &query("notyet.contoso.com.", RecordType::A)).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(r.answers.len(), 1, "{r:?}");
    // AAAA of an IPv4-only name: empty NOERROR.
    let r = over_udp(
        dns.addr(),
        &query("granitefalls.westus.cloudapp.azure.com.", RecordType::AAAA),
    )
    .await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert!(r.answers.is_empty());
    dns.shutdown().await;
}

#[tokio::test]
async fn tcp_answers_several_queries_on_one_connection() {
    let st = state();
    seed(&st, "armResources");
    let dns = start(st.clone()).await.unwrap_or_else(|e| panic!("{e}"));
    let mut stream = TcpStream::connect(dns.addr())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let r = over_tcp(
        &mut stream,
        &query("GraniteFalls.contoso.com", RecordType::CNAME),
    )
    .await;
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        shown(&r),
        ["GraniteFalls.contoso.com. CNAME GraniteFalls.westus.cloudapp.azure.com."]
    );
    let r = over_tcp(&mut stream, &query("contoso.org.", RecordType::A)).await;
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    // The store is read per query: a record written now is answered at once.
    st.store
        .write(|db| {
            db.insert(
                "armDnsRecordSets",
                "sub/dns-rg/contoso.com/cname/new",
                &json!({"properties": {"TTL": 60, "fqdn": "new.contoso.com",
                                       "CNAMERecord": {"cname": "x.example.net"}}}),
            )
        })
        .unwrap_or_else(|e| panic!("{}", e.0));
    let r = over_tcp(&mut stream, &query("new.contoso.com.", RecordType::CNAME)).await;
    assert_eq!(shown(&r), ["new.contoso.com. CNAME x.example.net."]);
    dns.shutdown().await;
}

#[tokio::test]
async fn rows_of_other_types_or_without_an_address_are_not_served() {
    let st = state();
    st.store
        .write(|db| {
            db.insert(
                "armResources",
                "vm",
                &json!({"type": "Microsoft.Compute/virtualMachineScaleSets",
                        "properties": {"ipAddress": "1.2.3.4",
                                       "dnsSettings": {"fqdn": "vm.westus.cloudapp.azure.com"}}}),
            )?;
            db.insert(
                "armPublicIPAddresses",
                "pending",
                &json!({"type": "Microsoft.Network/publicIPAddresses",
                        "properties": {"dnsSettings": {"fqdn": "pending.westus.cloudapp.azure.com"}}}),
            )
        })
        .unwrap_or_else(|e| panic!("{}", e.0));
    let dns = start(st).await.unwrap_or_else(|e| panic!("{e}"));
    for n in [
        "vm.westus.cloudapp.azure.com.",
        "pending.westus.cloudapp.azure.com.",
    ] {
        let r = over_udp(dns.addr(), &query(n, RecordType::A)).await;
        assert_eq!(r.metadata.response_code, ResponseCode::NXDomain, "{n}");
    }
    dns.shutdown().await;
}

#[tokio::test]
async fn stopping_closes_both_sockets() {
    let dns = start(state()).await.unwrap_or_else(|e| panic!("{e}"));
    let addr = dns.addr();
    dns.shutdown().await;
    // The TCP port is free again once the server has stopped.
    assert!(TcpListener::bind(addr).await.is_ok());
    assert!(UdpSocket::bind(addr).await.is_ok());
}
