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

use super::{FeatureError, FeatureSettings, PadMode, ShortSongFill};

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

/// The samples one segment's features are computed from: the segment's
/// `segment_samples`, preceded by the settings' [`lead_samples`](FeatureSettings::lead_samples).
///
/// Borrowed where the song holds them all. A song shorter than a segment is filled up by
/// the settings' [`ShortSongFill`]; lead samples before the song's start follow the
/// settings' pad mode (zeros, or the song mirrored about its first sample).
pub fn segment_samples<'a>(
    song: &'a [f32],
    span: SegmentSpan,
    settings: &FeatureSettings,
) -> Cow<'a, [f32]> {
    let lead = settings.lead_samples();
    let end = span.start + span.audio_samples;
    if span.audio_samples == settings.segment_samples && span.start >= lead {
        return Cow::Borrowed(&song[span.start - lead..end]);
    }
    let mut out = Vec::with_capacity(lead + settings.segment_samples);
    out.extend((0..lead).map(|k| {
        let i = span.start as isize - lead as isize + k as isize;
        match usize::try_from(i) {
            Ok(i) => song[i],
            Err(_) => match settings.pad_mode {
                PadMode::Constant => 0.0,
                // numpy's "reflect": x[-i] (the edge sample is not repeated).
                PadMode::Reflect => song.get(i.unsigned_abs()).copied().unwrap_or(0.0),
            },
        }
    }));
    let audio = &song[span.start..end];
    match settings.short_song_fill {
        ShortSongFill::Silence => {
            out.extend_from_slice(audio);
            out.resize(lead + settings.segment_samples, 0.0);
        }
        ShortSongFill::Loop => {
            out.extend(audio.iter().copied().cycle().take(settings.segment_samples))
        }
    }
    Cow::Owned(out)
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
    fn log_mel_segments_carry_half_a_window_before_their_start() {
        let settings = FeatureSettings::musicnn();
        let ramp: Vec<f32> = (0..200_000).map(|i| i as f32).collect();
        let spans = plan_segments(ramp.len(), &settings).unwrap();
        assert_eq!(spans[1].start, 47_872);
        let second = segment_samples(&ramp, spans[1], &settings);
        assert_eq!(second.len(), 256 + 47_872);
        assert_eq!(second[0], (47_872 - 256) as f32);
        // The first segment reaches before the song: mirrored about sample 0.
        let first = segment_samples(&ramp, spans[0], &settings);
        assert_eq!((first[0], first[255], first[256]), (256.0, 1.0, 0.0));
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
        let looped = FeatureSettings {
            short_song_fill: ShortSongFill::Loop,
            ..settings.clone()
        };
        let ramp: Vec<f32> = (0..44_100).map(|i| i as f32).collect();
        let samples = segment_samples(&ramp, spans[0], &looped);
        assert_eq!(samples.len(), 66_150);
        assert_eq!(
            (samples[44_099], samples[44_100], samples[44_101]),
            (44_099.0, 0.0, 1.0)
        );
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
