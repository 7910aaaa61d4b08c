//! The commands of the fake shell: what bots actually run, answering like the
//! persona's machine (Debian 12's tools, or BusyBox applets on the camera, which
//! has only the applets its `busybox` lists). None of them touches the real
//! machine; download tools only report the URL and print a believable transfer.

use super::fs::{Content, FsError, basename};
use super::persona::{self, CommandKind, Persona};
use super::{Action, Shell};

/// What a command sees.
pub struct Ctx<'a, 'b> {
    /// The session.
    pub shell: &'a mut Shell,
    /// Standard input (a pipe, a file, or empty).
    pub stdin: &'b [u8],
    /// Standard output.
    pub out: &'b mut Vec<u8>,
    /// Standard error.
    pub err: &'b mut Vec<u8>,
    /// Nesting of `sh -c` and `$(...)`.
    pub depth: usize,
    /// Whether stdout is the terminal (for `ls` columns).
    pub tty: bool,
}

impl Ctx<'_, '_> {
    fn print(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }
    fn eprint(&mut self, text: &str) {
        self.err.extend_from_slice(text.as_bytes());
    }
    fn path(&self, name: &str) -> String {
        self.shell.path(name)
    }
}

/// What BusyBox's ash prints when it starts interactively.
pub fn busybox_shell_banner(persona: &Persona) -> String {
    format!(
        "\n\nBusyBox {} built-in shell (ash)\nEnter 'help' for a list of built-in commands.\n\n",
        persona.busybox_version()
    )
}

/// The first line of every BusyBox usage text.
fn busybox_version_line(persona: &Persona) -> String {
    format!("BusyBox {} multi-call binary.\n", persona.busybox_version())
}

/// `busybox` without arguments: banner, usage, and the applets, wrapped as
/// BusyBox wraps them.
fn busybox_usage(persona: &Persona) -> String {
    let mut out = busybox_version_line(persona);
    out.push_str("BusyBox is copyrighted by many authors between 1998-2015.\nLicensed under GPLv2. See source distribution for detailed\ncopyright notices.\n\nUsage: busybox [function [arguments]...]\n   or: busybox --list[-full]\n   or: busybox --install [-s] [DIR]\n   or: function [arguments]...\n\n\tBusyBox is a multi-call binary that combines many common Unix\n\tutilities into a single executable.  Most people will create a\n\tlink to busybox for each function they wish to use and BusyBox\n\twill act like whatever it was invoked as.\n\nCurrently defined functions:\n");
    let mut line = String::from("\t");
    let applets = persona.applets();
    for (i, applet) in applets.iter().enumerate() {
        line.push_str(applet);
        if i + 1 < applets.len() {
            line.push(',');
            if line.len() > 70 {
                out.push_str(&line);
                out.push('\n');
                line = String::from("\t");
                continue;
            }
            line.push(' ');
        }
    }
    out.push_str(line.trim_end());
    out.push_str("\n\n");
    out
}

/// Where `name` is installed on `persona`'s machine (as `which` searches the
/// PATH: a builtin that is also a file, `echo`, is found).
fn which(persona: &Persona, name: &str) -> Option<String> {
    persona.which(name).map(|dir| format!("{dir}/{name}"))
}

