//! The files under the paths a user gives: each path in the order given; a folder walked
//! recursively (following symbolic links, each folder's entries sorted by name); a path
//! listed twice kept once. Nothing is opened here: whether a file is audio is for its
//! reader to find out. What cannot be walked is listed too, with why, so that nothing is
//! left out silently.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// One path found in the inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A file. `named` when it was itself an input (the user asked for it, so it is read
    /// even if it does not look like audio), not found in a folder.
    File {
        /// The file.
        path: PathBuf,
        /// Given as an input rather than found in a folder.
        named: bool,
    },
    /// A path that could not be walked (missing, unreadable, a broken link), and why.
    Unreadable {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A symbolic link back to a folder above it: skipped, or the walk would not end.
    Loop {
        /// The link.
        path: PathBuf,
        /// The folder it leads back to.
        target: PathBuf,
    },
}

impl Entry {
    /// The path this entry is about.
    pub fn path(&self) -> &Path {
        match self {
            Entry::File { path, .. }
            | Entry::Unreadable { path, .. }
            | Entry::Loop { path, .. } => path,
        }
    }
}

/// Every entry under `inputs`, by the rules in the module docs.
pub fn list(inputs: &[PathBuf]) -> Vec<Entry> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for input in inputs {
        for entry in walk_one(input) {
            if seen.insert(entry.path().to_owned()) {
                out.push(entry);
            }
        }
    }
    out
}

/// The entries of one input: itself if it is a file, the files under it if a folder.
fn walk_one(input: &Path) -> Vec<Entry> {
    let walker = WalkDir::new(input)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    let mut out = Vec::new();
    for item in walker {
        match item {
            Ok(entry) if entry.file_type().is_dir() => {}
            Ok(entry) => out.push(Entry::File {
                named: entry.depth() == 0,
                path: entry.into_path(),
            }),
            Err(error) => out.push(problem(input, &error)),
        }
    }
    out
}

/// The entry for a walk error: a loop, or a path that could not be read.
fn problem(input: &Path, error: &walkdir::Error) -> Entry {
    let path = error.path().unwrap_or(input).to_owned();
    if let Some(target) = error.loop_ancestor() {
        return Entry::Loop {
            path,
            target: target.to_owned(),
        };
    }
    let reason = match error.io_error() {
        Some(io) if io.kind() == std::io::ErrorKind::NotFound => "no such file or folder".into(),
        Some(io) => io.to_string(),
        None => error.to_string(),
    };
    Entry::Unreadable { path, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Temp(PathBuf);

    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn temp(name: &str) -> Temp {
        let dir = std::env::temp_dir().join(format!("gc-walk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Temp(dir)
    }

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    fn files(entries: &[Entry]) -> Vec<(String, bool)> {
        entries
            .iter()
            .filter_map(|e| match e {
                Entry::File { path, named } => Some((path.to_string_lossy().into_owned(), *named)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn folders_are_walked_sorted_and_inputs_kept_in_order() {
        let t = temp("sorted");
        let d = &t.0;
        for rel in ["b/2.wav", "b/1.wav", "a/z/9.mp3", "a/0.txt", "c.ogg"] {
            touch(&d.join(rel));
        }
        let entries = list(&[d.join("c.ogg"), d.join("b"), d.join("a"), d.join("b/1.wav")]);
        let s = |rel: &str| d.join(rel).to_string_lossy().into_owned();
        assert_eq!(
            files(&entries),
            [
                (s("c.ogg"), true),
                (s("b/1.wav"), false),
                (s("b/2.wav"), false),
                (s("a/0.txt"), false),
                (s("a/z/9.mp3"), false),
            ]
        );
    }

    #[test]
    fn missing_paths_are_unreadable_entries() {
        let t = temp("missing");
        let gone = t.0.join("gone.wav");
        let entries = list(std::slice::from_ref(&gone));
        assert_eq!(
            entries,
            [Entry::Unreadable {
                path: gone,
                reason: "no such file or folder".into()
            }]
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_listed_not_followed_forever() {
        let t = temp("loop");
        touch(&t.0.join("music/a.wav"));
        std::os::unix::fs::symlink(&t.0, t.0.join("music/back")).unwrap();
        let entries = list(std::slice::from_ref(&t.0));
        assert_eq!(files(&entries).len(), 1, "{entries:?}");
        assert!(
            entries.iter().any(|e| matches!(e, Entry::Loop { .. })),
            "{entries:?}"
        );
    }
}
