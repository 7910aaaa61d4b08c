//! The fake shell: Debian's bash or a BusyBox device's ash, as the persona's
//! machine has it, never running anything on the real machine.
//!
//! Pure and protocol-free so that the SSH and Telnet honeypots share it:
//! bytes or lines go in, terminal output and [`Action`]s (commands typed, URLs
//! fetched, limits hit) come out; the caller turns actions into events. The
//! filesystem is [`fs`], the grammar [`parser`], the line discipline [`line`], the
//! commands [`commands`], and the impersonated machine [`persona`].
//!
//! Every resource an attacker controls is bounded: line length, commands per
//! session, output per command, nesting of `$(...)`, history, environment and the
//! per-session filesystem overlay.

pub mod activity;
pub mod commands;
pub mod fs;
pub mod line;
pub mod parser;
pub mod persona;

use std::collections::VecDeque;
use std::sync::Arc;

use fs::{BaseFs, Fs};
use line::{Key, LineEditor};
use parser::{Join, List, Part, Redirect, Word};
use persona::Persona;

/// What the shell wants its caller to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A command line entered (typed in the shell, or sent with exec).
    Command(String),
    /// A download tool was asked for a URL (nothing was fetched).
    Download {
        /// wget, curl, tftp or ftpget.
        tool: &'static str,
        /// The URL as the tool would have fetched it.
        url: String,
        /// Where the fake file went (empty for stdout).
        outfile: String,
    },
    /// A limit was hit: `line` (line cut), `commands` (session closed).
    Limit(&'static str),
    /// A command line wrote a file (`echo ... > f`, `printf`, `tee`, `cat > f`
    /// with typed input, a here-document): its path and content after the line.
    FileWrite {
        /// Absolute path in the fake filesystem.
        path: String,
        /// The file's content.
        data: Arc<[u8]>,
    },
    /// A command the fake machine does not have (what the emulation lacks, or a
    /// bot's probe); [`with_notes`] attaches it to its command line.
    NotFound(String),
    /// A simple command ran, as a process would (for process-creation rules):
    /// [`with_notes`] attaches it to its command line.
    Process {
        /// Where the machine has the program (`/usr/bin/wget`; the shell for
        /// a builtin).
        image: String,
        /// The command's words after expansion, joined by spaces (bounded).
        command_line: String,
        /// The shell that ran it.
        parent: &'static str,
    },
    /// The bytes typed for the command line before it, as they came, when line
    /// editing changed them (control characters, escape sequences, backspaces),
    /// escaped for display ([`escape_bytes`]); [`with_notes`] attaches it.
    Typed(String),
}

/// What [`with_notes`] attaches to a command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineNotes {
    /// The commands in it the fake machine did not have.
    pub unknown: Vec<String>,
    /// Its bytes as typed, escaped, when editing changed them.
    pub raw: Option<String>,
    /// The processes it ran, in order: (image, command line, parent image).
    pub processes: Vec<(String, String, &'static str)>,
}

/// Most unknown command names noted per command line.
const MAX_NOT_FOUND: usize = 16;

/// Most processes noted per command line.
pub const MAX_PROCESSES: usize = 32;

/// Pairs each action with what followed it up to the next command line (empty
/// for all but [`Action::Command`]): the unknown command names and the raw bytes
/// typed, dropping the [`Action::NotFound`]s and [`Action::Typed`]s. A
/// `*.command` event then says which of its commands were not found, and how it
/// was typed.
pub fn with_notes(actions: Vec<Action>) -> Vec<(Action, LineNotes)> {
    let mut out: Vec<(Action, LineNotes)> = Vec::with_capacity(actions.len());
    let mut last_command: Option<usize> = None;
    for action in actions {
        match action {
            Action::NotFound(name) => {
                if let Some((_, notes)) = last_command.and_then(|i| out.get_mut(i))
                    && notes.unknown.len() < MAX_NOT_FOUND
                    && !notes.unknown.contains(&name)
                {
                    notes.unknown.push(name);
                }
            }
            Action::Typed(raw) => {
                if let Some((_, notes)) = last_command.and_then(|i| out.get_mut(i)) {
                    notes.raw = Some(raw);
                }
            }
            Action::Process {
                image,
                command_line,
                parent,
            } => {
                if let Some((_, notes)) = last_command.and_then(|i| out.get_mut(i))
                    && notes.processes.len() < MAX_PROCESSES
                {
                    notes.processes.push((image, command_line, parent));
                }
            }
            other => {
                if matches!(other, Action::Command(_)) {
                    last_command = Some(out.len());
                }
                out.push((other, LineNotes::default()));
            }
        }
    }
    out
}

/// Bytes shown as text that a terminal or a browser can display without
/// interpreting any of it (the one escaping rule of `nectar_event::text`).
pub use nectar_event::text::escape_bytes;

