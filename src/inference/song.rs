//! The song accumulator: a song's segments go in as their probabilities are known, in
//! any order (as helper workers return them); out come each segment's verdict, the
//! verdict so far, and the song's result. Like a hash's `update`/`finalize`, the caller
//! decides the chunking. The page, live mode, `classify` and the trainer's evaluation
//! all aggregate through it, so a song's verdict is computed in one place.

use super::ModelError;
use super::calibration::Calibration;
use super::verdict::{Classification, GenreProbabilities, SegmentVerdict, TagScore, argmax};
use crate::models::TagLabel;

/// Tags listed with a verdict, strongest first.
pub const TOP_TAGS: usize = 5;

/// One segment's outputs: its genre probabilities (label order, prior applied) and the
/// backbone's tag probabilities (empty for networks without tags).
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentOutput {
    /// Genre probabilities, in label order.
    pub probabilities: Vec<f32>,
    /// Tag probabilities, in the order of the model's tag names.
    pub tags: Vec<f32>,
}

/// A song in progress; see the module docs.
#[derive(Debug, Clone)]
pub struct SongAccumulator {
    labels: Vec<String>,
    tag_names: &'static [&'static str],
    starts: Vec<f64>,
    segments: Vec<Option<SegmentOutput>>,
    calibration: Calibration,
    /// For each tag, the label it speaks for (`None`: no label).
    tag_labels: Vec<Option<TagLabel>>,
}

impl SongAccumulator {
    /// A song whose segments start at `starts` (seconds, in time order), for a model
    /// with `labels` and the tags `tag_names`.
    pub fn new(labels: Vec<String>, tag_names: &'static [&'static str], starts: Vec<f64>) -> Self {
        let segments = vec![None; starts.len()];
        Self {
            labels,
            tag_names,
            starts,
            segments,
            calibration: Calibration::default(),
            tag_labels: Vec::new(),
        }
    }

    /// The song, its probabilities calibrated by `calibration`.
    pub fn with_calibration(self, calibration: Calibration) -> Self {
        Self {
            calibration,
            ..self
        }
    }

    /// The song, whose verdict notes when its strongest listed tag that speaks for a
    /// label speaks plainly for another one (`tag_labels[t]`: the label of tag `t`).
    pub fn with_tag_labels(self, tag_labels: Vec<Option<TagLabel>>) -> Self {
        Self { tag_labels, ..self }
    }

    /// Number of segments the song has.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether the song has no segments.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Number of segments added so far.
    pub fn added(&self) -> usize {
        self.segments.iter().filter(|s| s.is_some()).count()
    }

    /// Adds segment `index`'s outputs; returns its verdict. A segment added twice keeps
    /// its last outputs.
    pub fn add(
        &mut self,
        index: usize,
        output: SegmentOutput,
    ) -> Result<SegmentVerdict, ModelError> {
        let count = self.len();
        let slot = self.segments.get_mut(index).ok_or_else(|| {
            ModelError::SegmentData(format!("segment {index} of a song of {count} segments"))
        })?;
        if output.probabilities.len() != self.labels.len() {
            return Err(ModelError::SegmentData(format!(
                "{} genre probabilities for {} labels",
                output.probabilities.len(),
                self.labels.len()
            )));
        }
        *slot = Some(output);
        Ok(self.segment_verdict(index))
    }

    /// The verdict on the segments added so far (time order), as if they were the song.
    pub fn so_far(&self) -> Result<Classification, ModelError> {
        let done: Vec<usize> = (0..self.len())
            .filter(|&i| self.segments[i].is_some())
            .collect();
        if done.is_empty() {
            return Err(ModelError::NoSegments);
        }
        let outputs: Vec<&SegmentOutput> = done
            .iter()
            .filter_map(|&i| self.segments[i].as_ref())
            .collect();
        let mut mean = mean_probabilities(&outputs);
        self.calibration.apply(&mut mean);
        let confidence = mean.get(argmax(&mean)).copied().unwrap_or(0.0);
        let probabilities = GenreProbabilities::new(&self.labels, &mean);
        let genre = probabilities.top().to_owned();
        let tags = self.top_tags(&outputs);
        Ok(Classification {
            tags_lean: self.tags_lean(&tags, &genre),
            genre,
            confidence,
            unsure: self.calibration.is_unsure(confidence),
            probabilities,
            segments: done.iter().map(|&i| self.segment_verdict(i)).collect(),
            tags,
        })
    }

    /// The song's result: its genre as the mean of its segments' probabilities, each
    /// segment's verdict, and its strongest tags. Every segment must have been added.
    pub fn result(&self) -> Result<Classification, ModelError> {
        if self.is_empty() {
            return Err(ModelError::NoSegments);
        }
        let missing = self.len() - self.added();
        if missing > 0 {
            return Err(ModelError::SegmentData(format!(
                "{missing} of the song's {} segments have not been classified",
                self.len()
            )));
        }
        self.so_far()
    }

    fn segment_verdict(&self, index: usize) -> SegmentVerdict {
        let values = self.segments[index]
            .as_ref()
            .map_or(&[][..], |s| s.probabilities.as_slice());
        let probabilities = GenreProbabilities::new(&self.labels, values);
        SegmentVerdict {
            start_s: self.starts[index],
            genre: probabilities.top().to_owned(),
            probabilities,
        }
    }

    /// The label the first of `tags` that speaks for one speaks for, when it is not
    /// `genre`, the tag names it plainly, and no listed tag speaks for `genre` (a metal
    /// song tagged "rock, metal" agrees with itself).
    fn tags_lean(&self, tags: &[TagScore], genre: &str) -> Option<String> {
        let spoken: Vec<TagLabel> = tags
            .iter()
            .filter_map(|t| {
                let index = self.tag_names.iter().position(|n| *n == t.tag)?;
                self.tag_labels.get(index).copied().flatten()
            })
            .collect();
        let verdict = self.labels.iter().position(|l| l == genre)?;
        let first = spoken.first()?;
        let agrees = spoken.iter().any(|t| t.label == verdict);
        (first.plain && !agrees).then(|| self.labels[first.label].clone())
    }

    /// The mean over `outputs` of each tag, strongest [`TOP_TAGS`] first.
    fn top_tags(&self, outputs: &[&SegmentOutput]) -> Vec<TagScore> {
        let count = outputs.len() as f32;
        let mut mean = vec![0f32; self.tag_names.len()];
        for output in outputs {
            for (m, t) in mean.iter_mut().zip(&output.tags) {
                *m += t / count;
            }
        }
        let mut ranked: Vec<TagScore> = self
            .tag_names
            .iter()
            .zip(mean)
            .map(|(tag, probability)| TagScore {
                tag: (*tag).to_string(),
                probability,
            })
            .collect();
        ranked.sort_by(|a, b| b.probability.total_cmp(&a.probability));
        ranked.truncate(TOP_TAGS);
        ranked
    }
}