/// Runs one command with expanded arguments; returns its status.
pub fn run(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Some(name) = args.first() else { return 0 };
    let rest = &args[1..];
    // A path to an executable runs "the file": only ours, never the real machine's.
    if name.contains('/') {
        return run_path(ctx, name, rest);
    }
    // The persona's one table decides what exists: `yum` on Debian, `lscpu` on
    // the camera are "not found" before anything else is printed.
    if ctx.shell.world.persona.lookup(name).is_none() {
        return command_not_found(ctx, name);
    }
    note_process(ctx, name, args);
    match name.as_str() {
        ":" | "true" | "enable" | "alias" | "unalias" | "ulimit" | "hash" | "umask" | "wait"
        | "trap" | "shopt" | "chown" | "chgrp" | "chattr" | "sync" | "mesg" | "sleep"
        | "usleep" | "kill" | "pkill" | "killall" | "clear" | "reset" | "tput" | "stty"
        | "iptables" | "ufw" | "systemctl" | "service" | "modprobe" | "sysctl" | "export"
            if name != "export" || !rest.is_empty() =>
        {
            if name == "export" {
                for a in rest {
                    if let Some((k, v)) = a.split_once('=') {
                        ctx.shell.set_var(k, v);
                    }
                }
            }
            if name == "clear" || name == "reset" {
                ctx.out.extend_from_slice(b"\x1b[H\x1b[2J\x1b[3J");
            }
            0
        }
        "false" => 1,
        // Router and DVR command-line words Mirai-like bots type to reach a shell.
        "system" | "shell" | "linuxshell" | "start-shell" | "development"
            if ctx.shell.profile == super::Profile::Busybox =>
        {
            0
        }
        "help" if ctx.shell.profile == super::Profile::Busybox => {
            ctx.print("Built-in commands:\n------------------\n\t. : [ [[ alias bg break cd chdir command continue echo eval exec\n\texit export false fg getopts hash help history jobs kill let\n\tlocal printf pwd read readonly return set shift source test times\n\ttrap true type ulimit umask unalias unset wait\n");
            0
        }
        // Compound commands are not interpreted: bash would run them, and saying
        // "command not found" to a `for` loop would give the honeypot away.
        keyword if persona::KEYWORDS.contains(&keyword) => 0,
        "find" => find(ctx, rest),
        "od" | "hexdump" | "xxd" => hexdump(ctx, name, rest),
        "export" | "env" | "printenv" | "set" | "declare" => {
            if name == "env" && !rest.is_empty() {
                let skip = rest
                    .iter()
                    .take_while(|a| a.contains('=') || a.starts_with('-'))
                    .count();
                if skip < rest.len() {
                    return run(ctx, &rest[skip..]);
                }
            }
            let prefix = if name == "export" || name == "declare" {
                "declare -x "
            } else {
                ""
            };
            let mut vars = vec![
                ("HOME".to_owned(), ctx.shell.home.clone()),
                ("LANG".into(), "C.UTF-8".into()),
                ("LOGNAME".into(), ctx.shell.user.clone()),
                ("PATH".into(), ctx.shell.world.persona.default_path().into()),
                ("PWD".into(), ctx.shell.cwd.clone()),
                ("SHELL".into(), ctx.shell.world.persona.login_shell().into()),
                ("SHLVL".into(), "1".into()),
                ("TERM".into(), "xterm-256color".into()),
                ("USER".into(), ctx.shell.user.clone()),
            ];
            if ctx.shell.profile == super::Profile::Bash {
                // The Debian VM is reached over SSH; telnetd sets no such thing.
                let client = format!("{} 52311 22", ctx.shell.origin.client_ip);
                vars.push(("SSH_CLIENT".into(), client));
            }
            for (k, v) in &ctx.shell.vars {
                vars.retain(|(k2, _)| k2 != k);
                vars.push((k.clone(), v.clone()));
            }
            vars.sort();
            for (k, v) in vars {
                let line = if prefix.is_empty() {
                    format!("{k}={v}\n")
                } else {
                    format!("{prefix}{k}=\"{v}\"\n")
                };
                ctx.print(&line);
            }
            0
        }
        "unset" => {
            ctx.shell.vars.retain(|(k, _)| !rest.contains(k));
            0
        }
        "exit" | "logout" => {
            let code = rest
                .first()
                .and_then(|c| c.parse::<i32>().ok())
                .unwrap_or(ctx.shell.status);
            ctx.shell.exit = Some(code as u32 & 0xff);
            if ctx.shell.pty && ctx.depth == 0 {
                ctx.print("logout\n");
            }
            code
        }
        "echo" => echo(ctx, rest),
        "printf" => printf(ctx, rest),
        "cd" => cd(ctx, rest),
        "pwd" => {
            let cwd = ctx.shell.cwd.clone();
            ctx.print(&format!("{cwd}\n"));
            0
        }
        "ls" | "dir" | "ll" => ls(ctx, rest, name == "ll"),
        "cat" => cat(ctx, rest),
        "uname" => uname(ctx, rest),
        "arch" => {
            let machine = ctx.shell.world.persona.machine_name();
            ctx.print(&format!("{machine}\n"));
            0
        }
        "id" => {
            let (u, uid) = (ctx.shell.user.clone(), ctx.shell.uid);
            // The admin logins are in sudo; system accounts (www-data) are not.
            let sudo = ctx.shell.profile == super::Profile::Bash && uid >= 1000;
            let line = if uid == 0 {
                "uid=0(root) gid=0(root) groups=0(root)\n".to_owned()
            } else if sudo {
                format!("uid={uid}({u}) gid={uid}({u}) groups={uid}({u}),27(sudo)\n")
            } else {
                format!("uid={uid}({u}) gid={uid}({u}) groups={uid}({u})\n")
            };
            ctx.print(&line);
            0
        }
        "whoami" => {
            let u = ctx.shell.user.clone();
            ctx.print(&format!("{u}\n"));
            0
        }
        "groups" => {
            let line = if ctx.shell.uid == 0 {
                "root\n".to_owned()
            } else if ctx.shell.profile == super::Profile::Bash && ctx.shell.uid >= 1000 {
                format!("{} sudo\n", ctx.shell.user)
            } else {
                format!("{}\n", ctx.shell.user)
            };
            ctx.print(&line);
            0
        }
        "hostname"
            if ctx.shell.profile == super::Profile::Busybox
                && busybox_hostname_bad_option(rest).is_some() =>
        {
            // BusyBox's hostname has no -I (nor GNU's other options).
            let bad = busybox_hostname_bad_option(rest).unwrap_or('-');
            let usage = busybox_version_line(&ctx.shell.world.persona);
            ctx.eprint(&format!("hostname: invalid option -- '{bad}'\n{usage}\nUsage: hostname [OPTIONS] [HOSTNAME | -F FILE]\n\nGet or set hostname or DNS domain name\n\n\t-s\tShort\n\t-i\tAddresses for the hostname\n\t-d\tDNS domain name\n\t-f\tFully qualified domain name\n\t-F FILE\tUse FILE's content as hostname\n"));
            1
        }
        "hostname" => {
            let h = ctx.shell.world.persona.hostname.clone();
            if rest.first().is_some_and(|a| a == "-I" || a == "-i") {
                let ip = server_ip(ctx.shell);
                ctx.print(&format!("{ip} \n"));
            } else if rest.is_empty() || rest[0].starts_with('-') {
                ctx.print(&format!("{h}\n"));
            }
            0
        }
        "nproc" => {
            let n = ctx.shell.world.persona.cpus;
            ctx.print(&format!("{n}\n"));
            0
        }
        "lscpu" => match ctx.shell.world.persona.lscpu() {
            Some(text) => {
                ctx.print(&text);
                0
            }
            None => command_not_found(ctx, name),
        },
        "getconf" => {
            match rest.first().map(String::as_str) {
                Some("LONG_BIT") => {
                    let bits = ctx.shell.world.persona.long_bit();
                    ctx.print(&format!("{bits}\n"));
                }
                Some("_NPROCESSORS_ONLN" | "_NPROCESSORS_CONF") => {
                    let n = ctx.shell.world.persona.cpus;
                    ctx.print(&format!("{n}\n"));
                }
                Some("PAGESIZE" | "PAGE_SIZE") => ctx.print("4096\n"),
                _ => ctx.print("undefined\n"),
            }
            0
        }
        "free" => free(ctx, rest),
        "df" => {
            let human = rest.iter().any(|a| a.starts_with('-') && a.contains('h'));
            let text = ctx.shell.world.persona.df(human);
            ctx.print(text);
            0
        }
        "uptime" => {
            let line = format!("{}\n", uptime_text(ctx.shell, rest));
            ctx.print(&line);
            0
        }
        "w" => {
            let text = w(ctx.shell);
            ctx.print(&text);
            0
        }
        // BusyBox's who and users read utmp, which the camera does not keep
        // (as its `w` shows).
        "who" | "users" if ctx.shell.profile == super::Profile::Busybox => 0,
        "who" | "users" => {
            let (user, ip, now) = (
                ctx.shell.user.clone(),
                ctx.shell.origin.client_ip.clone(),
                ctx.shell.origin.now,
            );
            let line = if name == "users" {
                format!("{user}\n")
            } else {
                format!("{user:<8} pts/0        {} ({ip})\n", date_short(now))
            };
            ctx.print(&line);
            0
        }
        "last" | "lastlog" => {
            let text = last(ctx.shell);
            ctx.print(&text);
            0
        }
        "ps" => ps(ctx, rest),
        "top" => {
            let text = ctx.shell.world.persona.top(&uptime_line(ctx.shell));
            ctx.print(&text);
            0
        }
        "ifconfig" => {
            let ip = server_ip(ctx.shell);
            let text = ctx.shell.world.persona.ifconfig(&ip);
            ctx.print(&text);
            0
        }
        "ip" => {
            let ip = server_ip(ctx.shell);
            let mac = ctx.shell.world.persona.mac();
            let net = ip
                .rsplit_once('.')
                .map_or("10.0.2", |(net, _)| net)
                .to_owned();
            match rest.first().map(String::as_str) {
                Some("r" | "ro" | "route") => ctx.print(&format!("default via {net}.1 dev eth0 onlink \n{net}.0/24 dev eth0 proto kernel scope link src {ip} \n")),
                Some("l" | "link") => ctx.print(&format!("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP mode DEFAULT group default qlen 1000\n    link/ether {mac} brd ff:ff:ff:ff:ff:ff\n")),
                Some("a" | "ad" | "addr" | "address") | None => {
                    let text = format!("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP group default qlen 1000\n    link/ether {mac} brd ff:ff:ff:ff:ff:ff\n    inet {ip}/24 brd 0.0.0.0 scope global eth0\n       valid_lft forever preferred_lft forever\n");
                    ctx.print(&text);
                }
                Some(other) => {
                    let line = format!("Object \"{other}\" is unknown, try \"ip help\".\n");
                    ctx.eprint(&line);
                    return 1;
                }
            }
            0
        }
        "netstat" | "ss" => {
            let text = ctx.shell.world.persona.netstat();
            ctx.print(text);
            0
        }
        "history" => {
            if rest.first().is_some_and(|a| a == "-c") {
                ctx.shell.history.clear();
                return 0;
            }
            let lines: Vec<String> = ctx
                .shell
                .history
                .iter()
                .enumerate()
                .map(|(i, l)| format!("{:>5}  {l}\n", i + 1))
                .collect();
            for l in lines {
                ctx.print(&l);
            }
            0
        }
        "which" => {
            let mut status = 0;
            for a in rest.iter().filter(|a| !a.starts_with('-')) {
                match which(&ctx.shell.world.persona, a) {
                    Some(p) => ctx.print(&format!("{p}\n")),
                    None => status = 1,
                }
            }
            if rest.is_empty() {
                status = 1;
            }
            status
        }
        "type" | "command" => {
            let names: Vec<&String> = rest.iter().filter(|a| !a.starts_with('-')).collect();
            if name == "command" && !rest.iter().any(|a| a == "-v" || a == "-V") {
                let skip = rest.iter().take_while(|a| a.starts_with('-')).count();
                return run(ctx, &rest[skip..]);
            }
            let mut status = 0;
            for n in names {
                let kind = ctx.shell.world.persona.lookup(n);
                if matches!(kind, Some(CommandKind::Builtin | CommandKind::Keyword)) {
                    let line = if name == "type" {
                        let what = if kind == Some(CommandKind::Keyword) {
                            "a shell keyword"
                        } else {
                            "a shell builtin"
                        };
                        format!("{n} is {what}\n")
                    } else {
                        format!("{n}\n")
                    };
                    ctx.print(&line);
                } else if let Some(p) = which(&ctx.shell.world.persona, n) {
                    let line = if name == "type" {
                        format!("{n} is {p}\n")
                    } else {
                        format!("{p}\n")
                    };
                    ctx.print(&line);
                } else {
                    if name == "type" {
                        let sh = ctx.shell.name();
                        ctx.eprint(&format!("{sh}: type: {n}: not found\n"));
                    }
                    status = 1;
                }
            }
            status
        }
        "busybox" => {
            let Some(applet) = rest.first() else {
                let text = busybox_usage(&ctx.shell.world.persona);
                ctx.print(&text);
                return 0;
            };
            let applets = ctx.shell.world.persona.applets();
            if applet == "--list" {
                for a in applets {
                    ctx.print(&format!("{a}\n"));
                }
                return 0;
            }
            if applets.contains(&applet.as_str()) {
                let name = if applet == "ash" {
                    "sh".to_owned()
                } else {
                    applet.clone()
                };
                let mut args = vec![name];
                args.extend_from_slice(&rest[1..]);
                return run(ctx, &args);
            }
            ctx.eprint(&format!("{applet}: applet not found\n"));
            127
        }
        "sh" | "bash" | "dash" | "ash" | "source" | "." => shell_cmd(ctx, name, rest),
        "eval" => {
            let line = rest.join(" ");
            nested(ctx, &line)
        }
        "sudo" | "nohup" | "setsid" | "time" | "nice" | "exec" | "builtin" => {
            let skip = rest.iter().take_while(|a| a.starts_with('-')).count();
            if rest.len() > skip {
                run(ctx, &rest[skip..])
            } else {
                0
            }
        }
        "timeout" => {
            let skip = rest.iter().take_while(|a| a.starts_with('-')).count() + 1;
            if rest.len() > skip {
                run(ctx, &rest[skip..])
            } else {
                125
            }
        }
        "su" => 0,
        "crontab" => crontab(ctx, rest),
        "passwd" => {
            let lines = ctx
                .stdin
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count();
            if lines >= 2 {
                ctx.print(
                    "New password: Retype new password: passwd: password updated successfully\n",
                );
                0
            } else {
                ctx.print("New password: ");
                ctx.eprint("\npasswd: Authentication token manipulation error\npasswd: password unchanged\n");
                10
            }
        }
        "chpasswd" | "useradd" | "usermod" | "userdel" | "ssh-keygen" => 0,
        "grep" | "egrep" | "fgrep" => grep(ctx, name, rest),
        "head" | "tail" => head_tail(ctx, name == "head", rest),
        "wc" => wc(ctx, rest),
        "awk" | "gawk" | "mawk" => awk(ctx, rest),
        "sed" => sed(ctx, rest),
        "cut" => cut(ctx, rest),
        "sort" => {
            let input = read_inputs(ctx, rest);
            let mut lines: Vec<&str> = input.lines().collect();
            lines.sort_unstable();
            if rest.iter().any(|a| a == "-r") {
                lines.reverse();
            }
            if rest.iter().any(|a| a == "-u") {
                lines.dedup();
            }
            for l in lines {
                ctx.print(&format!("{l}\n"));
            }
            0
        }
        "uniq" => {
            let input = read_inputs(ctx, rest);
            let count = rest.iter().any(|a| a == "-c");
            let mut prev: Option<(&str, usize)> = None;
            let mut out = String::new();
            for l in input.lines() {
                match prev {
                    Some((p, n)) if p == l => prev = Some((p, n + 1)),
                    _ => {
                        if let Some((p, n)) = prev {
                            out.push_str(&if count {
                                format!("{n:>7} {p}\n")
                            } else {
                                format!("{p}\n")
                            });
                        }
                        prev = Some((l, 1));
                    }
                }
            }
            if let Some((p, n)) = prev {
                out.push_str(&if count {
                    format!("{n:>7} {p}\n")
                } else {
                    format!("{p}\n")
                });
            }
            ctx.print(&out);
            0
        }
        "tr" => {
            let del = rest.first().is_some_and(|a| a == "-d");
            let sets: Vec<Vec<char>> = rest
                .iter()
                .filter(|a| !a.starts_with('-'))
                .map(|s| expand_set(s))
                .collect();
            let input = String::from_utf8_lossy(ctx.stdin).into_owned();
            let out: String = input
                .chars()
                .filter_map(|c| match (del, sets.first(), sets.get(1)) {
                    (true, Some(a), _) => (!a.contains(&c)).then_some(c),
                    (false, Some(a), Some(b)) => Some(
                        a.iter()
                            .position(|&x| x == c)
                            .map_or(c, |i| *b.get(i).or(b.last()).unwrap_or(&c)),
                    ),
                    _ => Some(c),
                })
                .collect();
            ctx.print(&out);
            0
        }
        "tee" => {
            let data = ctx.stdin.to_vec();
            let append = rest.iter().any(|a| a == "-a");
            for f in rest.iter().filter(|a| !a.starts_with('-')) {
                let p = ctx.path(f);
                let (uid, now) = (ctx.shell.uid, ctx.shell.origin.now);
                if let Err(e) = ctx.shell.fs.write(&p, &data, append, uid, now) {
                    ctx.eprint(&format!("tee: {f}: {}\n", e.text()));
                }
            }
            ctx.out.extend_from_slice(&data);
            0
        }
        "xargs" => 0,
        "yes" => {
            let word = rest.first().map_or("y", String::as_str);
            let line = format!("{word}\n");
            for _ in 0..(4096 / line.len().max(1)) {
                ctx.print(&line);
            }
            0
        }
        "base64" => base64(ctx, rest),
        "md5sum" | "sha256sum" => {
            let files: Vec<&String> = rest.iter().filter(|a| !a.starts_with('-')).collect();
            type Input = (String, Vec<u8>, Option<super::fs::FullFile>);
            let inputs: Vec<Input> = if files.is_empty() {
                vec![("-".into(), ctx.stdin.to_vec(), None)]
            } else {
                files
                    .iter()
                    .filter_map(|f| {
                        let path = ctx.path(f);
                        let full = ctx.shell.fs.get(&path).and_then(|n| n.full);
                        ctx.shell
                            .fs
                            .read(&path)
                            .ok()
                            .map(|d| ((*f).clone(), d.to_vec(), full))
                    })
                    .collect()
            };
            for (f, data, full) in inputs {
                let hex = if name == "sha256sum" {
                    // An upload the filesystem keeps only the beginning of has
                    // its whole file's hash.
                    let digest = match full {
                        Some(full) => full.sha256,
                        None => <sha2::Sha256 as sha2::Digest>::digest(&data).into(),
                    };
                    nectar_capture::uploads::hex(&digest)
                } else {
                    // (Of such an upload, the MD5 of its kept beginning: the
                    // upload store hashes with SHA-256 only.)
                    use md5::Digest;
                    nectar_capture::uploads::hex(&md5::Md5::digest(&data))
                };
                ctx.print(&format!("{hex}  {f}\n"));
            }
            0
        }
        "date" => date(ctx, rest),
        "dmesg" => {
            ctx.eprint("dmesg: read kernel buffer failed: Operation not permitted\n");
            1
        }
        "mount" => {
            let text = String::from_utf8_lossy(
                &ctx.shell
                    .fs
                    .read("/proc/mounts")
                    .unwrap_or_else(|_| std::sync::Arc::from(&[][..])),
            )
            .into_owned();
            ctx.print(&text);
            0
        }
        "locale" => {
            ctx.print("LANG=C.UTF-8\nLANGUAGE=\nLC_CTYPE=\"C.UTF-8\"\nLC_ALL=\n");
            0
        }
        "lsattr" => {
            for f in rest.iter().filter(|a| !a.starts_with('-')) {
                ctx.print(&format!("--------------e------- {f}\n"));
            }
            0
        }
        "touch" => files_op(ctx, "touch", rest),
        "mkdir" => files_op(ctx, "mkdir", rest),
        "rm" => files_op(ctx, "rm", rest),
        "rmdir" => files_op(ctx, "rmdir", rest),
        "chmod" => chmod(ctx, rest),
        "cp" | "mv" | "ln" => cp_mv(ctx, name, rest),
        "dd" => dd(ctx, rest),
        "stat" | "file" => {
            for f in rest.iter().filter(|a| !a.starts_with('-')) {
                let p = ctx.path(f);
                match ctx.shell.fs.get(&p).map(|n| n.into_owned()) {
                    Some(n) if name == "file" => {
                        let kind = match &n.content {
                            Content::Dir => "directory".to_owned(),
                            Content::File(d) if d.starts_with(b"\x7fELF") => ctx.shell.world.persona.elf_description().into(),
                            Content::File(d) if d.is_empty() => "empty".into(),
                            Content::File(d) if d.starts_with(b"#!") => "POSIX shell script, ASCII text executable".into(),
                            _ => "ASCII text".into(),
                        };
                        ctx.print(&format!("{f}: {kind}\n"));
                    }
                    Some(n) => ctx.print(&format!("  File: {f}\n  Size: {}\t\tBlocks: 8          IO Block: 4096   regular file\nAccess: ({:04o})  Uid: (    0/    root)   Gid: (    0/    root)\n", n.size(), n.mode)),
                    None => {
                        ctx.eprint(&format!("{name}: cannot stat '{f}': No such file or directory\n"));
                        return 1;
                    }
                }
            }
            0
        }
        "tar" | "gzip" | "gunzip" | "unzip" => 0,
        "perl" | "python3" => 0,
        "apt" | "apt-get" => {
            if rest
                .iter()
                .any(|a| a == "install" || a == "update" || a == "upgrade")
            {
                ctx.print("Reading package lists... Done\nBuilding dependency tree... Done\nReading state information... Done\n");
                if rest.iter().any(|a| a == "install") {
                    ctx.print("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n");
                }
            }
            0
        }
        "dpkg" => {
            ctx.print("Desired=Unknown/Install/Remove/Purge/Hold\n");
            0
        }
        "test" | "[" => test(ctx, name, rest),
        "wget" => download(ctx, "wget", rest),
        "curl" => download(ctx, "curl", rest),
        "tftp" => download(ctx, "tftp", rest),
        "ftpget" => download(ctx, "ftpget", rest),
        "ssh" | "scp" => {
            ctx.eprint("ssh: connect to host port 22: Connection timed out\n");
            255
        }
        "reboot" | "shutdown" | "poweroff" | "halt" => {
            ctx.shell.exit = Some(0);
            0
        }
        "read" => 0,
        // A builtin the emulation has nothing to show for (`bg`, `shift`)
        // does nothing, as most do without a job or arguments.
        _ if ctx.shell.world.persona.lookup(name) == Some(CommandKind::Builtin) => 0,
        _ => command_not_found(ctx, name),
    }
}

