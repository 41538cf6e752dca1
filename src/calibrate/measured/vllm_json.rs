//! The JSON that `vllm bench serve --save-result --save-detailed` writes (and the older
//! `benchmarks/benchmark_serving.py`): one benchmark point, with the lengths, TTFT and
//! inter-token gaps of each request. Field names as `vllm/benchmarks/serve.py` writes them
//! (vllm-project/vllm 009e6d4a1cd6ba3fb2a9fc00f4ec06f5297232a1).

use serde_json::{Map, Value};

use super::{
    at_least_one, non_negative, positive, rate, Fault, Load, Place, Point, PointRequests, Problem,
    MILLISECONDS, MILLISECONDS_OR_ZERO, RATE, SECONDS, SECONDS_OR_ZERO, TOKENS,
};

const CONCURRENCY_OR_NULL: &str =
    "a concurrency (a whole number of clients from 1 to 4294967295) or null";
const OUTPUT_TOKENS: &str =
    "a token count (a whole number from 0 to 4294967295; 0 for a failed request)";
const LIST: &str = "a list with one entry per request";
const GAPS: &str = "a list of inter-token gaps in seconds";
const ERROR: &str = "an error message (a string, empty when the request succeeded)";

/// The longest value a message quotes, in characters.
const SHOWN_CHARS: usize = 60;

/// The one point of a vLLM benchmark file.
pub(super) fn points(text: &str) -> Result<Vec<Point>, Fault> {
    let root: Map<String, Value> = serde_json::from_str(text).map_err(|e| {
        // serde_json ends its message with the place; the line goes first in ours.
        let message = e.to_string();
        let reason = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(reason, _)| reason);
        Fault::at_line(
            e.line() as u64,
            Problem::Syntax {
                format: "JSON",
                reason: format!("{reason} at column {}", e.column()),
            },
        )
    })?;
    let json = Json { text, root: &root };
    // Without --save-detailed, vLLM leaves out every per-request list; any other JSON
    // lacks request_rate too.
    if !root.contains_key("input_lens") {
        let problem = if root.contains_key("request_rate") {
            Problem::NotDetailed
        } else {
            Problem::Unrecognised
        };
        return Err(Fault::at_line(1, problem));
    }
    let load = json.load()?;
    let input_lens = json.list("input_lens", None)?;
    let count = Some(input_lens.len());
    let output_lens = json.list("output_lens", count)?;
    let ttfts = json.list("ttfts", count)?;
    let itls = json.list("itls", count)?;
    let errors = match root.get("errors") {
        Some(_) => Some(json.list("errors", count)?),
        None => None,
    };
    let mut done = Vec::new();
    for i in 0..input_lens.len() {
        let error = errors.map(|errors| &errors[i]);
        let failed = match error {
            None | Some(Value::Null) => false,
            Some(Value::String(message)) => !message.is_empty(),
            Some(other) => return Err(json.invalid("errors", &[i], other, ERROR)),
        };
        let output = json.value("output_lens", &[i], &output_lens[i], OUTPUT_TOKENS, |v| {
            v.as_u64().and_then(|n| u32::try_from(n).ok())
        })?;
        // vLLM writes 0 output tokens for every failed request, whose error is empty when
        // the server answered without a reason.
        if failed || output == 0 {
            continue;
        }
        let input = json.value("input_lens", &[i], &input_lens[i], TOKENS, |v| {
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .and_then(at_least_one)
        })?;
        let ttft_s = json.value("ttfts", &[i], &ttfts[i], SECONDS, |v| {
            v.as_f64().and_then(positive)
        })?;
        let Some(gaps) = itls[i].as_array() else {
            return Err(json.invalid("itls", &[i], &itls[i], GAPS));
        };
        let mut decode_s = 0.0;
        for (j, gap) in gaps.iter().enumerate() {
            decode_s += json.value("itls", &[i, j], gap, SECONDS_OR_ZERO, |v| {
                v.as_f64().and_then(non_negative)
            })?;
        }
        done.push(Done {
            input,
            output,
            ttft_s,
            decode_s,
        });
    }
    if done.is_empty() {
        return Err(Fault::at_line(json.line("errors"), Problem::NoSuccess));
    }
    // The file's means when it has them (what vLLM printed), else vLLM's own computation.
    let ttft_ms = match json.summary("mean_ttft_ms", MILLISECONDS, positive)? {
        Some(ms) => ms,
        None => mean(done.iter().map(|r| r.ttft_s)) * 1000.0,
    };
    let tpot_ms = match json.summary("mean_tpot_ms", MILLISECONDS_OR_ZERO, non_negative)? {
        Some(ms) => ms,
        None => {
            let several = done.iter().filter(|r| r.output > 1);
            mean(several.map(|r| r.decode_s / f64::from(r.output - 1))) * 1000.0
        }
    };
    let e2e_ms = match json.summary("mean_e2el_ms", MILLISECONDS, positive)? {
        Some(ms) => ms,
        None => mean(done.iter().map(|r| r.ttft_s + r.decode_s)) * 1000.0,
    };
    Ok(vec![Point {
        line: 1,
        load,
        requests: PointRequests::Listed(done.iter().map(|r| (r.input, r.output)).collect()),
        ttft_ms,
        tpot_ms,
        e2e_ms: Some(e2e_ms),
    }])
}

