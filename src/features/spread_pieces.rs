//! Quick mode from pieces of a song at its own rate: the features of the segments
//! [`spread_segments`] picks, computed from a short stretch of audio around each, so that
//! a song of any length needs neither resampling as a whole nor holding at the features'
//! rate. The page's fast first answer and its quick folder scans use it: they send the
//! worker ten short pieces instead of the whole song.
//!
//! Each piece starts where the song's resampled samples and its own line up exactly (a
//! multiple of the rates' ratio), and reaches a margin beyond the segment on both sides,
//! wider than the resampling filter. Within the segment its resampled samples are then
//! the whole song's up to float rounding (6e-8 measured), and the features match
//! [`FeatureExtractor::spread_song`]'s within 1e-3 (4e-4 measured on log-mel patches,
//! whose log amplifies rounding in quiet bands; exactly where the rates divide evenly).

use crate::audio::{AudioError, StreamResampler, resample};

use super::{
    FeatureError, FeatureExtractor, FeatureSettings, SegmentFeatures, SegmentSpan, plan_segments,
    segment_samples, spread_segments,
};

/// Audio beyond each end of a segment that its piece also holds: far more than the
/// resampling filter reaches (256 taps at the lower rate, under 20 ms here).
const MARGIN_SECONDS: f64 = 0.1;

/// Why a piece's features could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum SpreadError {
    /// The song's rate cannot be resampled, or resampling failed.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The song is too short, or the extractor failed.
    #[error(transparent)]
    Features(#[from] FeatureError),
    /// A piece arrived with another length than its plan gave.
    #[error("piece {piece} has {got} samples; {expected} were asked for")]
    PieceLength {
        /// Which piece.
        piece: usize,
        /// Samples the plan asked for.
        expected: usize,
        /// Samples given.
        got: usize,
    },
    /// A piece was asked for that the plan does not have.
    #[error("there is no piece {piece}: the plan has {count}")]
    NoSuchPiece {
        /// Which piece.
        piece: usize,
        /// Pieces the plan has.
        count: usize,
    },
}

/// The stretch of a song one spread segment is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpreadPiece {
    /// The segment's index among all the song's segments.
    pub segment: usize,
    /// The segment, at the features' rate, in the whole song.
    pub span: SegmentSpan,
    /// The piece's first sample, at the song's own rate.
    pub from: usize,
    /// One past its last sample, at the song's own rate.
    pub to: usize,
    /// Where the piece's first resampled sample lies in the whole song at the features' rate.
    offset: usize,
}

/// Which pieces of a song quick mode needs, and how to turn each into its segment's features.
#[derive(Debug, Clone, PartialEq)]
pub struct SpreadPlan {
    /// The song's own rate.
    pub input_rate: u32,
    /// The song's length at the features' rate.
    pub song_samples: usize,
    /// Every segment of the whole song, as [`plan_segments`] cuts it.
    pub spans: Vec<SegmentSpan>,
    /// The pieces, one per picked segment, in the song's order.
    pub pieces: Vec<SpreadPiece>,
}

const fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl SpreadPlan {
    /// The pieces of a song of `input_samples` samples at `input_rate` that the `wanted`
    /// segments [`spread_segments`] picks need, for features with `settings`. Errors as
    /// [`plan_segments`] (empty, too short) or for a rate that cannot be resampled.
    pub fn new(
        input_samples: usize,
        input_rate: u32,
        settings: &FeatureSettings,
        wanted: usize,
    ) -> Result<Self, SpreadError> {
        let song_samples =
            StreamResampler::new(input_rate, settings.sample_rate)?.output_len(input_samples);
        let spans = plan_segments(song_samples, settings)?;
        // Pieces start on a multiple of `step_in` song samples, which is exactly
        // `step_out` samples at the features' rate.
        let common = gcd(input_rate as usize, settings.sample_rate as usize);
        let (step_in, step_out) = (
            input_rate as usize / common,
            settings.sample_rate as usize / common,
        );
        let margin_out = (MARGIN_SECONDS * f64::from(settings.sample_rate)).ceil() as usize;
        let margin_in = (MARGIN_SECONDS * f64::from(input_rate)).ceil() as usize;
        let pieces = spread_segments(spans.len(), wanted)
            .into_iter()
            .map(|segment| {
                let span = spans[segment];
                let need_from = span.start.saturating_sub(settings.lead_samples());
                let need_to = (span.start + span.audio_samples).min(song_samples);
                let block = need_from.saturating_sub(margin_out) / step_out;
                let end_out = (need_to + margin_out).min(song_samples);
                SpreadPiece {
                    segment,
                    span,
                    from: block * step_in,
                    // In u64: in wasm32 a usize product overflows past 2^32 (a song of
                    // about 27 minutes at 44.1 kHz).
                    to: ((end_out as u64 * step_in as u64).div_ceil(step_out as u64)) as usize
                        + margin_in,
                    offset: block * step_out,
                }
            })
            .map(|p| SpreadPiece {
                to: p.to.min(input_samples),
                ..p
            })
            .collect();
        Ok(Self {
            input_rate,
            song_samples,
            spans,
            pieces,
        })
    }
}

