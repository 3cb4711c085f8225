//! Folders for the files a test hands to cirelay (var files, export files, the links of its
//! multi-call names), removed when the test is done with them.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh empty folder, removed with all it holds when dropped — also when the test
/// panics, since a failed assertion unwinds through it.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        // Tests run in parallel in one process: the counter keeps their folders apart.
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cirelay-test-{}-{tag}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The path as cirelay's variables take it.
    pub fn text(&self) -> &str {
        self.0.to_str().expect("temporary paths are UTF-8")
    }
}

impl Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Symlinks inside are removed, never followed.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file's text, or nothing when it does not exist.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
