//! The state dir: `registration.json` (who this install is, what the server acknowledged,
//! the last policy) and `queue.json` (updates not yet delivered).
//!
//! Each file is replaced atomically: written to a temporary file in the same directory,
//! flushed to disk, renamed over the old one, and the directory flushed. A crash therefore
//! leaves the old or the new file, never a torn one. The two files are written one after the
//! other: after a crash between them an acknowledged update may still be queued, and sending
//! it again changes nothing on the server.

use crate::error::SdkError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the state lives; `None` keeps it in memory only (a restart registers again).
#[derive(Debug, Clone)]
pub(crate) struct StateFiles {
    dir: Option<PathBuf>,
}

const REGISTRATION: &str = "registration.json";
const QUEUE: &str = "queue.json";

impl StateFiles {
    pub fn new(dir: Option<PathBuf>) -> Result<Self, SdkError> {
        if let Some(dir) = &dir {
            fs::create_dir_all(dir).map_err(|e| SdkError::storage(dir, e))?;
        }
        Ok(StateFiles { dir })
    }

    pub fn load_registration<T: DeserializeOwned>(&self) -> Result<Option<T>, SdkError> {
        self.load(REGISTRATION)
    }

    pub fn save_registration<T: Serialize>(&self, value: &T) -> Result<(), SdkError> {
        self.save(REGISTRATION, value)
    }

    pub fn load_queue<T: DeserializeOwned>(&self) -> Result<Option<T>, SdkError> {
        self.load(QUEUE)
    }

    pub fn save_queue<T: Serialize>(&self, value: &T) -> Result<(), SdkError> {
        self.save(QUEUE, value)
    }

    fn load<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, SdkError> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        let path = dir.join(name);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| SdkError::storage(&path, e)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(SdkError::storage(&path, error)),
        }
    }

    fn save<T: Serialize>(&self, name: &str, value: &T) -> Result<(), SdkError> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let path = dir.join(name);
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| SdkError::storage(&path, e))?;
        write_atomically(dir, &path, &bytes).map_err(|e| SdkError::storage(&path, e))
    }
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut file = File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temporary, path)?;
    // The rename is durable only once the directory entry is.
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_file_is_read_back_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let files = StateFiles::new(Some(dir.path().join("state"))).unwrap();
        assert_eq!(files.load_queue::<Vec<u32>>().unwrap(), None);

        files.save_queue(&vec![1, 2, 3]).unwrap();
        files.save_queue(&vec![4]).unwrap();

        assert_eq!(files.load_queue::<Vec<u32>>().unwrap(), Some(vec![4]));
        let names: Vec<_> = fs::read_dir(dir.path().join("state"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["queue.json"]);
    }

    #[test]
    fn a_damaged_file_is_a_storage_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("registration.json"), "{not json").unwrap();
        let files = StateFiles::new(Some(dir.path().to_path_buf())).unwrap();
        assert!(matches!(
            files.load_registration::<serde_json::Value>(),
            Err(SdkError::Storage { .. })
        ));
    }

    #[test]
    fn without_a_dir_nothing_is_kept() {
        let files = StateFiles::new(None).unwrap();
        files.save_registration(&1).unwrap();
        assert_eq!(files.load_registration::<u32>().unwrap(), None);
    }
}
