//! The fake filesystem: the read-only tree of the persona's machine (Debian's or
//! the BusyBox camera's), shared by every session, and a small copy-on-write
//! overlay per session for what the attacker changes (`touch`, `mkdir`, `rm`,
//! `echo > file`, `chmod`). Nothing touches the real disk.
//!
//! The base is built once per persona; a session costs only its overlay, which is
//! capped in entries and bytes so a script writing in a loop cannot grow memory.
//!
//! Files that arrive whole from outside (SCP, SFTP, the stdin of an `exec`) are
//! kept complete in the upload store, not here: the overlay keeps at most the
//! first [`KEPT_FILE_BYTES`] of each (what `cat` shows), and their [`FullFile`]
//! (real size and SHA-256), which `ls -l`, `stat`, `wc -c`, `sha256sum` and SFTP
//! report.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::shell::persona::Persona;

/// What a path holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A directory.
    Dir,
    /// A regular file.
    File(Arc<[u8]>),
    /// A symbolic link to the given path.
    Link(&'static str),
}

/// Bytes of an uploaded file the session's filesystem keeps (its beginning); the
/// whole file is in the upload store, up to `[honeypot.uploads] max_file_bytes`.
pub const KEPT_FILE_BYTES: usize = 64 * 1024;

/// The real size and SHA-256 of a file of which the overlay keeps only the
/// beginning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullFile {
    /// Bytes in the whole file.
    pub size: u64,
    /// SHA-256 of the whole file.
    pub sha256: [u8; 32],
}

impl FullFile {
    /// The size and hash of `data`.
    pub fn of(data: &[u8]) -> FullFile {
        use sha2::Digest;
        FullFile {
            size: data.len() as u64,
            sha256: sha2::Sha256::digest(data).into(),
        }
    }

    /// From an upload's size and hex SHA-256 (`None` if the hash is not hex).
    pub fn from_hex(size: u64, sha256: &str) -> Option<FullFile> {
        let mut out = [0u8; 32];
        if sha256.len() != 64 {
            return None;
        }
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(sha256.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(FullFile { size, sha256: out })
    }
}

/// One file, directory or link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Contents.
    pub content: Content,
    /// Permission bits (e.g. 0o755).
    pub mode: u32,
    /// Owner uid (0 root).
    pub uid: usize,
    /// Modification time, seconds since the epoch.
    pub mtime: u64,
    /// Set when `content` is only the beginning of the file (an upload larger
    /// than [`KEPT_FILE_BYTES`]): the whole file's size and hash.
    pub full: Option<FullFile>,
}

impl Node {
    fn dir(mode: u32, mtime: u64) -> Node {
        Node {
            content: Content::Dir,
            mode,
            uid: 0,
            mtime,
            full: None,
        }
    }

    fn link(target: &'static str, mtime: u64) -> Node {
        Node {
            content: Content::Link(target),
            mode: 0o777,
            uid: 0,
            mtime,
            full: None,
        }
    }

    fn file(data: impl Into<Arc<[u8]>>, mode: u32, mtime: u64) -> Node {
        Node {
            content: Content::File(data.into()),
            mode,
            uid: 0,
            mtime,
            full: None,
        }
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        self.content == Content::Dir
    }

    /// Size in bytes as `ls -l` shows it.
    pub fn size(&self) -> usize {
        match &self.content {
            Content::Dir => 4096,
            Content::File(data) => self.full.map_or(data.len(), |f| f.size as usize),
            Content::Link(target) => target.len(),
        }
    }
}

/// Why a filesystem operation failed, worded like coreutils.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsError {
    /// ENOENT.
    NotFound,
    /// EISDIR.
    IsDir,
    /// ENOTDIR.
    NotDir,
    /// EEXIST.
    Exists,
    /// ENOTEMPTY.
    NotEmpty,
    /// ENOSPC: the session's overlay is full.
    NoSpace,
    /// EPERM (e.g. removing `/`).
    Denied,
    /// EROFS: the path is on a read-only mount (the camera's squashfs root).
    ReadOnly,
}

