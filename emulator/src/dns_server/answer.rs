//! One DNS question answered from [`Names`], as a recursive resolver in front of Azure
//! DNS would answer it: a CNAME is followed to its target within what the emulator
//! knows (RFC 1034 §4.3.2 step 3a: the CNAME goes in the answer and the lookup restarts
//! at its target), and a chain that ends at an unknown name answers NXDOMAIN with the
//! CNAMEs so far (RFC 6604 §3: the code is for the last name in the chain). A, AAAA and
//! CNAME questions get records; any other type at a known name gets an empty NOERROR
//! answer. Wire format by hickory-proto; nothing here parses bytes by hand.

use super::names::{Names, PUBLIC_IP_TTL};
use crate::store::StoreError;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use std::collections::HashSet;
use std::net::IpAddr;

/// The longest CNAME chain followed. Real resolvers stop somewhere near here (BIND's
/// limit is 16); the CMG's record is one hop.
pub(crate) const MAX_CHAIN: usize = 8;

/// The UDP payload size the server offers with EDNS: 1232 bytes, the DNS Flag Day 2020
/// recommendation (no fragmentation on common paths).
const EDNS_PAYLOAD: u16 = 1232;

/// The answer to one question: its code and answer records.
#[derive(Debug)]
pub(crate) struct Resolution {
    pub code: ResponseCode,
    pub answers: Vec<Record>,
}

/// A name as a lookup key from its wire labels (lower case, no trailing dot). Built from
/// the raw labels, so no client-sent byte can make a conversion fail.
fn name_key(name: &Name) -> String {
    name.iter()
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(".")
}

/// Answer `qtype` for `qname` from `names`.
pub(crate) fn resolve(names: &Names, qname: &Name, qtype: RecordType) -> Resolution {
    let mut answers = Vec::new();
    let mut owner = qname.clone();
    let mut seen = HashSet::new();
    let done = |code, answers| Resolution { code, answers };
    for _ in 0..=MAX_CHAIN {
        let k = name_key(&owner);
        // A loop (a -> b -> a) has no answer: SERVFAIL, as resolvers give.
        if !seen.insert(k.clone()) {
            return done(ResponseCode::ServFail, answers);
        }
        if let Some(alias) = names.aliases.get(&k) {
            // The target keeps the case it was written in; lookups ignore case.
            let Ok(mut target) = Name::from_ascii(alias.target.trim()) else {
                // A target that is no DNS name (ARM stores what it is given).
                return done(ResponseCode::ServFail, answers);
            };
            target.set_fqdn(true);
            answers.push(Record::from_rdata(
                owner,
                alias.ttl,
                RData::CNAME(CNAME(target.clone())),
            ));
            // A CNAME question is answered by the name's own CNAME; no chasing.
            if matches!(qtype, RecordType::CNAME | RecordType::ANY) {
                return done(ResponseCode::NoError, answers);
            }
            owner = target;
            continue;
        }
        if let Some(addrs) = names.addresses.get(&k) {
            for addr in addrs {
                let data = match (qtype, addr) {
                    (RecordType::A | RecordType::ANY, IpAddr::V4(v4)) => RData::A(A(*v4)),
                    (RecordType::AAAA | RecordType::ANY, IpAddr::V6(v6)) => RData::AAAA(AAAA(*v6)),
                    _ => continue,
                };
                answers.push(Record::from_rdata(owner.clone(), PUBLIC_IP_TTL, data));
            }
            return done(ResponseCode::NoError, answers);
        }
        let code = if names.exists(&k) {
            ResponseCode::NoError
        } else {
            ResponseCode::NXDomain
        };
        return done(code, answers);
    }
    // Longer than MAX_CHAIN.
    done(ResponseCode::ServFail, answers)
}

