//! Writing outputs safely: files are created early (a bad path fails before any work), written
//! to a temporary file beside the destination, and renamed into place only when complete.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use polars::prelude::*;
use tempfile::NamedTempFile;

use crate::error::{Error, Result};
use crate::format::fmt_num;
use crate::ingest::Format;

/// Temporary files of outputs not yet in place. An interrupt removes them before the process
/// exits (see [`install_interrupt_handler`]), so no partial or temporary file is left behind.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding the lock cannot leave the list inconsistent (push and retain only).
    PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Keeps a temporary file's path on the list of files an interrupt removes, while it exists.
#[derive(Debug)]
pub struct PendingGuard(PathBuf);

impl PendingGuard {
    /// Creates a temporary file in `parent` and puts it on the list in one step: the list's lock
    /// is held while the file is created, so an interrupt never sees a temporary file on disk
    /// that is not on the list yet.
    fn create(
        parent: &Path,
        prefix: &str,
    ) -> std::io::Result<(tempfile::NamedTempFile, PendingGuard)> {
        let mut list = pending();
        let mut builder = tempfile::Builder::new();
        builder.prefix(prefix).suffix(".tmp");
        // tempfile creates 0600 files; an output is an ordinary file, so it is created with mode
        // 0666 less the process umask (0644 under umask 022), as `open(2)` applies the umask
        // to the mode it is given. The rename keeps the mode.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder.tempfile_in(parent)?;
        let guard = PendingGuard::push(&mut list, tmp.path());
        Ok((tmp, guard))
    }

    /// Puts `path` on the list (whose lock the caller holds) before the file is made.
    fn push(list: &mut Vec<PathBuf>, path: &Path) -> PendingGuard {
        list.push(path.to_path_buf());
        PendingGuard(path.to_path_buf())
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        pending().retain(|p| p != &self.0);
    }
}

/// Folders this run created for its outputs, not yet holding them. An interrupt removes each
/// one that is empty once the temporary files are gone, so no empty folder is left behind.
static CREATED_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn created_dirs() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // push and retain only, as `pending`
    CREATED_DIRS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Keeps a folder made for outputs on the list an interrupt cleans, until dropped (when the
/// outputs are in place, or the run has removed the folder itself).
#[derive(Debug)]
pub struct CreatedDirGuard(PathBuf);

impl CreatedDirGuard {
    /// Puts `dir`, just created by this run, on the list.
    pub fn new(dir: &Path) -> CreatedDirGuard {
        created_dirs().push(dir.to_path_buf());
        CreatedDirGuard(dir.to_path_buf())
    }
}

impl Drop for CreatedDirGuard {
    fn drop(&mut self) {
        created_dirs().retain(|d| d != &self.0);
    }
}

/// The folders one call made for its outputs: a folder and its missing parents, each on the
/// list an interrupt cleans until this is dropped.
#[derive(Debug)]
pub struct CreatedDirs {
    /// Outermost first.
    made: Vec<PathBuf>,
    _guards: Vec<CreatedDirGuard>,
}

impl CreatedDirs {
    /// Creates `dir` and any missing parents (`Error::Write` naming `dir` on failure).
    pub fn create(dir: &Path) -> Result<CreatedDirs> {
        let mut made: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|p| !p.as_os_str().is_empty() && !p.exists())
            .map(Path::to_path_buf)
            .collect();
        made.reverse();
        // one at a time, so that an error names the folder that could not be made
        for d in &made {
            if let Err(source) = std::fs::create_dir(d)
                && !d.is_dir()
            {
                for m in made.iter().rev() {
                    let _ = std::fs::remove_dir(m);
                }
                return Err(Error::Write {
                    path: d.clone(),
                    source,
                });
            }
        }
        let _guards = made.iter().map(|d| CreatedDirGuard::new(d)).collect();
        Ok(CreatedDirs { made, _guards })
    }

    /// After a failed run: removes each folder made, innermost first, when it is empty again
    /// (removing an empty folder we made cannot lose anything).
    pub fn remove_empty(self) {
        for d in self.made.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// Staging folders of runs whose outputs are not in place yet ([`StagingDir`]), each with its
/// [`FolderId`]. An interrupt removes each with everything in it, if the folder at that path is
/// still the one made (not another run's, after the folder holding it was moved or replaced).
static STAGING_DIRS: Mutex<Vec<(PathBuf, Option<FolderId>)>> = Mutex::new(Vec::new());

fn staging_dirs() -> std::sync::MutexGuard<'static, Vec<(PathBuf, Option<FolderId>)>> {
    // push and retain only, as `pending`
    STAGING_DIRS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held while a [`StagingDir`] puts its files in place: the signal handler takes it first, so
/// an interrupt waits (milliseconds: renames in one folder) for the last rename instead of
/// leaving a mix of two runs.
static COMMITTING: Mutex<()> = Mutex::new(());

/// Destination folders into which this process put a [`StagingDir`]'s files (all of them): an
/// interrupt that came during the renames waited for them, and its message says the outputs
/// there are complete rather than leaving it unsaid.
static COMMITTED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn committed() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // push only
    COMMITTED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A hidden folder that receives a whole set of outputs (a demo's `data/`, `fits/` and
/// `plots/`) before any of them is in place, so that a run that fails or is interrupted leaves
/// the previous outputs as they were instead of a mix of two runs.
///
/// - [`StagingDir::create`] locks the folder that receives the outputs (an advisory lock, which
///   the system releases when the process ends, however it ends), and each of its output
///   folders that exists already (one may be a link to a folder another run writes into), so a
///   second run into the same folder is refused before it does any work, instead of mixing with
///   the first (on a file system without locks, the run goes on unlocked). Holding the locks, a
///   staging folder already there is a killed run's
///   (SIGKILL): what its record of the commit (`commit.json`) says that run had begun is
///   finished or undone, and the folder removed ([`Leftovers`]).
/// - [`StagingDir::commit`] locks each destination folder too, records the files it is about to
///   move, and moves every file next to its destination under a temporary name (a copy when
///   the destination is on another file system), which proves each destination folder
///   writable; any failure there removes them and leaves the previous outputs. Then it records
///   that the renames begin, and renames the files over the destinations, with interrupts held
///   off until the last; each previous file is first set aside, so that a rename that fails (a
///   destination changed under the run) puts every previous file back. A run killed during the
///   renames leaves a record from which the next run finishes them: that run's outputs, all of
///   them, rather than a mix.
/// - Dropped without a commit (an error), or on an interrupt, the staging folder is removed
///   with everything in it. The one exception is a failed rename whose previous files could
///   not all be put back: the staging folder is kept with its record, and the next run into
///   the folder finishes putting them back.
///
/// Files are renamed, not synced to disk: after a power cut the file system may hold less than
/// the last run wrote.
#[derive(Debug)]
pub struct StagingDir {
    path: PathBuf,
    /// The lock on the folder receiving the outputs, released when dropped.
    _lock: std::fs::File,
    /// The locks on its output folders that existed when it was created (each folder's
    /// identity, and its lock), released when dropped.
    folder_locks: Vec<(FolderId, std::fs::File)>,
    /// Whether a drop leaves the staging folder and its record for the next run.
    keep: bool,
    /// The identities of the folder receiving the outputs, when locked, and of the staging
    /// folder, when made: a folder moved or replaced under the run is not written into or
    /// removed by path.
    dest_id: Option<FolderId>,
    id: Option<FolderId>,
}

/// What [`StagingDir::create`] found of a killed run, and cleaned.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Leftovers {
    /// The killed run's staging folder, removed.
    pub staging: Option<PathBuf>,
    /// The killed run's files beside their destinations, removed: it was killed before its
    /// renames began (or while it undid them), so the outputs before it are in place.
    pub temp_files: Vec<PathBuf>,
    /// The killed run's outputs put in place: it was killed during its renames, which were
    /// finished, so the folder holds that run's outputs rather than a mix.
    pub completed: Vec<PathBuf>,
    /// Outputs put back as they were before the killed run: it was killed while it undid its
    /// renames after one failed, and the undoing was finished.
    pub restored: Vec<PathBuf>,
    /// Why the killed run's record of its commit could not be used, when it could not: its
    /// temporary files, if any, are left, and the outputs may mix two runs.
    pub unusable_record: Option<String>,
    /// Files in the output folders named as a commit's temporary files
    /// (`.NAME.PID.staged.tmp`, `.NAME.PID.previous.tmp`) that no usable record names: left as
    /// they are (a successful [`StagingDir::commit`] removes those named after its outputs).
    pub stray_temp_files: Vec<PathBuf>,
}

impl Leftovers {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.staging.is_none()
            && self.temp_files.is_empty()
            && self.completed.is_empty()
            && self.restored.is_empty()
            && self.unusable_record.is_none()
            && self.stray_temp_files.is_empty()
    }
}

/// How far a recorded commit got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum CommitStage {
    /// Moving the files beside their destinations; nothing renamed over a destination yet.
    Moving,
    /// Renaming the files over their destinations.
    Renaming,
    /// Undoing the renames after one failed.
    RollingBack,
}

/// The record of a commit, in the staging folder: the files (relative to the destination), the
/// process whose temporary names they have beside their destinations, how far the commit got,
/// and (from the renames on) whether each destination held a previous file and the identity of
/// each new file.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct CommitRecord {
    pid: u32,
    stage: CommitStage,
    files: Vec<String>,
    previous: Vec<bool>,
    /// Each new file's [`FileIdentity`], taken beside its destination before the renames.
    new_files: Vec<FileIdentity>,
}

/// A file's length and modification time (seconds and nanoseconds since 1970): what an undo
/// checks before it removes a file it renamed in, so that it never removes another file that
/// took the name meanwhile (another run's output in a shared folder, a user's file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct FileIdentity {
    len: u64,
    secs: u64,
    nanos: u32,
}

