//! Quick mode: a song's verdict from a few segments spread evenly over the whole song,
//! instead of every segment. `classify --quick` and the page's fast first answer choose
//! the segments with [`spread_segments`], so both hear the same ones.

use super::{FeatureError, FeatureExtractor, SegmentFeatures, plan_segments, segment_samples};

/// Segments quick mode classifies per song (about 30 s of audio at 3 s a segment).
pub const QUICK_SEGMENTS: usize = 10;

/// The indices of `wanted` segments spread evenly over a song of `count` segments, in
/// increasing order: the song is cut into `wanted` equal stretches and the segment at
/// the middle of each is taken. All of `0..count` when `count <= wanted`; none when
/// `wanted` is 0. Pure integer arithmetic, so every target picks the same segments.
pub fn spread_segments(count: usize, wanted: usize) -> Vec<usize> {
    if count <= wanted {
        return (0..count).collect();
    }
    // Stretch i spans [i * count / wanted, (i + 1) * count / wanted); its middle is
    // (2i + 1) * count / (2 * wanted). Stretches are longer than one segment, so the
    // indices strictly increase.
    (0..wanted)
        .map(|i| (2 * i + 1) * count / (2 * wanted))
        .collect()
}

impl FeatureExtractor {
    /// Like [`song`](Self::song), computing only the `wanted` segments
    /// [`spread_segments`] picks (all of them for a song of `wanted` segments or fewer).
    pub fn spread_song(
        &mut self,
        song: &[f32],
        wanted: usize,
    ) -> Result<Vec<SegmentFeatures>, FeatureError> {
        let spans = plan_segments(song.len(), self.settings())?;
        spread_segments(spans.len(), wanted)
            .into_iter()
            .map(|i| {
                let span = spans[i];
                let samples = segment_samples(song, span, self.settings());
                Ok(SegmentFeatures {
                    span,
                    features: self.compute(&samples)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureSettings;

    #[test]
    fn short_songs_keep_every_segment() {
        assert_eq!(spread_segments(0, 10), Vec::<usize>::new());
        assert_eq!(spread_segments(3, 10), [0, 1, 2]);
        assert_eq!(spread_segments(10, 10), (0..10).collect::<Vec<_>>());
        assert_eq!(spread_segments(5, 0), Vec::<usize>::new());
    }

    #[test]
    fn long_songs_get_the_middles_of_equal_stretches() {
        assert_eq!(spread_segments(20, 10), [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
        assert_eq!(
            spread_segments(80, 10),
            [4, 12, 20, 28, 36, 44, 52, 60, 68, 76]
        );
        assert_eq!(spread_segments(11, 2), [2, 8]);
        assert_eq!(spread_segments(7, 1), [3]);
    }

    #[test]
    fn picks_are_distinct_increasing_and_cover_the_song() {
        for count in 0..300 {
            for wanted in 1..15 {
                let picks = spread_segments(count, wanted);
                assert_eq!(picks.len(), count.min(wanted));
                assert!(picks.windows(2).all(|w| w[0] < w[1]), "{count} {wanted}");
                assert!(picks.iter().all(|&i| i < count));
                if count > wanted {
                    // The first pick lies in the first stretch, the last in the last.
                    assert!(picks[0] < count.div_ceil(wanted), "{count} {wanted}");
                    assert!(picks[wanted - 1] >= count - count.div_ceil(wanted));
                }
            }
        }
    }

    #[test]
    fn spread_song_computes_the_picked_segments() {
        let settings = FeatureSettings::default();
        let mut extractor = FeatureExtractor::new(settings.clone()).unwrap();
        let song = crate::synth::white_noise(62.0, settings.sample_rate, 0.3, 5);
        let all = extractor.song(&song).unwrap();
        let quick = extractor.spread_song(&song, 4).unwrap();
        let picks = spread_segments(all.len(), 4);
        assert_eq!(quick.len(), 4);
        for (q, i) in quick.iter().zip(picks) {
            assert_eq!(q, &all[i]);
        }
    }
}