/// The reply to the request in `bytes`, or `None` when nothing should be sent (not a
/// query, or too short to carry an id). `names` is read only when there is a question
/// to answer. `udp`: keep to the client's payload size, setting TC when the answer does
/// not fit so the client retries over TCP (RFC 1035 §4.2.1, RFC 6891 §6.2.5).
pub(crate) fn reply(
    bytes: &[u8],
    names: impl FnOnce() -> Result<Names, StoreError>,
    udp: bool,
) -> Option<Vec<u8>> {
    let request = match Message::from_vec(bytes) {
        Ok(m) => m,
        Err(_) => {
            // Unparsable: FORMERR under the request's id when it has a header (RFC 1035
            // §4.1.1); a datagram shorter than a header gets nothing.
            let id = u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]);
            // The QR bit set: a (broken) response, which is never answered.
            if bytes.len() < 12 || bytes[2] & 0x80 != 0 {
                return None;
            }
            return Message::error_msg(id, OpCode::Query, ResponseCode::FormErr)
                .to_vec()
                .ok();
        }
    };
    // Never answer a response: two servers would bounce packets forever.
    if request.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut resp = Message::response(request.metadata.id, request.metadata.op_code);
    resp.metadata.recursion_desired = request.metadata.recursion_desired;
    // The emulator answers as the recursive resolver clients are pointed at.
    resp.metadata.recursion_available = true;
    resp.metadata.checking_disabled = request.metadata.checking_disabled;
    resp.queries = request.queries.clone();
    let client_payload = request.edns.as_ref().map(Edns::max_payload);
    if client_payload.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_PAYLOAD);
        resp.set_edns(edns);
    }
    resp.metadata.response_code = match (request.metadata.op_code, request.queries.as_slice()) {
        (OpCode::Query, [q]) if q.query_class != DNSClass::IN => ResponseCode::Refused,
        (OpCode::Query, [q]) => match names() {
            Ok(names) => {
                let r = resolve(&names, &q.name, q.query_type);
                resp.answers = r.answers;
                r.code
            }
            Err(e) => {
                tracing::warn!(error = %e.0, "emulator DNS: cannot read the store");
                ResponseCode::ServFail
            }
        },
        // One question per message is all anyone sends (RFC 9619).
        (OpCode::Query, _) => ResponseCode::FormErr,
        _ => ResponseCode::NotImp,
    };
    let out = resp.to_vec().ok()?;
    let limit = if udp {
        // 512 without EDNS (RFC 1035 §2.3.4); never more than we offer.
        usize::from(client_payload.map_or(512, |p| p.clamp(512, EDNS_PAYLOAD)))
    } else {
        usize::from(u16::MAX)
    };
    if out.len() <= limit {
        return Some(out);
    }
    let mut cut = resp.truncate();
    cut.metadata.message_type = MessageType::Response;
    cut.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::super::names::Alias;
    use super::*;

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn lab() -> Names {
        let mut n = Names::default();
        n.zones.push("contoso.com".into());
        n.aliases.insert(
            "granitefalls.contoso.com".into(),
            Alias {
                target: "GraniteFalls.WestUS.CloudApp.Azure.Com".into(),
                ttl: 3600,
            },
        );
        n.aliases.insert(
            "hop.contoso.com".into(),
            Alias {
                target: "GraniteFalls.contoso.com.".into(),
                ttl: 300,
            },
        );
        n.aliases.insert(
            "dangling.contoso.com".into(),
            Alias {
                target: "nobody.westus.cloudapp.azure.com".into(),
                ttl: 300,
            },
        );
        n.aliases.insert(
            "loop1.contoso.com".into(),
            Alias {
                target: "loop2.contoso.com".into(),
                ttl: 1,
            },
        );
        n.aliases.insert(
            "loop2.contoso.com".into(),
            Alias {
                target: "loop1.contoso.com".into(),
                ttl: 1,
            },
        );
        n.addresses.insert(
            "granitefalls.westus.cloudapp.azure.com".into(),
            vec!["20.1.2.3".parse().unwrap_or_else(|e| panic!("{e}"))],
        );
        n
    }

    fn rdata(r: &Resolution) -> Vec<String> {
        r.answers
            .iter()
            .map(|a| format!("{} {}", a.name, a.data))
            .collect()
    }

    #[test]
    fn a_cname_is_followed_to_the_public_ip() {
        let r = resolve(&lab(), &name("GRANITEFALLS.contoso.com."), RecordType::A);
        assert_eq!(r.code, ResponseCode::NoError);
        assert_eq!(
            rdata(&r),
            [
                "GRANITEFALLS.contoso.com. GraniteFalls.WestUS.CloudApp.Azure.Com.",
                "GraniteFalls.WestUS.CloudApp.Azure.Com. 20.1.2.3"
            ]
        );
        // Two hops.
        let r = resolve(&lab(), &name("hop.contoso.com."), RecordType::A);
        assert_eq!(r.answers.len(), 3, "{r:?}");
        assert_eq!(r.code, ResponseCode::NoError);
    }

    #[test]
    fn a_cname_question_gets_the_cname_only() {
        let r = resolve(&lab(), &name("hop.contoso.com."), RecordType::CNAME);
        assert_eq!(r.code, ResponseCode::NoError);
        assert_eq!(rdata(&r), ["hop.contoso.com. GraniteFalls.contoso.com."]);
    }

    #[test]
    fn aaaa_of_an_ipv4_only_name_is_empty_noerror() {
        let r = resolve(
            &lab(),
            &name("granitefalls.westus.cloudapp.azure.com."),
            RecordType::AAAA,
        );
        assert_eq!(r.code, ResponseCode::NoError);
        assert!(r.answers.is_empty());
        let r = resolve(&lab(), &name("granitefalls.contoso.com."), RecordType::AAAA);
        assert_eq!(r.code, ResponseCode::NoError);
        assert_eq!(r.answers.len(), 1, "the CNAME only: {r:?}");
    }

    #[test]
    fn unknown_names_dangling_chains_and_loops() {
        let r = resolve(&lab(), &name("other.contoso.com."), RecordType::A);
        assert_eq!(r.code, ResponseCode::NXDomain);
        assert!(r.answers.is_empty());
        let r = resolve(&lab(), &name("dangling.contoso.com."), RecordType::A);
        assert_eq!(r.code, ResponseCode::NXDomain);
        assert_eq!(r.answers.len(), 1, "the CNAME stays: {r:?}");
        let r = resolve(&lab(), &name("loop1.contoso.com."), RecordType::A);
        assert_eq!(r.code, ResponseCode::ServFail);
        // The zone apex and the names above records exist.
        for n in ["contoso.com.", "cloudapp.azure.com."] {
            let r = resolve(&lab(), &name(n), RecordType::A);
            assert_eq!(r.code, ResponseCode::NoError, "{n}");
            assert!(r.answers.is_empty(), "{n}");
        }
    }

    #[test]
    fn garbage_gets_formerr_or_nothing() {
        let none = || Ok(Names::default());
        assert_eq!(reply(&[1], none, true), None);
        assert_eq!(
            reply(
                &[0xab, 0xcd, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 9, 1],
                none,
                true
            ),
            None,
            "a broken response gets nothing"
        );
        // RD set, nine additional records announced, one byte there.
        let out = reply(
            &[0xab, 0xcd, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 9, 1],
            none,
            true,
        )
        .unwrap_or_else(|| panic!("a FORMERR"));
        let m = Message::from_vec(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.metadata.id, 0xabcd);
        assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
    }

    #[test]
    fn a_reply_echoes_the_question_and_a_response_is_never_answered() {
        let mut q = Message::query();
        q.add_query(hickory_proto::op::Query::query(
            name("granitefalls.contoso.com."),
            RecordType::A,
        ));
        q.metadata.recursion_desired = true;
        let bytes = q.to_vec().unwrap_or_else(|e| panic!("{e}"));
        let out = reply(&bytes, || Ok(lab()), true).unwrap_or_else(|| panic!("a reply"));
        let m = Message::from_vec(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.metadata.id, q.metadata.id);
        assert_eq!(m.metadata.message_type, MessageType::Response);
        assert!(m.metadata.recursion_available);
        assert_eq!(m.queries, q.queries);
        assert_eq!(m.answers.len(), 2);
        assert_eq!(reply(&out, || Ok(lab()), true), None);
    }
}
