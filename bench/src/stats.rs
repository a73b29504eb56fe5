//! Order statistics over one measurement's observations.

/// Observations of one program in one measurement, grouped by sample (one sample is
/// `per_sample` consecutive interleaved rounds), so drift between samples stays visible.
#[derive(Default, Clone)]
pub struct Series {
    pub samples: Vec<Vec<f64>>,
}

impl Series {
    pub fn push(&mut self, sample: usize, value: f64) {
        if self.samples.len() <= sample {
            self.samples.resize(sample + 1, Vec::new());
        }
        self.samples[sample].push(value);
    }

    pub fn all(&self) -> Vec<f64> {
        self.samples.iter().flatten().copied().collect()
    }

    pub fn stats(&self) -> Option<Stats> {
        Stats::of(&self.all())
    }

    /// The median of each sample, in order.
    pub fn sample_medians(&self) -> Vec<f64> {
        self.samples
            .iter()
            .filter_map(|s| Stats::of(s).map(|st| st.median))
            .collect()
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub min: f64,
    pub median: f64,
    pub p90: f64,
}

impl Stats {
    pub fn of(values: &[f64]) -> Option<Stats> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        // Nearest rank: the smallest value with at least 90 % of the observations at or below it.
        let p90 = v[((n * 9).div_ceil(10)).max(1) - 1];
        Some(Stats {
            min: v[0],
            median,
            p90,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_min_p90() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let s = Stats::of(&v).unwrap();
        assert_eq!((s.min, s.median, s.p90), (1.0, 5.5, 9.0));
        let s = Stats::of(&[3.0]).unwrap();
        assert_eq!((s.min, s.median, s.p90), (3.0, 3.0, 3.0));
        assert!(Stats::of(&[]).is_none());
    }
}