/// A request that succeeded: its lengths, TTFT and the sum of its inter-token gaps (its
/// latency after the first token).
struct Done {
    input: u32,
    output: u32,
    ttft_s: f64,
    decode_s: f64,
}

/// The mean; 0 of none, as vLLM's `np.mean(xs or 0)` (a TPOT of one-token outputs).
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0_u32), |(sum, n), x| (sum + x, n + 1));
    sum / f64::from(n.max(1))
}

/// The parsed file, with its text to place faults by line.
struct Json<'a> {
    text: &'a str,
    root: &'a Map<String, Value>,
}

impl Json<'_> {
    /// How the requests were sent: `--request-rate` (`"inf"`: all at once) and
    /// `--max-concurrency`.
    fn load(&self) -> Result<Load, Fault> {
        if let Some(strategy) = self.root.get("ramp_up_strategy") {
            if !strategy.is_null() {
                return Err(self.fault("ramp_up_strategy", &[], Problem::RampUp));
            }
        }
        let Some(rate_value) = self.root.get("request_rate") else {
            return Err(Fault::at_line(
                1,
                Problem::MissingField {
                    field: "request_rate",
                },
            ));
        };
        let request_rate = match rate_value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse::<f64>().ok(),
            _ => None,
        }
        .and_then(rate)
        .ok_or_else(|| self.invalid("request_rate", &[], rate_value, RATE))?;
        let concurrency = match self.root.get("max_concurrency") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .and_then(at_least_one)
                    .ok_or_else(|| self.invalid("max_concurrency", &[], v, CONCURRENCY_OR_NULL))?,
            ),
        };
        match (concurrency, request_rate.is_finite()) {
            // Every request is sent at once and waits for one of `concurrency` slots: each
            // slot is a client that sends its next request when its previous one ends.
            (Some(concurrency), false) => Ok(Load::Closed { concurrency }),
            (None, false) => Ok(Load::Open { rate: request_rate }),
            (None, true) => {
                // Burstiness other than 1 draws gaps from a gamma distribution.
                match self.root.get("burstiness") {
                    Some(b) if b.as_f64() != Some(1.0) => {
                        Err(self.fault("burstiness", &[], Problem::Burstiness { value: shown(b) }))
                    }
                    _ => Ok(Load::Open { rate: request_rate }),
                }
            }
            (Some(concurrency), true) => Err(self.fault(
                "request_rate",
                &[],
                Problem::RateAndConcurrency {
                    rate: shown(rate_value),
                    concurrency,
                },
            )),
        }
    }

    /// The list `key`, of `len` entries when given.
    fn list(&self, key: &'static str, len: Option<usize>) -> Result<&Vec<Value>, Fault> {
        let Some(value) = self.root.get(key) else {
            return Err(Fault::at_line(1, Problem::MissingField { field: key }));
        };
        let Some(list) = value.as_array() else {
            return Err(self.invalid(key, &[], value, LIST));
        };
        match len {
            Some(expected) if list.len() != expected => Err(self.fault(
                key,
                &[],
                Problem::LengthMismatch {
                    found: list.len(),
                    expected,
                },
            )),
            _ => Ok(list),
        }
    }

    /// The entry `value` of `key` at `index`, as `read` takes it, or why not `expected`.
    fn value<T>(
        &self,
        key: &'static str,
        index: &[usize],
        value: &Value,
        expected: &'static str,
        read: impl FnOnce(&Value) -> Option<T>,
    ) -> Result<T, Fault> {
        read(value).ok_or_else(|| self.invalid(key, index, value, expected))
    }

    /// A mean the file may have; `null` as absent.
    fn summary(
        &self,
        key: &'static str,
        expected: &'static str,
        check: fn(f64) -> Option<f64>,
    ) -> Result<Option<f64>, Fault> {
        match self.root.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self
                .value(key, &[], v, expected, |v| v.as_f64().and_then(check))
                .map(Some),
        }
    }

    fn invalid(
        &self,
        key: &'static str,
        index: &[usize],
        value: &Value,
        expected: &'static str,
    ) -> Fault {
        self.fault(
            key,
            index,
            Problem::Invalid {
                value: shown(value),
                expected,
            },
        )
    }

    /// A fault at `key[index]…`, on the line of the key.
    fn fault(&self, key: &'static str, index: &[usize], problem: Problem) -> Fault {
        let place = index
            .iter()
            .fold(key.to_owned(), |place, i| format!("{place}[{i}]"));
        Fault {
            line: self.line(key),
            place: Place::Field(place),
            problem,
        }
    }

    /// The line of `"key":` in the text; 1 when absent. A key cannot be mistaken for text
    /// inside a string, where every quote is escaped.
    fn line(&self, key: &str) -> u64 {
        let quoted = format!("\"{key}\"");
        self.text
            .match_indices(&quoted)
            .find(|(at, _)| self.text[at + quoted.len()..].trim_start().starts_with(':'))
            .map_or(1, |(at, _)| {
                1 + self.text[..at].matches('\n').count() as u64
            })
    }
}

/// `value` as JSON, cut short when long.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