impl FileIdentity {
    /// The identity of the file at `path` (not following a symbolic link), if it has one.
    fn of(path: &Path) -> Option<FileIdentity> {
        let m = std::fs::symlink_metadata(path).ok()?;
        let t = m
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some(FileIdentity {
            len: m.len(),
            secs: t.as_secs(),
            nanos: t.subsec_nanos(),
        })
    }
}

/// The file of the [`CommitRecord`] in the staging folder.
const COMMIT_RECORD: &str = "commit.json";

impl CommitRecord {
    /// `file`'s temporary names beside its destination: the new file, and the previous one set
    /// aside.
    fn temp_names(&self, dest: &Path, file: &str) -> (PathBuf, PathBuf, PathBuf) {
        let to = dest.join(file);
        let name = to
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let staged = to.with_file_name(format!(".{name}.{}.staged.tmp", self.pid));
        let aside = to.with_file_name(format!(".{name}.{}.previous.tmp", self.pid));
        (to, staged, aside)
    }

    /// Writes the record into `staging` in one step (a temporary file synced, then renamed), so
    /// that a run killed at any moment leaves the old record or the new one.
    fn write(&self, staging: &Path) -> Result<()> {
        let path = staging.join(COMMIT_RECORD);
        let write_err = |source| Error::Write {
            path: path.clone(),
            source,
        };
        let tmp = staging.join(format!("{COMMIT_RECORD}.tmp"));
        let bytes = serde_json::to_vec(self).map_err(|e| write_err(std::io::Error::other(e)))?;
        let mut f = std::fs::File::create(&tmp).map_err(write_err)?;
        f.write_all(&bytes).map_err(write_err)?;
        f.sync_all().map_err(write_err)?;
        std::fs::rename(&tmp, &path).map_err(write_err)
    }

    /// The record a killed run left in `staging`: `None` when there is none, `Some(Err(why))`
    /// when it cannot be used: unreadable, or naming a file that is not `FOLDER/NAME` with
    /// FOLDER one of `folders` (the clean-up touches nothing else).
    fn read(staging: &Path, folders: &[&str]) -> Option<std::result::Result<CommitRecord, String>> {
        let bytes = match std::fs::read(staging.join(COMMIT_RECORD)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => return Some(Err(e.to_string())),
        };
        let record: CommitRecord = match serde_json::from_slice(&bytes) {
            Ok(r) => r,
            Err(e) => return Some(Err(format!("not a record: {e}"))),
        };
        let allowed = |f: &String| {
            let parts: Vec<_> = Path::new(f).components().collect();
            matches!(
                parts.as_slice(),
                [std::path::Component::Normal(dir), std::path::Component::Normal(_)]
                    if folders.iter().any(|d| std::ffi::OsStr::new(d) == *dir)
            )
        };
        if let Some(f) = record.files.iter().find(|f| !allowed(f)) {
            return Some(Err(format!(
                "it names {f:?}, not a file of {}",
                folders.join("/, ") + "/"
            )));
        }
        if record.stage != CommitStage::Moving
            && (record.previous.len() != record.files.len()
                || record.new_files.len() != record.files.len())
        {
            return Some(Err("its lists of files disagree in length".to_string()));
        }
        Some(Ok(record))
    }

    /// Finishes or undoes the commit a killed run recorded: killed while moving its files,
    /// they are removed; during the renames, the renames are finished and the previous files
    /// set aside removed; while undoing them, the undoing is finished. What was done goes
    /// into `found`; an error names the file in the way and the record (in `staging`).
    fn recover(&self, dest: &Path, staging: &Path, found: &mut Leftovers) -> Result<()> {
        let present = |p: &Path| std::fs::symlink_metadata(p).is_ok();
        let record = staging.join(COMMIT_RECORD);
        let err = |path: &Path| {
            let path = path.to_path_buf();
            let record = record.clone();
            move |source: std::io::Error| Error::Write {
                path,
                source: std::io::Error::other(format!(
                    "{source}; while finishing the commit of an earlier demo that did not finish, recorded in {}: remove what is in the way and run again",
                    record.display()
                )),
            }
        };
        for (i, file) in self.files.iter().enumerate() {
            let (to, staged, aside) = self.temp_names(dest, file);
            match self.stage {
                CommitStage::Moving => {}
                CommitStage::Renaming => {
                    if present(&staged) {
                        std::fs::rename(&staged, &to).map_err(err(&to))?;
                        found.completed.push(to);
                    }
                    if present(&aside) {
                        std::fs::remove_file(&aside).map_err(err(&aside))?;
                    }
                    continue;
                }
                CommitStage::RollingBack => {
                    if present(&aside) {
                        std::fs::rename(&aside, &to).map_err(err(&to))?;
                        found.restored.push(to);
                    } else if !self.previous[i]
                        && !present(&staged)
                        && FileIdentity::of(&to) == Some(self.new_files[i])
                    {
                        // no previous file, and the new one was renamed in: take it back
                        std::fs::remove_file(&to).map_err(err(&to))?;
                        found.restored.push(to);
                    }
                }
            }
            if present(&staged) {
                std::fs::remove_file(&staged).map_err(err(&staged))?;
                found.temp_files.push(staged);
            }
        }
        Ok(())
    }
}

/// Refuses the first of `files` (relative to `dest`) that is a folder, where an output file
/// goes.
pub fn refuse_folders<S: AsRef<str>>(
    dest: &Path,
    files: impl IntoIterator<Item = S>,
) -> Result<()> {
    for f in files {
        let to = dest.join(f.as_ref());
        if to.is_dir() {
            return Err(Error::Write {
                path: to,
                source: std::io::Error::other("it is a folder, where an output file goes"),
            });
        }
    }
    Ok(())
}

/// What identifies a folder: its device and inode where there are such, so that a folder
/// removed and made again under the same name is another folder (its lock is another lock);
/// elsewhere its canonical path.
#[cfg(unix)]
type FolderId = (u64, u64);
#[cfg(not(unix))]
type FolderId = PathBuf;

/// The [`FolderId`] of the folder at `dir` (following links), if it is one.
fn folder_id(dir: &Path) -> Option<FolderId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(dir).ok()?;
        m.is_dir().then(|| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let p = dir.canonicalize().ok()?;
        p.is_dir().then_some(p)
    }
}

/// Opens `dir` and takes its advisory lock (on a file system without locks, the folder is
/// returned unlocked); another run holding it is `Error::Write` naming `dir`.
fn lock_folder(dir: &Path) -> Result<std::fs::File> {
    let write_err = |source| Error::Write {
        path: dir.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(dir).map_err(write_err)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(write_err(std::io::Error::other(
            "another goodhart run is writing its outputs into this folder: wait for it to finish, or give another --out",
        ))),
        // a file system without locks (some network ones): go on unlocked
        Err(std::fs::TryLockError::Error(_)) => Ok(file),
    }
}

impl StagingDir {
    /// Locks `dest` (an existing folder) and each of its `folders` that exists, and creates the
    /// staging folder `dest/name`. A staging folder already there is a killed run's: the
    /// commit it recorded is finished or undone (touching only files `FOLDER/NAME` with FOLDER
    /// one of `folders`), and it is removed; files in `folders` named as temporary files that
    /// no usable record names are listed ([`Leftovers::stray_temp_files`]). `found` is told
    /// what was found, before any error in that clean-up is returned. Another run holding a
    /// lock is an error naming the folder.
    pub fn create(
        dest: &Path,
        name: &str,
        folders: &[&str],
        found: &dyn Fn(&Leftovers),
    ) -> Result<StagingDir> {
        let write_err = |source| Error::Write {
            path: dest.to_path_buf(),
            source,
        };
        let lock = lock_folder(dest)?;
        // each output folder that exists, unless it is `dest` itself: one may be a link to a
        // folder that another run, into another `dest`, writes into
        let dest_id = folder_id(dest);
        // each output folder that exists, once (two names may be one folder)
        let mut existing: Vec<(PathBuf, FolderId)> = Vec::new();
        let mut folder_locks: Vec<(FolderId, std::fs::File)> = Vec::new();
        for folder in folders {
            let dir = dest.join(folder);
            let Some(id) = folder_id(&dir) else {
                continue;
            };
            if existing.iter().any(|(_, d)| d == &id) {
                continue;
            }
            if Some(&id) != dest_id.as_ref() {
                // FolderId is Copy only where it is an inode (elsewhere a PathBuf)
                #[allow(clippy::clone_on_copy)]
                folder_locks.push((id.clone(), lock_folder(&dir)?));
            }
            existing.push((dir, id));
        }
        let path = dest.join(name);
        let mut list = staging_dirs();
        let mut leftovers = Leftovers::default();
        let cleaned = match std::fs::symlink_metadata(&path) {
            Ok(m) => {
                let recovered = match m.is_dir() {
                    false => Ok(()),
                    true => match CommitRecord::read(&path, folders) {
                        None => Ok(()),
                        Some(Err(why)) => {
                            leftovers.unusable_record = Some(why);
                            Ok(())
                        }
                        Some(Ok(record)) => record.recover(dest, &path, &mut leftovers),
                    },
                };
                recovered.and_then(|()| {
                    match m.is_dir() {
                        true => std::fs::remove_dir_all(&path),
                        false => std::fs::remove_file(&path),
                    }
                    .map_err(|source| Error::Write {
                        path: path.clone(),
                        source,
                    })?;
                    leftovers.staging = Some(path.clone());
                    Ok(())
                })
            }
            Err(_) => Ok(()),
        };
        if cleaned.is_ok() {
            // what no record names (we hold the folders' locks: no run is committing there)
            for (dir, _) in &existing {
                leftovers
                    .stray_temp_files
                    .extend(temp_files_in(dir).into_iter().map(|(p, _)| p));
            }
        }
        if !leftovers.is_empty() {
            found(&leftovers);
        }
        cleaned?;
        std::fs::create_dir(&path).map_err(write_err)?;
        let id = folder_id(&path);
        // FolderId is Copy only where it is an inode (elsewhere a PathBuf)
        #[allow(clippy::clone_on_copy)]
        list.push((path.clone(), id.clone()));
        Ok(StagingDir {
            path,
            _lock: lock,
            folder_locks,
            keep: false,
            dest_id,
            id,
        })
    }

