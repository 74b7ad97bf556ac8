//! Timing shared by the benches (each includes this file as a module).

use std::time::Instant;

/// Median milliseconds of `repeats` runs of `run`, after one warm-up run.
pub fn median_ms(mut run: impl FnMut(), repeats: usize) -> f64 {
    run();
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
