//! Connections on the wire, with raw TCP sockets: the header read timeout
//! from the first moment, caps in total and per client address, h2c
//! refused, and a server at 1,024 file descriptors that stays responsive
//! while 1,100 silent connections are held.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{ServerProcess, TestApp, TestDb, healthz, spawn_app_with};

/// The first 24 bytes every HTTP/2 connection starts with.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A TCP connection to `server` from the loopback address `from` (any
/// 127.0.0.0/8 address works on Linux, so tests can be several clients).
async fn connect_from(server: SocketAddr, from: Ipv4Addr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
    socket.connect(server).await
}

/// Everything the server sends until it closes, or `None` if it keeps the
/// connection open longer than `patience`.
async fn read_until_closed(stream: &mut TcpStream, patience: Duration) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    match tokio::time::timeout(patience, stream.read_to_end(&mut received)).await {
        Ok(_) => Some(received),
        Err(_) => None,
    }
}

async fn app_with_timeout(extra: &[&str]) -> TestApp {
    let mut args = vec!["--header-read-timeout-secs", "1"];
    args.extend_from_slice(extra);
    spawn_app_with(&args).await
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_read_timeout() {
    let app = app_with_timeout(&[]).await;
    let mut silent = TcpStream::connect(app.server.addr).await.unwrap();
    let started = Instant::now();
    let received = read_until_closed(&mut silent, Duration::from_secs(5))
        .await
        .expect("a silent connection was still open after 5 s");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        received.is_empty() || received.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn a_connection_that_sends_half_an_http2_preface_is_closed_after_the_header_read_timeout() {
    let app = app_with_timeout(&[]).await;
    let mut stream = TcpStream::connect(app.server.addr).await.unwrap();
    stream.write_all(&H2_PREFACE[..12]).await.unwrap();
    let started = Instant::now();
    read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("half a preface kept the connection open for 5 s");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn cleartext_http2_is_refused_and_the_connection_closed() {
    let app = spawn_app_with(&[]).await;
    let mut stream = TcpStream::connect(app.server.addr).await.unwrap();
    // The preface and an empty SETTINGS frame, as an h2c client with prior knowledge sends.
    stream.write_all(H2_PREFACE).await.unwrap();
    stream
        .write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0])
        .await
        .unwrap();
    let received = read_until_closed(&mut stream, Duration::from_secs(3))
        .await
        .expect("an h2c connection was kept open");
    // No HTTP/2 SETTINGS frame came back: at most an HTTP/1.1 error.
    assert!(
        received.is_empty() || received.starts_with(b"HTTP/1.1 "),
        "{:?}",
        &received[..received.len().min(32)]
    );
    assert!(!received.starts_with(&[0, 0]));
}

#[tokio::test]
async fn connections_over_the_per_address_cap_are_answered_503_while_other_addresses_are_served() {
    let app = app_with_timeout(&["--max-connections-per-address", "10"]).await;
    let attacker = Ipv4Addr::new(127, 0, 0, 2);
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(connect_from(app.server.addr, attacker).await.unwrap());
    }
    let mut over = connect_from(app.server.addr, attacker).await.unwrap();
    let received = read_until_closed(&mut over, Duration::from_secs(1))
        .await
        .expect("the eleventh connection was not closed at once");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("SERVICE_UNAVAILABLE"), "{text}");
    assert_eq!(
        healthz(app.server.addr, Duration::from_secs(1)).await,
        Some(200)
    );
}

#[tokio::test]
async fn at_the_total_cap_silent_connections_make_room_for_clients_that_send_requests() {
    let app = spawn_app_with(&[
        "--max-connections",
        "20",
        "--max-connections-per-address",
        "0",
    ])
    .await;
    let mut held = Vec::new();
    for i in 0..20u8 {
        held.push(
            connect_from(app.server.addr, Ipv4Addr::new(127, 0, 1, i + 1))
                .await
                .unwrap(),
        );
    }
    // Every place is taken by a connection that sent nothing; a client with
    // a request still gets in, in place of the oldest of them.
    for _ in 0..5 {
        assert_eq!(
            healthz(app.server.addr, Duration::from_secs(1)).await,
            Some(200)
        );
    }
    let closed = read_until_closed(&mut held[0], Duration::from_secs(1)).await;
    assert!(closed.is_some(), "the oldest silent connection was kept");
}

#[tokio::test]
async fn at_the_total_cap_busy_connections_are_kept_and_new_ones_answered_503() {
    let app = spawn_app_with(&[
        "--max-connections",
        "3",
        "--max-connections-per-address",
        "0",
    ])
    .await;
    // Three connections that each sent a request head and keep their body coming.
    let mut busy = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(app.server.addr).await.unwrap();
        stream
            .write_all(b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            .await
            .unwrap();
        busy.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = TcpStream::connect(app.server.addr).await.unwrap();
    let received = read_until_closed(&mut over, Duration::from_secs(1))
        .await
        .expect("the fourth connection was not closed at once");
    assert!(
        String::from_utf8_lossy(&received).starts_with("HTTP/1.1 503"),
        "{}",
        String::from_utf8_lossy(&received)
    );
    // Once they are gone, others are served again.
    drop(busy);
    let deadline = Instant::now() + Duration::from_secs(5);
    while healthz(app.server.addr, Duration::from_secs(1)).await != Some(200) {
        assert!(Instant::now() < deadline, "the places were never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Raise this process's soft open-file limit to its hard limit; the limit now.
fn raise_open_file_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    );
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

#[tokio::test]
async fn a_server_at_1024_file_descriptors_stays_responsive_while_1100_silent_connections_are_held()
{
    if raise_open_file_limit() < 2600 {
        eprintln!("skipped: this test needs 2,600 open files for its own client sockets");
        return;
    }
    let db = TestDb::new().await;
    let server = ServerProcess::start(&db, &[], "ulimit -n 1024 && ").await;
    let addr = server.addr;
    // Two floods: 1,100 connections from one address, then 1,100 from eleven.
    for addresses in [1u8, 11] {
        let mut held = Vec::new();
        for i in 0..1100u32 {
            let from = Ipv4Addr::new(127, 0, 2 + addresses, 2 + (i % u32::from(addresses)) as u8);
            if let Ok(stream) = connect_from(addr, from).await {
                held.push(stream);
            }
        }
        let mut slowest = Duration::ZERO;
        for _ in 0..20 {
            let started = Instant::now();
            assert_eq!(
                healthz(addr, Duration::from_secs(5)).await,
                Some(200),
                "/healthz did not answer with {} silent connections held from {addresses} addresses",
                held.len()
            );
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!(
            "{} silent connections from {addresses} address(es): slowest /healthz {slowest:?}",
            held.len()
        );
    }
}

#[tokio::test]
async fn idle_and_silent_connections_do_not_hold_up_shutdown() {
    let app = spawn_app_with(&[]).await;
    // One connection that never sent anything, one kept alive after a request.
    let _silent = TcpStream::connect(app.server.addr).await.unwrap();
    let mut kept_alive = TcpStream::connect(app.server.addr).await.unwrap();
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut response = [0u8; 12];
    kept_alive.read_exact(&mut response).await.unwrap();
    assert_eq!(&response, b"HTTP/1.1 200");
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), app.server.shutdown())
        .await
        .expect("shutdown waited on an idle connection")
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