    /// The staging folder, where the outputs are written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Puts each of `files` (paths relative to the staging folder) in place under `dest`, with
    /// the same relative path, creating folders as needed, then removes the staging folder.
    /// Nothing at a destination changes unless every file can be put in place: no destination
    /// may be a folder, every file is first moved (or copied, across file systems) to a
    /// temporary name beside its destination, and when a rename over a destination fails, the
    /// files already renamed are taken back and the previous ones put back. Once every file is
    /// in place, files beside them named as another commit's temporary files of the same
    /// outputs (`.NAME.PID.staged.tmp`, `.NAME.PID.previous.tmp`, NAME one of `files`), which
    /// no record named ([`Leftovers::stray_temp_files`]), are removed and returned.
    pub fn commit(self, dest: &Path, files: &[String]) -> Result<Vec<PathBuf>> {
        self.commit_with(dest, files, || true, || ())
    }

    /// [`Self::commit`], calling `before_renames` between its two phases (tests change a
    /// destination there, or stop) and `before_undo` after a rename failed, before the renames
    /// done are undone (tests put something in the way there).
    fn commit_with(
        mut self,
        dest: &Path,
        files: &[String],
        before_renames: impl FnOnce() -> bool,
        before_undo: impl FnOnce(),
    ) -> Result<Vec<PathBuf>> {
        let replaced = |path: &Path| Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(
                "it was moved or replaced while this run wrote its outputs: nothing was put in place",
            ),
        };
        if folder_id(dest) != self.dest_id {
            return Err(replaced(dest));
        }
        if folder_id(&self.path) != self.id {
            return Err(replaced(&self.path));
        }
        refuse_folders(dest, files)?;
        let mut record = CommitRecord {
            pid: std::process::id(),
            stage: CommitStage::Moving,
            files: files.to_vec(),
            previous: Vec::new(),
            new_files: Vec::new(),
        };
        // every destination folder, made and locked (the folder `dest` is locked already, and
        // so are the output folders that existed at the start, unless one was replaced since:
        // a folder made again under the same name is another folder, locked here)
        let mut locked: Vec<FolderId> = Vec::new();
        let mut _locks = Vec::new();
        // each destination folder with its identity, checked again before the renames
        let mut destinations: Vec<(PathBuf, FolderId)> = Vec::new();
        for f in files {
            let parent = dest.join(f).parent().unwrap_or(dest).to_path_buf();
            std::fs::create_dir_all(&parent).map_err(|source| Error::Write {
                path: parent.clone(),
                source,
            })?;
            let Some(id) = folder_id(&parent) else {
                return Err(Error::Write {
                    path: parent,
                    source: std::io::Error::other("it is not a folder"),
                });
            };
            if !destinations.iter().any(|(p, _)| p == &parent) {
                // FolderId is Copy only where it is an inode (elsewhere a PathBuf)
                #[allow(clippy::clone_on_copy)]
                destinations.push((parent.clone(), id.clone()));
            }
            if Some(&id) == self.dest_id.as_ref()
                || locked.contains(&id)
                || self.folder_locks.iter().any(|(d, _)| d == &id)
            {
                continue;
            }
            _locks.push(lock_folder(&parent)?);
            locked.push(id);
        }
        record.write(&self.path)?;
        // 1. each file beside its destination, under a temporary name an interrupt removes
        let mut beside: Vec<(PathBuf, PathBuf, PathBuf, PendingGuard)> =
            Vec::with_capacity(files.len());
        let prepared = (|| -> Result<()> {
            for f in files {
                let from = self.path.join(f);
                let (to, tmp, aside) = record.temp_names(dest, f);
                let guard = PendingGuard::push(&mut pending(), &tmp);
                let moved = match std::fs::rename(&from, &tmp) {
                    Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
                        std::fs::copy(&from, &tmp).map(|_| ())
                    }
                    other => other,
                };
                if let Err(source) = moved {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(Error::Write {
                        path: to.parent().unwrap_or(dest).to_path_buf(),
                        source,
                    });
                }
                beside.push((tmp, to, aside, guard));
            }
            Ok(())
        })();
        let remove_beside = |beside: &[(PathBuf, PathBuf, PathBuf, PendingGuard)]| {
            for (tmp, ..) in beside {
                let _ = std::fs::remove_file(tmp);
            }
        };
        if let Err(e) = prepared {
            remove_beside(&beside);
            return Err(e);
        }
        if !before_renames() {
            // a test's stop: the files stay beside their destinations, as after a SIGKILL
            return Ok(Vec::new());
        }
        // a destination folder moved or replaced since it was locked is not locked: stop here
        if let Some((parent, _)) = destinations
            .iter()
            .find(|(p, id)| folder_id(p).as_ref() != Some(id))
        {
            remove_beside(&beside);
            return Err(replaced(parent));
        }
        // 2. renames within each folder, with interrupts held off until the last; each previous
        // file is set aside first, to be put back if a later rename fails
        let _committing = COMMITTING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        record.stage = CommitStage::Renaming;
        record.previous = beside
            .iter()
            .map(|(_, to, ..)| std::fs::symlink_metadata(to).is_ok())
            .collect();
        let identities: Option<Vec<FileIdentity>> = beside
            .iter()
            .map(|(tmp, ..)| FileIdentity::of(tmp))
            .collect();
        record.new_files = match identities {
            Some(ids) => ids,
            None => {
                remove_beside(&beside);
                return Err(Error::Write {
                    path: dest.to_path_buf(),
                    source: std::io::Error::other(
                        "cannot read the length and time of an output beside its destination",
                    ),
                });
            }
        };
        if let Err(e) = record.write(&self.path) {
            remove_beside(&beside);
            return Err(e);
        }
        // (destination, the previous file set aside there, if any)
        let mut done: Vec<(&Path, Option<&Path>)> = Vec::with_capacity(beside.len());
        let mut failed = None;
        for (tmp, to, aside, _) in &beside {
            match put_in_place(tmp, to, aside) {
                Ok(had_previous) => done.push((to, had_previous.then_some(aside.as_path()))),
                Err((e, previous_kept)) => {
                    failed = Some((to, e, previous_kept.then_some(aside)));
                    break;
                }
            }
        }
        let Some((to, e, previous_kept)) = failed else {
            for (_, previous) in done {
                if let Some(p) = previous {
                    let _ = std::fs::remove_file(p);
                }
            }
            // the files are in place: nothing is left for an interrupt to remove (nor to call
            // unfinished), so the staging folder and its record go before interrupts resume,
            // and an interrupt that waited for them says the outputs are complete
            drop(beside);
            self.remove();
            committed().push(dest.to_path_buf());
            return Ok(remove_stray_temp_files(dest, files));
        };
        // take back what was put in place, latest first, and put the previous files back (a run
        // killed meanwhile leaves a record from which the next run finishes this)
        before_undo();
        record.stage = CommitStage::RollingBack;
        let recorded = record.write(&self.path).is_ok();
        let mut not_undone = Vec::new();
        if let Some(p) = previous_kept {
            not_undone.push(format!(
                "{} is missing, the previous one is kept as {}",
                to.display(),
                p.display()
            ));
        }
        for (to, previous) in done.into_iter().rev() {
            let undone = match previous {
                Some(p) => std::fs::rename(p, to),
                None => std::fs::remove_file(to),
            };
            if undone.is_err() {
                not_undone.push(match previous {
                    Some(p) => format!(
                        "{} holds this run's file, the previous one is kept as {}",
                        to.display(),
                        p.display()
                    ),
                    None => format!("{} holds this run's file", to.display()),
                });
            }
        }
        remove_beside(&beside);
        let detail = match (not_undone.is_empty(), recorded) {
            (true, _) => format!("{e}; no output was replaced"),
            (false, false) => format!(
                "{e}; the outputs could not all be put back: {}",
                not_undone.join("; ")
            ),
            // the record says the undo began: the next run into `dest` finishes it
            (false, true) => {
                self.keep = true;
                staging_dirs().retain(|(d, _)| d != &self.path);
                format!(
                    "{e}; the outputs could not all be put back: {}; the next run into {} puts them back, from the record {}",
                    not_undone.join("; "),
                    dest.display(),
                    self.path.join(COMMIT_RECORD).display()
                )
            }
        };
        Err(Error::Write {
            path: to.clone(),
            source: std::io::Error::other(detail),
        })
    }
}

/// The files in `dir` named as a commit's temporary files, `.NAME.PID.staged.tmp` or
/// `.NAME.PID.previous.tmp`, each with its NAME, in order of path; not those of a running
/// process (another run's, met when a folder was moved or replaced under the runs).
fn temp_files_in(dir: &Path) -> Vec<(PathBuf, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(PathBuf, String)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let stem = name
                .strip_suffix(".staged.tmp")
                .or_else(|| name.strip_suffix(".previous.tmp"))?;
            let (file, pid) = stem.strip_prefix('.')?.rsplit_once('.')?;
            let named =
                !file.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
            (named && e.file_type().ok()?.is_file() && !process_is_running(pid))
                .then(|| (e.path(), file.to_string()))
        })
        .collect();
    found.sort();
    found
}

