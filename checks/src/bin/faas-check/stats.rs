//! Summaries of measured samples (min, median, percentiles): the one place `bench` and
//! `startup` compute them, so a median means the same thing in every figure printed.

/// A non-empty sample of measurements, kept sorted.
///
/// ```ignore
/// let s = Sample::new(vec![3.0, 1.0, 2.0]).unwrap();
/// assert_eq!((s.min(), s.median(), s.max()), (1.0, 2.0, 3.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sample(Vec<f64>);

impl Sample {
    /// The sample of `values`; `None` when there are none.
    pub fn new(mut values: Vec<f64>) -> Option<Sample> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        Some(Sample(values))
    }

    /// The smallest value.
    pub fn min(&self) -> f64 {
        self.0[0]
    }

    /// The largest value.
    pub fn max(&self) -> f64 {
        self.0[self.0.len() - 1]
    }

    /// The median; of an even count, the mean of the two middle values.
    pub fn median(&self) -> f64 {
        let (s, n) = (&self.0, self.0.len());
        if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        }
    }

    /// The `p`-th percentile (0 < p <= 100), by nearest rank: a value that was measured.
    pub fn percentile(&self, p: f64) -> f64 {
        let rank = (p / 100.0 * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        let odd = Sample::new(vec![5.0, 1.0, 3.0]).unwrap();
        assert_eq!((odd.min(), odd.median(), odd.max()), (1.0, 3.0, 5.0));
        assert_eq!(Sample::new(vec![4.0, 1.0, 2.0, 3.0]).unwrap().median(), 2.5);
        assert_eq!(Sample::new(vec![]), None);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let s = Sample::new((1..=100).rev().map(f64::from).collect()).unwrap();
        assert_eq!(s.percentile(99.0), 99.0);
        assert_eq!(s.percentile(100.0), 100.0);
        assert_eq!(s.percentile(50.0), 50.0);
        assert_eq!(s.median(), 50.5);
        assert_eq!(Sample::new(vec![7.0]).unwrap().percentile(99.0), 7.0);
        assert_eq!(
            Sample::new(vec![1.0, 2.0, 3.0]).unwrap().percentile(99.0),
            3.0
        );
    }
}