/// Which shell a session looks like: the one of its persona's machine
/// ([`Persona::profile`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// Debian 12's bash: `-bash: x: command not found`, `root@host:~# `.
    #[default]
    Bash,
    /// BusyBox's ash on an embedded device, what Mirai-like IoT bots expect behind
    /// Telnet: `-sh: x: not found`, a `~ # ` prompt, router CLI words (`enable`,
    /// `system`, `shell`) that drop to the shell, usage texts of BusyBox applets.
    Busybox,
}

impl Profile {
    /// The shell's own program (a builtin's "process" image).
    pub fn shell_path(self) -> &'static str {
        match self {
            Profile::Bash => "/bin/bash",
            Profile::Busybox => "/bin/busybox",
        }
    }
}

/// Output of one call into the shell.
#[derive(Debug, Default)]
pub struct Output {
    /// Bytes for the terminal (stdout; with a terminal, stderr too, as on a pty).
    pub data: Vec<u8>,
    /// Error output of a session without a terminal, for SSH's extended data
    /// (stderr); always empty when the session has a terminal.
    pub err: Vec<u8>,
    /// What to record.
    pub actions: Vec<Action>,
    /// Set when the session should end, with its exit status.
    pub exit: Option<u32>,
}

/// The machine shared by all sessions: persona plus base filesystem.
#[derive(Debug)]
pub struct World {
    /// The impersonated machine.
    pub persona: Persona,
    base: Arc<BaseFs>,
}

impl World {
    /// Builds the world for a persona.
    pub fn new(persona: Persona) -> Arc<World> {
        let base = Arc::new(BaseFs::build(&persona));
        Arc::new(World { persona, base })
    }

    /// A fresh filesystem view (for a session that is not a shell: SFTP).
    pub fn new_fs(&self) -> Fs {
        Fs::new(self.base.clone())
    }
}

/// Per-session limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest line kept, in bytes.
    pub max_line_bytes: usize,
    /// Commands before the session is closed.
    pub max_commands: usize,
}

/// Where a session comes from, for `w`, `who`, `last` and `ifconfig`.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The client's address.
    pub client_ip: String,
    /// The address the client connected to.
    pub server_ip: String,
    /// Session start, seconds since the epoch.
    pub now: u64,
}

/// Most bytes one command may print; the rest is dropped.
const MAX_COMMAND_OUTPUT: usize = 256 * 1024;
/// Most lines kept in `history`, and bytes per kept line.
const MAX_HISTORY: usize = 50;
const MAX_HISTORY_LINE: usize = 512;
/// Most bytes of terminal input kept for a command reading it (`cat > f` until
/// Ctrl-D, a here-document); more is dropped.
const MAX_PENDING_INPUT: usize = 256 * 1024;
/// Most variables, and bytes per value.
const MAX_VARS: usize = 64;
const MAX_VAR_BYTES: usize = 4096;

/// One shell session.
#[derive(Debug)]
pub struct Shell {
    world: Arc<World>,
    fs: Fs,
    user: String,
    home: String,
    uid: usize,
    cwd: String,
    vars: Vec<(String, String)>,
    history: VecDeque<String>,
    editor: Option<LineEditor>,
    status: i32,
    commands: usize,
    limits: Limits,
    origin: Origin,
    pty: bool,
    profile: Profile,
    /// Terminal output being built for the current call.
    term: Vec<u8>,
    /// Error output being built for the current call (no terminal only).
    err_term: Vec<u8>,
    actions: Vec<Action>,
    exit: Option<u32>,
    /// A command waiting for the lines typed after it (`cat > f`, `<<EOF`).
    pending: Option<Pending>,
    /// Input for the first command of the next line run (what `cat` reads).
    terminal_stdin: Option<Vec<u8>>,
    /// The body of the next here-document.
    heredoc: Option<Vec<u8>>,
    /// An `exec`'d command line that reads the channel's input as a file (`cat >
    /// f`), waiting for its end ([`Shell::end_stdin`]).
    exec_stdin: Option<String>,
    /// When the session began on this process's clock: the machine's clock is
    /// [`Origin::now`] plus the time since, so `date` and `uptime` advance.
    started: std::time::Instant,
    /// The commands after the running one in its pipeline, as typed (what
    /// `ps` lists besides itself).
    peers: Vec<String>,
}

/// A command line that reads the terminal, and what was typed for it so far.
#[derive(Debug)]
struct Pending {
    line: String,
    input: Vec<u8>,
    /// `Some(word)`: a here-document ending at a line `word`; `None`: until Ctrl-D.
    delimiter: Option<String>,
}

