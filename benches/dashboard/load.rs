//! The load: `connections` keep-alive HTTP/1.1 connections, each sending
//! the same POST as soon as the previous answer is read (closed loop, as
//! `wrk` does), on one thread so the client takes at most one core.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

/// One request, sent again and again.
#[derive(Clone)]
pub struct Shot {
    pub addr: SocketAddr,
    pub path: String,
    pub authorization: Option<String>,
    pub body: Bytes,
}

/// What one run measured.
pub struct Measured {
    /// Requests answered in the measured window.
    pub requests: u64,
    /// Every request answered, the warm-up's and those still in flight when
    /// the window closed included: what the server's counters saw.
    pub completed: u64,
    pub failures: u64,
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

impl Measured {
    /// The `q` quantile (0..=1) of the latencies.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() - 1) as f64 * q).round() as usize;
        sorted[index]
    }

    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// Send `shot` once; the status and body.
pub async fn once(shot: &Shot) -> (u16, Bytes) {
    let mut sender = connect(shot).await;
    let response = sender
        .send_request(request(shot))
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (status, body)
}

/// Run `connections` closed loops for `warmup`, then measure for `length`.
pub async fn run(shot: &Shot, connections: usize, warmup: Duration, length: Duration) -> Measured {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + length;
    let loops = (0..connections).map(|_| {
        let shot = shot.clone();
        tokio::spawn(async move {
            let mut sender = connect(&shot).await;
            let mut latencies = Vec::new();
            let mut failures = 0;
            let mut completed = 0u64;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let ok = match sender.send_request(request(&shot)).await {
                    Ok(response) => {
                        let ok = response.status().is_success();
                        ok & response.into_body().collect().await.is_ok()
                    }
                    Err(_) => false,
                };
                let done = Instant::now();
                completed += u64::from(ok);
                if sent >= measure_from && done <= end {
                    if ok {
                        latencies.push(done - sent);
                    } else {
                        failures += 1;
                    }
                }
                if !ok {
                    sender = connect(&shot).await;
                }
            }
            (latencies, failures, completed)
        })
    });
    let mut measured = Measured {
        requests: 0,
        completed: 0,
        failures: 0,
        latencies: Vec::new(),
        elapsed: length,
    };
    for handle in loops.collect::<Vec<_>>() {
        let (latencies, failures, completed) = handle.await.expect("a load loop");
        measured.requests += latencies.len() as u64;
        measured.completed += completed;
        measured.failures += failures;
        measured.latencies.extend(latencies);
    }
    measured
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(shot: &Shot) -> Sender {
    let stream = tokio::net::TcpStream::connect(shot.addr)
        .await
        .expect("connect to the server");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/1.1 handshake");
    tokio::spawn(connection);
    sender
}

fn request(shot: &Shot) -> Request<Full<Bytes>> {
    let mut request = Request::post(&shot.path)
        .header("host", shot.addr.to_string())
        .header("content-type", "application/json")
        .header("accept", "application/json");
    if let Some(authorization) = &shot.authorization {
        request = request.header("authorization", authorization);
    }
    request
        .body(Full::new(shot.body.clone()))
        .expect("a request")
}