impl FsError {
    /// The strerror text.
    pub fn text(self) -> &'static str {
        match self {
            FsError::NotFound => "No such file or directory",
            FsError::IsDir => "Is a directory",
            FsError::NotDir => "Not a directory",
            FsError::Exists => "File exists",
            FsError::NotEmpty => "Directory not empty",
            FsError::NoSpace => "No space left on device",
            FsError::Denied => "Operation not permitted",
            FsError::ReadOnly => "Read-only file system",
        }
    }
}

/// Install time of the base system (2024-11-25 09:14 UTC).
pub const BASE_MTIME: u64 = 1_732_526_040;

/// The read-only tree shared by all sessions.
#[derive(Debug)]
pub struct BaseFs {
    nodes: BTreeMap<String, Node>,
    /// Top-level directory links paths resolve through.
    links: &'static [(&'static str, &'static str)],
    /// The writable mounts when the root is read-only (`None`: all writable).
    writable: Option<&'static [&'static str]>,
}

impl BaseFs {
    /// Builds the tree of `persona`: its directories, text files, /proc, and
    /// its executables (each a file holding the machine's ELF header, or a link
    /// to the one multi-call binary).
    pub fn build(persona: &Persona) -> BaseFs {
        let t = BASE_MTIME;
        let mut nodes = BTreeMap::new();
        for (dir, mode) in persona.dirs() {
            nodes.insert((*dir).to_owned(), Node::dir(*mode, t));
        }
        for (link, target) in persona.dir_links() {
            nodes.insert((*link).to_owned(), Node::link(target, t));
        }
        for user in &persona.users {
            let node = Node {
                uid: persona.uid(user),
                ..Node::dir(0o755, t)
            };
            nodes.insert(persona.home(user), node);
        }
        for (path, text, mode, uid) in persona.files() {
            let node = Node {
                uid,
                ..Node::file(text.into_bytes(), mode, t)
            };
            nodes.insert(path, node);
        }
        let proc_files = [
            ("/proc/cpuinfo", persona.cpuinfo()),
            ("/proc/meminfo", persona.meminfo()),
            ("/proc/version", persona.proc_version()),
            ("/proc/loadavg", "0.08 0.03 0.01 1/121 1337\n".into()),
            ("/proc/uptime", "1824311.52 3611220.81\n".into()),
            ("/proc/mounts", persona.mounts().into()),
        ];
        for (path, text) in proc_files {
            nodes.insert(path.to_owned(), Node::file(text.into_bytes(), 0o444, t));
        }
        let elf: Arc<[u8]> = Arc::from(persona.elf_header());
        let multi_call = persona.multi_call_binary();
        for (dir, name) in persona.bins() {
            let path = format!("{dir}/{name}");
            let node = match multi_call {
                Some(binary) if persona.is_applet_link(name) => Node::link(binary, t),
                _ => Node {
                    content: Content::File(elf.clone()),
                    ..Node::file(Vec::new(), 0o755, t)
                },
            };
            nodes.insert(path, node);
        }
        BaseFs {
            nodes,
            links: persona.dir_links(),
            writable: persona.writable_mounts(),
        }
    }