impl FeatureExtractor {
    /// The features of piece `index` of `plan` from its samples (mono, at the song's rate,
    /// `from..to` of the song).
    pub fn spread_piece(
        &mut self,
        plan: &SpreadPlan,
        index: usize,
        samples: &[f32],
    ) -> Result<SegmentFeatures, SpreadError> {
        let piece = plan.pieces.get(index).ok_or(SpreadError::NoSuchPiece {
            piece: index,
            count: plan.pieces.len(),
        })?;
        if samples.len() != piece.to - piece.from {
            return Err(SpreadError::PieceLength {
                piece: index,
                expected: piece.to - piece.from,
                got: samples.len(),
            });
        }
        let rate = self.settings().sample_rate;
        let mut at_rate = resample(samples, plan.input_rate, rate)?;
        // A piece that runs to the song's end gives exactly the song's remaining samples;
        // one that stops short gives more than its segment needs.
        at_rate.truncate(plan.song_samples - piece.offset);
        let local = SegmentSpan {
            start: piece.span.start - piece.offset,
            ..piece.span
        };
        let segment = segment_samples(&at_rate, local, self.settings());
        Ok(SegmentFeatures {
            span: piece.span,
            features: self.compute(&segment)?,
        })
    }
}

impl FeatureExtractor {
    /// The features of every piece of `plan`, cut from `song` (mono, the whole song at
    /// its own rate): [`spread_song`](Self::spread_song) without resampling the song.
    pub fn spread_song_pieces(
        &mut self,
        plan: &SpreadPlan,
        song: &[f32],
    ) -> Result<Vec<SegmentFeatures>, SpreadError> {
        plan.pieces
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let samples = song.get(p.from..p.to).ok_or(SpreadError::PieceLength {
                    piece: k,
                    expected: p.to - p.from,
                    got: song.len().saturating_sub(p.from),
                })?;
                self.spread_piece(plan, k, samples)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    fn max_difference(a: &SegmentFeatures, b: &SegmentFeatures) -> f32 {
        a.features
            .data
            .iter()
            .zip(&b.features.data)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    /// Features from pieces against those from the whole song resampled at once.
    fn compare(seconds: f64, input_rate: u32, settings: FeatureSettings, wanted: usize) -> f32 {
        let song = synth::white_noise(seconds, input_rate, 0.3, 7);
        let mut extractor = FeatureExtractor::new(settings.clone()).unwrap();
        let whole = resample(&song, input_rate, settings.sample_rate).unwrap();
        let expected = extractor.spread_song(&whole, wanted).unwrap();
        let plan = SpreadPlan::new(song.len(), input_rate, &settings, wanted).unwrap();
        assert_eq!(plan.song_samples, whole.len());
        assert_eq!(plan.pieces.len(), expected.len());
        let mut worst = 0.0f32;
        let got = extractor.spread_song_pieces(&plan, &song).unwrap();
        for (got, expected) in got.iter().zip(&expected) {
            assert_eq!(got.span, expected.span);
            worst = worst.max(max_difference(got, expected));
        }
        worst
    }

    #[test]
    fn pieces_give_the_whole_songs_features() {
        let musicnn = FeatureSettings::musicnn();
        for (seconds, rate) in [
            (95.0, 22_050),
            (61.3, 44_100),
            (40.0, 48_000),
            (33.0, 16_000),
        ] {
            let worst = compare(seconds, rate, musicnn.clone(), 10);
            assert!(worst < 1e-3, "{seconds} s at {rate} Hz: {worst}");
        }
        // MFCCs; and a song at the features' own rate gives the very same features.
        let mfcc = compare(50.0, 44_100, FeatureSettings::default(), 4);
        assert!(mfcc < 1e-3);
        assert_eq!(compare(70.0, 16_000, musicnn, 10), 0.0);
    }

    #[test]
    fn short_songs_are_one_piece_of_the_whole_song() {
        let settings = FeatureSettings::musicnn();
        let plan = SpreadPlan::new(22_050 * 2, 22_050, &settings, 10).unwrap();
        assert_eq!(plan.pieces.len(), 1);
        assert_eq!((plan.pieces[0].from, plan.pieces[0].to), (0, 22_050 * 2));
        assert!(compare(2.0, 22_050, settings, 10) < 1e-4);
    }

    #[test]
    fn pieces_are_short_whatever_the_song() {
        let settings = FeatureSettings::musicnn();
        let rate = 44_100;
        let plan = SpreadPlan::new(rate * 7200, rate as u32, &settings, 10).unwrap();
        assert_eq!(plan.pieces.len(), 10);
        for p in &plan.pieces {
            assert!(p.to - p.from < 4 * rate, "{p:?}");
        }
    }

    #[test]
    fn wrong_pieces_are_refused() {
        let settings = FeatureSettings::musicnn();
        let mut extractor = FeatureExtractor::new(settings.clone()).unwrap();
        let plan = SpreadPlan::new(22_050 * 60, 22_050, &settings, 10).unwrap();
        let short = vec![0.0; 10];
        assert!(matches!(
            extractor.spread_piece(&plan, 0, &short),
            Err(SpreadError::PieceLength { piece: 0, .. })
        ));
        assert!(matches!(
            extractor.spread_piece(&plan, 10, &short),
            Err(SpreadError::NoSuchPiece {
                piece: 10,
                count: 10
            })
        ));
        assert!(SpreadPlan::new(0, 22_050, &settings, 10).is_err());
        assert!(SpreadPlan::new(22_050, 1, &settings, 10).is_err());
    }
}
