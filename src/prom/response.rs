//! The JSON of Prometheus' HTTP API (`/api/v1/query`, `/api/v1/query_range`) as series of
//! timestamped samples, from a live answer or a response saved to a file.

use std::collections::BTreeMap;

use serde_json::Value;

/// A series' labels, `__name__` included.
pub type SeriesLabels = BTreeMap<String, String>;

/// One series: its labels and its samples as (Unix milliseconds, value), oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: SeriesLabels,
    pub points: Vec<(i64, f64)>,
}

impl Series {
    pub fn name(&self) -> &str {
        self.labels.get("__name__").map_or("", String::as_str)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    /// The newest sample at or before `t`.
    pub fn at_or_before(&self, t: i64) -> Option<(i64, f64)> {
        let i = self.points.partition_point(|&(ts, _)| ts <= t);
        i.checked_sub(1).map(|i| self.points[i])
    }
}

/// What an answer held.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// `matrix` and `vector` answers: series (a vector's have one sample each).
    Series(Vec<Series>),
    Scalar(i64, f64),
}

/// Why a body is not an answer of the HTTP API, or an error answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResponseError {
    #[error("not a Prometheus API response: {0}")]
    Malformed(String),
    #[error("Prometheus refused the query ({kind}): {message}")]
    Refused { kind: String, message: String },
}

fn malformed(what: impl Into<String>) -> ResponseError {
    ResponseError::Malformed(what.into())
}

/// Parses a response body: `{"status": "success", "data": {"resultType", "result"}}`.
pub fn parse(body: &str) -> Result<Data, ResponseError> {
    let v: Value =
        serde_json::from_str(body).map_err(|e| malformed(format!("invalid JSON ({e})")))?;
    let status = v.get("status").and_then(Value::as_str);
    if status == Some("error") {
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        return Err(ResponseError::Refused {
            kind: text("errorType"),
            message: text("error"),
        });
    }
    if status != Some("success") {
        return Err(malformed("no \"status\": \"success\""));
    }
    let data = v.get("data").ok_or_else(|| malformed("no \"data\""))?;
    let kind = data.get("resultType").and_then(Value::as_str);
    let result = data
        .get("result")
        .ok_or_else(|| malformed("no \"data.result\""))?;
    match kind {
        Some("matrix") | Some("vector") => {
            let items = result
                .as_array()
                .ok_or_else(|| malformed("\"result\" is not a list"))?;
            let series = items
                .iter()
                .enumerate()
                .map(|(i, item)| series(item).map_err(|e| malformed(format!("result[{i}]: {e}"))))
                .collect::<Result<_, _>>()?;
            Ok(Data::Series(series))
        }
        Some("scalar") => {
            let (t, v) = sample(result).map_err(|e| malformed(format!("result: {e}")))?;
            Ok(Data::Scalar(t, v))
        }
        Some(other) => Err(malformed(format!("result type {other:?} is not supported"))),
        None => Err(malformed("no \"data.resultType\"")),
    }
}

fn series(item: &Value) -> Result<Series, String> {
    let metric = item
        .get("metric")
        .and_then(Value::as_object)
        .ok_or("no \"metric\" object")?;
    let labels = metric
        .iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), s.to_string())),
            None => Err(format!("label {k:?} is not a string")),
        })
        .collect::<Result<SeriesLabels, _>>()?;
    let mut points = Vec::new();
    if let Some(values) = item.get("values") {
        let values = values.as_array().ok_or("\"values\" is not a list")?;
        for (j, p) in values.iter().enumerate() {
            points.push(sample(p).map_err(|e| format!("values[{j}]: {e}"))?);
        }
    } else if let Some(value) = item.get("value") {
        points.push(sample(value).map_err(|e| format!("value: {e}"))?);
    } else {
        return Err("neither \"values\" nor \"value\"".into());
    }
    if points.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err("samples are not in time order".into());
    }
    Ok(Series { labels, points })
}

/// `[1700000000.123, "42"]`: Unix seconds (to the millisecond) and the value as a string.
fn sample(p: &Value) -> Result<(i64, f64), String> {
    let pair = p
        .as_array()
        .filter(|a| a.len() == 2)
        .ok_or("not a [time, \"value\"] pair")?;
    let t = pair[0].as_f64().ok_or("time is not a number")?;
    let v = pair[1].as_str().ok_or("value is not a string")?;
    let v = match v {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v
            .parse()
            .map_err(|_| format!("value {v:?} is not a number"))?,
    };
    Ok(((t * 1000.0).round() as i64, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_vector_and_scalar_answers_parse() {
        let m = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up","pod":"a"},"values":[[1700000000,"1"],[1700000015.5,"+Inf"]]}]}}"#;
        let Data::Series(s) = parse(m).unwrap() else {
            panic!("series expected")
        };
        assert_eq!(s[0].name(), "up");
        assert_eq!(s[0].label("pod"), Some("a"));
        assert_eq!(
            s[0].points,
            vec![(1_700_000_000_000, 1.0), (1_700_000_015_500, f64::INFINITY)]
        );
        assert_eq!(
            s[0].at_or_before(1_700_000_015_000),
            Some((1_700_000_000_000, 1.0))
        );
        assert_eq!(s[0].at_or_before(1_699_999_999_999), None);
        let v = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{},"value":[1700000000,"2.5"]}]}}"#;
        let Data::Series(s) = parse(v).unwrap() else {
            panic!("series expected")
        };
        assert_eq!(s[0].points, vec![(1_700_000_000_000, 2.5)]);
        let sc = r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3"]}}"#;
        assert_eq!(parse(sc).unwrap(), Data::Scalar(1_700_000_000_000, 3.0));
    }

    #[test]
    fn errors_and_malformed_bodies_say_what_is_wrong() {
        let e = r#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#;
        assert_eq!(
            parse(e).unwrap_err().to_string(),
            "Prometheus refused the query (bad_data): parse error at char 3"
        );
        assert!(parse("{").unwrap_err().to_string().contains("invalid JSON"));
        let bad = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,2]]}]}}"#;
        assert_eq!(
            parse(bad).unwrap_err().to_string(),
            "not a Prometheus API response: result[0]: values[0]: value is not a string"
        );
        let unordered = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[2,"1"],[1,"1"]]}]}}"#;
        assert!(parse(unordered)
            .unwrap_err()
            .to_string()
            .contains("not in time order"));
    }
}
