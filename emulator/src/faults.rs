//! Fault injection: a fraction of API requests is answered with 429/503/504 or has its
//! connection dropped. The decision is made before the request reaches a handler, so a
//! faulted write never changed anything and a retry cannot duplicate it.

use crate::errors::{GraphError, RequestIds};
use crate::{FaultKind, FaultSpec};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Which routes a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultScope {
    /// Graph, ARM, AdminService, blob — not the token endpoint, so clients can still sign in.
    #[default]
    Api,
    /// Every route, the token endpoint included.
    All,
}

pub fn parse(spec: &str) -> Result<FaultSpec, String> {
    let mut rate = None;
    let mut kind = None;
    let mut retry_after = 1;
    let mut seed = None;
    let mut scope = FaultScope::Api;
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (part, None),
        };
        let need = |v: Option<&'_ str>| -> Result<String, String> {
            v.map(str::to_string)
                .ok_or_else(|| format!("fault option '{key}' needs a value"))
        };
        match key {
            "rate" => {
                let r: f64 = need(value)?
                    .parse()
                    .map_err(|_| format!("fault rate '{}' is not a number", value.unwrap_or("")))?;
                if !(0.0..=1.0).contains(&r) {
                    return Err(format!("fault rate {r} is not between 0 and 1"));
                }
                rate = Some(r);
            }
            "status" => {
                let s: u16 = need(value)?
                    .parse()
                    .map_err(|_| "fault status must be 429, 503 or 504".to_string())?;
                if ![429, 503, 504].contains(&s) {
                    return Err(format!("fault status {s} is not one of 429, 503, 504"));
                }
                set_kind(&mut kind, FaultKind::Status(s))?;
            }
            "drop" => {
                if value.is_some() {
                    return Err("fault option 'drop' takes no value".into());
                }
                set_kind(&mut kind, FaultKind::Drop)?;
            }
            "retry_after" => {
                retry_after = need(value)?
                    .parse()
                    .map_err(|_| "fault retry_after must be whole seconds".to_string())?;
            }
            "seed" => {
                seed = Some(
                    need(value)?
                        .parse()
                        .map_err(|_| "fault seed must be an unsigned integer".to_string())?,
                );
            }
            "scope" => {
                scope = match need(value)?.as_str() {
                    "all" => FaultScope::All,
                    "api" => FaultScope::Api,
                    other => return Err(format!("fault scope '{other}' is not 'api' or 'all'")),
                };
            }
            other => {
                return Err(format!(
                    "unknown fault option '{other}'; expected rate, status, drop, retry_after, seed, scope"
                ))
            }
        }
    }
    let rate = rate.ok_or("fault spec needs rate=FRACTION, e.g. rate=0.3,status=429")?;
    let kind = kind.ok_or("fault spec needs status=429|503|504 or drop")?;
    Ok(FaultSpec {
        rate,
        kind,
        retry_after,
        seed,
        scope,
    })
}

fn set_kind(slot: &mut Option<FaultKind>, k: FaultKind) -> Result<(), String> {
    if slot.replace(k).is_some() {
        return Err("fault spec takes one of status=… or drop".into());
    }
    Ok(())
}

/// A live fault injector.
pub struct Faults {
    pub spec: FaultSpec,
    rng: Mutex<StdRng>,
}

impl Faults {
    pub fn new(spec: FaultSpec) -> Self {
        let rng = match spec.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        Faults {
            spec,
            rng: Mutex::new(rng),
        }
    }

    /// Whether this request is faulted.
    fn roll(&self) -> bool {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        rng.random::<f64>() < self.spec.rate
    }
}

/// Set on every request by the server; notifying it closes the connection unanswered.
#[derive(Clone)]
pub struct ConnKill(pub Arc<Notify>);

/// How a surface words an injected fault: status (429/503/504), Retry-After seconds
/// (429 and 503 only), and the request (for the request ids it echoes).
pub type RenderFault = fn(StatusCode, Option<u64>, &Request) -> Response;

