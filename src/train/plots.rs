//! SVG plots of the training curves and the confusion matrix.
//!
//! Written by hand: plotting crates (plotters) need a font stack to measure text, which
//! the browser viewing an SVG does better; these two fixed charts are short to write.

use std::fmt::Write;

use crate::card::{EpochRecord, Evaluation};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn polyline(points: &[(f64, f64)], colour: &str, dashed: bool) -> String {
    let pts: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    format!(
        r#"<polyline fill="none" stroke="{colour}" stroke-width="2"{} points="{}"/>"#,
        if dashed {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        },
        pts.join(" ")
    )
}

/// Loss and accuracy per epoch, training and validation, with the kept epoch marked.
pub fn training_curves(history: &[EpochRecord], best_epoch: usize, title: &str) -> String {
    let (w, h) = (720.0, 300.0);
    let (pw, ph, top, left) = (300.0, 200.0, 50.0, 50.0);
    let epochs = history.len().max(2) as f64;
    let max_loss = history
        .iter()
        .flat_map(|r| [r.train_loss, r.valid_loss])
        .filter(|v| v.is_finite())
        .fold(0.1f64, f64::max);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12"><rect width="{w}" height="{h}" fill="white"/><text x="{left}" y="22" font-size="15">{}</text>"#,
        escape(title)
    );
    for (panel, (name, max)) in [("loss", max_loss), ("accuracy", 1.0)]
        .into_iter()
        .enumerate()
    {
        let x0 = left + panel as f64 * (pw + 60.0);
        let px = |epoch: usize| x0 + (epoch as f64 - 1.0) / (epochs - 1.0) * pw;
        let py = |v: f64| top + ph - (v / max).clamp(0.0, 1.0) * ph;
        let _ = write!(
            svg,
            r##"<rect x="{x0}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/><text x="{x0}" y="{}">{name}</text><text x="{}" y="{}" text-anchor="end">{max:.2}</text><text x="{}" y="{}" text-anchor="end">0</text><text x="{}" y="{}" text-anchor="middle">epoch</text>"##,
            top - 6.0,
            x0 - 4.0,
            top + 10.0,
            x0 - 4.0,
            top + ph,
            x0 + pw / 2.0,
            top + ph + 30.0
        );
        let series = |f: &dyn Fn(&EpochRecord) -> f64| -> Vec<(f64, f64)> {
            history.iter().map(|r| (px(r.epoch), py(f(r)))).collect()
        };
        let (train, valid): (Vec<_>, Vec<_>) = if panel == 0 {
            (series(&|r| r.train_loss), series(&|r| r.valid_loss))
        } else {
            (series(&|r| r.train_accuracy), series(&|r| r.valid_accuracy))
        };
        svg.push_str(&polyline(&train, "#1f77b4", false));
        svg.push_str(&polyline(&valid, "#d62728", true));
        if best_epoch > 0 {
            let x = px(best_epoch);
            let _ = write!(
                svg,
                r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{}" stroke="#2ca02c" stroke-dasharray="2 2"/>"##,
                top + ph
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{x0}" y="{}">1</text><text x="{}" y="{}" text-anchor="end">{}</text>"#,
            top + ph + 14.0,
            x0 + pw,
            top + ph + 14.0,
            history.len()
        );
    }
    let _ = write!(
        svg,
        r##"<g transform="translate({left},{})"><line x1="0" y1="0" x2="20" y2="0" stroke="#1f77b4" stroke-width="2"/><text x="24" y="4">training</text><line x1="100" y1="0" x2="120" y2="0" stroke="#d62728" stroke-width="2" stroke-dasharray="5 3"/><text x="124" y="4">validation</text><line x1="210" y1="0" x2="230" y2="0" stroke="#2ca02c" stroke-dasharray="2 2"/><text x="234" y="4">kept weights (epoch {best_epoch})</text></g></svg>"##,
        h - 12.0
    );
    svg
}

/// The track confusion matrix (rows: true genre, columns: predicted), shaded by the
/// fraction of each row.
pub fn confusion_matrix(evaluation: &Evaluation, genres: &[String], title: &str) -> String {
    let n = genres.len();
    let cell = 40.0;
    let (left, top) = (90.0, 110.0);
    let (w, h) = (left + cell * n as f64 + 20.0, top + cell * n as f64 + 40.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11"><rect width="{w}" height="{h}" fill="white"/><text x="10" y="20" font-size="14">{}</text><text x="10" y="38">track accuracy {:.1} % · rows: true genre · columns: predicted</text>"#,
        escape(title),
        evaluation.track_accuracy * 100.0
    );
    for (i, genre) in genres.iter().enumerate() {
        let y = top + cell * i as f64;
        let x = left + cell * i as f64;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text><text transform="translate({},{}) rotate(-50)">{}</text>"#,
            left - 6.0,
            y + cell / 2.0 + 4.0,
            escape(genre),
            x + cell / 2.0,
            top - 6.0,
            escape(genre)
        );
    }
    for (i, row) in evaluation.confusion.iter().enumerate() {
        let total: usize = row.iter().sum();
        for (j, &count) in row.iter().enumerate() {
            let share = if total > 0 {
                count as f64 / total as f64
            } else {
                0.0
            };
            let (x, y) = (left + cell * j as f64, top + cell * i as f64);
            let light = 100.0 - share * 60.0;
            let ink = if share > 0.5 { "white" } else { "black" };
            let _ = write!(
                svg,
                r##"<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="hsl({} 60% {light:.0}%)" stroke="#ddd"/><text x="{}" y="{}" text-anchor="middle" fill="{ink}">{}</text>"##,
                if i == j { 140 } else { 0 },
                x + cell / 2.0,
                y + cell / 2.0 + 4.0,
                if count > 0 {
                    count.to_string()
                } else {
                    String::new()
                }
            );
        }
    }
    svg.push_str("</svg>");
    svg
}
