//! The SFTP subsystem (what `sftp` and modern `scp` use), served by `russh-sftp`
//! over the fake filesystem: attackers can look around (`ls`, `stat`, `get` of
//! the fake files) and upload. Uploads go to the upload store as they arrive and
//! are `ssh.upload` events (`via: sftp`); once stored they appear in this SFTP
//! session's view and in the connection's shells.
//!
//! Bounds: open handles per session, entries per directory listing, and every
//! write (sequential only: a write at another offset than the end is refused,
//! as a streamed hash cannot go back). The store bounds each file and the total.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use nectar_capture::uploads::{Upload, Verdict};
use nectar_event::{Kind, Severity};
use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;

use crate::capture::upload_event;
use crate::shell::fs::{Content, Fs, Node, normalize};
use crate::ssh::scp::HEAD_BYTES;
use crate::ssh::session::{EventBase, MAX_PLACED, Placed};

/// Handles one SFTP session may hold open.
const MAX_HANDLES: usize = 16;
/// Entries returned for one directory.
const MAX_LISTING: usize = 1024;

enum Open {
    Read(Arc<[u8]>),
    Dir(Option<Vec<File>>),
    Write(Box<Incoming>),
}

struct Incoming {
    filename: String,
    path: String,
    mode: u32,
    upload: Option<Upload>,
    refused: Option<Verdict>,
    head: Vec<u8>,
    written: u64,
}

/// One SFTP session.
pub(crate) struct Sftp {
    base: EventBase,
    fs: Fs,
    home: String,
    uid: usize,
    user: String,
    handles: HashMap<String, Open>,
    next: u64,
    placed: Arc<Mutex<Vec<Placed>>>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn attrs(node: &Node) -> FileAttributes {
    let kind = match node.content {
        Content::Dir => 0o040000,
        Content::File(_) => 0o100000,
        Content::Link(_) => 0o120000,
    };
    FileAttributes {
        size: Some(node.size() as u64),
        uid: Some(node.uid as u32),
        gid: Some(node.uid as u32),
        user: None,
        group: None,
        permissions: Some(kind | node.mode),
        atime: Some(node.mtime as u32),
        mtime: Some(node.mtime as u32),
    }
}

fn status(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Success".into(),
        language_tag: "en-US".into(),
    }
}

impl Sftp {
    pub(crate) fn new(
        base: EventBase,
        fs: Fs,
        user: &str,
        home: String,
        uid: usize,
        placed: Arc<Mutex<Vec<Placed>>>,
    ) -> Sftp {
        let mut sftp = Sftp {
            base,
            fs,
            home,
            uid,
            user: user.to_owned(),
            handles: HashMap::new(),
            next: 0,
            placed,
        };
        let now = now();
        let files = sftp.placed.lock().map(|p| p.clone()).unwrap_or_default();
        for file in files {
            let _ = sftp
                .fs
                .place(&file.path, &file.head, file.full, file.mode, uid, now);
        }
        sftp
    }

    fn path(&self, name: &str) -> String {
        let name = if name.is_empty() { "." } else { name };
        normalize(&self.home, &self.home, name)
    }

    fn handle(&mut self, open: Open) -> Result<String, StatusCode> {
        if self.handles.len() >= MAX_HANDLES {
            return Err(StatusCode::Failure);
        }
        self.next += 1;
        let handle = self.next.to_string();
        self.handles.insert(handle.clone(), open);
        Ok(handle)
    }

    fn stat_path(&self, id: u32, path: &str) -> Result<Attrs, StatusCode> {
        let path = self.path(path);
        match self.fs.get(&path) {
            Some(node) => Ok(Attrs {
                id,
                attrs: attrs(&node),
            }),
            None => Err(StatusCode::NoSuchFile),
        }
    }