/// Notes that `args` ran as a process, for process-creation rules: `Image` is
/// where the machine has `name` (`/usr/bin/wget`), or the shell itself for a
/// builtin (`cd`, `history`, `export`).
fn note_process(ctx: &mut Ctx<'_, '_>, name: &str, args: &[String]) {
    let shell = ctx.shell.profile.shell_path();
    let persona = &ctx.shell.world.persona;
    let image = match (persona.which(name), persona.lookup(name)) {
        (Some(dir), _) => format!("{dir}/{name}"),
        (None, Some(_)) => shell.to_owned(),
        (None, None) => format!("/usr/bin/{}", name.chars().take(64).collect::<String>()),
    };
    let mut command_line = String::new();
    for (i, a) in args.iter().enumerate() {
        if command_line.len() + a.len() + 1 > MAX_PROCESS_LINE {
            break;
        }
        if i > 0 {
            command_line.push(' ');
        }
        command_line.push_str(a);
    }
    ctx.shell.actions.push(Action::Process {
        image,
        command_line,
        parent: shell,
    });
}

/// Longest command line a process record keeps (the event keeps the input).
const MAX_PROCESS_LINE: usize = 1_024;

/// The shell's answer to a command that does not exist, noted for the event.
fn command_not_found(ctx: &mut Ctx<'_, '_>, name: &str) -> i32 {
    // Debian answers every name through `run`'s table, which noted a process
    // before finding it has no such command: it never ran.
    if let Some(Action::Process { command_line, .. }) = ctx.shell.actions.last()
        && command_line.split(' ').next() == Some(name)
    {
        ctx.shell.actions.pop();
    }
    let msg = ctx.shell.not_found(name);
    ctx.eprint(&msg);
    ctx.shell
        .actions
        .push(Action::NotFound(name.chars().take(64).collect()));
    127
}

fn nested(ctx: &mut Ctx<'_, '_>, line: &str) -> i32 {
    if ctx.depth + 1 >= super::parser::MAX_DEPTH {
        return 1;
    }
    match super::parser::parse(line) {
        Ok(list) => {
            let mut sink = Vec::new();
            let status = ctx.shell.run_list(&list, &mut sink, ctx.depth + 1);
            ctx.out.extend_from_slice(&sink);
            status
        }
        Err(e) => {
            ctx.eprint(&format!("sh: 1: {}\n", e.0));
            2
        }
    }
}

fn shell_cmd(ctx: &mut Ctx<'_, '_>, name: &str, rest: &[String]) -> i32 {
    if let Some(i) = rest.iter().position(|a| a == "-c") {
        let line = rest.get(i + 1).cloned().unwrap_or_default();
        return nested(ctx, &line);
    }
    let script = match rest.iter().find(|a| !a.starts_with('-')) {
        Some(file) => {
            let p = ctx.path(file);
            match ctx.shell.fs.read(&p) {
                Ok(data) => data.to_vec(),
                Err(e) => {
                    let prefix = if name == "bash" { "bash" } else { "sh: 0" };
                    ctx.eprint(&format!("{prefix}: cannot open {file}: {}\n", e.text()));
                    return if name == "bash" { 127 } else { 2 };
                }
            }
        }
        None => ctx.stdin.to_vec(),
    };
    if script.starts_with(b"\x7fELF") {
        ctx.eprint(&format!(
            "{name}: 1: Syntax error: word unexpected (expecting \")\")\n"
        ));
        return 2;
    }
    let text = String::from_utf8_lossy(&script).into_owned();
    let mut status = 0;
    for line in text.lines().take(200) {
        if ctx.shell.exit.is_some() {
            break;
        }
        status = nested(ctx, line);
    }
    status
}

fn run_path(ctx: &mut Ctx<'_, '_>, name: &str, rest: &[String]) -> i32 {
    let p = ctx.path(name);
    match ctx.shell.fs.get(&p).map(|n| n.into_owned()) {
        None => {
            let msg = match ctx.shell.profile {
                super::Profile::Bash => format!("-bash: {name}: No such file or directory\n"),
                super::Profile::Busybox => ctx.shell.not_found(name),
            };
            ctx.eprint(&msg);
            ctx.shell
                .actions
                .push(Action::NotFound(name.chars().take(64).collect()));
            127
        }
        Some(n) if n.is_dir() => {
            let sh = ctx.shell.name();
            ctx.eprint(&format!("{sh}: {name}: Is a directory\n"));
            126
        }
        Some(n) if n.mode & 0o111 == 0 => {
            let sh = ctx.shell.name();
            ctx.eprint(&format!("{sh}: {name}: Permission denied\n"));
            126
        }
        Some(n) => {
            // One of the system's binaries: run our emulation of it.
            let base = basename(&p).to_owned();
            if which(&ctx.shell.world.persona, &base).is_some_and(|w| w == p) {
                let mut args = vec![base];
                args.extend_from_slice(rest);
                return run(ctx, &args);
            }
            match &n.content {
                Content::File(d) if d.starts_with(b"#!") || !d.starts_with(b"\x7fELF") => {
                    let mut args = vec!["sh".to_owned(), name.to_owned()];
                    args.extend_from_slice(rest);
                    shell_cmd(ctx, "sh", &args[1..])
                }
                // A dropped binary "runs" silently, as a daemonizing bot would.
                _ => 0,
            }
        }
    }
}

fn echo(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let mut newline = true;
    let mut escapes = false;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| "neE".contains(c)) {
            for c in a[1..].chars() {
                match c {
                    'n' => newline = false,
                    'e' => escapes = true,
                    _ => escapes = false,
                }
            }
            i += 1;
        } else {
            break;
        }
    }
    let text = args[i..].join(" ");
    if escapes {
        let (bytes, stop) = unescape(&text);
        ctx.out.extend_from_slice(&bytes);
        if stop {
            return 0;
        }
    } else {
        ctx.print(&text);
    }
    if newline {
        ctx.out.push(b'\n');
    }
    0
}