    /// Whether `path` (normalized) is on a writable mount.
    fn is_writable(&self, path: &str) -> bool {
        self.writable.is_none_or(|mounts| {
            mounts.iter().any(|m| {
                path.strip_prefix(m)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
        })
    }
}

/// Resolves `.`/`..`, `~` and the relative path against `cwd`, then the Debian
/// machine's top-level links (SFTP, which only the Debian machine serves; a
/// shell uses [`Fs::normalize`], which knows its machine); always an absolute
/// path without a trailing slash.
pub fn normalize(cwd: &str, home: &str, path: &str) -> String {
    through_links(
        crate::shell::persona::debian::LINKS,
        lexical(cwd, home, path),
    )
}

/// `.`/`..`, `~` and a relative path resolved against `cwd`, without links.
fn lexical(cwd: &str, home: &str, path: &str) -> String {
    let joined = if path == "~" || path.starts_with("~/") {
        format!("{home}{}", &path[1..])
    } else if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{cwd}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = String::with_capacity(joined.len() + 1);
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// `path` (absolute, normalized) through top-level directory `links`: `/bin/ls`
/// is `/usr/bin/ls` on Debian.
fn through_links(links: &[(&str, &str)], path: String) -> String {
    for (link, target) in links {
        if path == *link {
            return path; // the link itself; callers follow it where it matters
        }
        if let Some(rest) = path.strip_prefix(link)
            && rest.starts_with('/')
        {
            return format!("{target}{rest}");
        }
    }
    path
}

fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Largest number of paths a session may create or delete.
const MAX_ENTRIES: usize = 512;
/// Largest number of bytes a session may write into files.
const MAX_BYTES: usize = 512 * 1024;

/// A session's view: the shared base plus its own changes.
#[derive(Debug)]
pub struct Fs {
    base: Arc<BaseFs>,
    /// `None` marks a deleted path (and hides everything under it).
    overlay: BTreeMap<String, Option<Node>>,
    bytes: usize,
    /// Files written since the caller last asked ([`Fs::take_written`]).
    written: Vec<String>,
    /// The beginning of a stream being written (an `exec`'s stdin that `cat`
    /// copies) and the whole stream's size and hash: a file written with exactly
    /// that beginning is that stream ([`Fs::expect_stream`]).
    stream: Option<(Vec<u8>, FullFile)>,
    /// /proc/uptime of the moment ([`Fs::set_proc_uptime`]), over the base's.
    proc_uptime: Option<Node>,
}

/// Most distinct files reported written per command line.
const MAX_WRITTEN: usize = 32;

impl Fs {
    /// A fresh view of `base`.
    pub fn new(base: Arc<BaseFs>) -> Fs {
        Fs {
            base,
            overlay: BTreeMap::new(),
            bytes: 0,
            written: Vec::new(),
            stream: None,
            proc_uptime: None,
        }
    }

    /// Sets /proc/uptime to the machine's uptime and idle time in seconds, so
    /// `cat /proc/uptime` agrees with `uptime` as the clock advances.
    pub fn set_proc_uptime(&mut self, up: u64, idle: u64, now: u64) {
        // Hundredths from the clock: steady within a second, never `.00`-only.
        let (a, b) = (now % 100, now % 100 * 7 % 100);
        let text = format!("{up}.{a:02} {idle}.{b:02}\n");
        self.proc_uptime = Some(Node::file(text.into_bytes(), 0o444, now));
    }

    /// `path` as seen from `cwd` with home `home`: absolute, `.`, `..` and `~`
    /// resolved, then the machine's top-level directory links.
    pub fn normalize(&self, cwd: &str, home: &str, path: &str) -> String {
        through_links(self.base.links, lexical(cwd, home, path))
    }

    /// The node at an already normalized path, following a top-level link.
    pub fn get(&self, path: &str) -> Option<Cow<'_, Node>> {
        let node = self.get_nofollow(path)?;
        if let Content::Link(target) = node.content {
            return self.get_nofollow(target);
        }
        Some(node)
    }

    /// The node at a normalized path, not following a link.
    pub fn get_nofollow(&self, path: &str) -> Option<Cow<'_, Node>> {
        if path == "/proc/uptime"
            && let Some(node) = &self.proc_uptime
        {
            return Some(Cow::Borrowed(node));
        }
        if let Some(entry) = self.overlay.get(path) {
            return entry.as_ref().map(Cow::Borrowed);
        }
        if self.hidden(path) {
            return None;
        }
        self.base.nodes.get(path).map(Cow::Borrowed)
    }

    /// Whether an ancestor of `path` was deleted in this session.
    fn hidden(&self, path: &str) -> bool {
        if self.overlay.is_empty() {
            return false;
        }
        let mut p = path;
        while p != "/" {
            p = parent_of(p);
            if let Some(None) = self.overlay.get(p) {
                return true;
            }
        }
        false
    }

    /// File contents.
    pub fn read(&self, path: &str) -> Result<Arc<[u8]>, FsError> {
        match self.get(path).map(|n| n.into_owned().content) {
            None => Err(FsError::NotFound),
            Some(Content::Dir) => Err(FsError::IsDir),
            Some(Content::File(data)) => Ok(data),
            Some(Content::Link(_)) => Err(FsError::NotFound),
        }
    }

    fn parent_is_dir(&self, path: &str) -> Result<(), FsError> {
        match self.get(parent_of(path)) {
            Some(n) if n.is_dir() => Ok(()),
            Some(_) => Err(FsError::NotDir),
            None => Err(FsError::NotFound),
        }
    }

    fn put(&mut self, path: &str, node: Option<Node>) -> Result<(), FsError> {
        if !self.base.is_writable(path) {
            return Err(FsError::ReadOnly);
        }
        if !self.overlay.contains_key(path) && self.overlay.len() >= MAX_ENTRIES {
            return Err(FsError::NoSpace);
        }
        let old = match self.overlay.get(path) {
            Some(Some(Node {
                content: Content::File(d),
                ..
            })) => d.len(),
            _ => 0,
        };
        let new = match &node {
            Some(Node {
                content: Content::File(d),
                ..
            }) => d.len(),
            _ => 0,
        };
        let bytes = self.bytes - old + new;
        if bytes > MAX_BYTES {
            return Err(FsError::NoSpace);
        }
        self.bytes = bytes;
        self.overlay.insert(path.to_owned(), node);
        Ok(())
    }

    /// Writes (or appends to) a file, creating it.
    pub fn write(
        &mut self,
        path: &str,
        data: &[u8],
        append: bool,
        uid: usize,
        now: u64,
    ) -> Result<(), FsError> {
        let (mode, old) = match self.get(path) {
            Some(n) if n.is_dir() => return Err(FsError::IsDir),
            Some(n) => match &n.content {
                Content::File(d) => (n.mode, d.clone()),
                _ => (n.mode, Arc::from(&[][..])),
            },
            None => {
                self.parent_is_dir(path)?;
                (0o644, Arc::from(&[][..]))
            }
        };
        let full = match &self.stream {
            Some((head, full)) if !append && data == head.as_slice() => {
                Some(*full).filter(|f| f.size != data.len() as u64)
            }
            _ => None,
        };
        let mut bytes = if append { old.to_vec() } else { Vec::new() };
        bytes.extend_from_slice(data);
        self.put(
            path,
            Some(Node {
                content: Content::File(bytes.into()),
                mode,
                uid,
                mtime: now,
                full,
            }),
        )?;
        if !self.written.iter().any(|p| p == path) && self.written.len() < MAX_WRITTEN {
            self.written.push(path.to_owned());
        }
        Ok(())
    }

    /// The files written (`>`, `>>`, `tee`, ...) since the last call.
    pub fn take_written(&mut self) -> Vec<String> {
        std::mem::take(&mut self.written)
    }

    /// Forgets that `path` was written (a fake download's content is ours, not
    /// the attacker's).
    pub fn forget_written(&mut self, path: &str) {
        self.written.retain(|p| p != path);
    }

    /// Places a file that arrived another way (an SCP or SFTP upload): not
    /// reported as written. `data` is its beginning (at most
    /// [`KEPT_FILE_BYTES`] are kept, fewer if the session's overlay is nearly
    /// full) and `full` the whole file's size and hash when `data` is not all of
    /// it (the whole file is in the upload store).
    pub fn place(
        &mut self,
        path: &str,
        data: &[u8],
        full: Option<FullFile>,
        mode: u32,
        uid: usize,
        now: u64,
    ) -> Result<(), FsError> {
        if self.get(path).is_some_and(|n| n.is_dir()) {
            return Err(FsError::IsDir);
        }
        if self.parent_is_dir(path).is_err() {
            // The directory was made in another channel (SFTP `mkdir`).
            self.mkdir(parent_of(path), true, uid, now)?;
        }
        let room = MAX_BYTES
            .saturating_sub(self.bytes)
            .min(KEPT_FILE_BYTES)
            .min(data.len());
        let full = full
            .or_else(|| (room < data.len()).then(|| FullFile::of(data)))
            .filter(|f| f.size != room as u64);
        self.put(
            path,
            Some(Node {
                content: Content::File(data[..room].into()),
                mode: mode & 0o7777,
                uid,
                mtime: now,
                full,
            }),
        )
    }

    /// Until [`Fs::end_stream`], a file written (not appended) with exactly
    /// `head` is the beginning of the whole stream `full` (an `exec`'s stdin
    /// that `cat > f` writes, whose whole content went to the upload store), and
    /// shows that size and hash.
    pub fn expect_stream(&mut self, head: &[u8], full: FullFile) {
        self.stream = Some((head.to_vec(), full));
    }

    /// Ends [`Fs::expect_stream`].
    pub fn end_stream(&mut self) {
        self.stream = None;
    }

    /// Updates the time of a file, creating it empty (`touch`).
    pub fn touch(&mut self, path: &str, uid: usize, now: u64) -> Result<(), FsError> {
        match self.get(path) {
            Some(n) => {
                let node = Node {
                    mtime: now,
                    ..n.into_owned()
                };
                self.put(path, Some(node))
            }
            None => self.write(path, b"", false, uid, now),
        }
    }

    /// Creates a directory (`parents`: also its missing parents, no error if it exists).
    pub fn mkdir(
        &mut self,
        path: &str,
        parents: bool,
        uid: usize,
        now: u64,
    ) -> Result<(), FsError> {
        if let Some(n) = self.get(path) {
            return if parents && n.is_dir() {
                Ok(())
            } else {
                Err(FsError::Exists)
            };
        }
        if parents && path != "/" {
            let parent = parent_of(path).to_owned();
            self.mkdir(&parent, true, uid, now)?;
        }
        self.parent_is_dir(path)?;
        self.put(
            path,
            Some(Node {
                uid,
                ..Node::dir(0o755, now)
            }),
        )
    }

    /// Removes a path (`recursive` for a non-empty directory).
    pub fn remove(&mut self, path: &str, recursive: bool, dir_ok: bool) -> Result<(), FsError> {
        if path == "/" {
            return Err(FsError::Denied);
        }
        let node = self.get_nofollow(path).ok_or(FsError::NotFound)?;
        if node.is_dir() {
            if !dir_ok {
                return Err(FsError::IsDir);
            }
            if !recursive && !self.list(path).is_empty() {
                return Err(FsError::NotEmpty);
            }
        }
        // Drop what the session created below it, then hide the path itself.
        let prefix = format!("{path}/");
        let below: Vec<String> = self
            .overlay
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in below {
            if let Some(Some(Node {
                content: Content::File(d),
                ..
            })) = self.overlay.remove(&k)
            {
                self.bytes -= d.len();
            }
        }
        if self.base.nodes.contains_key(path) {
            self.put(path, None)
        } else {
            if let Some(Some(Node {
                content: Content::File(d),
                ..
            })) = self.overlay.remove(path)
            {
                self.bytes -= d.len();
            }
            Ok(())
        }
    }

    /// Changes permission bits.
    pub fn chmod(&mut self, path: &str, mode: u32) -> Result<(), FsError> {
        let node = self
            .get_nofollow(path)
            .ok_or(FsError::NotFound)?
            .into_owned();
        self.put(
            path,
            Some(Node {
                mode: mode & 0o7777,
                ..node
            }),
        )
    }

    /// Copies a file.
    pub fn copy(&mut self, from: &str, to: &str, uid: usize, now: u64) -> Result<(), FsError> {
        let data = self.read(from)?;
        let full = self.get(from).and_then(|n| n.full);
        let to = match self.get(to) {
            Some(n) if n.is_dir() => format!("{}/{}", to.trim_end_matches('/'), basename(from)),
            _ => to.to_owned(),
        };
        self.write(&to, &data, false, uid, now)?;
        // A copy of an upload kept in part is as large as the upload.
        if let Some(full) = full
            && let Some(Some(node)) = self.overlay.get_mut(&to)
        {
            node.full = Some(full);
        }
        Ok(())
    }

    /// The entries of a directory: (name, node), sorted by name.
    pub fn list(&self, dir: &str) -> Vec<(String, Node)> {
        let prefix = if dir == "/" {
            "/".to_owned()
        } else {
            format!("{dir}/")
        };
        let mut entries: BTreeMap<String, Node> = BTreeMap::new();
        let direct = |k: &str| -> Option<String> {
            let rest = k.strip_prefix(&prefix)?;
            (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_owned())
        };
        for (k, v) in self
            .base
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
        {
            if let Some(name) = direct(k)
                && !self.overlay.contains_key(k.as_str())
                && !self.hidden(k)
            {
                entries.insert(name, v.clone());
            }
        }
        for (k, v) in self
            .overlay
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
        {
            if let (Some(name), Some(node)) = (direct(k), v)
                && !self.hidden(k)
            {
                entries.insert(name, node.clone());
            }
        }
        entries.into_iter().collect()
    }
}

/// The last component of a path.
pub fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    trimmed
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs() -> Fs {
        let persona = Persona::debian("web-1", vec!["pi".into()]);
        Fs::new(Arc::new(BaseFs::build(&persona)))
    }