    /// Reports an upload that ended, and shows it if stored.
    async fn ended(&mut self, file: Incoming, verdict: Verdict) {
        let event = self
            .base
            .event(Kind::SshUpload, Severity::High, String::new());
        let event = upload_event(event, "sftp", &file.filename, &file.path, &verdict)
            .with("username", self.user.clone());
        self.base.send(event).await;
        if matches!(verdict, Verdict::Stored { .. }) {
            let full = crate::capture::full_file(&verdict);
            let _ = self
                .fs
                .place(&file.path, &file.head, full, file.mode, self.uid, now());
            let mut placed = self.placed.lock().unwrap_or_else(|p| p.into_inner());
            if placed.len() < MAX_PLACED {
                placed.push(Placed {
                    path: file.path,
                    head: file.head.into(),
                    full,
                    mode: file.mode,
                });
            }
        }
    }
}

/// What the client reads for a refused write.
fn refused_reply(verdict: &Verdict) -> StatusReply {
    let text = match verdict {
        Verdict::Refused { reason, .. } => match reason.as_str() {
            "max_file_bytes" => "File too large",
            "quota_bytes" => "No space left on device",
            "disabled" => "Permission denied",
            _ => "Failure",
        },
        Verdict::Stored { .. } => "Failure",
    };
    StatusReply::new(StatusCode::Failure).with_message(text)
}