/// The fault middleware's state: the injector (if any) and the surface's renderer, so a
/// throttled ARM call looks like ARM's throttling and a Graph call like Graph's.
#[derive(Clone)]
pub struct FaultLayer {
    pub faults: Option<Arc<Faults>>,
    pub render: RenderFault,
}

/// Middleware: maybe answer with a fault instead of running the request.
pub async fn middleware(State(layer): State<FaultLayer>, req: Request, next: Next) -> Response {
    let Some(faults) = layer.faults else {
        return next.run(req).await;
    };
    if !faults.roll() {
        return next.run(req).await;
    }
    let retry_after = faults.spec.retry_after;
    match faults.spec.kind {
        FaultKind::Drop => {
            if let Some(kill) = req.extensions().get::<ConnKill>() {
                kill.0.notify_one();
                // The connection task drops the connection; this response is never sent.
                std::future::pending::<()>().await;
            }
            (layer.render)(StatusCode::SERVICE_UNAVAILABLE, Some(retry_after), &req)
        }
        FaultKind::Status(s) => {
            let status = StatusCode::from_u16(s).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let retry = (status != StatusCode::GATEWAY_TIMEOUT).then_some(retry_after);
            (layer.render)(status, retry, &req)
        }
    }
}

/// Graph's throttling and availability errors.
pub fn render_graph(status: StatusCode, retry_after: Option<u64>, req: &Request) -> Response {
    let ids = req
        .extensions()
        .get::<RequestIds>()
        .cloned()
        .unwrap_or_else(|| RequestIds::from_headers(req.headers()));
    let (code, message) = match status {
        StatusCode::TOO_MANY_REQUESTS => (
            "TooManyRequests",
            "Too many requests. Please retry after the time given in the Retry-After header.",
        ),
        StatusCode::GATEWAY_TIMEOUT => (
            "GatewayTimeout",
            "The server did not receive a timely response from the upstream service.",
        ),
        _ => (
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry after the time given in the Retry-After header.",
        ),
    };
    GraphError {
        retry_after,
        ..GraphError::new(status, code, message)
    }
    .render(&ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_drop() {
        let f = parse("rate=0.3,status=429").unwrap();
        assert_eq!(f.rate, 0.3);
        assert_eq!(f.kind, FaultKind::Status(429));
        assert_eq!(f.retry_after, 1);
        assert_eq!(f.scope, FaultScope::Api);
        let f = parse("rate=0.1, status=503, retry_after=0, seed=7, scope=all").unwrap();
        assert_eq!(f.kind, FaultKind::Status(503));
        assert_eq!(
            (f.retry_after, f.seed, f.scope),
            (0, Some(7), FaultScope::All)
        );
        assert_eq!(parse("rate=0.2,drop").unwrap().kind, FaultKind::Drop);
        assert_eq!(
            parse("rate=1,status=504").unwrap().kind,
            FaultKind::Status(504)
        );
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in [
            "",
            "status=429",
            "rate=0.3",
            "rate=2,status=429",
            "rate=x,status=429",
            "rate=0.3,status=500",
            "rate=0.3,status=429,drop",
            "rate=0.3,drop=1",
            "rate=0.3,status=429,color=red",
            "rate=0.3,status=429,retry_after=-1",
        ] {
            assert!(parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn seeded_rolls_repeat() {
        let spec = parse("rate=0.5,status=429,seed=42").unwrap();
        let a = Faults::new(spec.clone());
        let b = Faults::new(spec);
        let ra: Vec<bool> = (0..32).map(|_| a.roll()).collect();
        let rb: Vec<bool> = (0..32).map(|_| b.roll()).collect();
        assert_eq!(ra, rb);
        assert!(ra.iter().any(|x| *x) && ra.iter().any(|x| !*x));
    }
}