/// Interprets `echo -e` escapes; the flag is set by `\c` (stop output).
fn unescape(text: &str) -> (Vec<u8>, bool) {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        i += 1;
        let c = b[i];
        i += 1;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'e' => out.push(0x1b),
            b'f' => out.push(0x0c),
            b'v' => out.push(0x0b),
            b'\\' => out.push(b'\\'),
            b'c' => return (out, true),
            b'x' => {
                let hex: Vec<u8> = b[i..]
                    .iter()
                    .take(2)
                    .take_while(|c| c.is_ascii_hexdigit())
                    .copied()
                    .collect();
                if hex.is_empty() {
                    out.extend_from_slice(b"\\x");
                } else {
                    i += hex.len();
                    let s = String::from_utf8_lossy(&hex);
                    out.push(u8::from_str_radix(&s, 16).unwrap_or(0));
                }
            }
            b'0' => {
                let oct: Vec<u8> = b[i..]
                    .iter()
                    .take(3)
                    .take_while(|c| (b'0'..=b'7').contains(c))
                    .copied()
                    .collect();
                i += oct.len();
                let s = String::from_utf8_lossy(&oct);
                out.push(
                    u32::from_str_radix(if s.is_empty() { "0" } else { &s }, 8).unwrap_or(0) as u8,
                );
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    (out, false)
}

fn printf(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let Some(format) = args.first() else {
        ctx.eprint("printf: usage: printf [-v var] format [arguments]\n");
        return 2;
    };
    let (fmt, _) = unescape(format);
    let fmt = String::from_utf8_lossy(&fmt).into_owned();
    let mut values = args[1..].iter();
    let mut rounds = 0;
    loop {
        let mut out = Vec::new();
        let mut chars = fmt.chars().peekable();
        let mut used = false;
        while let Some(c) = chars.next() {
            if c != '%' {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            // Skip flags and width.
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_digit() || "-+ .#".contains(*c))
            {
                chars.next();
            }
            match chars.next() {
                Some('%') => out.push(b'%'),
                Some('s') => {
                    used = true;
                    out.extend_from_slice(values.next().map_or("", String::as_str).as_bytes());
                }
                Some('b') => {
                    used = true;
                    out.extend(unescape(values.next().map_or("", String::as_str)).0);
                }
                Some('d' | 'i' | 'u') => {
                    used = true;
                    let v = values
                        .next()
                        .and_then(|v| v.parse::<i64>().ok())
                        .unwrap_or(0);
                    out.extend_from_slice(v.to_string().as_bytes());
                }
                Some('x') => {
                    used = true;
                    let v = values
                        .next()
                        .and_then(|v| v.parse::<i64>().ok())
                        .unwrap_or(0);
                    out.extend_from_slice(format!("{v:x}").as_bytes());
                }
                Some(other) => {
                    out.push(b'%');
                    let mut buf = [0; 4];
                    out.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                }
                None => out.push(b'%'),
            }
        }
        ctx.out.extend_from_slice(&out);
        rounds += 1;
        if !used || values.len() == 0 || rounds > 100 {
            break;
        }
    }
    0
}

fn cd(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let target = match args.first().map(String::as_str) {
        None | Some("~") => ctx.shell.home.clone(),
        Some(t) => t.to_owned(),
    };
    let p = ctx.path(&target);
    match ctx.shell.fs.get(&p) {
        Some(n) if n.is_dir() => {
            ctx.shell.cwd = if p == "/bin" || p == "/sbin" {
                p
            } else {
                p.clone()
            };
            0
        }
        Some(_) => {
            let sh = ctx.shell.name();
            ctx.eprint(&format!("{sh}: cd: {target}: Not a directory\n"));
            1
        }
        None => {
            let msg = match ctx.shell.profile {
                super::Profile::Bash => {
                    format!("-bash: cd: {target}: No such file or directory\n")
                }
                super::Profile::Busybox => {
                    format!("-sh: cd: can't cd to {target}: No such file or directory\n")
                }
            };
            ctx.eprint(&msg);
            1
        }
    }
}

fn perms(node: &super::fs::Node) -> String {
    let kind = match node.content {
        Content::Dir => 'd',
        Content::Link(_) => 'l',
        Content::File(_) => '-',
    };
    let mut s = String::from(kind);
    for shift in [6, 3, 0] {
        let bits = (node.mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    if node.mode & 0o1000 != 0 {
        s.pop();
        s.push('t');
    }
    s
}

fn display_size(node: &super::fs::Node, persona: &Persona) -> usize {
    match &node.content {
        // Our binaries hold only an ELF header; show a real binary's size.
        Content::File(d) if d.len() == 64 && d.starts_with(b"\x7fELF") => persona.binary_size(),
        _ => node.size(),
    }
}

fn human(size: usize) -> String {
    if size < 1024 {
        size.to_string()
    } else if size < 1024 * 1024 {
        format!("{}K", size.div_ceil(1024))
    } else {
        format!("{:.1}M", size as f64 / 1_048_576.0)
    }
}

fn ls(ctx: &mut Ctx<'_, '_>, args: &[String], ll: bool) -> i32 {
    let flags: String = args
        .iter()
        .filter(|a| a.starts_with('-'))
        .flat_map(|a| a.chars().skip(1))
        .collect();
    let long = ll || flags.contains('l');
    let all = flags.contains('a') || flags.contains('A');
    let human_sizes = flags.contains('h');
    let dir_only = flags.contains('d');
    let mut targets: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect();
    if targets.is_empty() {
        targets.push(".".into());
    }
    let many = targets.len() > 1;
    let mut status = 0;
    let line_for =
        |name: &str, node: &super::fs::Node, users: &super::persona::Persona| -> String {
            let owner = if node.uid == 0 {
                "root".to_owned()
            } else {
                users
                    .users
                    .get(node.uid.saturating_sub(1000))
                    .cloned()
                    .unwrap_or_else(|| "root".into())
            };
            let size = display_size(node, users);
            let size = if human_sizes {
                human(size)
            } else {
                size.to_string()
            };
            let link = match node.content {
                Content::Link(t) => format!(" -> {t}"),
                _ => String::new(),
            };
            let links = if node.is_dir() { 2 } else { 1 };
            format!(
                "{} {links} {owner} {owner} {size:>5} {} {name}{link}\n",
                perms(node),
                ls_date(node.mtime)
            )
        };
    for (ti, target) in targets.iter().enumerate() {
        let p = ctx.path(target);
        let Some(node) = ctx.shell.fs.get_nofollow(&p).map(|n| n.into_owned()) else {
            let msg = match ctx.shell.profile {
                super::Profile::Bash => {
                    format!("ls: cannot access '{target}': No such file or directory\n")
                }
                super::Profile::Busybox => format!("ls: {target}: No such file or directory\n"),
            };
            ctx.eprint(&msg);
            status = if ctx.shell.profile == super::Profile::Busybox {
                1
            } else {
                2
            };
            continue;
        };
        // A link to a directory is listed as that directory (without -l); a
        // link to a file (an applet) as itself.
        let links_to_dir = match node.content {
            Content::Link(t) => ctx.shell.fs.get(t).is_some_and(|n| n.is_dir()),
            _ => false,
        };
        let is_dir = node.is_dir() || links_to_dir && !long;
        if !is_dir || dir_only {
            if long {
                let line = line_for(target, &node, &ctx.shell.world.persona);
                ctx.print(&line);
            } else {
                ctx.print(&format!("{target}\n"));
            }
            continue;
        }
        let dir = match node.content {
            Content::Link(t) => t.to_owned(),
            _ => p.clone(),
        };
        if many {
            if ti > 0 {
                ctx.print("\n");
            }
            ctx.print(&format!("{target}:\n"));
        }
        let mut entries = ctx.shell.fs.list(&dir);
        if !all {
            entries.retain(|(n, _)| !n.starts_with('.'));
        }
        if long {
            let total = entries.len() * 4;
            ctx.print(&format!("total {total}\n"));
            if flags.contains('a') {
                let d = ctx.shell.fs.get(&dir).map(|n| n.into_owned());
                if let Some(d) = d {
                    let a = line_for(".", &d, &ctx.shell.world.persona);
                    let b = line_for("..", &d, &ctx.shell.world.persona);
                    ctx.print(&a);
                    ctx.print(&b);
                }
            }
            for (name, node) in &entries {
                let line = line_for(name, node, &ctx.shell.world.persona);
                ctx.print(&line);
            }
        } else if ctx.tty && !flags.contains('1') {
            let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
            if !names.is_empty() {
                let line = names.join("  ");
                ctx.print(&format!("{line}\n"));
            }
        } else {
            for (name, _) in &entries {
                ctx.print(&format!("{name}\n"));
            }
        }
    }
    status
}

fn cat(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let files: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with('-') || *a == "-")
        .collect();
    if files.is_empty() {
        let data = ctx.stdin.to_vec();
        ctx.out.extend_from_slice(&data);
        return 0;
    }
    let mut status = 0;
    for f in files {
        if f == "-" {
            let data = ctx.stdin.to_vec();
            ctx.out.extend_from_slice(&data);
            continue;
        }
        let p = ctx.path(f);
        match ctx.shell.fs.read(&p) {
            Ok(data) => ctx.out.extend_from_slice(&data),
            Err(e) => {
                let msg = match ctx.shell.profile {
                    super::Profile::Bash => format!("cat: {f}: {}\n", e.text()),
                    super::Profile::Busybox => format!("cat: can't open '{f}': {}\n", e.text()),
                };
                ctx.eprint(&msg);
                status = 1;
            }
        }
    }
    status
}

fn uname(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let flags: String = args
        .iter()
        .filter(|a| a.starts_with('-'))
        .flat_map(|a| a.chars().skip(1))
        .collect();
    if flags.contains('a') || args.iter().any(|a| a == "--all") {
        let line = format!("{}\n", ctx.shell.world.persona.uname_a());
        ctx.print(&line);
        return 0;
    }
    let persona = &ctx.shell.world.persona;
    let host = persona.hostname.clone();
    let mut parts = Vec::new();
    for (flag, value) in [
        ('s', "Linux".to_owned()),
        ('n', host),
        ('r', persona.kernel_release().to_owned()),
        ('v', persona.kernel_version().to_owned()),
        ('m', persona.machine_name().to_owned()),
        ('p', "unknown".to_owned()),
        ('i', "unknown".to_owned()),
        ('o', "GNU/Linux".to_owned()),
    ] {
        if flags.contains(flag) {
            parts.push(value);
        }
    }
    if parts.is_empty() {
        parts.push("Linux".into());
    }
    let line = format!("{}\n", parts.join(" "));
    ctx.print(&line);
    0
}

fn free(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let text = ctx.shell.world.persona.free(args);
    ctx.print(&text);
    0
}

fn ps(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let now = ctx.shell.now();
    let peers = ctx.shell.pipeline_after_current();
    let view = persona::PsView {
        user: &ctx.shell.user,
        now,
        boot: ctx.shell.world.persona.boot_time(now),
        login: ctx.shell.origin.now,
        peers: &peers,
    };
    let text = ctx.shell.world.persona.ps(args, &view);
    ctx.print(&text);
    0
}

/// The text of the named files, or stdin when none.
/// `find [path...] [-name P] [-iname P] [-type f|d] [-maxdepth N]`, over the
/// fake filesystem; at most 2,000 lines.
fn find(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let mut roots = Vec::new();
    let (mut name, mut kind, mut max_depth, mut icase) = (None, None, usize::MAX, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-name" | "-iname" => {
                icase = a == "-iname";
                name = it.next().cloned();
            }
            "-type" => kind = it.next().cloned(),
            "-maxdepth" => max_depth = it.next().and_then(|n| n.parse().ok()).unwrap_or(0),
            _ if a.starts_with('-') => {
                it.next();
            }
            _ => roots.push(a.clone()),
        }
    }
    if roots.is_empty() {
        roots.push(".".into());
    }
    let mut lines = 0usize;
    let mut status = 0;
    for root in roots {
        let abs = ctx.path(&root);
        let Some(node) = ctx.shell.fs.get(&abs).map(|n| n.into_owned()) else {
            ctx.eprint(&format!("find: ‘{root}’: No such file or directory\n"));
            status = 1;
            continue;
        };
        // (shown path, absolute path, is_dir, depth)
        let mut stack = vec![(root.clone(), abs, node.is_dir(), 0usize)];
        while let Some((shown, abs, is_dir, depth)) = stack.pop() {
            if lines >= 2_000 {
                return status;
            }
            let base = super::fs::basename(&shown).to_owned();
            let name_ok = name.as_ref().is_none_or(|p| {
                if icase {
                    super::wildcard(&p.to_lowercase(), &base.to_lowercase())
                } else {
                    super::wildcard(p, &base)
                }
            });
            let kind_ok = match kind.as_deref() {
                Some("d") => is_dir,
                Some("f") => !is_dir,
                _ => true,
            };
            if name_ok && kind_ok {
                ctx.print(&format!("{shown}\n"));
                lines += 1;
            }
            if is_dir && depth < max_depth && !abs.starts_with("/proc") {
                let mut children = ctx.shell.fs.list(&abs);
                children.reverse();
                for (child, node) in children {
                    let sep = if shown.ends_with('/') { "" } else { "/" };
                    let child_abs = if abs == "/" {
                        format!("/{child}")
                    } else {
                        format!("{abs}/{child}")
                    };
                    stack.push((
                        format!("{shown}{sep}{child}"),
                        child_abs,
                        node.is_dir(),
                        depth + 1,
                    ));
                }
            }
        }
    }
    status
}

