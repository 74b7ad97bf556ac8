//! Deterministic test signals: the same call gives the same samples on every target.

/// A sine tone of `freq` Hz, `seconds` long at `rate`, with peak `amplitude`.
pub fn tone(freq: f64, seconds: f64, rate: u32, amplitude: f32) -> Vec<f32> {
    let n = (seconds * f64::from(rate)).round() as usize;
    (0..n)
        .map(|i| {
            let phase = 2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate);
            amplitude * libm::sin(phase) as f32
        })
        .collect()
}

/// Uniform white noise in `[-amplitude, amplitude)` from a xorshift64* generator seeded
/// with `seed`.
pub fn white_noise(seconds: f64, rate: u32, amplitude: f32, seed: u64) -> Vec<f32> {
    let n = (seconds * f64::from(rate)).round() as usize;
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let bits = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40; // 24 random bits
            amplitude * (bits as f32 / (1u64 << 23) as f32 - 1.0)
        })
        .collect()
}

/// A tone driven `gain` times past full scale and hard-clipped to [-1, 1].
pub fn clipped_tone(freq: f64, seconds: f64, rate: u32, gain: f32) -> Vec<f32> {
    tone(freq, seconds, rate, gain)
        .into_iter()
        .map(|s| s.clamp(-1.0, 1.0))
        .collect()
}

/// Names of the synthetic fixture signals, each made by [`named`].
pub const FIXTURE_SIGNALS: [&str; 5] = [
    "silence",
    "tone_440",
    "white_noise",
    "clipped_tone",
    "short_tone",
];

/// The synthetic signal called `name` at 22 050 Hz (see [`FIXTURE_SIGNALS`]): 6 s of
/// silence, a 440 Hz tone, white noise, a tone clipped at full scale, and a 2 s tone
/// shorter than one segment.
pub fn named(name: &str) -> Option<Vec<f32>> {
    const RATE: u32 = 22_050;
    Some(match name {
        "silence" => vec![0.0; 6 * RATE as usize],
        "tone_440" => tone(440.0, 6.0, RATE, 0.5),
        "white_noise" => white_noise(6.0, RATE, 0.5, 42),
        "clipped_tone" => clipped_tone(220.0, 6.0, RATE, 4.0),
        "short_tone" => tone(1000.0, 2.0, RATE, 0.3),
        _ => return None,
    })
}

/// Pink noise (power falling 3 dB an octave): white noise through Paul Kellet's
/// economy filter, scaled to peak near `amplitude`.
pub fn pink_noise(seconds: f64, rate: u32, amplitude: f32, seed: u64) -> Vec<f32> {
    let (mut b0, mut b1, mut b2) = (0f32, 0f32, 0f32);
    white_noise(seconds, rate, 1.0, seed)
        .into_iter()
        .map(|w| {
            b0 = 0.99765 * b0 + w * 0.0990460;
            b1 = 0.96300 * b1 + w * 0.2965164;
            b2 = 0.57000 * b2 + w * 1.0526913;
            amplitude * 0.25 * (b0 + b1 + b2 + w * 0.1848)
        })
        .collect()
}

/// Brown noise (power falling 6 dB an octave): leaky integrated white noise.
pub fn brown_noise(seconds: f64, rate: u32, amplitude: f32, seed: u64) -> Vec<f32> {
    let mut level = 0f32;
    white_noise(seconds, rate, 1.0, seed)
        .into_iter()
        .map(|w| {
            level = 0.995 * level + 0.05 * w;
            amplitude * level
        })
        .collect()
}

/// A sine sweeping linearly from `from` to `to` Hz over `seconds`.
pub fn sweep(from: f64, to: f64, seconds: f64, rate: u32, amplitude: f32) -> Vec<f32> {
    let n = (seconds * f64::from(rate)).round() as usize;
    let rise = (to - from) / seconds;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let phase = 2.0 * std::f64::consts::PI * (from * t + rise * t * t / 2.0);
            amplitude * libm::sin(phase) as f32
        })
        .collect()
}

/// Near-silence (noise at -80 dBFS) with `clicks` single-sample clicks of `amplitude`,
/// evenly spaced.
pub fn clicks(seconds: f64, rate: u32, amplitude: f32, clicks: usize) -> Vec<f32> {
    let mut out = white_noise(seconds, rate, 1e-4, 7);
    let step = out.len() / clicks.max(1);
    for i in (step / 2..out.len()).step_by(step.max(1)) {
        out[i] = amplitude;
    }
    out
}

