//! The accept loop. Hand-rolled on hyper-util (rather than `axum::serve`) because a
//! `drop` fault must close one connection without answering: each connection gets a
//! kill switch in its requests' extensions, and the connection task drops the
//! connection when it fires.

use crate::faults::ConnKill;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::JoinSet;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// How long in-flight requests get to finish at shutdown.
const DRAIN: Duration = Duration::from_secs(2);
const TLS_HANDSHAKE: Duration = Duration::from_secs(10);

pub fn spawn(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<ServerConfig>>,
    shutdown: oneshot::Receiver<()>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut conns = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((tcp, _)) => {
                        let (app, tls, stop) = (app.clone(), tls.clone(), stop_rx.clone());
                        conns.spawn(serve_tcp(tcp, app, tls, stop));
                    }
                    // Out of file descriptors and the like: back off instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                },
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
        let _ = stop_tx.send(true);
        while conns.join_next().await.is_some() {}
    })
}

async fn serve_tcp(
    tcp: tokio::net::TcpStream,
    app: Router,
    tls: Option<Arc<ServerConfig>>,
    stop: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    match tls {
        Some(config) => {
            let accept = TlsAcceptor::from(config).accept(tcp);
            if let Ok(Ok(stream)) = tokio::time::timeout(TLS_HANDSHAKE, accept).await {
                serve_io(stream, app, stop).await;
            }
        }
        None => serve_io(tcp, app, stop).await,
    }
}

async fn serve_io<I>(io: I, app: Router, mut stop: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let kill = Arc::new(Notify::new());
    let switch = ConnKill(kill.clone());
    let svc = tower::ServiceExt::map_request(app, move |mut req: axum::http::Request<Incoming>| {
        req.extensions_mut().insert(switch.clone());
        req
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn =
        builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(svc));
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        // A drop fault: returning drops the connection, closing the socket unanswered.
        _ = kill.notified() => {}
        _ = async { let _ = stop.wait_for(|s| *s).await; } => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(DRAIN, conn.as_mut()).await;
        }
    }
}