impl Shell {
    /// A new session of `user`; `pty` when the client asked for a terminal (output
    /// lines end in CR LF and input is edited).
    pub fn new(world: Arc<World>, user: &str, limits: Limits, origin: Origin, pty: bool) -> Shell {
        let home = world.persona.home(user);
        let uid = world.persona.uid(user);
        let fs = Fs::new(world.base.clone());
        let world_profile = world.persona.profile();
        Shell {
            world,
            fs,
            user: user.chars().take(32).collect(),
            cwd: home.clone(),
            home,
            uid,
            vars: Vec::new(),
            history: VecDeque::new(),
            editor: pty.then(|| LineEditor::new(limits.max_line_bytes).keeping_raw()),
            status: 0,
            commands: 0,
            limits,
            origin,
            pty,
            profile: world_profile,
            term: Vec::new(),
            err_term: Vec::new(),
            actions: Vec::new(),
            exit: None,
            pending: None,
            terminal_stdin: None,
            heredoc: None,
            exec_stdin: None,
            started: std::time::Instant::now(),
            peers: Vec::new(),
        }
    }

    /// The machine's clock, seconds since the epoch.
    pub(crate) fn now(&self) -> u64 {
        self.origin
            .now
            .saturating_add(self.started.elapsed().as_secs())
    }

    /// Brings what shows the clock in files up to it (/proc/uptime).
    fn refresh_clock(&mut self) {
        let now = self.now();
        let up = now.saturating_sub(self.world.persona.boot_time(now));
        // Idle time is summed over the CPUs, nearly all of it idle.
        let idle = up * u64::from(self.world.persona.cpus) * 97 / 100;
        self.fs.set_proc_uptime(up, idle, now);
    }

    /// The commands after the running one in its pipeline (for `ps`).
    fn pipeline_after_current(&self) -> Vec<String> {
        self.peers.clone()
    }

