//! A blocking client of Prometheus' HTTP API: range queries cut into pieces the server
//! accepts, raw samples with their own timestamps, timeouts, and retries with back-off when
//! the server is down or overloaded. Every error names the query it was for.

use std::collections::BTreeMap;
use std::time::Duration;

use super::response::{self, Data, ResponseError, Series, SeriesLabels};

/// Prometheus refuses range queries of more than 11 000 points per series.
const MAX_POINTS: i64 = 10_000;
/// Attempts per request, and the first pause between two (doubled each time).
const ATTEMPTS: u32 = 4;
const FIRST_PAUSE: Duration = Duration::from_millis(250);
/// The most a response body may hold.
const MAX_BODY: u64 = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum PromError {
    #[error("{url} is not an http:// address of a Prometheus server (https is not supported: reach it through `kubectl port-forward`)")]
    BadUrl { url: String },
    #[error("cannot reach Prometheus at {url} ({detail}, {ATTEMPTS} attempts)")]
    Unreachable { url: String, detail: String },
    #[error("query {query:?}: HTTP {status} from {url}: {body}")]
    Http {
        url: String,
        query: String,
        status: u16,
        body: String,
    },
    #[error("query {query:?}: {source}")]
    Response {
        query: String,
        source: ResponseError,
    },
    #[error("query {query:?}: expected series, got a scalar")]
    Scalar { query: String },
}

pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client of the server at `url` (`http://host:port`, optionally with a path prefix).
    pub fn new(url: &str, timeout: Duration) -> Result<Client, PromError> {
        let base = url.trim_end_matches('/');
        let rest = base.strip_prefix("http://").unwrap_or("");
        if rest.is_empty() || rest.starts_with('/') {
            return Err(PromError::BadUrl { url: url.into() });
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Client {
            base: base.to_string(),
            agent,
        })
    }

    /// `query` evaluated at every `step` from `start` to `end` (Unix ms), as one list of
    /// series: the range is cut into pieces the server accepts and the pieces joined.
    pub fn query_range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Series>, PromError> {
        let mut joined: BTreeMap<SeriesLabels, Vec<(i64, f64)>> = BTreeMap::new();
        let mut from = start;
        while from <= end {
            let to = end.min(from + (MAX_POINTS - 1) * step);
            let form = [
                ("query", query.to_string()),
                ("start", seconds(from)),
                ("end", seconds(to)),
                ("step", seconds(step)),
            ];
            for s in self.series("query_range", query, &form)? {
                joined.entry(s.labels).or_default().extend(s.points);
            }
            from = to + step;
        }
        Ok(joined
            .into_iter()
            .map(|(labels, points)| Series { labels, points })
            .collect())
    }

    /// Every raw sample of the series `selector` selects in `(start, end]` (Unix ms), with
    /// the time it was scraped, fetched as range selectors of `chunk` ms each.
    pub fn raw(
        &self,
        selector: &str,
        start: i64,
        end: i64,
        chunk: i64,
    ) -> Result<Vec<Series>, PromError> {
        let mut joined: BTreeMap<SeriesLabels, Vec<(i64, f64)>> = BTreeMap::new();
        let mut to = start;
        while to < end {
            let range = chunk.min(end - to);
            to += range;
            let query = format!("{selector}[{range}ms]");
            let form = [("query", query.clone()), ("time", seconds(to))];
            for s in self.series("query", &query, &form)? {
                joined.entry(s.labels).or_default().extend(s.points);
            }
        }
        Ok(joined
            .into_iter()
            .map(|(labels, points)| Series { labels, points })
            .collect())
    }

    /// An instant query at `at` (Unix ms).
    pub fn query(&self, query: &str, at: i64) -> Result<Data, PromError> {
        let form = [("query", query.to_string()), ("time", seconds(at))];
        self.data("query", query, &form)
    }

    fn series(
        &self,
        endpoint: &str,
        query: &str,
        form: &[(&str, String)],
    ) -> Result<Vec<Series>, PromError> {
        match self.data(endpoint, query, form)? {
            Data::Series(s) => Ok(s),
            Data::Scalar(..) => Err(PromError::Scalar {
                query: query.into(),
            }),
        }
    }

    /// One POST to `/api/v1/{endpoint}`, retried while the server cannot answer.
    fn data(
        &self,
        endpoint: &str,
        query: &str,
        form: &[(&str, String)],
    ) -> Result<Data, PromError> {
        let url = format!("{}/api/v1/{endpoint}", self.base);
        let mut pause = FIRST_PAUSE;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let answer = self
                .agent
                .post(&url)
                .send_form(form.iter().map(|(k, v)| (*k, v.as_str())))
                .and_then(|mut r| {
                    let status = r.status().as_u16();
                    let body = r
                        .body_mut()
                        .with_config()
                        .limit(MAX_BODY)
                        .read_to_string()?;
                    Ok((status, body))
                });
            match answer {
                // Overloaded or restarting: worth another try.
                Ok((status, body)) if status == 429 || status >= 500 => {
                    last = format!("HTTP {status}: {}", first_line(&body));
                }
                Ok((status, body)) => {
                    let query = query.to_string();
                    return match (status, response::parse(&body)) {
                        (200, Ok(data)) => Ok(data),
                        (_, Err(source @ ResponseError::Refused { .. })) | (200, Err(source)) => {
                            Err(PromError::Response { query, source })
                        }
                        (status, _) => Err(PromError::Http {
                            url,
                            query,
                            status,
                            body: first_line(&body),
                        }),
                    };
                }
                Err(e) => last = e.to_string(),
            }
            if attempt < ATTEMPTS {
                std::thread::sleep(pause);
                pause *= 2;
            }
        }
        Err(PromError::Unreachable {
            url: self.base.clone(),
            detail: last,
        })
    }
}

/// Unix seconds with the milliseconds, as the API takes times and steps.
fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

fn first_line(body: &str) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    line.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_addresses_are_taken() {
        let t = Duration::from_secs(1);
        assert!(Client::new("http://127.0.0.1:9090", t).is_ok());
        assert!(Client::new("http://prom.example/prefix/", t).is_ok());
        for bad in [
            "https://prom.example",
            "127.0.0.1:9090",
            "http://",
            "http:///x",
        ] {
            let e = Client::new(bad, t).err().expect("refused");
            assert!(
                e.to_string().contains("is not an http:// address"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn an_unreachable_server_is_reported_after_the_retries() {
        // Port 9 on loopback: nothing listens there, so every attempt is refused at once.
        let c = Client::new("http://127.0.0.1:9", Duration::from_secs(2)).unwrap();
        let e = c.query("up", 0).unwrap_err().to_string();
        assert!(
            e.starts_with("cannot reach Prometheus at http://127.0.0.1:9 ("),
            "{e}"
        );
        assert!(e.ends_with("4 attempts)"), "{e}");
    }

    #[test]
    fn times_are_seconds_with_milliseconds() {
        assert_eq!(seconds(1_700_000_000_123), "1700000000.123");
        assert_eq!(seconds(15_000), "15.000");
    }
}