/// Whether the process `pid` (decimal digits) is running.
#[cfg(unix)]
fn process_is_running(pid: &str) -> bool {
    // too large for a process id, or 0 (which kill(2) reads as the process group): not one
    let Ok(pid) = pid.parse::<libc::pid_t>() else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill(2) with signal 0 sends nothing; it only says whether the process exists.
    let found = unsafe { libc::kill(pid, 0) } == 0;
    found || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_is_running(_pid: &str) -> bool {
    false
}

/// After a commit: removes, beside each of `files` under `dest`, the files named as another
/// commit's temporary files of that output; returns those removed.
fn remove_stray_temp_files(dest: &Path, files: &[String]) -> Vec<PathBuf> {
    let mut by_folder: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for f in files {
        let to = dest.join(f);
        let (Some(dir), Some(name)) = (to.parent(), to.file_name()) else {
            continue;
        };
        let name = name.to_string_lossy().into_owned();
        match by_folder.iter_mut().find(|(d, _)| d == dir) {
            Some((_, names)) => names.push(name),
            None => by_folder.push((dir.to_path_buf(), vec![name])),
        }
    }
    let mut removed = Vec::new();
    for (dir, names) in by_folder {
        for (path, name) in temp_files_in(&dir) {
            if names.contains(&name) && std::fs::remove_file(&path).is_ok() {
                removed.push(path);
            }
        }
    }
    removed
}

/// Renames `tmp` over `to`, first setting a previous file at `to` aside as `aside`; says
/// whether there was one. On failure the previous file is put back at `to`; the error's `bool`
/// says that could not be done (it is still at `aside`).
fn put_in_place(
    tmp: &Path,
    to: &Path,
    aside: &Path,
) -> std::result::Result<bool, (std::io::Error, bool)> {
    let previous = match std::fs::symlink_metadata(to) {
        Ok(m) if m.is_dir() => {
            return Err((
                std::io::Error::other("it is a folder, where an output file goes"),
                false,
            ));
        }
        Ok(_) => {
            std::fs::rename(to, aside).map_err(|e| (e, false))?;
            true
        }
        Err(_) => false,
    };
    if let Err(e) = std::fs::rename(tmp, to) {
        let kept = previous && std::fs::rename(aside, to).is_err();
        return Err((e, kept));
    }
    Ok(previous)
}

impl StagingDir {
    /// Removes the staging folder with everything in it, and takes it off the list an
    /// interrupt cleans (again harmless: a folder already gone is fine).
    fn remove(&self) {
        let mut list = staging_dirs();
        remove_staging_folder(&self.path, &self.id);
        list.retain(|(d, _)| d != &self.path);
    }
}

/// Removes the staging folder at `path` with everything in it, if it is still the folder made
/// (`id`), not another run's after the folder holding it was moved or replaced.
fn remove_staging_folder(path: &Path, id: &Option<FolderId>) {
    if folder_id(path) == *id {
        let _ = std::fs::remove_dir_all(path);
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if !self.keep {
            self.remove();
        }
    }
}

/// Removes every pending temporary file, then every staging folder, then every listed folder
/// left empty (called on interrupt). The returned lock is held until the process exits, so no
/// other thread creates a temporary file after the removal. The `bool` says whether there was
/// anything to remove (a temporary file or a staging folder).
fn remove_pending() -> (std::sync::MutexGuard<'static, Vec<PathBuf>>, bool) {
    let list = pending();
    for p in list.iter() {
        // Already gone (renamed into place, or never written) is fine.
        let _ = std::fs::remove_file(p);
    }
    let staged = staging_dirs();
    for (d, id) in staged.iter() {
        remove_staging_folder(d, id);
    }
    let removed = !list.is_empty() || !staged.is_empty();
    drop(staged);
    // listed outermost first, so the innermost goes first
    for d in created_dirs().iter().rev() {
        // `remove_dir` removes only an empty folder: one holding anything else stays.
        let _ = std::fs::remove_dir(d);
    }
    (list, removed)
}

/// Refuses an output path that is one of the inputs: inputs are never modified.
pub fn ensure_not_input(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    if out.as_os_str() == "-" {
        return Ok(());
    }
    let Ok(out_c) = out.canonicalize() else {
        return Ok(());
    };
    for input in inputs {
        if input.canonicalize().is_ok_and(|i| i == out_c) {
            return Err(Error::Usage(format!(
                "output {} is also an input; choose another output path",
                out.display()
            )));
        }
    }
    Ok(())
}

/// Exit status after an interrupt (128 + SIGINT), as shells report it.
pub const INTERRUPTED_EXIT: i32 = 130;

/// What an interrupt found, for the line the application prints ([`Interrupted::message`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interrupted {
    /// The signal, as a user reads it ("interrupted", "terminated (SIGTERM)", ...).
    pub what: &'static str,
    /// Whether unfinished outputs (temporary files, staging folders) were removed.
    pub removed_unfinished: bool,
    /// Folders into which this run had put a whole set of outputs (a demo's) before the
    /// interrupt: those outputs are complete (an interrupt during the renames waits for the last).
    pub complete_in: Vec<PathBuf>,
}

impl Interrupted {
    /// The one line printed on stderr, e.g. "error: interrupted; unfinished output files were
    /// removed".
    ///
    /// ```
    /// use goodhart::output::Interrupted;
    /// let i = Interrupted { what: "interrupted", removed_unfinished: false, complete_in: vec!["out".into()] };
    /// assert_eq!(
    ///     i.message(),
    ///     "error: interrupted after this run's outputs were put in place in out: they are complete"
    /// );
    /// ```
    pub fn message(&self) -> String {
        let mut m = format!("error: {}", self.what);
        if !self.complete_in.is_empty() {
            let folders: Vec<String> = self
                .complete_in
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            m.push_str(&format!(
                " after this run's outputs were put in place in {}: they are complete",
                folders.join(", ")
            ));
        }
        if self.removed_unfinished {
            m.push_str("; unfinished output files were removed");
        }
        m
    }
}

/// Installs the signal handler of the binary: on SIGINT (Ctrl-C), SIGTERM (`kill`, `timeout`)
/// or SIGHUP (a closed terminal or ssh session), unfinished outputs (temporary files, and
/// folders made for them) are removed, `announce` is called with what was found
/// ([`Interrupted`]: the signal, whether there were unfinished outputs to remove, and the folders
/// whose outputs this run had already put in place; the application prints one line), and the process
/// exits with status 128 + the signal's number (130, 143, 129), as shells report it. Outputs
/// already renamed into place are complete and stay. SIGHUP is handled only when it is not
/// ignored at start: a run under `nohup` (which ignores it) survives a closed terminal, as
/// `nohup` promises.
pub fn install_interrupt_handler(announce: fn(&Interrupted)) -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut wanted = vec![SIGINT, SIGTERM];
    if !ignored_at_start(SIGHUP) {
        wanted.push(SIGHUP);
    }
    let mut signals =
        signal_hook::iterator::Signals::new(&wanted).map_err(|source| Error::Write {
            path: PathBuf::from("<signal handler>"),
            source,
        })?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            // a staging folder's files being renamed into place: let the last rename finish
            let _committing = COMMITTING
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let (_held, removed) = remove_pending();
            announce(&Interrupted {
                what: match signal {
                    SIGTERM => "terminated (SIGTERM)",
                    SIGHUP => "hung up (SIGHUP)",
                    _ => "interrupted",
                },
                removed_unfinished: removed,
                complete_in: committed().clone(),
            });
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