    /// The shell's name in its error messages (`-bash`, or `-sh` for BusyBox).
    fn name(&self) -> &'static str {
        match self.profile {
            Profile::Bash => "-bash",
            Profile::Busybox => "-sh",
        }
    }

    /// The error for a command that does not exist.
    fn not_found(&self, command: &str) -> String {
        match self.profile {
            Profile::Bash => format!("-bash: {command}: command not found\n"),
            Profile::Busybox => format!("-sh: {command}: not found\n"),
        }
    }

    /// The login banner (Debian's motd and "Last login", or BusyBox's shell
    /// banner) followed by the prompt.
    pub fn greeting(&mut self) -> Output {
        if self.profile == Profile::Busybox {
            let banner = commands::busybox_shell_banner(&self.world.persona);
            self.term.extend_from_slice(banner.as_bytes());
            return self.finish(true);
        }
        // The persona's one history: `last` shows the same previous login.
        let when = commands::ctime(self.world.persona.previous_login(self.now()));
        let text = format!(
            "Linux {} {} {} {}\n{}\nLast login: {when} from {}\n",
            self.world.persona.hostname,
            self.world.persona.kernel_release(),
            self.world.persona.kernel_version(),
            self.world.persona.machine_name(),
            persona::debian::MOTD,
            last_login_ip(&self.origin.client_ip),
        );
        self.term.extend_from_slice(text.as_bytes());
        self.finish(true)
    }

    /// The prompt, e.g. `root@web-1:~# `.
    pub fn prompt(&self) -> String {
        let dir = if self.cwd == self.home {
            "~".to_owned()
        } else if let Some(rest) = self.cwd.strip_prefix(&format!("{}/", self.home)) {
            format!("~/{rest}")
        } else {
            self.cwd.clone()
        };
        let sigil = if self.uid == 0 { '#' } else { '$' };
        if self.profile == Profile::Busybox {
            return format!("{dir} {sigil} ");
        }
        format!(
            "{}@{}:{dir}{sigil} ",
            self.user, self.world.persona.hostname
        )
    }

    /// Feeds keystrokes of an interactive session.
    pub fn feed(&mut self, input: &[u8]) -> Output {
        let mut echo = Vec::new();
        let mut keys = Vec::new();
        if !self.pty {
            // No terminal: lines end at LF, no echo, no editing (on every call,
            // not only the first).
            return self.feed_raw(input);
        }
        let (truncated, raws) = match self.editor.as_mut() {
            Some(editor) => {
                editor.feed(input, &mut echo, &mut keys);
                (
                    std::mem::take(&mut editor.truncated),
                    editor.take_raw_lines(),
                )
            }
            None => (false, Vec::new()),
        };
        let mut raws = raws.into_iter();
        if truncated {
            self.actions.push(Action::Limit("line"));
        }
        self.term.extend_from_slice(&echo);
        for key in keys {
            if self.exit.is_some() {
                break;
            }
            match key {
                Key::Line(line) => {
                    let raw = raws.next().flatten();
                    self.interactive_line(&line, raw);
                    self.prompt_again();
                }
                Key::Interrupt => {
                    // Ctrl-C ends `cat > f` with what it read; a here-document
                    // is abandoned, as in bash.
                    if let Some(p) = self.pending.take()
                        && p.delimiter.is_none()
                    {
                        self.run_pending(p);
                    }
                    let prompt = self.prompt();
                    self.term.extend_from_slice(prompt.as_bytes());
                }
                Key::Eof if self.pending.is_some() => {
                    self.end_pending();
                    self.prompt_again();
                }
                Key::Eof => {
                    self.term.extend_from_slice(b"logout\n");
                    self.exit = Some(0);
                }
            }
        }
        self.finish(false)
    }

    /// After a line: the prompt, or `> ` inside a here-document, or nothing while
    /// `cat` reads the terminal.
    fn prompt_again(&mut self) {
        if self.exit.is_some() {
            return;
        }
        match &self.pending {
            None => {
                let prompt = self.prompt();
                self.term.extend_from_slice(prompt.as_bytes());
            }
            Some(p) if p.delimiter.is_some() => self.term.extend_from_slice(b"> "),
            Some(_) => {}
        }
    }

    /// The client closed its input (Ctrl-D on a terminal, EOF without one): a
    /// command reading it runs with what it got.
    pub fn end_input(&mut self) -> Output {
        self.end_pending();
        self.finish(false)
    }

    fn end_pending(&mut self) {
        if let Some(p) = self.pending.take() {
            self.run_pending(p);
        }
    }

    fn run_pending(&mut self, pending: Pending) {
        if pending.delimiter.is_some() {
            self.heredoc = Some(pending.input);
        } else {
            self.terminal_stdin = Some(pending.input);
        }
        self.run_top(&pending.line);
        self.heredoc = None;
        self.terminal_stdin = None;
    }

    /// Whether `line` reads the lines typed after it: a here-document, or `cat`
    /// with no file (so it reads the terminal until Ctrl-D).
    fn reads_terminal(line: &str) -> Option<Option<String>> {
        let list = parser::parse(line).ok()?;
        for (_, pipeline) in &list {
            for command in &pipeline.commands {
                for r in &command.redirects {
                    if let Redirect::HereDoc(word) = r {
                        return Some(Some(word.clone()));
                    }
                }
            }
        }
        let (_, first) = list.first()?;
        let command = first.commands.first()?;
        let is_cat = command.words.first().is_some_and(
            |w| matches!(w.as_slice(), [Part::Lit(name, _)] if name == "cat" || name == "/bin/cat"),
        );
        let only_flags = command
            .words
            .iter()
            .skip(1)
            .all(|w| matches!(w.as_slice(), [Part::Lit(arg, _)] if arg.starts_with('-')));
        let own_input = command
            .redirects
            .iter()
            .any(|r| matches!(r, Redirect::In(_) | Redirect::HereString(_)));
        (is_cat && only_flags && !own_input && command.group.is_none()).then_some(None)
    }

    /// Input of a shell without a terminal (`ssh host < script`): lines, no echo.
    fn feed_raw(&mut self, input: &[u8]) -> Output {
        let mut keys = Vec::new();
        let mut echo = Vec::new();
        let max_line = self.limits.max_line_bytes;
        let editor = self
            .editor
            .get_or_insert_with(|| LineEditor::new(max_line).keeping_raw());
        editor.feed(input, &mut echo, &mut keys);
        let mut raws = editor.take_raw_lines().into_iter();
        for key in keys {
            if let Key::Line(line) = key {
                let raw = raws.next().flatten();
                if self.exit.is_none() {
                    self.interactive_line(&line, raw);
                }
            }
        }
        self.finish(false)
    }

    /// Runs a command sent with `exec`; the session ends with its status.
    pub fn exec(&mut self, command: &str) -> Output {
        self.exit = None;
        let line: String = command.chars().take(self.limits.max_line_bytes).collect();
        if line.len() < command.len() {
            self.actions.push(Action::Limit("line"));
        }
        self.actions.push(Action::Command(line.clone()));
        if Self::reads_terminal(&line) == Some(None) || Self::copies_input(&line) {
            // `ssh host 'cat > f; chmod +x f' < file`: the line runs when the
            // input ends, with it as `cat`'s input.
            self.exec_stdin = Some(line);
            return self.finish(false);
        }
        if Self::reads_script(&line) {
            // `ssh host sh < script`: the input is commands, as without a
            // terminal; the session ends with the input.
            return self.finish(false);
        }
        self.run_top(&line);
        if self.exit.is_none() {
            self.exit = Some(self.status as u32 & 0xff);
        }
        self.finish(false)
    }

    /// Whether an `exec`'d line waits for the channel's input as a file (then the
    /// caller keeps the input, as an upload, and calls [`Shell::end_stdin`]).
    pub fn reads_stdin(&self) -> bool {
        self.exec_stdin.is_some()
    }

    /// Runs the `exec`'d line that waited for its input: `head` is the input's
    /// beginning (what `cat` gets; at most [`fs::KEPT_FILE_BYTES`]) and `full`
    /// the whole input's size and hash. Returns the output (with the exit
    /// status) and the file the input went to, if it went to one; that file is
    /// not reported as a [`Action::FileWrite`] (the caller reports the whole
    /// input, stored as an upload).
    pub fn end_stdin(&mut self, head: &[u8], full: fs::FullFile) -> (Output, Option<String>) {
        let Some(line) = self.exec_stdin.take() else {
            return (self.finish(false), None);
        };
        self.terminal_stdin = Some(head.to_vec());
        self.fs.expect_stream(head, full);
        self.run_top(&line);
        self.fs.end_stream();
        self.terminal_stdin = None;
        let mut target = None;
        if !head.is_empty()
            && let Some(i) = self
                .actions
                .iter()
                .position(|a| matches!(a, Action::FileWrite { data, .. } if data.ends_with(head)))
            && let Action::FileWrite { path, .. } = self.actions.remove(i)
        {
            target = Some(path);
        }
        if self.exit.is_none() {
            self.exit = Some(self.status as u32 & 0xff);
        }
        (self.finish(false), target)
    }

    /// Permission bits of the file at `path` (absolute), if there is one.
    pub fn mode_of(&self, path: &str) -> Option<u32> {
        self.fs.get(path).map(|n| n.mode)
    }

    /// Whether the first command of `line` is another that copies its input
    /// when given no input file (`tee f`, `dd of=f`, `base64 -d > f`): an
    /// `exec` of it waits for the channel's input, like `cat`.
    fn copies_input(line: &str) -> bool {
        let Ok(list) = parser::parse(line) else {
            return false;
        };
        let Some(command) = list.first().and_then(|(_, p)| p.commands.first()) else {
            return false;
        };
        let own_input = command
            .redirects
            .iter()
            .any(|r| matches!(r, Redirect::In(_) | Redirect::HereString(_)));
        if own_input || command.group.is_some() {
            return false;
        }
        let words = literal_words(command, "");
        let Some((name, args)) = words.split_first() else {
            return false;
        };
        match name.rsplit('/').next().unwrap_or(name) {
            "tee" => true,
            "dd" => !args.iter().any(|a| a.starts_with("if=")),
            "base64" => args.iter().all(|a| a.starts_with('-')),
            _ => false,
        }
    }

    /// Whether `line` is a shell with no script (`sh`, `bash -s`), which reads
    /// its commands from its input.
    fn reads_script(line: &str) -> bool {
        let Ok(list) = parser::parse(line) else {
            return false;
        };
        let [(_, pipeline)] = list.as_slice() else {
            return false;
        };
        let [command] = pipeline.commands.as_slice() else {
            return false;
        };
        if !command.redirects.is_empty() || command.group.is_some() {
            return false;
        }
        let words = literal_words(command, "\0");
        let (name, flags) = match words.as_slice() {
            ["busybox", name, flags @ ..] => (*name, flags),
            [name, flags @ ..] => (*name, flags),
            [] => return false,
        };
        let name = name.rsplit('/').next().unwrap_or(name);
        matches!(name, "sh" | "bash" | "ash" | "dash")
            && flags.iter().all(|f| matches!(*f, "-s" | "-" | "-i"))
    }

    /// Runs (or keeps for a command reading the terminal) a line typed;
    /// `raw` is its bytes as they came when editing changed them.
    fn interactive_line(&mut self, line: &str, raw: Option<Vec<u8>>) {
        if let Some(pending) = self.pending.as_mut() {
            if pending.delimiter.as_deref() == Some(line.trim_start_matches('\t')) {
                self.end_pending();
            } else if pending.input.len() + line.len() < MAX_PENDING_INPUT {
                pending.input.extend_from_slice(line.as_bytes());
                pending.input.push(b'\n');
            }
            return;
        }
        if line.trim().is_empty() {
            return;
        }
        self.actions.push(Action::Command(line.to_owned()));
        if let Some(raw) = raw {
            self.actions.push(Action::Typed(escape_bytes(&raw)));
        }
        if self.history.len() >= MAX_HISTORY {
            self.history.pop_front();
        }
        self.history
            .push_back(line.chars().take(MAX_HISTORY_LINE).collect());
        if let Some(delimiter) = Self::reads_terminal(line) {
            self.pending = Some(Pending {
                line: line.to_owned(),
                input: Vec::new(),
                delimiter,
            });
            return;
        }
        self.run_top(line);
    }

    fn run_top(&mut self, line: &str) {
        self.commands += 1;
        self.refresh_clock();
        if self.commands > self.limits.max_commands {
            self.actions.push(Action::Limit("commands"));
            self.exit = Some(0);
            return;
        }
        match parser::parse(line) {
            Ok(list) => {
                let mut sink = Vec::new();
                self.run_list(&list, &mut sink, 0);
            }
            Err(e) => {
                self.err_line(&format!("{}: {}", self.name(), e.0));
                self.status = 2;
            }
        }
        for path in self.fs.take_written() {
            if let Ok(data) = self.fs.read(&path)
                && !data.is_empty()
            {
                self.actions.push(Action::FileWrite { path, data });
            }
        }
    }

    /// The absolute path `name` means in this session (`~`, `..`, relative).
    pub fn resolve(&self, name: &str) -> String {
        self.path(name)
    }

    /// Whether `path` (absolute) is a directory in this session's filesystem.
    pub fn is_dir(&self, path: &str) -> bool {
        self.fs.get(path).is_some_and(|n| n.is_dir())
    }

    /// Puts a file that arrived over SCP or SFTP into this session's filesystem.
    /// `data` is its beginning, `full` the whole file's size and hash when
    /// `data` is not all of it.
    pub fn place_file(
        &mut self,
        path: &str,
        data: &[u8],
        full: Option<fs::FullFile>,
        mode: u32,
        now: u64,
    ) {
        let uid = self.uid;
        let _ = self.fs.place(path, data, full, mode, uid, now);
    }

    fn finish(&mut self, prompt: bool) -> Output {
        if prompt {
            let p = self.prompt();
            self.term.extend_from_slice(p.as_bytes());
        }
        let data = std::mem::take(&mut self.term);
        let data = if self.pty { crlf(&data) } else { data };
        Output {
            data,
            err: std::mem::take(&mut self.err_term),
            actions: std::mem::take(&mut self.actions),
            exit: self.exit,
        }
    }

    /// Writes a line to stderr.
    fn err_line(&mut self, text: &str) {
        let err = self.stderr();
        push_bounded(err, text.as_bytes());
        push_bounded(err, b"\n");
    }

    /// Where stderr goes: the terminal when there is one (a pty merges both
    /// streams), else its own stream.
    fn stderr(&mut self) -> &mut Vec<u8> {
        if self.pty {
            &mut self.term
        } else {
            &mut self.err_term
        }
    }

    /// Runs a parsed list; the last stdout goes to `sink` (or, at depth 0, to the
    /// terminal after each pipeline so output stays in order).
    fn run_list(&mut self, list: &List, sink: &mut Vec<u8>, depth: usize) -> i32 {
        for (join, pipeline) in list {
            if self.exit.is_some() {
                break;
            }
            let run = match join {
                Join::Always => true,
                Join::And => self.status == 0,
                Join::Or => self.status != 0,
            };
            if !run {
                continue;
            }
            // What was typed for `cat` goes to the line's first command only.
            let mut input: Vec<u8> = if depth == 0 {
                self.terminal_stdin.take().unwrap_or_default()
            } else {
                Vec::new()
            };
            let count = pipeline.commands.len();
            let mut status = 0;
            for (i, command) in pipeline.commands.iter().enumerate() {
                let mut out = Vec::new();
                let last = i + 1 == count;
                let tty = last && depth == 0 && self.pty;
                let peers = pipeline.commands[i + 1..]
                    .iter()
                    .take(MAX_PEERS)
                    .map(command_text)
                    .collect();
                let outer = std::mem::replace(&mut self.peers, peers);
                status = self.run_command(command, &input, &mut out, depth, tty);
                self.peers = outer;
                if last {
                    push_bounded(sink, &out);
                } else {
                    input = out;
                }
            }
            if pipeline.negate {
                status = i32::from(status == 0);
            }
            self.status = status;
            if depth == 0 {
                let out = std::mem::take(sink);
                push_bounded(&mut self.term, &out);
            }
        }
        self.status
    }

    fn run_command(
        &mut self,
        command: &parser::Command,
        stdin: &[u8],
        out: &mut Vec<u8>,
        depth: usize,
        tty: bool,
    ) -> i32 {
        let mut args: Vec<String> = Vec::new();
        for word in &command.words {
            let fields = self.expand(word, depth);
            args.extend(fields);
        }
        // Leading NAME=value words set variables.
        let assignments = args.iter().take_while(|a| is_assignment(a)).count();
        for a in args.drain(..assignments) {
            if let Some((k, v)) = a.split_once('=') {
                self.set_var(k, v);
            }
        }
        let mut stdin_owned: Option<Vec<u8>> = None;
        let mut err_to_out = false;
        let mut out_to_err = false;
        let mut outfile: Option<(String, bool, u8)> = None;
        for r in &command.redirects {
            match r {
                Redirect::In(target) => {
                    let name = self.expand(target, depth).join(" ");
                    let path = self.path(&name);
                    match self.fs.read(&path) {
                        Ok(data) => stdin_owned = Some(data.to_vec()),
                        Err(e) => {
                            self.err_line(&format!("{}: {name}: {}", self.name(), e.text()));
                            return 1;
                        }
                    }
                }
                Redirect::Out { fd, target, append } => {
                    let name = self.expand(target, depth).join(" ");
                    outfile = Some((name, *append, *fd));
                }
                Redirect::ErrToOut => err_to_out = true,
                Redirect::OutToErr => out_to_err = true,
                Redirect::HereDoc(_) => {
                    stdin_owned = Some(self.heredoc.take().unwrap_or_default());
                }
                Redirect::HereString(word) => {
                    let mut text = self.expand(word, depth).join(" ").into_bytes();
                    text.truncate(MAX_VAR_BYTES);
                    text.push(b'\n');
                    stdin_owned = Some(text);
                }
            }
        }
        let stdin = stdin_owned.as_deref().unwrap_or(stdin);
        let mut cmd_out = Vec::new();
        let mut cmd_err = Vec::new();
        let status = if let Some(source) = &command.group {
            // A subshell: its own variables and directory are not kept after.
            if depth >= parser::MAX_DEPTH {
                0
            } else {
                match parser::parse(source) {
                    Ok(list) => {
                        let saved = (self.cwd.clone(), self.vars.clone(), self.exit);
                        let status = self.run_list(&list, &mut cmd_out, depth + 1);
                        (self.cwd, self.vars, self.exit) = saved;
                        status
                    }
                    Err(e) => {
                        cmd_err.extend_from_slice(format!("{}: {}\n", self.name(), e.0).as_bytes());
                        2
                    }
                }
            }
        } else if args.is_empty() {
            0
        } else {
            let redirected = outfile.as_ref().is_some_and(|(_, _, fd)| *fd == 1);
            let mut ctx = commands::Ctx {
                shell: self,
                stdin,
                out: &mut cmd_out,
                err: &mut cmd_err,
                depth,
                tty: tty && !redirected,
            };
            commands::run(&mut ctx, &args)
        };
        cmd_out.truncate(MAX_COMMAND_OUTPUT);
        cmd_err.truncate(MAX_COMMAND_OUTPUT);
        if out_to_err {
            cmd_err.append(&mut cmd_out);
        }
        if err_to_out {
            cmd_out.append(&mut cmd_err);
        }
        if let Some((name, append, fd)) = outfile {
            let data = if fd == 2 {
                std::mem::take(&mut cmd_err)
            } else {
                std::mem::take(&mut cmd_out)
            };
            if name != "/dev/null" {
                let path = self.path(&name);
                let (uid, now) = (self.uid, self.origin.now);
                if let Err(e) = self.fs.write(&path, &data, append, uid, now) {
                    let line = match self.profile {
                        Profile::Bash => format!("-bash: {name}: {}", e.text()),
                        Profile::Busybox => format!("-sh: can't create {name}: {}", e.text()),
                    };
                    self.err_line(&line);
                }
            }
        }
        push_bounded(self.stderr(), &cmd_err);
        push_bounded(out, &cmd_out);
        status
    }

    /// Expands one word into fields: variables, substitutions, splitting, globs.
    fn expand(&mut self, word: &Word, depth: usize) -> Vec<String> {
        let mut fields: Vec<String> = Vec::new();
        let mut cur: Option<String> = None;
        let mut globbable = false;
        for part in word {
            let (text, quoted) = match part {
                Part::Lit(s, quoted) => {
                    if !quoted && (s.contains('*') || s.contains('?')) {
                        globbable = true;
                    }
                    cur.get_or_insert_with(String::new).push_str(s);
                    continue;
                }
                Part::Var(name, quoted) => (self.var(name), *quoted),
                Part::Subst(source, quoted) => (self.substitute(source, depth), *quoted),
            };
            if quoted {
                cur.get_or_insert_with(String::new).push_str(&text);
                continue;
            }
            if text.starts_with(char::is_whitespace)
                && let Some(c) = cur.take()
            {
                fields.push(c);
            }
            let mut pieces = text.split_whitespace().peekable();
            while let Some(piece) = pieces.next() {
                cur.get_or_insert_with(String::new).push_str(piece);
                if pieces.peek().is_some()
                    && let Some(c) = cur.take()
                {
                    fields.push(c);
                }
            }
            if text.ends_with(char::is_whitespace)
                && let Some(c) = cur.take()
            {
                fields.push(c);
            }
        }
        if let Some(c) = cur {
            fields.push(c);
        }
        if globbable && fields.len() == 1 {
            let matches = self.glob(&fields[0]);
            if !matches.is_empty() {
                return matches;
            }
        }
        fields
    }

    /// Runs `$(...)` and returns its output without trailing newlines.
    fn substitute(&mut self, source: &str, depth: usize) -> String {
        if depth >= parser::MAX_DEPTH {
            return String::new();
        }
        let Ok(list) = parser::parse(source) else {
            return String::new();
        };
        let saved = self.status;
        let mut sink = Vec::new();
        self.run_list(&list, &mut sink, depth + 1);
        let _ = saved;
        let text = String::from_utf8_lossy(&sink);
        text.trim_end_matches('\n').to_owned()
    }

    /// Expands `*` and `?` in the last path component.
    fn glob(&self, pattern: &str) -> Vec<String> {
        let (dir, file) = match pattern.rfind('/') {
            Some(i) => (&pattern[..=i], &pattern[i + 1..]),
            None => ("", pattern),
        };
        if dir.contains(['*', '?']) {
            return Vec::new();
        }
        let abs = self.path(if dir.is_empty() { "." } else { dir });
        self.fs
            .list(&abs)
            .into_iter()
            .filter(|(name, _)| {
                (!name.starts_with('.') || file.starts_with('.')) && wildcard(file, name)
            })
            .map(|(name, _)| format!("{dir}{name}"))
            .collect()
    }

    /// A variable's value ("" if unset).
    fn var(&self, name: &str) -> String {
        match name {
            "?" => return self.status.to_string(),
            "$" => return "2841".into(),
            "#" => return "0".into(),
            "0" => return self.name().into(),
            "@" | "*" => return String::new(),
            "RANDOM" => return (self.origin.now % 32_768).to_string(),
            "PWD" => return self.cwd.clone(),
            _ => {}
        }
        if let Some((_, v)) = self.vars.iter().find(|(k, _)| k == name) {
            return v.clone();
        }
        match name {
            "HOME" => self.home.clone(),
            "USER" | "LOGNAME" => self.user.clone(),
            "SHELL" => self.world.persona.login_shell().into(),
            "HOSTNAME" => self.world.persona.hostname.clone(),
            "PATH" => self.world.persona.default_path().into(),
            "TERM" => "xterm-256color".into(),
            "LANG" => "C.UTF-8".into(),
            "UID" => self.uid.to_string(),
            "HISTFILE" | "BASH" | "BASH_VERSION" if self.profile == Profile::Busybox => {
                String::new()
            }
            "HISTFILE" => format!("{}/.bash_history", self.home),
            "BASH" => "/usr/bin/bash".into(),
            "BASH_VERSION" => "5.2.15(1)-release".into(),
            _ => String::new(),
        }
    }

    fn set_var(&mut self, name: &str, value: &str) {
        let value: String = value.chars().take(MAX_VAR_BYTES).collect();
        if let Some(slot) = self.vars.iter_mut().find(|(k, _)| k == name) {
            slot.1 = value;
        } else if self.vars.len() < MAX_VARS {
            self.vars.push((name.chars().take(64).collect(), value));
        }
    }

    /// An absolute, normalized path for `name`.
    fn path(&self, name: &str) -> String {
        self.fs.normalize(&self.cwd, &self.home, name)
    }
}

