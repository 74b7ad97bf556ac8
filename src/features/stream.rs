//! Segment MFCCs of a song whose samples arrive in chunks.
//!
//! A long song (two hours is 159 million samples at 22 050 Hz) need not be held in
//! memory: once the song's length is known its segments are planned by the same rule
//! as [`plan_segments`], each segment is computed as soon as its last sample has
//! arrived, and samples no later segment needs are dropped. The result equals
//! [`FeatureExtractor::song`] on the whole song.

use super::{
    FeatureError, FeatureExtractor, FeatureSettings, MusicEvidence, SegmentFeatures, SegmentSpan,
    plan_segments, segment_samples,
};

/// A song in progress: its planned segments and the samples still needed.
#[derive(Debug, Clone)]
pub struct SegmentStream {
    spans: Vec<SegmentSpan>,
    next: usize,
    /// Samples of the song from `offset` on.
    buffer: Vec<f32>,
    offset: usize,
    received: usize,
    total: usize,
    peak: f32,
    evidence: MusicEvidence,
}

impl SegmentStream {
    /// A stream for a song of `total_samples` samples (mono, at the settings' rate).
    /// Refuses songs that are empty or too short to classify.
    pub fn new(total_samples: usize, settings: &FeatureSettings) -> Result<Self, FeatureError> {
        Ok(Self {
            spans: plan_segments(total_samples, settings)?,
            next: 0,
            buffer: Vec::new(),
            offset: 0,
            received: 0,
            total: total_samples,
            peak: 0.0,
            evidence: MusicEvidence::default(),
        })
    }

    /// The song's segments, in time order.
    pub fn spans(&self) -> &[SegmentSpan] {
        &self.spans
    }

    /// Number of segments computed so far.
    pub fn segments_done(&self) -> usize {
        self.next
    }

    /// Samples received so far.
    pub fn received(&self) -> usize {
        self.received
    }

    /// Samples held in memory right now (at most about one segment plus one chunk).
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The loudest absolute sample value so far.
    pub fn peak(&self) -> f32 {
        self.peak
    }

    /// What the segments so far say about whether the song is music.
    pub fn music_evidence(&self) -> &MusicEvidence {
        &self.evidence
    }

    /// True once every announced sample has arrived and every segment is computed.
    pub fn is_complete(&self) -> bool {
        self.received == self.total && self.next == self.spans.len()
    }

    /// Checks that the whole song arrived.
    pub fn finish(&self) -> Result<(), FeatureError> {
        if self.received < self.total {
            return Err(FeatureError::MissingSamples {
                expected: self.total,
                got: self.received,
            });
        }
        Ok(())
    }

    /// Takes the next `mono` samples of the song and returns the segments they complete.
    pub fn push(
        &mut self,
        mono: &[f32],
        extractor: &mut FeatureExtractor,
    ) -> Result<Vec<SegmentFeatures>, FeatureError> {
        let got = self.received + mono.len();
        if got > self.total {
            return Err(FeatureError::TooManySamples {
                expected: self.total,
                got,
            });
        }
        if let Some(i) = mono.iter().position(|s| !s.is_finite()) {
            return Err(FeatureError::NonFiniteSample(self.received + i));
        }
        self.peak = mono.iter().fold(self.peak, |p, s| p.max(s.abs()));
        self.buffer.extend_from_slice(mono);
        self.received = got;
        let mut done = Vec::new();
        while let Some(&span) = self.spans.get(self.next) {
            if span.start + span.audio_samples > self.received {
                break;
            }
            // The buffer keeps the lead samples before the next segment, so only a
            // segment near the song's start reaches before it (offset 0 then).
            let local = SegmentSpan {
                start: span.start - self.offset,
                ..span
            };
            let samples = segment_samples(&self.buffer, local, extractor.settings());
            let features = extractor.compute(&samples)?;
            self.evidence.add_features(&features, extractor.settings());
            done.push(SegmentFeatures { span, features });
            self.next += 1;
        }
        // Keep only what the next segment needs (an end-aligned last segment reaches
        // back into its neighbour).
        let keep_from = self.spans.get(self.next).map_or(self.received, |s| {
            s.start.saturating_sub(extractor.settings().lead_samples())
        });
        let drop = keep_from.saturating_sub(self.offset).min(self.buffer.len());
        self.buffer.drain(..drop);
        self.offset += drop;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic, non-periodic test signal.
    fn song(len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let t = i as f32 / 22_050.0;
                0.3 * (2.0 * std::f32::consts::PI * 220.0 * t * (1.0 + t)).sin()
                    + 0.1 * ((i * 7919 % 1000) as f32 / 1000.0 - 0.5)
            })
            .collect()
    }

    fn streamed(samples: &[f32], chunk: usize) -> (Vec<SegmentFeatures>, usize) {
        let settings = FeatureSettings::default();
        let mut extractor = FeatureExtractor::new(settings.clone()).unwrap();
        let mut stream = SegmentStream::new(samples.len(), &settings).unwrap();
        let mut out = Vec::new();
        let mut most = 0;
        for piece in samples.chunks(chunk) {
            out.extend(stream.push(piece, &mut extractor).unwrap());
            most = most.max(stream.buffered());
        }
        stream.finish().unwrap();
        assert!(stream.is_complete());
        (out, most)
    }

    #[test]
    fn streaming_gives_the_batch_segments_for_any_chunk_size() {
        let settings = FeatureSettings::default();
        let mut extractor = FeatureExtractor::new(settings).unwrap();
        // Whole segments, an end-aligned remainder, and a song shorter than a segment.
        for len in [66_150 * 3, 66_150 * 2 + 40_000, 50_000] {
            let samples = song(len);
            let batch = extractor.song(&samples).unwrap();
            for chunk in [1_000, 66_150, 100_003, len] {
                let (ours, _) = streamed(&samples, chunk);
                assert_eq!(ours, batch, "length {len}, chunks of {chunk}");
            }
        }
    }

    #[test]
    fn memory_stays_within_a_segment_and_a_chunk() {
        let (segments, most) = streamed(&song(66_150 * 20 + 50_000), 30_000);
        assert_eq!(segments.len(), 21);
        assert!(most <= 66_150 + 30_000, "held {most} samples");
    }

    #[test]
    fn too_many_missing_and_bad_samples_are_refused() {
        let settings = FeatureSettings::default();
        let mut extractor = FeatureExtractor::new(settings.clone()).unwrap();
        let mut stream = SegmentStream::new(30_000, &settings).unwrap();
        stream.push(&[0.1; 20_000], &mut extractor).unwrap();
        assert!(matches!(
            stream.finish(),
            Err(FeatureError::MissingSamples { got: 20_000, .. })
        ));
        assert!(matches!(
            stream.push(&[0.1; 10_001], &mut extractor),
            Err(FeatureError::TooManySamples { got: 30_001, .. })
        ));
        let mut bad = vec![0.0; 10_000];
        bad[7] = f32::NAN;
        assert!(matches!(
            stream.push(&bad, &mut extractor),
            Err(FeatureError::NonFiniteSample(20_007))
        ));
        assert!(SegmentStream::new(0, &settings).is_err());
    }
}