impl russh_sftp::server::Handler for Sftp {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusReply::new(StatusCode::OpUnsupported)
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        Ok(Name {
            id,
            files: vec![File::dummy(self.path(&path))],
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        Ok(self.stat_path(id, &path)?)
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        Ok(self.stat_path(id, &path)?)
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let size = match self.handles.get(&handle) {
            Some(Open::Read(data)) => data.len() as u64,
            Some(Open::Write(w)) => w.written,
            Some(Open::Dir(_)) => 4096,
            None => return Err(StatusCode::Failure.into()),
        };
        Ok(Attrs {
            id,
            attrs: FileAttributes {
                size: Some(size),
                permissions: Some(0o100644),
                ..FileAttributes::empty()
            },
        })
    }

    async fn setstat(
        &mut self,
        id: u32,
        _path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        Ok(status(id))
    }

    async fn fsetstat(
        &mut self,
        id: u32,
        handle: String,
        attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        if let (Some(Open::Write(w)), Some(mode)) =
            (self.handles.get_mut(&handle), attrs.permissions)
        {
            w.mode = mode & 0o7777;
        }
        Ok(status(id))
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let path = self.path(&path);
        match self.fs.get(&path) {
            Some(node) if node.is_dir() => {}
            Some(_) => return Err(StatusCode::Failure.into()),
            None => return Err(StatusCode::NoSuchFile.into()),
        }
        let mut files = Vec::new();
        for name in [".", ".."] {
            if let Some(node) = self.fs.get(&path) {
                files.push(File::new(name, attrs(&node)));
            }
        }
        for (name, node) in self.fs.list(&path).into_iter().take(MAX_LISTING) {
            files.push(File::new(name, attrs(&node)));
        }
        let handle = self.handle(Open::Dir(Some(files)))?;
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        match self.handles.get_mut(&handle) {
            Some(Open::Dir(files)) => match files.take() {
                Some(files) => Ok(Name { id, files }),
                None => Err(StatusCode::Eof.into()),
            },
            _ => Err(StatusCode::Failure.into()),
        }
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let path = self.path(&filename);
        if !pflags.intersects(OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::APPEND) {
            return match self.fs.read(&path) {
                Ok(data) => {
                    let handle = self.handle(Open::Read(data))?;
                    Ok(Handle { id, handle })
                }
                Err(_) => Err(StatusCode::NoSuchFile.into()),
            };
        }
        if self.fs.get(&path).is_some_and(|n| n.is_dir()) {
            return Err(StatusCode::Failure.into());
        }
        let parent = path
            .rsplit_once('/')
            .map_or("/", |(p, _)| if p.is_empty() { "/" } else { p });
        if !self.fs.get(parent).is_some_and(|n| n.is_dir()) {
            return Err(StatusCode::NoSuchFile.into());
        }
        let name = filename.rsplit('/').next().unwrap_or(&filename).to_owned();
        let mut incoming = Incoming {
            filename: name,
            path,
            mode: attrs.permissions.unwrap_or(0o644) & 0o7777,
            upload: None,
            refused: None,
            head: Vec::new(),
            written: 0,
        };
        match self.base.capture().begin_upload(None) {
            Ok(upload) => incoming.upload = Some(upload),
            Err(verdict) => {
                let reply = refused_reply(&verdict);
                self.ended(incoming, verdict).await;
                return Err(reply);
            }
        }
        let handle = self.handle(Open::Write(Box::new(incoming)))?;
        Ok(Handle { id, handle })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let Some(Open::Write(w)) = self.handles.get_mut(&handle) else {
            return Err(StatusCode::Failure.into());
        };
        if let Some(verdict) = &w.refused {
            return Err(refused_reply(verdict));
        }
        if offset != w.written {
            return Err(StatusReply::new(StatusCode::Failure).with_message("Non-sequential write"));
        }
        let room = HEAD_BYTES.saturating_sub(w.head.len());
        w.head.extend_from_slice(&data[..data.len().min(room)]);
        w.written += data.len() as u64;
        let Some(upload) = w.upload.as_mut() else {
            return Err(StatusCode::Failure.into());
        };
        if let Err(verdict) = upload.write(&data) {
            // Refused midway: reported now (the client may never close).
            let reply = refused_reply(&verdict);
            w.upload = None;
            w.refused = Some(verdict.clone());
            let file = Incoming {
                filename: w.filename.clone(),
                path: w.path.clone(),
                mode: w.mode,
                upload: None,
                refused: None,
                head: Vec::new(),
                written: w.written,
            };
            self.ended(file, verdict).await;
            return Err(reply);
        }
        Ok(status(id))
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let Some(Open::Read(data)) = self.handles.get(&handle) else {
            return Err(StatusCode::Failure.into());
        };
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        if start >= data.len() {
            return Err(StatusCode::Eof.into());
        }
        let end = data
            .len()
            .min(start.saturating_add(len.min(64 * 1024) as usize));
        Ok(Data {
            id,
            data: data[start..end].to_vec(),
        })
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        match self.handles.remove(&handle) {
            Some(Open::Write(mut w)) => {
                if w.refused.is_some() {
                    return Ok(status(id));
                }
                let verdict = match w.upload.take() {
                    Some(upload) => upload.finish(),
                    None => return Err(StatusCode::Failure.into()),
                };
                let stored = matches!(verdict, Verdict::Stored { .. });
                let reply = refused_reply(&verdict);
                self.ended(*w, verdict).await;
                if stored { Ok(status(id)) } else { Err(reply) }
            }
            Some(_) => Ok(status(id)),
            None => Err(StatusCode::Failure.into()),
        }
    }

    async fn mkdir(
        &mut self,
        id: u32,
        path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let path = self.path(&path);
        match self.fs.mkdir(&path, false, self.uid, now()) {
            Ok(()) => Ok(status(id)),
            Err(_) => Err(StatusCode::Failure.into()),
        }
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        let path = self.path(&filename);
        match self.fs.remove(&path, false, false) {
            Ok(()) => Ok(status(id)),
            Err(_) => Err(StatusCode::NoSuchFile.into()),
        }
    }

    async fn rename(
        &mut self,
        id: u32,
        oldpath: String,
        newpath: String,
    ) -> Result<Status, Self::Error> {
        let (from, to) = (self.path(&oldpath), self.path(&newpath));
        match self.fs.copy(&from, &to, self.uid, now()) {
            Ok(()) => {
                let _ = self.fs.remove(&from, false, false);
                Ok(status(id))
            }
            Err(_) => Err(StatusCode::Failure.into()),
        }
    }
}