/// A held C major triad (three sines).
pub fn chord(seconds: f64, rate: u32, amplitude: f32) -> Vec<f32> {
    let notes = [261.63, 329.63, 392.0].map(|f| tone(f, seconds, rate, amplitude / 3.0));
    (0..notes[0].len())
        .map(|i| notes.iter().map(|n| n[i]).sum())
        .collect()
}

/// A generated tune: a melody of plucked notes with four harmonics (a pentatonic scale,
/// four notes a second, chosen by `seed`) over a bass note on every beat and a noise
/// hi-hat on every half beat. Peak about `amplitude`. Sounds enough like music for the
/// music check, so tests can classify it (`tests/classify_library.rs`).
pub fn melody(seconds: f64, rate: u32, amplitude: f32, seed: u64) -> Vec<f32> {
    const SCALE: [f64; 10] = [
        261.63, 293.66, 329.63, 392.0, 440.0, 523.25, 587.33, 659.25, 783.99, 880.0,
    ];
    let rate_f = f64::from(rate);
    let n = (seconds * rate_f).round() as usize;
    let note_len = (rate_f / 4.0) as usize;
    let hiss = white_noise(seconds, rate, 1.0, seed ^ 0x5eed);
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut pitches = Vec::with_capacity(n / note_len.max(1) + 1);
    for _ in 0..=n / note_len.max(1) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        pitches
            .push(SCALE[(state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % SCALE.len()]);
    }
    let pluck = |f: f64, t: f64| {
        let decay = libm::exp(-6.0 * t);
        (1..=4)
            .map(|h| libm::sin(2.0 * std::f64::consts::PI * f * h as f64 * t) / h as f64)
            .sum::<f64>()
            * (0.3 + 0.7 * decay)
    };
    (0..n)
        .map(|i| {
            let note = i / note_len.max(1);
            let t = (i % note_len.max(1)) as f64 / rate_f;
            let beat_t = (i % (4 * note_len).max(1)) as f64 / rate_f;
            let bass = pluck(pitches[note / 4 * 4] / 4.0, beat_t);
            let hat_t = (i % (2 * note_len).max(1)) as f64 / rate_f;
            let hat = f64::from(hiss[i]) * libm::exp(-60.0 * hat_t);
            let mix = 0.45 * pluck(pitches[note], t) + 0.35 * bass + 0.25 * hat;
            amplitude * (mix / 1.4) as f32
        })
        .collect()
}

/// The generated signals that are not music, by name, `seconds` long at `rate`: what
/// the music check must never call music (tests and `examples/music_measures.rs`).
pub fn not_music(seconds: f64, rate: u32) -> Vec<(&'static str, Vec<f32>)> {
    vec![
        ("tone 440 Hz", tone(440.0, seconds, rate, 0.5)),
        ("tone 100 Hz", tone(100.0, seconds, rate, 0.5)),
        ("tone 3 kHz", tone(3000.0, seconds, rate, 0.3)),
        ("sweep", sweep(100.0, 4000.0, seconds, rate, 0.5)),
        ("white noise", white_noise(seconds, rate, 0.5, 42)),
        ("pink noise", pink_noise(seconds, rate, 0.5, 43)),
        ("brown noise", brown_noise(seconds, rate, 0.5, 44)),
        ("clicks in silence", clicks(seconds, rate, 0.8, 12)),
        ("held chord", chord(seconds, rate, 0.6)),
    ]
}

/// `samples` played `db` decibels louder (or quieter), clipped at full scale as a
/// limiter-less master would be: the level shifts the verdict must not follow.
pub fn gain_shifted(samples: &[f32], db: f32) -> Vec<f32> {
    let gain = 10f32.powf(db / 20.0);
    samples
        .iter()
        .map(|s| (s * gain).clamp(-1.0, 1.0))
        .collect()
}

/// The playback levels the verdict is checked at, in dB.
pub const LEVEL_SHIFTS_DB: [f32; 5] = [-30.0, -20.0, -10.0, 0.0, 6.0];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_deterministic_bounded_and_centred() {
        let a = white_noise(1.0, 22_050, 0.5, 7);
        assert_eq!(a, white_noise(1.0, 22_050, 0.5, 7));
        assert_ne!(a, white_noise(1.0, 22_050, 0.5, 8));
        assert!(a.iter().all(|s| (-0.5..0.5).contains(s)));
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        assert!(mean.abs() < 0.01, "{mean}");
    }

    #[test]
    fn clipped_tone_reaches_full_scale_and_no_further() {
        let s = clipped_tone(100.0, 0.1, 22_050, 4.0);
        assert_eq!(s.iter().cloned().fold(f32::MIN, f32::max), 1.0);
        assert_eq!(s.iter().cloned().fold(f32::MAX, f32::min), -1.0);
    }
}