    #[test]
    fn paths_normalize_like_a_shell() {
        assert_eq!(normalize("/root", "/root", ".."), "/");
        assert_eq!(
            normalize("/root", "/root", "../../etc/./passwd"),
            "/etc/passwd"
        );
        assert_eq!(normalize("/tmp", "/root", "~/.ssh"), "/root/.ssh");
        assert_eq!(normalize("/", "/root", "/bin/ls"), "/usr/bin/ls");
        assert_eq!(normalize("/", "/root", "/bin"), "/bin");
        assert_eq!(normalize("/", "/root", "/var/run/x"), "/run/x");
    }

    #[test]
    fn overlay_writes_deletes_and_lists() {
        let mut fs = fs();
        assert!(fs.get("/bin").unwrap().is_dir());
        assert_eq!(
            &*fs.read("/usr/bin/ls").unwrap(),
            crate::shell::persona::debian::ELF_HEADER
        );
        fs.write("/tmp/a", b"x", false, 0, 1).unwrap();
        fs.write("/tmp/a", b"y", true, 0, 1).unwrap();
        assert_eq!(&*fs.read("/tmp/a").unwrap(), b"xy");
        assert_eq!(
            fs.write("/nope/a", b"", false, 0, 1),
            Err(FsError::NotFound)
        );
        fs.mkdir("/tmp/d/e", true, 0, 1).unwrap();
        assert_eq!(fs.mkdir("/tmp/d", false, 0, 1), Err(FsError::Exists));
        let names: Vec<_> = fs.list("/tmp").into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["a", "d"]);
        assert_eq!(fs.remove("/tmp/d", false, true), Err(FsError::NotEmpty));
        fs.remove("/tmp/d", true, true).unwrap();
        assert!(fs.get("/tmp/d/e").is_none());
        fs.remove("/root/.ssh", true, true).unwrap();
        assert!(fs.get("/root/.ssh").is_none());
        assert!(fs.list("/root").iter().all(|(n, _)| n != ".ssh"));
        fs.mkdir("/root/.ssh", false, 0, 2).unwrap();
        assert!(fs.get("/root/.ssh").unwrap().is_dir());
        assert_eq!(fs.remove("/", true, true), Err(FsError::Denied));
        fs.remove("/etc", true, true).unwrap();
        assert!(fs.read("/etc/passwd").is_err());
    }

    #[test]
    fn overlay_is_bounded() {
        let mut fs = fs();
        let big = vec![b'a'; 100 * 1024];
        let mut failed = false;
        for i in 0..20 {
            if fs.write(&format!("/tmp/{i}"), &big, false, 0, 1) == Err(FsError::NoSpace) {
                failed = true;
            }
        }
        assert!(failed);
        assert!(fs.bytes <= MAX_BYTES);
        for i in 0..MAX_ENTRIES + 10 {
            let _ = fs.touch(&format!("/tmp/t{i}"), 0, 1);
        }
        assert!(fs.overlay.len() <= MAX_ENTRIES);
    }
}
