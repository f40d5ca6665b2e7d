//! Prometheus metrics: request counts and durations by handler, method and status.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// (handler, method, status code).
type Labels = (&'static str, String, u16);

/// Request counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Labels -> (count, total seconds).
    requests: Mutex<BTreeMap<Labels, (u64, f64)>>,
}

impl Metrics {
    /// Records one request.
    pub fn record(&self, handler: &'static str, method: &str, code: u16, elapsed: Duration) {
        if let Ok(mut m) = self.requests.lock() {
            let e = m
                .entry((handler, method.to_owned(), code))
                .or_insert((0, 0.0));
            e.0 = e.0.saturating_add(1);
            e.1 += elapsed.as_secs_f64();
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP notary_server_http_requests_total HTTP requests served.\n");
        out.push_str("# TYPE notary_server_http_requests_total counter\n");
        let snapshot: Vec<_> = match self.requests.lock() {
            Ok(m) => m.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            Err(_) => Vec::new(),
        };
        for ((handler, method, code), (count, _)) in &snapshot {
            let _ = writeln!(
                out,
                "notary_server_http_requests_total{{handler=\"{handler}\",method=\"{method}\",code=\"{code}\"}} {count}"
            );
        }
        out.push_str("# HELP notary_server_http_request_duration_seconds_sum Total time spent serving requests.\n");
        out.push_str("# TYPE notary_server_http_request_duration_seconds_sum counter\n");
        for ((handler, method, code), (_, secs)) in &snapshot {
            let _ = writeln!(
                out,
                "notary_server_http_request_duration_seconds_sum{{handler=\"{handler}\",method=\"{method}\",code=\"{code}\"}} {secs}"
            );
        }
        out
    }
}