/// Whether `signal`'s disposition is "ignore" (as `nohup` leaves SIGHUP for the program it runs).
#[cfg(unix)]
fn ignored_at_start(signal: libc::c_int) -> bool {
    // SAFETY: sigaction(2) with a null new action only reads the current one into `old`, a
    // zeroed plain C struct that it fills.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

#[cfg(not(unix))]
fn ignored_at_start(_signal: i32) -> bool {
    false
}

/// Where an output goes: a file written atomically, stdout (`-`), or an existing device or
/// pipe (such as `/dev/null` or `/dev/full`), which is written in place: renaming a temporary
/// file over it would replace the device.
#[derive(Debug)]
pub enum Sink {
    Stdout,
    File {
        path: PathBuf,
        tmp: NamedTempFile,
        _pending: PendingGuard,
    },
    Device {
        path: PathBuf,
        file: std::fs::File,
    },
}

impl Sink {
    /// Opens the destination now: a missing folder, a directory or an unwritable place fails
    /// here, before any analysis.
    pub fn create(spec: &Path) -> Result<Sink> {
        if spec.as_os_str() == "-" {
            return Ok(Sink::Stdout);
        }
        let path = spec.to_path_buf();
        let write_err = |source| Error::Write {
            path: path.clone(),
            source,
        };
        if path.is_dir() {
            return Err(write_err(std::io::Error::other("is a directory")));
        }
        if let Ok(meta) = std::fs::metadata(&path)
            && !meta.is_file()
        {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(write_err)?;
            return Ok(Sink::Device { path, file });
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            return Err(write_err(std::io::Error::other(format!(
                "folder {} does not exist",
                parent.display()
            ))));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (tmp, _pending) =
            PendingGuard::create(&parent, &format!(".{name}.")).map_err(write_err)?;
        Ok(Sink::File {
            path,
            tmp,
            _pending,
        })
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            Sink::Stdout => None,
            Sink::File { path, .. } | Sink::Device { path, .. } => Some(path),
        }
    }

    /// Writes all of `bytes` and puts the file in place. On failure (a full disk, say) the
    /// temporary file is removed and the destination is left as it was.
    pub fn commit(self, bytes: &[u8]) -> Result<()> {
        match self {
            Sink::Stdout => write_stdout(bytes),
            Sink::File {
                path,
                mut tmp,
                _pending,
            } => {
                let werr = |source| Error::Write {
                    path: path.clone(),
                    source,
                };
                tmp.write_all(bytes).map_err(werr)?;
                tmp.flush().map_err(werr)?;
                tmp.persist(&path).map_err(|e| werr(e.error))?;
                Ok(())
            }
            Sink::Device { path, mut file } => file
                .write_all(bytes)
                .and_then(|_| file.flush())
                .map_err(|source| Error::Write { path, source }),
        }
    }
}

/// Commits several outputs of one command together: every file is first written in full to
/// its temporary file, and only when all are written are they renamed into place. A failure
/// while writing (a full disk, say) leaves none of them, rather than some.
pub fn commit_all(outputs: Vec<(Sink, &[u8])>) -> Result<()> {
    let mut written = Vec::with_capacity(outputs.len());
    for (sink, bytes) in outputs {
        match sink {
            Sink::File {
                path,
                mut tmp,
                _pending,
            } => {
                tmp.write_all(bytes)
                    .and_then(|_| tmp.flush())
                    .map_err(|source| Error::Write {
                        path: path.clone(),
                        source,
                    })?;
                written.push((path, tmp, _pending));
            }
            other => other.commit(bytes)?,
        }
    }
    for (path, tmp, _pending) in written {
        tmp.persist(&path).map_err(|e| Error::Write {
            path: path.clone(),
            source: e.error,
        })?;
    }
    Ok(())
}

/// An output written piece by piece while a command works (the fits JSON of many curves),
/// still all or nothing: a file is written to its temporary file and put in place by
/// [`commit_streams`]; stdout and devices get the bytes only then (kept in memory until
/// then), so that a failure part way leaves no half-written output anywhere.
#[derive(Debug)]
pub struct StreamSink {
    sink: Sink,
    /// Bytes not yet written to the temporary file (all of them for stdout and devices).
    buffer: Vec<u8>,
}

/// Bytes a [`StreamSink`] to a file collects before writing them out.
const STREAM_BUFFER: usize = 1 << 20;

/// Where bytes written piece by piece go: a [`StreamSink`], or memory.
pub trait ByteSink {
    fn write_bytes(&mut self, bytes: &[u8]) -> Result<()>;
}

impl ByteSink for Vec<u8> {
    fn write_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

impl ByteSink for StreamSink {
    fn write_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.write(bytes)
    }
}

impl StreamSink {
    pub fn new(sink: Sink) -> StreamSink {
        StreamSink {
            sink,
            buffer: Vec::new(),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.sink.path()
    }

    /// Appends bytes to the output.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        // A large piece goes to the file as it is, after what is buffered: no copy into the
        // buffer first.
        if bytes.len() >= STREAM_BUFFER / 16 && matches!(self.sink, Sink::File { .. }) {
            self.flush_file()?;
            if let Sink::File { path, tmp, .. } = &mut self.sink {
                return tmp.write_all(bytes).map_err(|source| Error::Write {
                    path: path.clone(),
                    source,
                });
            }
        }
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= STREAM_BUFFER {
            self.flush_file()?;
        }
        Ok(())
    }

    /// Writes the buffer to the temporary file (files only).
    fn flush_file(&mut self) -> Result<()> {
        if let Sink::File { path, tmp, .. } = &mut self.sink {
            tmp.write_all(&self.buffer).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
            self.buffer.clear();
        }
        Ok(())
    }
}

/// [`commit_all`] for outputs written piece by piece: every file's remaining bytes are written
/// and flushed, and only then are the files renamed into place (and stdout or devices
/// written).
pub fn commit_streams(streams: Vec<StreamSink>) -> Result<()> {
    let mut outputs = Vec::with_capacity(streams.len());
    for mut s in streams {
        s.flush_file()?;
        outputs.push((s.sink, s.buffer));
    }
    commit_all(
        outputs
            .iter_mut()
            .map(|(sink, bytes)| (std::mem::replace(sink, Sink::Stdout), bytes.as_slice()))
            .collect(),
    )
}

/// Writes to stdout; a reader that went away (`| head`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: PathBuf::from("-"),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically (temp file, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Sink::create(path)?.commit(bytes)
}

/// Rows of a table made together as CSV text ([`OutTable::write_csv_with`]).
const CSV_BLOCK_ROWS: usize = 8;

fn csv_error(path: &Path, e: csv::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Columns written after a table's own by [`OutTable::write_csv_with`]: their names, what
/// appends a row's cells (each after a comma) to the row's text, and about how many bytes that
/// appends to a row at most (the room reserved for them; more only costs a copy).
pub type CsvTail<'a> = (
    &'a [&'a str],
    &'a (dyn Fn(usize, &mut Vec<u8>) + Sync),
    &'a (dyn Fn(usize) -> usize + Sync),
);

/// A block of rows ends after a row whose tail cells take more than this
/// ([`OutTable::write_csv_with`]): blocks of several long rows balance poorly over the threads.
const CSV_LONG_ROW: usize = 1 << 14;

/// A column of an output table.
#[derive(Debug, Clone)]
pub enum OutColumn {
    Number(Vec<Option<f64>>),
    Integer(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    /// Numbers with no empty cell: half the memory of [`OutColumn::Number`], for the tables of
    /// millions of rows (`generate tokens`' Samples table). Written exactly as `Number`.
    FullNumber(Vec<f64>),
    /// Integers with no empty cell, written exactly as [`OutColumn::Integer`].
    FullInteger(Vec<i64>),
}

impl OutColumn {
    /// The column as a [`OutColumn::Number`], [`OutColumn::Integer`] or [`OutColumn::Text`]
    /// (a full column's cells wrapped in `Some`).
    pub fn with_empty_cells(self) -> OutColumn {
        match self {
            OutColumn::FullNumber(v) => OutColumn::Number(v.into_iter().map(Some).collect()),
            OutColumn::FullInteger(v) => OutColumn::Integer(v.into_iter().map(Some).collect()),
            other => other,
        }
    }

    fn len(&self) -> usize {
        match self {
            OutColumn::Number(v) => v.len(),
            OutColumn::FullNumber(v) => v.len(),
            OutColumn::FullInteger(v) => v.len(),
            OutColumn::Integer(v) => v.len(),
            OutColumn::Text(v) => v.len(),
        }
    }
}

/// A table to write as CSV, NDJSON or Parquet (by the output path's extension).
#[derive(Debug, Clone, Default)]
pub struct OutTable {
    pub columns: Vec<(String, OutColumn)>,
}

impl OutTable {
    pub fn push(&mut self, name: &str, column: OutColumn) {
        self.columns.push((name.to_string(), column));
    }

    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    /// The table in the format implied by `path` (`-` and unknown extensions: CSV).
    pub fn to_bytes_for(&self, path: &Path) -> Result<Vec<u8>> {
        self.to_bytes(Self::format_of(path)?, path)
    }

    /// Whether a table written to `path` is CSV ([`Self::to_bytes_for`]'s choice); an error
    /// when `path` names no table format.
    pub fn is_csv_for(path: &Path) -> Result<bool> {
        Ok(Self::format_of(path)? == Format::Csv)
    }

    /// The format written to `path`: its extension's; CSV on stdout and on devices or pipes
    /// without a table extension (`/dev/stdout`).
    fn format_of(path: &Path) -> Result<Format> {
        let device = std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir());
        if path.as_os_str() == "-" {
            return Ok(Format::Csv);
        }
        match Format::from_path(path) {
            Ok(f) => Ok(f),
            Err(_) if device => Ok(Format::Csv),
            Err(e) => Err(e),
        }
    }

    pub fn to_bytes(&self, format: Format, path: &Path) -> Result<Vec<u8>> {
        match format {
            Format::Csv => self.to_csv(path),
            Format::Ndjson => Ok(self.to_ndjson()),
            Format::Parquet => self.to_parquet(path),
        }
    }