/// A command's words as plain text, `other` for a word that is not a single
/// literal (quoted parts, substitutions), for deciding what a line will do before
/// running it.
fn literal_words<'a>(command: &'a parser::Command, other: &'a str) -> Vec<&'a str> {
    command
        .words
        .iter()
        .map(|w| match w.as_slice() {
            [Part::Lit(text, _)] => text.as_str(),
            _ => other,
        })
        .collect()
}

/// Most commands of a pipeline `ps` lists besides itself.
const MAX_PEERS: usize = 8;
/// Longest command line `ps` shows for one of them.
const MAX_PEER_TEXT: usize = 256;

/// A command as `ps` shows it: its literal words (`?` for one built by
/// expansion), bounded.
fn command_text(command: &parser::Command) -> String {
    let mut text = literal_words(command, "?").join(" ");
    if text.len() > MAX_PEER_TEXT {
        let mut end = MAX_PEER_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Shell wildcard match (`*`, `?`), iterative so no pattern can blow up.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn push_bounded(buf: &mut Vec<u8>, data: &[u8]) {
    let room = (4 * MAX_COMMAND_OUTPUT).saturating_sub(buf.len());
    buf.extend_from_slice(&data[..data.len().min(room)]);
}

/// LF to CR LF, for a terminal in the usual `onlcr` mode.
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    let mut prev = 0u8;
    for &b in data {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// A plausible address for "Last login" (never the attacker's own, which would be
/// odd on a first visit).
fn last_login_ip(client: &str) -> &'static str {
    if client.starts_with("10.") {
        "192.168.1.23"
    } else {
        "10.0.0.12"
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod device_tests;

#[cfg(test)]
mod tells_tests;
