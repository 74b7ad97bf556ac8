//! Cutting a song into the fixed-length segments the models see.
//!
//! The rule, for a song of `len` samples and segments of `S` samples (3 s):
//! - `len == 0`: refused as empty; `len < min_song_samples` (1 s): refused as too short.
//! - `len < S`: one segment, the song followed by silence up to `S` samples (marked padded).
//! - otherwise: `len / S` consecutive segments from the start (the tutorial's cut). A
//!   remainder of at least `S / 2` samples adds one last segment that ends where the song
//!   ends (overlapping its neighbour), so the timeline covers the whole song; a shorter
//!   remainder is dropped (a 30.01 s GTZAN clip gives exactly 10 segments).

use std::borrow::Cow;

use super::{FeatureError, FeatureSettings};

/// Where one segment lies in its song.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SegmentSpan {
    /// First sample of the segment in the song.
    pub start: usize,
    /// Samples of real audio in the segment; fewer than a segment means silence follows.
    pub audio_samples: usize,
}

impl SegmentSpan {
    /// True when the segment was filled up with silence (the song is shorter than a segment).
    pub fn is_padded(&self, settings: &FeatureSettings) -> bool {
        self.audio_samples < settings.segment_samples
    }

    /// Start time in seconds.
    pub fn start_seconds(&self, settings: &FeatureSettings) -> f64 {
        self.start as f64 / f64::from(settings.sample_rate)
    }
}

/// The segments of a song of `song_samples` samples, by the rule in the module docs.
pub fn plan_segments(
    song_samples: usize,
    settings: &FeatureSettings,
) -> Result<Vec<SegmentSpan>, FeatureError> {
    let seg = settings.segment_samples;
    let rate = f64::from(settings.sample_rate);
    if song_samples == 0 {
        return Err(FeatureError::EmptySignal);
    }
    if song_samples < settings.min_song_samples {
        return Err(FeatureError::SongTooShort {
            seconds: song_samples as f64 / rate,
            min_seconds: settings.min_song_samples as f64 / rate,
        });
    }
    if song_samples < seg {
        return Ok(vec![SegmentSpan {
            start: 0,
            audio_samples: song_samples,
        }]);
    }
    let full = song_samples / seg;
    let mut spans: Vec<SegmentSpan> = (0..full)
        .map(|i| SegmentSpan {
            start: i * seg,
            audio_samples: seg,
        })
        .collect();
    if song_samples % seg >= seg / 2 {
        spans.push(SegmentSpan {
            start: song_samples - seg,
            audio_samples: seg,
        });
    }
    Ok(spans)
}

/// The samples of one segment, exactly `segment_samples` long (borrowed unless padded).
pub fn segment_samples<'a>(
    song: &'a [f32],
    span: SegmentSpan,
    settings: &FeatureSettings,
) -> Cow<'a, [f32]> {
    let audio = &song[span.start..span.start + span.audio_samples];
    if span.audio_samples == settings.segment_samples {
        Cow::Borrowed(audio)
    } else {
        let mut padded = audio.to_vec();
        padded.resize(settings.segment_samples, 0.0);
        Cow::Owned(padded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(len: usize) -> Vec<usize> {
        plan_segments(len, &FeatureSettings::default())
            .unwrap()
            .iter()
            .map(|s| s.start)
            .collect()
    }

    #[test]
    fn a_gtzan_clip_gives_ten_segments() {
        assert_eq!(
            starts(661_794),
            (0..10).map(|i| i * 66_150).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_long_remainder_adds_an_end_aligned_segment() {
        assert_eq!(
            starts(66_150 * 2 + 40_000),
            vec![0, 66_150, 66_150 * 2 + 40_000 - 66_150]
        );
        assert_eq!(starts(66_150 * 2 + 30_000), vec![0, 66_150]);
    }

    #[test]
    fn short_songs_are_padded_or_refused() {
        let settings = FeatureSettings::default();
        let spans = plan_segments(44_100, &settings).unwrap();
        assert_eq!(
            spans,
            vec![SegmentSpan {
                start: 0,
                audio_samples: 44_100
            }]
        );
        assert!(spans[0].is_padded(&settings));
        let song = vec![0.25; 44_100];
        let samples = segment_samples(&song, spans[0], &settings);
        assert_eq!(samples.len(), 66_150);
        assert_eq!((samples[44_099], samples[44_100]), (0.25, 0.0));
        assert!(matches!(
            plan_segments(11_025, &settings),
            Err(FeatureError::SongTooShort { .. })
        ));
        assert!(matches!(
            plan_segments(0, &settings),
            Err(FeatureError::EmptySignal)
        ));
    }
}