/// The mean of the segments' probabilities (summed in time order, then divided).
fn mean_probabilities(outputs: &[&SegmentOutput]) -> Vec<f32> {
    let width = outputs.first().map_or(0, |o| o.probabilities.len());
    let mut mean = vec![0f32; width];
    for output in outputs {
        for (m, x) in mean.iter_mut().zip(&output.probabilities) {
            *m += x;
        }
    }
    mean.iter_mut().for_each(|m| *m /= outputs.len() as f32);
    mean
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song(starts: &[f64]) -> SongAccumulator {
        let labels = vec!["a".to_string(), "b".to_string()];
        SongAccumulator::new(labels, &["x", "y"], starts.to_vec())
    }

    fn output(a: f32, tags: [f32; 2]) -> SegmentOutput {
        SegmentOutput {
            probabilities: vec![a, 1.0 - a],
            tags: tags.to_vec(),
        }
    }

    #[test]
    fn tags_that_plainly_name_another_genre_are_noted() {
        // Tag x speaks for b, tag y (if given) for a; the verdict is a.
        let lean = |tags: [f32; 2], plain: bool, y_speaks: bool| {
            let x = Some(TagLabel { label: 1, plain });
            let y = y_speaks.then_some(TagLabel {
                label: 0,
                plain: true,
            });
            let mut s = song(&[0.0]).with_tag_labels(vec![x, y]);
            s.add(0, output(0.9, tags)).unwrap();
            s.result().unwrap().tags_lean
        };
        assert_eq!(lean([0.6, 0.1], true, false).as_deref(), Some("b"));
        // Not plainly b's; or a listed tag speaks for the verdict too: no contradiction.
        assert_eq!(lean([0.6, 0.1], false, false), None);
        assert_eq!(lean([0.6, 0.1], true, true), None);
        assert_eq!(lean([0.1, 0.6], true, true), None);
    }

    #[test]
    fn confidence_is_calibrated_and_low_confidence_is_unsure() {
        let calibration = Calibration {
            temperature: 2.0,
            unsure_below: 0.6,
        };
        let mut s = song(&[0.0]).with_calibration(calibration);
        s.add(0, output(0.7, [0.0, 0.0])).unwrap();
        let r = s.result().unwrap();
        // 0.7 and 0.3 at T = 2: sqrt(0.7) / (sqrt(0.7) + sqrt(0.3)) = 0.604.
        assert!((r.confidence - 0.6044).abs() < 1e-3, "{}", r.confidence);
        assert!(!r.unsure);
        assert_eq!(r.probabilities.get("a"), Some(r.confidence));
        let mut doubtful = song(&[0.0]).with_calibration(calibration);
        doubtful.add(0, output(0.6, [0.0, 0.0])).unwrap();
        assert!(doubtful.result().unwrap().unsure);
    }

    #[test]
    fn segments_in_any_order_give_the_mean_in_time_order() {
        let mut s = song(&[0.0, 3.0, 6.0]);
        assert!(matches!(s.so_far(), Err(ModelError::NoSegments)));
        assert_eq!(s.add(2, output(0.1, [0.2, 0.4])).unwrap().genre, "b");
        let first = s.so_far().unwrap();
        assert_eq!((first.genre.as_str(), first.segments.len()), ("b", 1));
        assert!(s.result().is_err(), "two segments are missing");
        s.add(0, output(0.9, [0.6, 0.0])).unwrap();
        s.add(1, output(0.8, [0.1, 0.2])).unwrap();
        let result = s.result().unwrap();
        assert_eq!(result.genre, "a");
        let starts: Vec<f64> = result.segments.iter().map(|v| v.start_s).collect();
        assert_eq!(starts, [0.0, 3.0, 6.0]);
        assert!((result.probabilities.get("a").unwrap() - 0.6).abs() < 1e-6);
        assert_eq!(result.tags[0].tag, "x");
        assert!((result.tags[0].probability - 0.3).abs() < 1e-6);
    }

    #[test]
    fn bad_segments_are_refused() {
        let mut s = song(&[0.0]);
        assert!(s.add(1, output(0.5, [0.0, 0.0])).is_err());
        let short = SegmentOutput {
            probabilities: vec![1.0],
            tags: Vec::new(),
        };
        assert!(s.add(0, short).is_err());
        assert!(matches!(song(&[]).result(), Err(ModelError::NoSegments)));
    }
}
