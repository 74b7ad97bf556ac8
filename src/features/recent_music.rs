//! Live mode's "does this sound like music?": the measures of [`MusicEvidence`] over the
//! last few windows the microphone completed, so that a tone, noise or speech held to the
//! microphone is said to be so within a few seconds, and music that follows clears it.

use std::collections::VecDeque;

use super::{FeatureFrames, FeatureSettings, MusicEvidence, SegmentSignal};

/// Windows the judgement covers: about 7 s of audio at a 3 s window and a 1 s hop.
pub const RECENT_WINDOWS: usize = 5;
/// Windows heard before any judgement (about 5 s).
const FIRST_JUDGEMENT: usize = 3;

/// The measures of the last [`RECENT_WINDOWS`] loud windows.
#[derive(Debug, Clone, Default)]
pub struct RecentMusicEvidence {
    signals: VecDeque<SegmentSignal>,
}

impl RecentMusicEvidence {
    /// Adds the measures of one window's features computed with `settings` (nothing for
    /// features the measures do not apply to, as [`MusicEvidence::add_features`]).
    pub fn add_features(&mut self, features: &FeatureFrames, settings: &FeatureSettings) {
        if settings.segment_loudness_lufs.is_none() {
            return;
        }
        if let Some(signal) = SegmentSignal::of(features, settings.kind) {
            self.add(signal);
        }
    }

    /// Adds one window's measures, forgetting the oldest beyond [`RECENT_WINDOWS`].
    pub fn add(&mut self, signal: SegmentSignal) {
        if self.signals.len() == RECENT_WINDOWS {
            self.signals.pop_front();
        }
        self.signals.push_back(signal);
    }

    /// Why the last windows do not sound like music, once enough have been heard.
    pub fn not_music(&self) -> Option<&'static str> {
        if self.signals.len() < FIRST_JUDGEMENT {
            return None;
        }
        let mut evidence = MusicEvidence::default();
        self.signals.iter().for_each(|s| evidence.add(*s));
        evidence.not_music()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(tonal_share: f32) -> SegmentSignal {
        SegmentSignal {
            variation: 0.3,
            pauses: 0.0,
            tonal_share,
            envelope_depth: 5.0,
            pause_rate: 0.0,
        }
    }

    #[test]
    fn a_tone_is_named_after_three_windows_and_music_after_it_clears_it() {
        let mut recent = RecentMusicEvidence::default();
        let mut push = |s: SegmentSignal| {
            recent.add(s);
            recent.not_music()
        };
        assert_eq!(push(signal(0.99)), None);
        assert_eq!(push(signal(0.99)), None);
        assert_eq!(push(signal(0.99)), Some("it is a pure tone"));
        let cleared = (0..RECENT_WINDOWS)
            .map(|_| push(signal(0.3)))
            .last()
            .flatten();
        assert_eq!(cleared, None);
    }
}