/// `od` (octal words, or `-c` characters), `hexdump [-C]` and `xxd`, of at most
/// 64 KiB of input.
fn hexdump(ctx: &mut Ctx<'_, '_>, name: &str, args: &[String]) -> i32 {
    let files: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect();
    let mut data = read_inputs(ctx, &files).into_bytes();
    data.truncate(64 * 1024);
    let canonical = name == "xxd" || args.iter().any(|a| a == "-C");
    let chars = name == "od" && args.iter().any(|a| a == "-c");
    let mut out = String::new();
    for (row, chunk) in data.chunks(16).enumerate() {
        let offset = row * 16;
        if name == "od" {
            out.push_str(&format!("{offset:07o}"));
            if chars {
                for &b in chunk {
                    let c = match b {
                        b'\n' => "\\n".to_owned(),
                        b'\t' => "\\t".to_owned(),
                        b'\r' => "\\r".to_owned(),
                        0 => "\\0".to_owned(),
                        0x20..=0x7e => (b as char).to_string(),
                        _ => format!("{b:03o}"),
                    };
                    out.push_str(&format!("{c:>4}"));
                }
            } else {
                for pair in chunk.chunks(2) {
                    let w = u16::from(pair[0]) | u16::from(*pair.get(1).unwrap_or(&0)) << 8;
                    out.push_str(&format!(" {w:06o}"));
                }
            }
        } else if canonical {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let text: String = chunk
                .iter()
                .map(|&b| {
                    if (0x20..0x7f).contains(&b) {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            if name == "xxd" {
                let groups: Vec<String> = hex.chunks(2).map(|g| g.concat()).collect();
                out.push_str(&format!("{offset:08x}: {:<40} {text}", groups.join(" ")));
            } else {
                let (a, b) = hex.split_at(hex.len().min(8));
                out.push_str(&format!(
                    "{offset:08x}  {:<23}  {:<23}  |{text}|",
                    a.join(" "),
                    b.join(" ")
                ));
            }
        } else {
            out.push_str(&format!("{offset:07x}"));
            for pair in chunk.chunks(2) {
                let w = u16::from(pair[0]) | u16::from(*pair.get(1).unwrap_or(&0)) << 8;
                out.push_str(&format!(" {w:04x}"));
            }
        }
        out.push('\n');
    }
    if name == "od" {
        out.push_str(&format!("{:07o}\n", data.len()));
    } else if name != "xxd" && !data.is_empty() {
        out.push_str(&format!("{:08x}\n", data.len()));
    }
    ctx.print(&out);
    0
}

fn read_inputs(ctx: &mut Ctx<'_, '_>, files: &[String]) -> String {
    let names: Vec<&String> = files.iter().filter(|a| !a.starts_with('-')).collect();
    if names.is_empty() {
        return String::from_utf8_lossy(ctx.stdin).into_owned();
    }
    let mut text = String::new();
    for f in names {
        let p = ctx.path(f);
        match ctx.shell.fs.read(&p) {
            Ok(d) => text.push_str(&String::from_utf8_lossy(&d)),
            Err(e) => ctx.eprint(&format!("{f}: {}\n", e.text())),
        }
    }
    text
}

/// A tiny regular-expression subset for grep: `^`, `$`, `.`, `*`, `[...]` and
/// literals, matched by simulating all positions at once (no backtracking, so no
/// pattern can take exponential time).
fn regex_match(pattern: &str, text: &str, icase: bool) -> bool {
    #[derive(Clone)]
    enum Atom {
        Char(char),
        Any,
        Set(Vec<char>, bool),
    }
    let (pattern, text) = if icase {
        (pattern.to_lowercase(), text.to_lowercase())
    } else {
        (pattern.to_owned(), text.to_owned())
    };
    let mut p = pattern.as_str();
    let anchored_start = p.starts_with('^');
    if anchored_start {
        p = &p[1..];
    }
    let anchored_end = p.ends_with('$') && !p.ends_with("\\$");
    if anchored_end {
        p = &p[..p.len() - 1];
    }
    let mut atoms: Vec<(Atom, bool)> = Vec::new();
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let atom = match chars[i] {
            '.' => Atom::Any,
            '\\' if i + 1 < chars.len() => {
                i += 1;
                Atom::Char(chars[i])
            }
            '[' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == ']')
                    .map(|e| i + 1 + e);
                match end {
                    Some(end) => {
                        let mut set: Vec<char> = chars[i + 1..end].to_vec();
                        let neg = set.first() == Some(&'^');
                        if neg {
                            set.remove(0);
                        }
                        i = end;
                        Atom::Set(expand_set(&set.iter().collect::<String>()), neg)
                    }
                    None => Atom::Char('['),
                }
            }
            c => Atom::Char(c),
        };
        i += 1;
        let star = chars.get(i) == Some(&'*');
        if star {
            i += 1;
        }
        atoms.push((atom, star));
    }
    let matches = |a: &Atom, c: char| match a {
        Atom::Char(x) => *x == c,
        Atom::Any => true,
        Atom::Set(s, neg) => s.contains(&c) != *neg,
    };
    let t: Vec<char> = text.chars().collect();
    // states[k]: atoms[..k] matched. Closure over starred atoms.
    let close = |states: &mut Vec<bool>| {
        for k in 0..atoms.len() {
            if states[k] && atoms[k].1 {
                states[k + 1] = true;
            }
        }
    };
    let mut states = vec![false; atoms.len() + 1];
    states[0] = true;
    close(&mut states);
    for (pos, &c) in t.iter().enumerate() {
        if states[atoms.len()] && !anchored_end {
            return true;
        }
        let mut next = vec![false; atoms.len() + 1];
        for k in 0..atoms.len() {
            if states[k] && matches(&atoms[k].0, c) {
                if atoms[k].1 {
                    next[k] = true;
                } else {
                    next[k + 1] = true;
                }
            }
        }
        if !anchored_start {
            next[0] = true;
        }
        close(&mut next);
        states = next;
        let _ = pos;
    }
    states[atoms.len()]
}

fn grep(ctx: &mut Ctx<'_, '_>, name: &str, args: &[String]) -> i32 {
    let mut flags = String::new();
    let mut rest = Vec::new();
    let mut patterns: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-e" {
            if let Some(p) = it.next() {
                patterns.push(p.clone());
            }
        } else if a.starts_with('-') && a.len() > 1 {
            flags.push_str(&a[1..]);
        } else {
            rest.push(a.clone());
        }
    }
    if patterns.is_empty() {
        if rest.is_empty() {
            ctx.eprint("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n");
            return 2;
        }
        patterns.push(rest.remove(0));
    }
    let extended = name == "egrep" || flags.contains('E');
    let fixed = name == "fgrep" || flags.contains('F');
    let mut alts: Vec<String> = Vec::new();
    for p in &patterns {
        if extended {
            alts.extend(p.split('|').map(|s| s.replace(['(', ')'], "")));
        } else {
            alts.extend(p.split("\\|").map(str::to_owned));
        }
    }
    let icase = flags.contains('i');
    let invert = flags.contains('v');
    let count = flags.contains('c');
    let quiet = flags.contains('q');
    let only = flags.contains('o');
    let input = read_inputs(ctx, &rest);
    let mut n = 0;
    let mut out = String::new();
    for line in input.lines() {
        let hit = alts.iter().any(|p| {
            if fixed {
                if icase {
                    line.to_lowercase().contains(&p.to_lowercase())
                } else {
                    line.contains(p.as_str())
                }
            } else {
                regex_match(p, line, icase)
            }
        });
        if hit != invert {
            n += 1;
            if !count && !quiet {
                if only && !invert {
                    out.push_str(alts.first().map_or("", String::as_str));
                    out.push('\n');
                } else {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
    }
    if count {
        out = format!("{n}\n");
    }
    if !quiet {
        ctx.print(&out);
    }
    if n > 0 { 0 } else { 1 }
}

fn head_tail(ctx: &mut Ctx<'_, '_>, head: bool, args: &[String]) -> i32 {
    let mut lines = 10usize;
    let mut bytes: Option<usize> = None;
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-n" || a == "-c" {
            let v = it
                .next()
                .map(|v| v.trim_start_matches(['+', '-']))
                .and_then(|v| v.parse().ok())
                .unwrap_or(10);
            if a == "-n" {
                lines = v
            } else {
                bytes = Some(v)
            }
        } else if let Some(v) = a.strip_prefix("-n").filter(|v| !v.is_empty()) {
            lines = v.parse().unwrap_or(10);
        } else if let Some(v) = a.strip_prefix("-c").filter(|v| !v.is_empty()) {
            bytes = v.parse().ok();
        } else if let Some(v) = a
            .strip_prefix('-')
            .filter(|v| v.chars().all(|c| c.is_ascii_digit()) && !v.is_empty())
        {
            lines = v.parse().unwrap_or(10);
        } else if !a.starts_with('-') {
            files.push(a.clone());
        }
    }
    let data: Vec<u8> = if files.is_empty() {
        ctx.stdin.to_vec()
    } else {
        let mut d = Vec::new();
        for f in &files {
            let p = ctx.path(f);
            match ctx.shell.fs.read(&p) {
                Ok(x) => d.extend_from_slice(&x),
                Err(e) => {
                    let tool = if head { "head" } else { "tail" };
                    ctx.eprint(&format!(
                        "{tool}: cannot open '{f}' for reading: {}\n",
                        e.text()
                    ));
                    return 1;
                }
            }
        }
        d
    };
    if let Some(b) = bytes {
        let b = b.min(data.len());
        let slice = if head {
            &data[..b]
        } else {
            &data[data.len() - b..]
        };
        ctx.out.extend_from_slice(slice);
        return 0;
    }
    let all: Vec<&[u8]> = data.split_inclusive(|&c| c == b'\n').collect();
    let pick: Vec<&[u8]> = if head {
        all.iter().take(lines).copied().collect()
    } else {
        all.iter()
            .skip(all.len().saturating_sub(lines))
            .copied()
            .collect()
    };
    for l in pick {
        ctx.out.extend_from_slice(l);
    }
    0
}

fn wc(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let flags: String = args
        .iter()
        .filter(|a| a.starts_with('-'))
        .flat_map(|a| a.chars().skip(1))
        .collect();
    let files: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    // Bytes of uploaded files the filesystem does not keep (beyond their
    // beginning) still count: `wc -c` gives the real size.
    let mut not_kept = 0;
    let data = if files.is_empty() {
        ctx.stdin.to_vec()
    } else {
        let mut d = Vec::new();
        for f in &files {
            let p = ctx.path(f);
            match ctx.shell.fs.read(&p) {
                Ok(x) => {
                    if let Some(full) = ctx.shell.fs.get(&p).and_then(|n| n.full) {
                        not_kept += (full.size as usize).saturating_sub(x.len());
                    }
                    d.extend_from_slice(&x);
                }
                Err(e) => {
                    ctx.eprint(&format!("wc: {f}: {}\n", e.text()));
                    return 1;
                }
            }
        }
        d
    };
    let l = data.iter().filter(|&&b| b == b'\n').count();
    let w = String::from_utf8_lossy(&data).split_whitespace().count();
    let c = data.len() + not_kept;
    let mut cols = Vec::new();
    if flags.contains('l') {
        cols.push(l);
    }
    if flags.contains('w') {
        cols.push(w);
    }
    if flags.contains('c') || flags.contains('m') {
        cols.push(c);
    }
    if cols.is_empty() {
        cols = vec![l, w, c];
    }
    let name = files.first().map(|f| format!(" {f}")).unwrap_or_default();
    let line = if cols.len() == 1 && files.is_empty() {
        format!("{}\n", cols[0])
    } else {
        let width = if files.is_empty() {
            7
        } else {
            c.to_string().len()
        };
        let parts: Vec<String> = cols.iter().map(|v| format!("{v:>width$}")).collect();
        format!("{}{name}\n", parts.join(" "))
    };
    ctx.print(&line);
    0
}

/// awk-lite: `[-F sep] '[NR==n | FNR==n | /re/] { print items }'`, where items are
/// `$n`, `$NF`, `NR`, `NF` and "strings", joined by `,` (a space) or juxtaposed.
fn awk(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let mut sep: Option<String> = None;
    let mut program: Option<String> = None;
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-F" {
            sep = it.next().cloned();
        } else if let Some(s) = a.strip_prefix("-F") {
            sep = Some(s.to_owned());
        } else if program.is_none() {
            program = Some(a.clone());
        } else {
            files.push(a.clone());
        }
    }
    let Some(program) = program else {
        ctx.eprint("usage: awk [-F fs][-v var=value][prog | -f progfile][file ...]\n");
        return 2;
    };
    let input = read_inputs(ctx, &files);
    let prog = program.trim();
    let (cond, body) = match prog.find('{') {
        Some(i) => (
            prog[..i].trim(),
            prog[i + 1..].trim_end().trim_end_matches('}').trim(),
        ),
        None => (prog, "print $0"),
    };
    let body = body.trim_end_matches(';').trim();
    let items_src = body.strip_prefix("print").map(str::trim);
    let mut out = String::new();
    for (nr, line) in input.lines().enumerate() {
        let nr = nr + 1;
        let fields: Vec<&str> = match &sep {
            Some(s) if !s.is_empty() && s != " " => line.split(s.as_str()).collect(),
            _ => line.split_whitespace().collect(),
        };
        let ok = if cond.is_empty() {
            true
        } else if let Some(n) = cond
            .strip_prefix("NR==")
            .or(cond.strip_prefix("FNR=="))
            .or(cond.strip_prefix("NR =="))
            .or(cond.strip_prefix("FNR =="))
        {
            n.trim().parse::<usize>().is_ok_and(|n| n == nr)
        } else if let Some(re) = cond.strip_prefix('/').and_then(|c| c.strip_suffix('/')) {
            regex_match(re, line, false)
        } else {
            true
        };
        if !ok {
            continue;
        }
        let Some(items) = items_src else { continue };
        if items.is_empty() {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let field = |spec: &str| -> String {
            let spec = spec.trim();
            if let Some(n) = spec.strip_prefix('$') {
                let idx = if n == "NF" {
                    fields.len()
                } else {
                    n.parse().unwrap_or(0)
                };
                if idx == 0 {
                    line.to_owned()
                } else {
                    fields
                        .get(idx - 1)
                        .map(|s| (*s).to_owned())
                        .unwrap_or_default()
                }
            } else if spec == "NR" {
                nr.to_string()
            } else if spec == "NF" {
                fields.len().to_string()
            } else if let Some(s) = spec.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                s.replace("\\n", "\n").replace("\\t", "\t")
            } else {
                String::new()
            }
        };
        let parts: Vec<String> = items
            .split(',')
            .map(|group| {
                let mut s = String::new();
                for token in split_awk_tokens(group) {
                    s.push_str(&field(&token));
                }
                s
            })
            .collect();
        out.push_str(&parts.join(" "));
        out.push('\n');
    }
    ctx.print(&out);
    0
}