    fn cell<'a>(&self, col: &'a OutColumn, i: usize) -> std::borrow::Cow<'a, str> {
        use std::borrow::Cow;
        match col {
            OutColumn::Number(v) => Cow::Owned(v[i].map(fmt_num).unwrap_or_default()),
            OutColumn::FullNumber(v) => Cow::Owned(fmt_num(v[i])),
            OutColumn::FullInteger(v) => Cow::Owned(v[i].to_string()),
            OutColumn::Integer(v) => Cow::Owned(v[i].map(|x| x.to_string()).unwrap_or_default()),
            OutColumn::Text(v) => v[i].as_deref().map_or(Cow::Borrowed(""), Cow::Borrowed),
        }
    }

    /// The CSV text: the header, then the rows made in parallel blocks (each record is written
    /// alone by the same writer settings, so the bytes do not depend on the blocks) and joined
    /// in row order.
    fn to_csv(&self, path: &Path) -> Result<Vec<u8>> {
        use rayon::prelude::*;
        let mut out = self.csv_header(path, None)?;
        let blocks: Vec<Vec<u8>> = self
            .csv_blocks(None)
            .par_iter()
            .map(|rows| self.csv_block(path, rows.clone(), None))
            .collect::<Result<_>>()?;
        for b in &blocks {
            out.extend_from_slice(b);
        }
        Ok(out)
    }

    /// Writes the table as CSV to `sink` (its destination `path`) and commits it, with `tail`'s
    /// columns after the table's own: `tail.0` names them, and `tail.1(i, out)` appends row
    /// `i`'s cells to the row's text, each after a comma, as the CSV writer would write text
    /// cells that need no quoting (numbers, spaces): long cells go straight into the text,
    /// without a String each. Without a tail, the bytes of [`Self::to_bytes_for`]. The blocks
    /// of rows are made in parallel while those made are written, in row order. Nothing is
    /// left at the destination when anything fails.
    pub fn write_csv_with(&self, sink: Sink, path: &Path, tail: Option<CsvTail<'_>>) -> Result<()> {
        use rayon::prelude::*;
        use std::collections::BTreeMap;
        let mut out = StreamSink::new(sink);
        out.write(&self.csv_header(path, tail)?)?;
        let blocks = self.csv_blocks(tail);
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<Vec<u8>>)>();
        std::thread::scope(|scope| -> Result<()> {
            let blocks = &blocks;
            scope.spawn(move || {
                // stops at the first block the writer no longer waits for
                let _ = blocks
                    .par_iter()
                    .enumerate()
                    .try_for_each_with(tx, |tx, (b, rows)| {
                        let block = self.csv_block(path, rows.clone(), tail);
                        tx.send((b, block)).map_err(|_| ())
                    });
            });
            // blocks made out of order wait for their turn
            let mut waiting: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
            let mut next = 0;
            while next < blocks.len() {
                let (b, block) = rx.recv().map_err(|_| Error::Write {
                    path: path.to_path_buf(),
                    source: std::io::Error::other("a block of the table was not made"),
                })?;
                waiting.insert(b, block?);
                while let Some(block) = waiting.remove(&next) {
                    out.write(&block)?;
                    next += 1;
                }
            }
            Ok(())
        })?;
        commit_streams(vec![out])
    }

    /// The CSV header of [`Self::write_csv_with`].
    fn csv_header(&self, path: &Path, tail: Option<CsvTail<'_>>) -> Result<Vec<u8>> {
        let tail_names: &[&str] = tail.map_or(&[], |t| t.0);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(
            self.columns
                .iter()
                .map(|(n, _)| n.as_str())
                .chain(tail_names.iter().copied()),
        )
        .map_err(|e| csv_error(path, e))?;
        w.into_inner().map_err(|e| Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })
    }

    /// The blocks of rows of [`Self::write_csv_with`]: [`CSV_BLOCK_ROWS`] rows each, a block
    /// ending early after a row whose `tail` cells are long ([`CSV_LONG_ROW`]).
    fn csv_blocks(&self, tail: Option<CsvTail<'_>>) -> Vec<std::ops::Range<usize>> {
        let mut blocks = Vec::new();
        let mut start = 0;
        for i in 0..self.n_rows() {
            let long = tail.is_some_and(|t| (t.2)(i) > CSV_LONG_ROW);
            if long || i + 1 - start == CSV_BLOCK_ROWS || i + 1 == self.n_rows() {
                blocks.push(start..i + 1);
                start = i + 1;
            }
        }
        blocks
    }

    /// The CSV text of the block of `rows`.
    fn csv_block(
        &self,
        path: &Path,
        rows: std::ops::Range<usize>,
        tail: Option<CsvTail<'_>>,
    ) -> Result<Vec<u8>> {
        // room for the block without growing: text cells as they are (a quoted cell grows past
        // this, and the buffer then grows as usual), numbers at most 24 bytes
        let room: usize = rows
            .clone()
            .map(|i| {
                self.columns
                    .iter()
                    .map(|(_, c)| match c {
                        OutColumn::Text(v) => v[i].as_ref().map_or(0, String::len) + 1,
                        _ => 25,
                    })
                    .sum::<usize>()
                    + 1
                    + tail.map_or(0, |t| (t.2)(i))
            })
            .sum();
        let mut out = Vec::with_capacity(room);
        let mut record = Vec::with_capacity(self.columns.len());
        for i in rows {
            record.clear();
            record.extend(self.columns.iter().map(|(_, c)| self.cell(c, i)));
            // one writer per record, each written alone (the same bytes as one writer for the
            // whole table)
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(record.iter().map(|c| c.as_bytes()))
                .map_err(|e| csv_error(path, e))?;
            w.flush().map_err(|source| Error::Write {
                path: path.to_path_buf(),
                source,
            })?;
            drop(w);
            if let Some((_, cells, _)) = tail {
                // the tail's cells before the row's end
                let end = out.pop();
                cells(i, &mut out);
                out.extend(end);
            }
        }
        Ok(out)
    }

    fn to_ndjson(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..self.n_rows() {
            let mut obj = serde_json::Map::new();
            for (name, col) in &self.columns {
                let v = match col {
                    OutColumn::Number(v) => v[i].map_or(serde_json::Value::Null, |x| x.into()),
                    OutColumn::FullNumber(v) => v[i].into(),
                    OutColumn::FullInteger(v) => v[i].into(),
                    OutColumn::Integer(v) => v[i].map_or(serde_json::Value::Null, |x| x.into()),
                    OutColumn::Text(v) => {
                        v[i].clone().map_or(serde_json::Value::Null, |x| x.into())
                    }
                };
                obj.insert(name.clone(), v);
            }
            // A map of plain values always serialises.
            out.extend(serde_json::to_vec(&obj).expect("JSON values serialise"));
            out.push(b'\n');
        }
        out
    }

    fn to_parquet(&self, path: &Path) -> Result<Vec<u8>> {
        let err = |e: PolarsError| Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        };
        let cols: Vec<Column> = self
            .columns
            .iter()
            .map(|(name, c)| {
                let name = PlSmallStr::from(name.as_str());
                match c {
                    OutColumn::Number(v) => Column::new(name, v.as_slice()),
                    OutColumn::FullNumber(v) => Column::new(name, v.as_slice()),
                    OutColumn::FullInteger(v) => Column::new(name, v.as_slice()),
                    OutColumn::Integer(v) => Column::new(name, v.as_slice()),
                    OutColumn::Text(v) => Column::new(name, v.as_slice()),
                }
            })
            .collect();
        let mut df = DataFrame::new(self.n_rows(), cols).map_err(err)?;
        let mut buf = Vec::new();
        ParquetWriter::new(&mut buf).finish(&mut df).map_err(err)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An interrupt's line names what it found: the outputs a demo had put in place (complete)
    /// and the unfinished files it removed, and claims neither when there was none.
    #[test]
    fn an_interrupt_says_which_outputs_are_complete_and_what_it_removed() {
        let line = |what, removed_unfinished, complete_in: &[&str]| {
            Interrupted {
                what,
                removed_unfinished,
                complete_in: complete_in.iter().map(PathBuf::from).collect(),
            }
            .message()
        };
        assert_eq!(line("interrupted", false, &[]), "error: interrupted");
        assert_eq!(
            line("terminated (SIGTERM)", true, &[]),
            "error: terminated (SIGTERM); unfinished output files were removed"
        );
        assert_eq!(
            line("hung up (SIGHUP)", true, &["a", "b c"]),
            "error: hung up (SIGHUP) after this run's outputs were put in place in a, b c: they are complete; unfinished output files were removed"
        );
    }

    /// `FullNumber`/`FullInteger` only save memory: every format writes them byte for byte as
    /// the `Number`/`Integer` columns holding the same values.
    #[test]
    fn full_columns_are_written_as_columns_of_the_same_values() {
        let numbers = vec![0.1, -0.0, 1e300, -2.5e-310, 3.0, 1.0 / 3.0];
        let integers = vec![1_i64, -7, i64::MAX, 0, 42, 3];
        let mut full = OutTable::default();
        full.push("x", OutColumn::FullNumber(numbers.clone()));
        full.push("k", OutColumn::FullInteger(integers.clone()));
        let mut optional = OutTable::default();
        optional.push(
            "x",
            OutColumn::Number(numbers.into_iter().map(Some).collect()),
        );
        optional.push(
            "k",
            OutColumn::Integer(integers.into_iter().map(Some).collect()),
        );
        for (format, name) in [
            (Format::Csv, "t.csv"),
            (Format::Ndjson, "t.ndjson"),
            (Format::Parquet, "t.parquet"),
        ] {
            let path = Path::new(name);
            let a = full.to_bytes(format, path).unwrap();
            let b = optional.to_bytes(format, path).unwrap();
            assert!(!a.is_empty(), "{name}");
            assert_eq!(a, b, "{name}");
        }
        let back = OutColumn::FullNumber(vec![1.5]).with_empty_cells();
        assert!(matches!(back, OutColumn::Number(v) if v == vec![Some(1.5)]));
    }

    /// Every file under `dir` (relative path, contents), sorted.
    fn files(dir: &Path) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let name = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                    out.push((name, std::fs::read_to_string(&p).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = v
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        v.sort();
        v
    }

    fn nothing_found(l: &Leftovers) {
        panic!("nothing to find, found {l:?}");
    }

    const FOLDERS: [&str; 2] = ["x", "sub"];

    fn staged(dest: &Path, files: &[(&str, &str)]) -> StagingDir {
        let staging = StagingDir::create(dest, ".partial", &FOLDERS, &nothing_found).unwrap();
        for (f, text) in files {
            let p = staging.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        staging
    }

    /// Writes each (path, text) under `dest`, making folders.
    fn write_all(dest: &Path, files: &[(&str, &str)]) {
        for (f, text) in files {
            let p = dest.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
    }

    /// Replaces the file `dest/file` with a folder holding `inner` (text `text`): a rename
    /// over it fails.
    fn folder_in_the_way(dest: &Path, file: &str, inner: &str, text: &str) {
        std::fs::remove_file(dest.join(file)).unwrap();
        std::fs::create_dir(dest.join(file)).unwrap();
        std::fs::write(dest.join(file).join(inner), text).unwrap();
    }

    /// The next run's clean-up of `dest`: what it reported.
    fn next_run(dest: &Path) -> Leftovers {
        let found = std::cell::RefCell::new(None);
        drop(
            StagingDir::create(dest, ".partial", &FOLDERS, &|l: &Leftovers| {
                *found.borrow_mut() = Some(l.clone())
            })
            .unwrap(),
        );
        found.into_inner().expect("leftovers reported")
    }

    /// A record of pid 41; the new files' identities are those of the files at `dest` now
    /// (the destination when there is no staged file beside it), or none.
    fn record(dest: &Path, stage: CommitStage, files: &[&str], previous: &[bool]) -> CommitRecord {
        let mut record = CommitRecord {
            pid: 41,
            stage,
            files: files.iter().map(|f| f.to_string()).collect(),
            previous: previous.to_vec(),
            new_files: vec![],
        };
        if stage != CommitStage::Moving {
            let absent = FileIdentity {
                len: 0,
                secs: 0,
                nanos: 0,
            };
            let new_files = files
                .iter()
                .map(|f| {
                    let (to, staged, _) = record.temp_names(dest, f);
                    FileIdentity::of(&staged)
                        .or_else(|| FileIdentity::of(&to))
                        .unwrap_or(absent)
                })
                .collect();
            record.new_files = new_files;
        }
        record
    }

    /// A rename over a destination that fails (the destination became a folder between the
    /// two phases) takes back the files already put in place and puts the previous ones back:
    /// the folder is as it was, with no temporary file left.
    #[test]
    fn a_failed_rename_puts_every_previous_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        write_all(dest, &[("x/a.txt", "old a"), ("sub/b.txt", "old b")]);
        let names: Vec<String> = ["x/a.txt", "x/c.txt", "sub/b.txt", "sub/d.txt"]
            .map(String::from)
            .to_vec();
        let staging = staged(
            dest,
            &[
                ("x/a.txt", "new a"),
                ("x/c.txt", "new c"),
                ("sub/b.txt", "new b"),
                ("sub/d.txt", "new d"),
            ],
        );
        let err = staging
            .commit_with(
                dest,
                &names,
                || {
                    folder_in_the_way(dest, "sub/b.txt", "x", "in the way");
                    true
                },
                || (),
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "sub/b.txt: cannot write: it is a folder, where an output file goes; no output was replaced"
            ),
            "{err}"
        );
        // b.txt became a folder under the run (the test did it); every other file is as before
        assert_eq!(
            files(dest),
            pairs(&[("x/a.txt", "old a"), ("sub/b.txt/x", "in the way")])
        );
    }

    /// Review leftover: when the undo after a failed rename could not put a previous file
    /// back, the error named where it was kept, and the staging folder (with the record of the
    /// undo) was removed, so nothing ever put it back. The record now stays, and the next run
    /// into the folder finishes the undo.
    #[test]
    fn an_undo_that_cannot_finish_is_finished_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        write_all(dest, &[("x/a.txt", "old a"), ("sub/b.txt", "old b")]);
        let names: Vec<String> = ["x/a.txt", "x/c.txt", "sub/b.txt"]
            .map(String::from)
            .to_vec();
        let staging = staged(
            dest,
            &[
                ("x/a.txt", "new a"),
                ("x/c.txt", "new c"),
                ("sub/b.txt", "new b"),
            ],
        );
        let err = staging
            .commit_with(
                dest,
                &names,
                || {
                    // the rename of sub/b.txt fails
                    folder_in_the_way(dest, "sub/b.txt", "x", "in the way");
                    true
                },
                || {
                    // and x/a.txt cannot get its previous file back
                    folder_in_the_way(dest, "x/a.txt", "y", "in the way too");
                },
            )
            .unwrap_err()
            .to_string();
        let pid = std::process::id();
        let aside = dest.join(format!("x/.a.txt.{pid}.previous.tmp"));
        let record = dest.join(".partial").join(COMMIT_RECORD);
        assert!(
            err.contains(&format!(
                "the previous one is kept as {}; the next run into {} puts them back, from the record {}",
                aside.display(),
                dest.display(),
                record.display()
            )),
            "{err}"
        );
        assert!(record.is_file(), "the record of the undo is kept");
        assert!(
            !staging_dirs()
                .iter()
                .any(|(d, _)| d == &dest.join(".partial")),
            "an interrupt must not remove the kept record"
        );
        assert_eq!(
            files(dest),
            pairs(&[
                (
                    ".partial/commit.json",
                    &std::fs::read_to_string(&record).unwrap()
                ),
                ("x/a.txt/y", "in the way too"),
                (&format!("x/.a.txt.{pid}.previous.tmp"), "old a"),
                ("sub/b.txt/x", "in the way"),
            ])
        );
        // the user removes what is in the way; the next run puts the previous file back
        std::fs::remove_dir_all(dest.join("x/a.txt")).unwrap();
        assert_eq!(
            next_run(dest),
            Leftovers {
                staging: Some(dest.join(".partial")),
                restored: vec![dest.join("x/a.txt")],
                ..Leftovers::default()
            }
        );
        assert_eq!(
            files(dest),
            pairs(&[("x/a.txt", "old a"), ("sub/b.txt/x", "in the way")])
        );
    }

    /// Review leftover: a second run whose output folder is a link to a folder another run
    /// writes into (from another destination) was refused only when it put its outputs in
    /// place, after all its work. [`StagingDir::create`] now locks the output folders that
    /// exist, so it is refused before any work, naming the folder. A folder that is the
    /// destination itself, or the same folder under two names, is locked once.
    #[cfg(unix)]
    #[test]
    fn a_run_whose_output_folder_another_run_holds_is_refused_before_its_work() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        write_all(&first, &[("x/a.txt", "a")]);
        std::fs::create_dir(&second).unwrap();
        std::os::unix::fs::symlink(first.join("x"), second.join("x")).unwrap();
        let holding = StagingDir::create(&first, ".partial", &FOLDERS, &nothing_found).unwrap();
        let err = StagingDir::create(&second, ".partial", &FOLDERS, &nothing_found)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "{}: cannot write: another goodhart run is writing its outputs into this folder: wait for it to finish, or give another --out",
                second.join("x").display()
            )
        );
        assert!(!second.join(".partial").exists());
        drop(holding);
        drop(StagingDir::create(&second, ".partial", &FOLDERS, &nothing_found).unwrap());
        // sub is the destination itself, and x and sub are one folder: each locked once
        let third = dir.path().join("third");
        std::fs::create_dir(&third).unwrap();
        std::os::unix::fs::symlink(".", third.join("sub")).unwrap();
        drop(StagingDir::create(&third, ".partial", &FOLDERS, &nothing_found).unwrap());
        std::fs::remove_file(third.join("sub")).unwrap();
        std::fs::create_dir(third.join("x")).unwrap();
        std::os::unix::fs::symlink("x", third.join("sub")).unwrap();
        drop(StagingDir::create(&third, ".partial", &FOLDERS, &nothing_found).unwrap());
    }

    /// Review finding: the output folders locked at the start were known by their paths, so a
    /// folder removed and made again under a running commit (same path, another folder, not
    /// locked) was not locked when the outputs were put in place, and a second run reached it.
    /// Known by device and inode, the new folder is locked by the commit.
    #[cfg(unix)]
    #[test]
    fn a_folder_made_again_under_a_run_is_locked_when_its_outputs_are_put_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        write_all(&first, &[("x/a.txt", "old a")]);
        std::fs::create_dir(&second).unwrap();
        std::os::unix::fs::symlink(first.join("x"), second.join("x")).unwrap();
        let staging = staged(&first, &[("x/a.txt", "new a")]);
        std::fs::remove_dir_all(first.join("x")).unwrap();
        std::fs::create_dir(first.join("x")).unwrap();
        let refused = std::cell::Cell::new(None);
        staging
            .commit_with(
                &first,
                &["x/a.txt".to_string()],
                || {
                    refused.set(Some(
                        StagingDir::create(&second, ".partial", &FOLDERS, &nothing_found)
                            .map(drop)
                            .map_err(|e| e.to_string()),
                    ));
                    true
                },
                || (),
            )
            .unwrap();
        assert_eq!(
            refused.into_inner(),
            Some(Err(format!(
                "{}: cannot write: another goodhart run is writing its outputs into this folder: wait for it to finish, or give another --out",
                second.join("x").display()
            )))
        );
        assert_eq!(files(&first), pairs(&[("x/a.txt", "new a")]));
    }

    /// Re-review finding: a run worked by path after its locks, so with its destination
    /// moved and another made in its place, its drop removed the new folder's staging folder
    /// (another run's), and an output folder replaced after the commit locked it was written
    /// unlocked. The commit now checks the identities of the destination, of the staging
    /// folder and of each locked folder, and a drop removes only the staging folder it made.
    #[test]
    fn a_destination_moved_or_replaced_under_a_run_is_not_written_nor_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("d");
        write_all(&dest, &[("x/a.txt", "old a")]);
        let names = ["x/a.txt".to_string()];
        let staging = staged(&dest, &[("x/a.txt", "new a")]);
        // the destination is moved away, and another run's staging folder is where it was
        std::fs::rename(&dest, dir.path().join("d.old")).unwrap();
        write_all(&dest, &[(".partial/x/a.txt", "the other run's a")]);
        let err = staging.commit(&dest, &names).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: cannot write: it was moved or replaced while this run wrote its outputs: nothing was put in place",
                dest.display()
            )
        );
        assert_eq!(
            files(&dest),
            pairs(&[(".partial/x/a.txt", "the other run's a")])
        );
        assert_eq!(
            files(&dir.path().join("d.old")),
            pairs(&[("x/a.txt", "old a"), (".partial/x/a.txt", "new a")])
        );

        // an output folder replaced after the commit locked it: nothing is renamed into it
        let dest = dir.path().join("e");
        write_all(&dest, &[("x/a.txt", "old a")]);
        let staging = staged(&dest, &[("x/a.txt", "new a")]);
        let err = staging
            .commit_with(
                &dest,
                &names,
                || {
                    std::fs::rename(dest.join("x"), dest.join("x.old")).unwrap();
                    std::fs::create_dir(dest.join("x")).unwrap();
                    true
                },
                || (),
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "{}: cannot write: it was moved or replaced",
                dest.join("x").display()
            )),
            "{err}"
        );
        assert!(files(&dest.join("x")).is_empty());
        assert_eq!(
            std::fs::read_to_string(dest.join("x.old/a.txt")).unwrap(),
            "old a"
        );
    }

    #[test]
    fn a_commit_replaces_every_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        write_all(dest, &[("x/a.txt", "old a")]);
        let names: Vec<String> = ["x/a.txt", "sub/b.txt"].map(String::from).to_vec();
        let staging = staged(dest, &[("x/a.txt", "new a"), ("sub/b.txt", "new b")]);
        staging.commit(dest, &names).unwrap();
        assert_eq!(
            files(dest),
            pairs(&[("x/a.txt", "new a"), ("sub/b.txt", "new b")])
        );
    }

    /// A run killed after its files were moved beside their destinations, before any rename:
    /// the next run removes exactly those files (a user's file with a name of the same shape
    /// stays) and the previous outputs are in place.
    #[test]
    fn a_run_killed_before_its_renames_is_undone() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        write_all(dest, &[("x/a.txt", "old a")]);
        let names: Vec<String> = ["x/a.txt", "sub/b.txt"].map(String::from).to_vec();
        let staging = staged(dest, &[("x/a.txt", "new a"), ("sub/b.txt", "new b")]);
        write_all(dest, &[("sub/.notes.1999992024.staged.tmp", "the user's")]);
        let copy = dest.join("partial-copy");
        staging
            .commit_with(
                dest,
                &names,
                || {
                    // what a SIGKILL here leaves: the staging folder with its record, kept aside
                    // from the drop that removes it
                    std::fs::rename(dest.join(".partial"), &copy).unwrap();
                    false
                },
                || (),
            )
            .unwrap();
        std::fs::rename(&copy, dest.join(".partial")).unwrap();
        let pid = std::process::id();
        assert_eq!(
            next_run(dest),
            Leftovers {
                staging: Some(dest.join(".partial")),
                temp_files: vec![
                    dest.join(format!("x/.a.txt.{pid}.staged.tmp")),
                    dest.join(format!("sub/.b.txt.{pid}.staged.tmp")),
                ],
                // a name of the same shape that the record does not name: reported, left
                stray_temp_files: vec![dest.join("sub/.notes.1999992024.staged.tmp")],
                ..Leftovers::default()
            }
        );
        assert_eq!(
            files(dest),
            pairs(&[
                ("x/a.txt", "old a"),
                ("sub/.notes.1999992024.staged.tmp", "the user's")
            ])
        );
    }

    /// A run killed during its renames, with its files in each of the states a rename passes
    /// through: the next run finishes the renames, so the folder holds that run's outputs, all
    /// of them, and no temporary file.
    #[test]
    fn a_run_killed_during_its_renames_is_finished() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        // a: renamed, its previous file set aside; b: set aside, not yet renamed; c: not yet
        // renamed, nothing before; d: not yet renamed, its previous file in place
        write_all(
            dest,
            &[
                ("x/a.txt", "new a"),
                ("x/.a.txt.41.previous.tmp", "old a"),
                ("x/.b.txt.41.previous.tmp", "old b"),
                ("x/.b.txt.41.staged.tmp", "new b"),
                ("x/.c.txt.41.staged.tmp", "new c"),
                ("sub/d.txt", "old d"),
                ("sub/.d.txt.41.staged.tmp", "new d"),
                ("sub/.notes.1999992024.previous.tmp", "the user's"),
            ],
        );
        let files_ = ["x/a.txt", "x/b.txt", "x/c.txt", "sub/d.txt"];
        std::fs::create_dir(dest.join(".partial")).unwrap();
        record(
            dest,
            CommitStage::Renaming,
            &files_,
            &[true, true, false, true],
        )
        .write(&dest.join(".partial"))
        .unwrap();
        assert_eq!(
            next_run(dest),
            Leftovers {
                staging: Some(dest.join(".partial")),
                completed: ["x/b.txt", "x/c.txt", "sub/d.txt"]
                    .map(|f| dest.join(f))
                    .to_vec(),
                stray_temp_files: vec![dest.join("sub/.notes.1999992024.previous.tmp")],
                ..Leftovers::default()
            }
        );
        assert_eq!(
            files(dest),
            pairs(&[
                ("x/a.txt", "new a"),
                ("x/b.txt", "new b"),
                ("x/c.txt", "new c"),
                ("sub/d.txt", "new d"),
                ("sub/.notes.1999992024.previous.tmp", "the user's"),
            ])
        );
    }

    /// A run killed while it undid its renames after one failed, with its files in each state
    /// that undoing passes through: the next run finishes the undoing, so the folder holds the
    /// outputs from before that run, and no temporary file.
    #[test]
    fn a_run_killed_while_it_undid_its_renames_is_undone() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        // a: renamed over a previous file, not yet undone; b: renamed, no previous file, not
        // yet undone; c: renamed over a previous file, undone; e: renamed, no previous file,
        // undone; f: the failed rename, its previous file put back; g: never renamed
        write_all(
            dest,
            &[
                ("x/a.txt", "new a"),
                ("x/.a.txt.41.previous.tmp", "old a"),
                ("x/b.txt", "new b"),
                ("x/c.txt", "old c"),
                ("sub/f.txt", "old f"),
                ("sub/.f.txt.41.staged.tmp", "new f"),
                ("sub/g.txt", "old g"),
                ("sub/.g.txt.41.staged.tmp", "new g"),
            ],
        );
        let files_ = [
            "x/a.txt",
            "x/b.txt",
            "x/c.txt",
            "x/e.txt",
            "sub/f.txt",
            "sub/g.txt",
        ];
        std::fs::create_dir(dest.join(".partial")).unwrap();
        let mut r = record(
            dest,
            CommitStage::RollingBack,
            &files_,
            &[true, false, true, false, true, true],
        );
        // h: no previous file, and the file now there is not the one renamed in (another
        // run's, or a user's): it stays
        write_all(dest, &[("sub/h.txt", "someone else's")]);
        r.files.push("sub/h.txt".to_string());
        r.previous.push(false);
        let mut other = FileIdentity::of(&dest.join("sub/h.txt")).unwrap();
        other.nanos = (other.nanos + 1) % 1_000_000_000;
        r.new_files.push(other);
        r.write(&dest.join(".partial")).unwrap();
        assert_eq!(
            next_run(dest),
            Leftovers {
                staging: Some(dest.join(".partial")),
                temp_files: ["sub/.f.txt.41.staged.tmp", "sub/.g.txt.41.staged.tmp"]
                    .map(|f| dest.join(f))
                    .to_vec(),
                restored: ["x/a.txt", "x/b.txt"].map(|f| dest.join(f)).to_vec(),
                ..Leftovers::default()
            }
        );
        assert_eq!(
            files(dest),
            pairs(&[
                ("x/a.txt", "old a"),
                ("x/c.txt", "old c"),
                ("sub/f.txt", "old f"),
                ("sub/g.txt", "old g"),
                ("sub/h.txt", "someone else's"),
            ])
        );
    }

    /// Review leftover: a record that could not be used was removed with its staging folder,
    /// so its note came once and the temporary files of that run stayed, unmentioned, for
    /// good. Files named as a commit's temporary files that no record names are now reported
    /// by every run, left as they are, and removed by a commit that puts outputs of the same
    /// names in place; a user's file of that shape named after no output stays.
    #[cfg(unix)]
    #[test]
    fn temporary_files_no_record_names_are_reported_until_a_commit_removes_them() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path();
        // a file of a running process (this test's parent) is neither listed nor removed
        let running = format!(
            "x/.a.txt.{}.staged.tmp",
            std::os::unix::process::parent_id()
        );
        write_all(
            dest,
            &[
                ("x/a.txt", "old a"),
                ("x/.a.txt.1999999941.previous.tmp", "older a"),
                ("x/.a.txt.1999999941.staged.tmp", "a killed run's a"),
                ("sub/.notes.1999992024.staged.tmp", "the user's"),
                (&running, "a running run's"),
                (".partial/commit.json", "{\"pid\": 1999999941, \"stage\""),
            ],
        );
        let strays: Vec<PathBuf> = [
            "x/.a.txt.1999999941.previous.tmp",
            "x/.a.txt.1999999941.staged.tmp",
            "sub/.notes.1999992024.staged.tmp",
        ]
        .map(|f| dest.join(f))
        .to_vec();
        let found = next_run(dest);
        assert!(found.unusable_record.is_some(), "{found:?}");
        assert_eq!(found.stray_temp_files, strays);
        // the next run says it again
        assert_eq!(
            next_run(dest),
            Leftovers {
                stray_temp_files: strays.clone(),
                ..Leftovers::default()
            }
        );
        let staging = StagingDir::create(dest, ".partial", &FOLDERS, &|_: &Leftovers| {}).unwrap();
        for (f, text) in [("x/a.txt", "new a"), ("sub/b.txt", "new b")] {
            let p = staging.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let removed = staging
            .commit(dest, &["x/a.txt".to_string(), "sub/b.txt".to_string()])
            .unwrap();
        assert_eq!(removed, strays[..2].to_vec());
        assert_eq!(
            files(dest),
            pairs(&[
                ("x/a.txt", "new a"),
                ("sub/b.txt", "new b"),
                ("sub/.notes.1999992024.staged.tmp", "the user's"),
                (&running, "a running run's"),
            ])
        );
    }

    /// A record naming a file outside the folders it may touch (hand-edited, or corrupt) is
    /// not used: the staging folder is removed, the note says why, and nothing else is touched.
    #[test]
    fn a_record_naming_files_outside_its_folders_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("d");
        std::fs::create_dir(&dest).unwrap();
        let outside = dir.path().join(".y.41.staged.tmp");
        std::fs::write(&outside, "not the demo's").unwrap();
        write_all(&dest, &[("x/.y.41.staged.tmp", "kept"), ("x/b.txt", "b")]);
        for files in [
            vec!["../y"],
            vec!["/etc/y"],
            vec!["y"],
            vec!["x/b.txt", "other/y"],
            vec!["x/b.txt", "x/deeper/y"],
        ] {
            std::fs::create_dir(dest.join(".partial")).unwrap();
            record(&dest, CommitStage::Moving, &files, &[])
                .write(&dest.join(".partial"))
                .unwrap();
            let found = next_run(&dest);
            assert_eq!(found.staging, Some(dest.join(".partial")), "{files:?}");
            assert!(
                found
                    .unusable_record
                    .as_deref()
                    .is_some_and(|w| w.contains("it names")),
                "{found:?}"
            );
            assert!(found.temp_files.is_empty() && found.completed.is_empty());
            assert!(
                outside.is_file(),
                "a file outside the destination was removed"
            );
        }
        std::fs::create_dir(dest.join(".partial")).unwrap();
        std::fs::write(dest.join(".partial/commit.json"), "{\"pid\": 41, \"stage\"").unwrap();
        let found = next_run(&dest);
        assert!(
            found
                .unusable_record
                .as_deref()
                .is_some_and(|w| w.starts_with("not a record")),
            "{found:?}"
        );
        assert_eq!(
            files(&dest),
            pairs(&[("x/.y.41.staged.tmp", "kept"), ("x/b.txt", "b")])
        );
    }
}
