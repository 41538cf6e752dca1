//! Statistics over replications: the mean, standard deviation and Student t 95 % interval of
//! a metric's values, and the paired difference of two variants run on the same replications
//! (common random numbers: both saw the same arrivals, so their difference varies much less
//! than either). Pure functions of the values; nothing here knows what a metric is.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// What the values of one metric over the replications say.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// How many replications had a value.
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (0 with one value).
    pub sd: f64,
    /// The 95 % confidence interval of the mean (Student t with n − 1 degrees of freedom);
    /// the mean itself with one value.
    pub ci95_low: f64,
    pub ci95_high: f64,
    pub min: f64,
    pub max: f64,
}

/// The two-sided 97.5 % quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64)
        .map(|t| t.inverse_cdf(0.975))
        .unwrap_or(f64::NAN)
}

impl Estimate {
    /// The estimate from `values`; `None` without any.
    pub fn of(values: &[f64]) -> Option<Estimate> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let half = if n > 1 {
            t975(n - 1) * sd / (n as f64).sqrt()
        } else {
            0.0
        };
        Some(Estimate {
            n,
            mean,
            sd,
            ci95_low: mean - half,
            ci95_high: mean + half,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    /// Whether the interval excludes 0 (the difference it estimates is significant at 5 %).
    pub fn excludes_zero(&self) -> bool {
        self.n > 1 && (self.ci95_low > 0.0 || self.ci95_high < 0.0)
    }
}

/// The median of `values` (the mean of the middle two for an even count); `None` without any.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The paired difference `b − a` over replications that both have a value, as an estimate.
pub fn paired_difference(a: &[Option<f64>], b: &[Option<f64>]) -> Option<Estimate> {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some((*y)? - (*x)?))
        .collect();
    Estimate::of(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_are_the_tables() {
        // Student t 0.975 quantiles: df 1, 4, 9, 29, 1000.
        for (df, q) in [
            (1, 12.7062),
            (4, 2.7764),
            (9, 2.2622),
            (29, 2.0452),
            (1000, 1.9623),
        ] {
            assert!((t975(df) - q).abs() < 1e-4, "df {df}: {}", t975(df));
        }
    }

    #[test]
    fn an_estimate_of_five_values() {
        let e = Estimate::of(&[10.0, 12.0, 11.0, 13.0, 9.0]).unwrap();
        assert_eq!((e.n, e.mean, e.min, e.max), (5, 11.0, 9.0, 13.0));
        assert!((e.sd - 2.5f64.sqrt()).abs() < 1e-12);
        let half = 2.776_445 * 2.5f64.sqrt() / 5f64.sqrt();
        assert!((e.ci95_high - 11.0 - half).abs() < 1e-5);
        assert!(e.excludes_zero());
        let one = Estimate::of(&[3.0]).unwrap();
        assert_eq!((one.sd, one.ci95_low, one.ci95_high), (0.0, 3.0, 3.0));
        assert!(!one.excludes_zero());
        assert!(Estimate::of(&[]).is_none());
    }

    #[test]
    fn paired_differences_skip_missing_values() {
        let a = [Some(1.0), Some(2.0), None, Some(4.0)];
        let b = [Some(1.5), Some(2.5), Some(9.0), Some(4.5)];
        let d = paired_difference(&a, &b).unwrap();
        assert_eq!((d.n, d.mean, d.sd), (3, 0.5, 0.0));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