fn split_awk_tokens(group: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut in_str = false;
    for c in group.chars() {
        match c {
            '"' => {
                cur.push(c);
                if in_str {
                    tokens.push(std::mem::take(&mut cur));
                }
                in_str = !in_str;
            }
            ' ' | '\t' if !in_str => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

/// sed-lite: `s/old/new/[g]` with literal text; anything else passes input through.
fn sed(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let quiet = args.iter().any(|a| a == "-n");
    let in_place = args.iter().any(|a| a.starts_with("-i"));
    let mut positional = args.iter().filter(|a| !a.starts_with('-'));
    let script = positional.next().cloned().unwrap_or_default();
    let files: Vec<String> = positional.cloned().collect();
    if in_place {
        return 0;
    }
    let input = read_inputs(ctx, &files);
    let sub = script.strip_prefix('s').and_then(|s| {
        let d = s.chars().next()?;
        let parts: Vec<&str> = s[d.len_utf8()..].split(d).collect();
        (parts.len() >= 2).then(|| {
            (
                parts[0].to_owned(),
                parts[1].to_owned(),
                parts.get(2).is_some_and(|f| f.contains('g')),
            )
        })
    });
    if quiet {
        return 0;
    }
    let mut out = String::new();
    for line in input.lines() {
        match &sub {
            Some((old, new, global)) if !old.is_empty() => {
                if *global {
                    out.push_str(&line.replace(old.as_str(), new))
                } else {
                    out.push_str(&line.replacen(old.as_str(), new, 1))
                }
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    ctx.print(&out);
    0
}

fn cut(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let mut delim = "\t".to_owned();
    let mut fields: Vec<usize> = Vec::new();
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, value) = if a.len() > 2 && (a.starts_with("-d") || a.starts_with("-f")) {
            (&a[..2], Some(a[2..].to_owned()))
        } else {
            (a.as_str(), None)
        };
        match flag {
            "-d" => delim = value.or_else(|| it.next().cloned()).unwrap_or_default(),
            "-f" => {
                let spec = value.or_else(|| it.next().cloned()).unwrap_or_default();
                fields = spec
                    .split(',')
                    .filter_map(|f| f.split('-').next()?.parse().ok())
                    .collect();
            }
            _ if !a.starts_with('-') => files.push(a.clone()),
            _ => {}
        }
    }
    let input = read_inputs(ctx, &files);
    let mut out = String::new();
    for line in input.lines() {
        if delim.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split(delim.as_str()).collect();
        let picked: Vec<&str> = fields
            .iter()
            .filter_map(|&f| parts.get(f.wrapping_sub(1)).copied())
            .collect();
        out.push_str(&picked.join(&delim));
        out.push('\n');
    }
    ctx.print(&out);
    0
}

fn expand_set(set: &str) -> Vec<char> {
    let chars: Vec<char> = set.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 2 < chars.len() && chars[i + 1] == '-' && chars[i] <= chars[i + 2] {
            let (a, b) = (chars[i] as u32, chars[i + 2] as u32);
            out.extend((a..=b.min(a + 256)).filter_map(char::from_u32));
            i += 3;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn base64(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let decode = args.iter().any(|a| a == "-d" || a == "--decode");
    let files: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect();
    let data: Vec<u8> = if files.is_empty() {
        ctx.stdin.to_vec()
    } else {
        read_inputs(ctx, &files).into_bytes()
    };
    if decode {
        let mut out = Vec::new();
        let mut acc = 0u32;
        let mut bits = 0;
        for &b in &data {
            let Some(v) = ALPHABET.iter().position(|&c| c == b) else {
                continue;
            };
            acc = (acc << 6) | v as u32;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        ctx.out.extend_from_slice(&out);
    } else {
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let n = chunk.len();
            let v = (u32::from(chunk[0]) << 16)
                | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
                | u32::from(*chunk.get(2).unwrap_or(&0));
            for k in 0..4 {
                if k <= n {
                    out.push(char::from(ALPHABET[((v >> (18 - 6 * k)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        let wrapped: Vec<String> = out
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        for w in wrapped {
            ctx.print(&format!("{w}\n"));
        }
    }
    0
}

fn files_op(ctx: &mut Ctx<'_, '_>, op: &str, args: &[String]) -> i32 {
    let flags: String = args
        .iter()
        .filter(|a| a.starts_with('-') && a.len() > 1)
        .flat_map(|a| a.chars().skip(1))
        .collect();
    let names: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with('-') || a.len() == 1)
        .collect();
    let (uid, now) = (ctx.shell.uid, ctx.shell.origin.now);
    if names.is_empty() && op != "rm" {
        ctx.eprint(&format!(
            "{op}: missing operand\nTry '{op} --help' for more information.\n"
        ));
        return 1;
    }
    let mut status = 0;
    for name in names {
        let p = ctx.path(name);
        let result = match op {
            "touch" => ctx.shell.fs.touch(&p, uid, now),
            "mkdir" => ctx.shell.fs.mkdir(&p, flags.contains('p'), uid, now),
            "rmdir" => ctx.shell.fs.remove(&p, false, true),
            _ => {
                let r = ctx.shell.fs.remove(
                    &p,
                    flags.contains('r') || flags.contains('R'),
                    flags.contains('r') || flags.contains('R') || flags.contains('d'),
                );
                if flags.contains('f') && r == Err(FsError::NotFound) {
                    Ok(())
                } else {
                    r
                }
            }
        };
        if let Err(e) = result {
            status = 1;
            let busybox = ctx.shell.profile == super::Profile::Busybox;
            let msg = match (op, e) {
                ("touch", _) if busybox => format!("touch: {name}: {}\n", e.text()),
                ("mkdir", _) if busybox => {
                    format!("mkdir: can't create directory '{name}': {}\n", e.text())
                }
                ("rmdir", _) if busybox => format!("rmdir: '{name}': {}\n", e.text()),
                ("rm", FsError::Denied) if busybox => {
                    "rm: can't remove '/': Operation not permitted\n".to_owned()
                }
                ("rm", _) if busybox => format!("rm: can't remove '{name}': {}\n", e.text()),
                ("touch", _) => format!("touch: cannot touch '{name}': {}\n", e.text()),
                ("mkdir", _) => format!("mkdir: cannot create directory '{name}': {}\n", e.text()),
                ("rmdir", _) => format!("rmdir: failed to remove '{name}': {}\n", e.text()),
                (_, FsError::Denied) => "rm: it is dangerous to operate recursively on '/'\nrm: use --no-preserve-root to override this failsafe\n".to_owned(),
                (_, FsError::IsDir) => format!("rm: cannot remove '{name}': Is a directory\n"),
                _ => format!("rm: cannot remove '{name}': {}\n", e.text()),
            };
            ctx.eprint(&msg);
        }
    }
    status
}

fn chmod(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let positional: Vec<&String> = args
        .iter()
        .filter(|a| {
            !(a.starts_with('-')
                && a.len() > 1
                && a.chars()
                    .nth(1)
                    .is_some_and(|c| c.is_ascii_alphabetic() && c != 'x' && c != 'w' && c != 'r'))
        })
        .collect();
    let Some((mode, files)) = positional.split_first() else {
        ctx.eprint("chmod: missing operand\n");
        return 1;
    };
    let mut status = 0;
    for f in files {
        let p = ctx.path(f);
        let Some(node) = ctx.shell.fs.get(&p).map(|n| n.into_owned()) else {
            ctx.eprint(&format!(
                "chmod: cannot access '{f}': No such file or directory\n"
            ));
            status = 1;
            continue;
        };
        let new = if let Ok(m) = u32::from_str_radix(mode, 8) {
            m
        } else {
            let mut m = node.mode;
            for clause in mode.split(',') {
                let who_len = clause.chars().take_while(|c| "ugoa".contains(*c)).count();
                let (who, rest) = clause.split_at(who_len);
                let mut mask = 0;
                for c in if who.is_empty() {
                    "a".chars()
                } else {
                    who.chars()
                } {
                    mask |= match c {
                        'u' => 0o700,
                        'g' => 0o070,
                        'o' => 0o007,
                        _ => 0o777,
                    };
                }
                let Some(op) = rest.chars().next() else {
                    continue;
                };
                let mut bits = 0;
                // After the operator, which may be any character an attacker typed.
                for c in rest[op.len_utf8()..].chars() {
                    bits |= match c {
                        'r' => 0o444,
                        'w' => 0o222,
                        'x' => 0o111,
                        _ => 0,
                    };
                }
                bits &= mask;
                match op {
                    '+' => m |= bits,
                    '-' => m &= !bits,
                    '=' => m = (m & !mask) | bits,
                    _ => {}
                }
            }
            m
        };
        if ctx.shell.fs.chmod(&p, new).is_err() {
            status = 1;
        }
    }
    status
}

fn cp_mv(ctx: &mut Ctx<'_, '_>, op: &str, args: &[String]) -> i32 {
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if names.len() < 2 {
        ctx.eprint(&format!("{op}: missing destination file operand\n"));
        return 1;
    }
    let (uid, now) = (ctx.shell.uid, ctx.shell.origin.now);
    let to = ctx.path(names[names.len() - 1]);
    let mut status = 0;
    for from_name in &names[..names.len() - 1] {
        let from = ctx.path(from_name);
        let result = ctx.shell.fs.copy(&from, &to, uid, now);
        match result {
            Ok(()) => {
                if op == "mv" {
                    let _ = ctx.shell.fs.remove(&from, true, true);
                }
            }
            Err(FsError::IsDir) if op == "mv" || op == "ln" => {}
            Err(e) => {
                ctx.eprint(&format!("{op}: cannot stat '{from_name}': {}\n", e.text()));
                status = 1;
            }
        }
    }
    status
}

fn dd(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let mut input: Option<String> = None;
    let mut bs = 512usize;
    let mut count: Option<usize> = None;
    for a in args {
        if let Some((k, v)) = a.split_once('=') {
            match k {
                "if" => input = Some(v.to_owned()),
                "bs" => bs = v.parse().unwrap_or(512).min(1 << 20),
                "count" => count = v.parse().ok(),
                _ => {}
            }
        }
    }
    let data = match input {
        Some(f) => {
            let p = ctx.path(&f);
            match ctx.shell.fs.read(&p) {
                Ok(d) => d.to_vec(),
                Err(e) => {
                    ctx.eprint(&format!("dd: failed to open '{f}': {}\n", e.text()));
                    return 1;
                }
            }
        }
        None => ctx.stdin.to_vec(),
    };
    let n = count.map_or(data.len(), |c| (c.saturating_mul(bs)).min(data.len()));
    ctx.out.extend_from_slice(&data[..n]);
    let blocks = n / bs.max(1);
    let partial = usize::from(!n.is_multiple_of(bs.max(1)));
    let copied = match ctx.shell.profile {
        super::Profile::Bash => format!("{n} bytes copied, 0.000112 s, 464 kB/s"),
        super::Profile::Busybox => format!("{n} bytes ({n}B) copied, 0.000112 seconds, 464.0KB/s"),
    };
    ctx.eprint(&format!(
        "{blocks}+{partial} records in\n{blocks}+{partial} records out\n{copied}\n"
    ));
    0
}

fn test(ctx: &mut Ctx<'_, '_>, name: &str, args: &[String]) -> i32 {
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    if name == "[" {
        if args.last() != Some(&"]") {
            let sh = ctx.shell.name();
            ctx.eprint(&format!("{sh}: [: missing `]'\n"));
            return 2;
        }
        args.pop();
    }
    let (negate, args) = match args.split_first() {
        Some((&"!", rest)) => (true, rest.to_vec()),
        _ => (false, args),
    };
    let result = match args.as_slice() {
        [] => false,
        [s] => !s.is_empty(),
        [op, file] if op.starts_with('-') => {
            let p = ctx.path(file);
            let node = ctx.shell.fs.get(&p);
            match *op {
                "-e" | "-r" | "-w" => node.is_some(),
                "-f" => node.is_some_and(|n| !n.is_dir()),
                "-d" => node.is_some_and(|n| n.is_dir()),
                "-x" => node.is_some_and(|n| n.mode & 0o111 != 0),
                "-s" => node.is_some_and(|n| n.size() > 0),
                "-z" => file.is_empty(),
                "-n" => !file.is_empty(),
                _ => false,
            }
        }
        [a, op, b] => match *op {
            "=" | "==" => a == b,
            "!=" => a != b,
            "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge" => {
                let (x, y) = (a.parse::<i64>().unwrap_or(0), b.parse::<i64>().unwrap_or(0));
                match *op {
                    "-eq" => x == y,
                    "-ne" => x != y,
                    "-lt" => x < y,
                    "-le" => x <= y,
                    "-gt" => x > y,
                    _ => x >= y,
                }
            }
            _ => false,
        },
        _ => false,
    };
    i32::from(result == negate)
}

/// Pretends to fetch: records the URL, prints a believable transfer, writes a fake
/// file. Nothing leaves the machine.
fn download(ctx: &mut Ctx<'_, '_>, tool: &'static str, args: &[String]) -> i32 {
    let mut url: Option<String> = None;
    let mut outfile: Option<String> = None;
    let mut quiet = false;
    let mut remote_name = false;
    let mut i = 0;
    // tftp/ftpget positional forms.
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    while i < args.len() {
        let a = &args[i];
        match a.as_str() {
            "-O" | "-o" | "--output" | "--output-document" if tool == "wget" || tool == "curl" => {
                if tool == "curl" && a == "-O" {
                    remote_name = true;
                } else {
                    outfile = args.get(i + 1).cloned();
                    i += 1;
                }
            }
            "-q" | "-s" | "--quiet" | "--silent" | "-sS" | "-fsSL" | "-fsS" | "-sL" | "-qO-" => {
                quiet = true;
                if a == "-qO-" {
                    outfile = Some("-".into());
                }
            }
            "-r" | "-l" if tool == "tftp" => {
                if let Some(v) = args.get(i + 1) {
                    outfile.get_or_insert_with(|| v.clone());
                    url = Some(v.clone());
                }
                i += 1;
            }
            "-g" | "-c" | "get" if tool == "tftp" => {}
            _ if a.starts_with("-O") && tool == "wget" && a.len() > 2 => {
                outfile = Some(a[2..].to_owned())
            }
            _ if a.contains("://")
                || (tool == "wget" || tool == "curl") && !a.starts_with('-') && url.is_none() =>
            {
                url = Some(a.clone())
            }
            _ => {}
        }
        i += 1;
    }
    if (tool == "tftp" || tool == "ftpget") && positional.is_empty() {
        // BusyBox without its operands: the usage text, nothing fetched.
        let usage = if tool == "tftp" {
            "Usage: tftp [OPTIONS] HOST [PORT]\n\nTransfer a file from/to tftp server\n\n\t-l FILE\tLocal FILE\n\t-r FILE\tRemote FILE\n\t-g\tGet file\n\t-p\tPut file\n\t-b SIZE\tTransfer blocks of SIZE octets\n"
        } else {
            "Usage: ftpget [OPTIONS] HOST [LOCAL_FILE] REMOTE_FILE\n\nDownload a file via FTP\n\n\t-c\tContinue previous transfer\n\t-v\tVerbose\n\t-u USER\tUsername\n\t-p PASS\tPassword\n\t-P PORT\n"
        };
        let version = busybox_version_line(&ctx.shell.world.persona);
        ctx.eprint(&version);
        ctx.eprint("\n");
        ctx.eprint(usage);
        return 1;
    }
    let url = match tool {
        "tftp" => {
            let host = positional
                .iter()
                .find(|a| {
                    a.contains('.')
                        && a.chars()
                            .all(|c| c.is_ascii_digit() || c == '.' || c == ':')
                })
                .map(|s| s.as_str())
                .unwrap_or("");
            let file = url
                .clone()
                .or_else(|| {
                    positional
                        .iter()
                        .rev()
                        .find(|a| *a != &host && a.as_str() != "get")
                        .map(|s| (*s).clone())
                })
                .unwrap_or_default();
            format!("tftp://{host}/{}", file.trim_start_matches('/'))
        }
        "ftpget" => {
            // ftpget [options] HOST LOCAL REMOTE
            let host = positional.first().map_or("", |s| s.as_str());
            let remote = positional.get(2).map_or("", |s| s.as_str());
            outfile = positional.get(1).map(|s| (*s).clone());
            format!("ftp://{host}/{}", remote.trim_start_matches('/'))
        }
        _ => match url {
            Some(u) if u.contains("://") => u,
            Some(u) => format!("http://{u}"),
            None if tool == "wget" && ctx.shell.profile == super::Profile::Busybox => {
                let version = busybox_version_line(&ctx.shell.world.persona);
                ctx.eprint(&version);
                ctx.eprint("\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header 'HEADER: VALUE'] [-Y on/off]\n\t[--no-check-certificate] [-P DIR] [-U AGENT] [-T SEC] URL...\n\nRetrieve files via HTTP or FTP\n");
                return 1;
            }
            None => {
                let msg = if tool == "wget" {
                    "wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n"
                } else {
                    "curl: try 'curl --help' or 'curl --manual' for more information\n"
                };
                ctx.eprint(msg);
                return if tool == "wget" { 1 } else { 2 };
            }
        },
    };
    let url: String = url.chars().take(2048).collect();
    let name = {
        let tail = url
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("");
        if tail.is_empty() || url.trim_end_matches('/').matches('/').count() < 3 {
            "index.html".to_owned()
        } else {
            tail.to_owned()
        }
    };
    let target = match (&outfile, tool) {
        (Some(o), _) => o.clone(),
        (None, "curl") if !remote_name => "-".into(),
        _ => name.clone(),
    };
    // Deterministic fake size and contents from the URL.
    let hash = url.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    let size = 8_192 + (hash % 32_768) as usize;
    let body: Vec<u8> = if name.ends_with(".sh") {
        let mut b = b"#!/bin/sh\n".to_vec();
        b.resize(size, b'#');
        b
    } else {
        ctx.shell
            .world
            .persona
            .elf_header()
            .iter()
            .copied()
            .cycle()
            .take(size)
            .collect()
    };
    ctx.shell.actions.push(Action::Download {
        tool,
        url: url.clone(),
        outfile: if target == "-" {
            String::new()
        } else {
            target.clone()
        },
    });
    let (host, port) = url_host_port(&url);
    let ip = if host.chars().all(|c| c.is_ascii_digit() || c == '.') {
        host.clone()
    } else {
        format!("203.0.113.{}", hash % 250 + 2)
    };
    if target == "-" {
        if tool == "curl" && body.starts_with(b"#!") {
            ctx.out.extend_from_slice(b"#!/bin/sh\n");
        }
    } else {
        let p = ctx.path(&target);
        let (uid, now) = (ctx.shell.uid, ctx.shell.origin.now);
        if let Err(e) = ctx.shell.fs.write(&p, &body, false, uid, now) {
            ctx.eprint(&format!("{target}: {}\n", e.text()));
            return 1;
        }
        ctx.shell.fs.forget_written(&p);
    }
    if quiet {
        return 0;
    }
    let now = date_iso(ctx.shell.now());
    match tool {
        // BusyBox's applet (the camera's `wget` and `busybox wget`), whose
        // lines Mirai-like loaders read.
        "wget" if ctx.shell.profile == super::Profile::Busybox => {
            let text = busybox_wget_progress(&url, &host, &ip, port, &target, size);
            ctx.eprint(&text);
        }
        "wget" => {
            let resolving = if ip == host {
                String::new()
            } else {
                format!("Resolving {host} ({host})... {ip}\n")
            };
            let shown = if target == "-" {
                "STDOUT".to_owned()
            } else {
                format!("‘{target}’")
            };
            ctx.eprint(&format!(
                "--{now}--  {url}\n{resolving}Connecting to {host} ({host})|{ip}|:{port}... connected.\nHTTP request sent, awaiting response... 200 OK\nLength: {size} ({:.1}K) [application/octet-stream]\nSaving to: {shown}\n\n{:<20}100%[===================>] {:>7.2}K  --.-KB/s    in 0.02s   \n\n{now} (1.21 MB/s) - {shown} saved [{size}/{size}]\n\n",
                size as f64 / 1024.0,
                if target == "-" { "-" } else { target.as_str() },
                size as f64 / 1024.0
            ));
        }
        "curl" if target != "-" => {
            ctx.eprint(&format!("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n100 {:>5}  100 {:>5}    0     0   512k      0 --:--:-- --:--:-- --:--:--  512k\n", size, size));
        }
        "ftpget" => {
            ctx.eprint(&format!("Connecting to {host} ({ip}:{port})\n"));
        }
        _ => {}
    }
    0
}

/// The host and port a URL names: the port after the host, else the scheme's
/// (`http://h:8080/x` is port 8080, `https://h/` 443, `ftp://h/` 21).
fn url_host_port(url: &str) -> (String, u16) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Credentials (`user:pass@host`) are not the host.
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let default = match scheme.to_ascii_lowercase().as_str() {
        "https" => 443,
        "ftp" => 21,
        "tftp" => 69,
        _ => 80,
    };
    // `[::1]:8080`: the port follows the bracket.
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':')),
            None => (v6, None),
        },
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let port = port.and_then(|p| p.parse::<u16>().ok()).unwrap_or(default);
    (host.to_owned(), port)
}

/// BusyBox 1.24 wget's output for a finished download: where it connected
/// (the host as the URL has it, with its port, and the address) and its
/// progress bar at 100 % (the file, or `-` for stdout).
fn busybox_wget_progress(
    url: &str,
    host: &str,
    ip: &str,
    port: u16,
    target: &str,
    size: usize,
) -> String {
    // BusyBox shows the URL's host part as typed: `h:8080`, or `h`.
    let shown_host = if url_host_port_explicit(url) {
        format!("{host}:{port}")
    } else {
        host.to_owned()
    };
    let name = if target == "-" { "-" } else { basename(target) };
    let name: String = name.chars().take(20).collect();
    // Sizes of 100,000 and more are shown in KiB with a `k`.
    let (shown, unit) = if size >= 100_000 {
        (size >> 10, 'k')
    } else {
        (size, ' ')
    };
    format!(
        "Connecting to {shown_host} ({ip}:{port})\n{name:<20} 100% |{}|{shown:>6}{unit}  0:00:00 ETA\n",
        "*".repeat(31)
    )
}

/// Whether the URL names its port.
fn url_host_port_explicit(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match authority.rsplit_once(']') {
        Some((_, tail)) => tail.starts_with(':'),
        None => authority.contains(':'),
    }
}

fn server_ip(shell: &Shell) -> String {
    let ip = &shell.origin.server_ip;
    if ip.is_empty() || ip.starts_with("127.") || ip == "0.0.0.0" || ip == "::1" || ip.contains(':')
    {
        "10.0.2.15".into()
    } else {
        ip.clone()
    }
}

/// Days since the epoch to (year, month, day) (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

fn parts(t: u64) -> (i64, u32, u32, u64, u64, u64, &'static str) {
    let days = (t / 86_400) as i64;
    let (y, m, d) = civil(days);
    let s = t % 86_400;
    (
        y,
        m,
        d,
        s / 3600,
        s / 60 % 60,
        s % 60,
        DAYS[(days % 7) as usize],
    )
}

/// `date`'s format: `Fri Nov 29 08:02:11 UTC 2024`.
pub fn date_string(t: u64) -> String {
    let (y, m, d, hh, mm, ss, wd) = parts(t);
    format!(
        "{wd} {} {d:>2} {hh:02}:{mm:02}:{ss:02} UTC {y}",
        MONTHS[(m - 1) as usize]
    )
}

fn date_iso(t: u64) -> String {
    let (y, m, d, hh, mm, ss, _) = parts(t);
    format!("{y}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
}

fn date_short(t: u64) -> String {
    let (y, m, d, hh, mm, _, _) = parts(t);
    format!("{y}-{m:02}-{d:02} {hh:02}:{mm:02}")
}

fn hhmm(t: u64) -> String {
    let (_, _, _, hh, mm, _, _) = parts(t);
    format!("{hh:02}:{mm:02}")
}

fn ls_date(t: u64) -> String {
    let (_, m, d, hh, mm, _, _) = parts(t);
    format!("{} {d:>2} {hh:02}:{mm:02}", MONTHS[(m - 1) as usize])
}

/// `uptime`'s line of the moment, in the format of the machine's `uptime`
/// (procps on Debian, BusyBox's applet on the camera), from the one boot time
/// of the persona ([`Persona::boot_time`]), so it advances with the clock.
fn uptime_line(shell: &Shell) -> String {
    let now = shell.now();
    let up = now.saturating_sub(shell.world.persona.boot_time(now));
    let (_, _, _, hh, mm, ss, _) = parts(now);
    let days = up / 86_400;
    let (hours, minutes) = (up / 3_600 % 24, up / 60 % 60);
    let mut line = format!(" {hh:02}:{mm:02}:{ss:02} up ");
    match shell.profile {
        super::Profile::Bash => {
            if days > 0 {
                let unit = if days > 1 { "days" } else { "day" };
                line.push_str(&format!("{days} {unit}, "));
            }
            if hours > 0 {
                line.push_str(&format!("{hours:2}:{minutes:02}, "));
            } else {
                line.push_str(&format!("{minutes} min, "));
            }
            line.push_str(" 1 user,  load average: 0.08, 0.03, 0.01");
        }
        // BusyBox 1.24's applet, built without utmp (the camera keeps none):
        // no user count; its load is `top`'s.
        super::Profile::Busybox => {
            if days > 0 {
                let plural = if days != 1 { "s" } else { "" };
                line.push_str(&format!("{days} day{plural}, "));
            }
            if hours > 0 {
                line.push_str(&format!("{hours:2}:{minutes:02}"));
            } else {
                line.push_str(&format!("{minutes} min"));
            }
            line.push_str(",  load average: 0.41, 0.37, 0.35");
        }
    }
    line
}

/// `uptime` with its arguments: procps's `-s` (the boot time) and `-p` (pretty)
/// on Debian; BusyBox's applet has no options and prints its line.
fn uptime_text(shell: &Shell, args: &[String]) -> String {
    let now = shell.now();
    let boot = shell.world.persona.boot_time(now);
    let bash = shell.profile == super::Profile::Bash;
    match args.first().map(String::as_str) {
        Some("-s" | "--since") if bash => strftime("%Y-%m-%d %H:%M:%S", boot),
        Some("-p" | "--pretty") if bash => pretty_uptime(now.saturating_sub(boot)),
        _ => uptime_line(shell),
    }
}

/// procps's `uptime -p`: `up 4 weeks, 5 days, 14 hours, 48 minutes`.
fn pretty_uptime(up: u64) -> String {
    let parts = [
        (up / 604_800, "week"),
        (up / 86_400 % 7, "day"),
        (up / 3_600 % 24, "hour"),
        (up / 60 % 60, "minute"),
    ];
    let shown: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    format!("up {}", shown.join(", "))
}

/// The first option letter BusyBox's `hostname` (`-s -i -d -f -F`) does not
/// have, in its first argument.
fn busybox_hostname_bad_option(args: &[String]) -> Option<char> {
    let first = args.first()?.strip_prefix('-')?;
    first.chars().find(|c| !"sidfF".contains(*c))
}

/// `w`: procps's, with the session; BusyBox's (`who -H` of an empty utmp: the
/// camera keeps none) only its header.
fn w(shell: &Shell) -> String {
    if shell.profile == super::Profile::Busybox {
        return "USER\t\tTTY\t\tIDLE\tTIME\t\t HOST\n".into();
    }
    let (user, ip) = (&shell.user, &shell.origin.client_ip);
    format!(
        "{}\nUSER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n{user:<8} pts/0    {ip:<16} {}    0.00s  0.02s  0.00s w\n",
        uptime_line(shell),
        hhmm(shell.origin.now)
    )
}

/// `last` (util-linux): this session, the admin's previous one (the MOTD's
/// "Last login"), the boot, all on the persona's one clock.
fn last(shell: &Shell) -> String {
    let persona = &shell.world.persona;
    let now = shell.now();
    let boot = persona.boot_time(now);
    let before = persona.previous_login(now);
    let user: String = shell.user.chars().take(8).collect();
    let ip: String = shell.origin.client_ip.chars().take(16).collect();
    let previous_ip = super::last_login_ip(&shell.origin.client_ip);
    let kernel = persona.kernel_release();
    let ended = before.saturating_add(persona::LAST_SESSION_SECS);
    let lasted = persona::LAST_SESSION_SECS;
    format!(
        "{user:<8} pts/0        {ip:<16} {}   still logged in\n\
{user:<8} pts/0        {previous_ip:<16} {} - {}  ({:02}:{:02})\n\
reboot   system boot  {kernel:<16} {}   still running\n\nwtmp begins {}\n",
        last_time(shell.origin.now),
        last_time(before),
        hhmm(ended),
        lasted / 3_600,
        lasted / 60 % 60,
        last_time(boot),
        ctime(boot),
    )
}

/// `crontab`: `-l` shows what this session installed (kept in the fake
/// filesystem where cron keeps it, so `cat` agrees), `-r` removes it, `-` or a
/// file installs one. Nothing is ever scheduled.
fn crontab(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let busybox = ctx.shell.profile == super::Profile::Busybox;
    let user = ctx.shell.user.clone();
    let dir = "/var/spool/cron/crontabs";
    let path = format!("{dir}/{user}");
    if args.iter().any(|a| a == "-l") {
        if let Ok(data) = ctx.shell.fs.read(&path) {
            ctx.out.extend_from_slice(&data);
            return 0;
        }
        let msg = match (busybox, ctx.shell.fs.get(dir).is_some()) {
            (false, _) => format!("no crontab for {user}\n"),
            (true, true) => format!("crontab: can't open '{user}': No such file or directory\n"),
            (true, false) => {
                format!("crontab: can't change directory to '{dir}': No such file or directory\n")
            }
        };
        ctx.eprint(&msg);
        return 1;
    }
    if args.iter().any(|a| a == "-r") {
        if ctx.shell.fs.remove(&path, false, false).is_err() && !busybox {
            ctx.eprint(&format!("no crontab for {user}\n"));
            return 1;
        }
        return 0;
    }
    // The file operand: `-` or a name, not `-u USER`'s user.
    let user_at = args.iter().position(|a| a == "-u").map(|i| i + 1);
    let file = args
        .iter()
        .enumerate()
        .find(|(i, a)| Some(*i) != user_at && (!a.starts_with('-') || *a == "-"))
        .map(|(_, a)| a);
    let data = match file.map(String::as_str) {
        None | Some("-") => ctx.stdin.to_vec(),
        Some(name) => {
            let p = ctx.path(name);
            match ctx.shell.fs.read(&p) {
                Ok(d) => d.to_vec(),
                Err(e) => {
                    ctx.eprint(&format!("{name}: {}\n", e.text()));
                    return 1;
                }
            }
        }
    };
    let (uid, now) = (ctx.shell.uid, ctx.shell.origin.now);
    if let Err(e) = ctx.shell.fs.write(&path, &data, false, uid, now) {
        ctx.eprint(&format!("crontab: {path}: {}\n", e.text()));
        return 1;
    }
    0
}

/// `date` with its arguments: `+FORMAT`, `-R`, `-I` and `-u` as both Debian's
/// and BusyBox's `date` print them (the default format is the same for both).
fn date(ctx: &mut Ctx<'_, '_>, args: &[String]) -> i32 {
    let now = ctx.shell.now();
    let mut text = date_string(now);
    for a in args {
        match a.as_str() {
            "-u" | "--utc" => {}
            "-R" | "--rfc-email" => text = strftime("%a, %d %b %Y %H:%M:%S +0000", now),
            "-I" | "--iso-8601" => text = strftime("%Y-%m-%d", now),
            _ if a.starts_with('+') => text = strftime(&a[1..], now),
            _ => {}
        }
    }
    ctx.print(&text);
    ctx.print("\n");
    0
}

/// The `strftime` conversions scripts use (C locale, UTC); others are kept as
/// typed. Bounded by the format's length, which the shell bounds.
pub(super) fn strftime(format: &str, t: u64) -> String {
    let (y, m, d, hh, mm, ss, wd) = parts(t);
    let month = MONTHS[(m - 1) as usize];
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let piece = match chars.next() {
            Some('a') => wd.to_owned(),
            Some('b' | 'h') => month.to_owned(),
            Some('d') => format!("{d:02}"),
            Some('e') => format!("{d:>2}"),
            Some('m') => format!("{m:02}"),
            Some('Y') => y.to_string(),
            Some('y') => format!("{:02}", y.rem_euclid(100)),
            Some('H') => format!("{hh:02}"),
            Some('M') => format!("{mm:02}"),
            Some('S') => format!("{ss:02}"),
            Some('s') => t.to_string(),
            Some('T') => format!("{hh:02}:{mm:02}:{ss:02}"),
            Some('R') => format!("{hh:02}:{mm:02}"),
            Some('D') => format!("{m:02}/{d:02}/{:02}", y.rem_euclid(100)),
            Some('F') => format!("{y}-{m:02}-{d:02}"),
            Some('Z') => "UTC".to_owned(),
            Some('z') => "+0000".to_owned(),
            Some('n') => "\n".to_owned(),
            Some('t') => "\t".to_owned(),
            Some('%') => "%".to_owned(),
            Some(other) => format!("%{other}"),
            None => "%".to_owned(),
        };
        out.push_str(&piece);
    }
    out
}

/// `ctime`'s format without its newline: `Fri Nov 29 08:02:11 2024` (the
/// MOTD's "Last login", `last`'s "wtmp begins").
pub fn ctime(t: u64) -> String {
    strftime("%a %b %e %H:%M:%S %Y", t)
}

/// `last`'s time of a login: `Fri Nov 29 08:02`.
fn last_time(t: u64) -> String {
    strftime("%a %b %e %H:%M", t)
}

/// `ps`'s START of a process started at `t`, seen at `now`: the time that
/// day, else month and day, else the year (procps).
pub fn ps_start(t: u64, now: u64) -> String {
    if now.saturating_sub(t) < 86_400 {
        strftime("%H:%M", t)
    } else if parts(t).0 == parts(now).0 {
        strftime("%b%d", t)
    } else {
        strftime("%Y", t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_regexes() {
        assert_eq!(date_string(1_732_871_331), "Fri Nov 29 09:08:51 UTC 2024");
        assert!(regex_match("^processor", "processor\t: 0", false));
        assert!(!regex_match("^rocessor", "processor", false));
        assert!(regex_match("model.*name", "model name\t: x", false));
        assert!(regex_match("Mem", "Mem:  1", false));
        assert!(regex_match("0$", "abc0", false));
        assert!(regex_match("[0-9]", "ab7", false));
        assert!(regex_match("NAME", "name", true));
        // No exponential blow-up.
        let long = "a".repeat(8_000);
        assert!(regex_match(&".*".repeat(50), &long, false));
        assert!(!regex_match("a*a*a*a*a*a*a*a*c", &long, false));
    }
}
