//! The IP camera behind the Telnet honeypot's `busybox` profile: one core
//! ([`Arch`]: ARMv7 by default, or little-endian MIPS), ~58 MiB of RAM for Linux,
//! a read-only squashfs root with tmpfs /var and /tmp and a writable jffs2
//! /mnt/mtd, BusyBox 1.24 with every command a link to `/bin/busybox`, and
//! 32-bit ELF binaries of its processor. This is what Mirai-like loaders expect
//! behind BusyBox telnetd, and what they read before picking a build.

use super::device_arch::Arch;
use super::{Persona, TreeDir, TreeFile};

/// Memory the kernel reports (the rest of the DDR is the media pool).
pub const MEM_KIB: u64 = 59_492;

/// The multi-call binary every applet links to.
pub const BUSYBOX: &str = "/bin/busybox";
/// The BusyBox build, as its banners show it.
pub const BUSYBOX_VERSION: &str = "v1.24.1 (2019-11-28 10:21:44 CST)";

/// `$PATH` of a login (BusyBox's default).
pub const DEFAULT_PATH: &str = "/bin:/sbin:/usr/bin:/usr/sbin";

/// Every executable: (directory, name). `/bin/busybox` and the vendor's
/// [`OWN_BINARIES`] are files; the others are links to BusyBox, installed where
/// `busybox --install` puts them.
pub const BINS: &[(&str, &str)] = &[
    ("/bin", "arch"),
    ("/bin", "ash"),
    ("/bin", "busybox"),
    ("/bin", "cat"),
    ("/bin", "chattr"),
    ("/bin", "chgrp"),
    ("/bin", "chmod"),
    ("/bin", "chown"),
    ("/bin", "cp"),
    ("/bin", "date"),
    ("/bin", "dd"),
    ("/bin", "df"),
    ("/bin", "dmesg"),
    ("/bin", "echo"),
    ("/bin", "egrep"),
    ("/bin", "false"),
    ("/bin", "fgrep"),
    ("/bin", "grep"),
    ("/bin", "gunzip"),
    ("/bin", "gzip"),
    ("/bin", "hostname"),
    ("/bin", "kill"),
    ("/bin", "ln"),
    ("/bin", "lsattr"),
    ("/bin", "ls"),
    ("/bin", "mkdir"),
    ("/bin", "mount"),
    ("/bin", "mv"),
    ("/bin", "netstat"),
    ("/bin", "nice"),
    ("/bin", "printenv"),
    ("/bin", "ps"),
    ("/bin", "pwd"),
    ("/bin", "rm"),
    ("/bin", "rmdir"),
    ("/bin", "sed"),
    ("/bin", "sh"),
    ("/bin", "sleep"),
    ("/bin", "stat"),
    ("/bin", "stty"),
    ("/bin", "su"),
    ("/bin", "sync"),
    ("/bin", "tar"),
    ("/bin", "touch"),
    ("/bin", "true"),
    ("/bin", "uname"),
    ("/bin", "usleep"),
    ("/sbin", "halt"),
    ("/sbin", "ifconfig"),
    ("/sbin", "ip"),
    ("/sbin", "modprobe"),
    ("/sbin", "poweroff"),
    ("/sbin", "reboot"),
    ("/sbin", "sysctl"),
    ("/usr/bin", "["),
    ("/usr/bin", "awk"),
    ("/usr/bin", "base64"),
    ("/usr/bin", "clear"),
    ("/usr/bin", "crontab"),
    ("/usr/bin", "curl"),
    ("/usr/bin", "cut"),
    ("/usr/bin", "env"),
    ("/usr/bin", "find"),
    ("/usr/bin", "free"),
    ("/usr/bin", "ftpget"),
    ("/usr/bin", "groups"),
    ("/usr/bin", "head"),
    ("/usr/bin", "hexdump"),
    ("/usr/bin", "id"),
    ("/usr/bin", "killall"),
    ("/usr/bin", "md5sum"),
    ("/usr/bin", "nohup"),
    ("/usr/bin", "nproc"),
    ("/usr/bin", "od"),
    ("/usr/bin", "passwd"),
    ("/usr/bin", "pkill"),
    ("/usr/bin", "reset"),
    ("/usr/bin", "setsid"),
    ("/usr/bin", "sha256sum"),
    ("/usr/bin", "sort"),
    ("/usr/bin", "tail"),
    ("/usr/bin", "tee"),
    ("/usr/bin", "test"),
    ("/usr/bin", "tftp"),
    ("/usr/bin", "timeout"),
    ("/usr/bin", "top"),
    ("/usr/bin", "tr"),
    ("/usr/bin", "uniq"),
    ("/usr/bin", "uptime"),
    ("/usr/bin", "users"),
    ("/usr/bin", "w"),
    ("/usr/bin", "wc"),
    ("/usr/bin", "wget"),
    ("/usr/bin", "which"),
    ("/usr/bin", "who"),
    ("/usr/bin", "whoami"),
    ("/usr/bin", "xargs"),
    ("/usr/bin", "yes"),
    ("/usr/sbin", "chpasswd"),
    ("/usr/sbin", "iptables"),
];

/// Builtins of BusyBox's ash, and the router command-line words Mirai-like bots
/// type to reach a shell, which the camera's login shell accepts.
pub const BUILTINS: &[&str] = &[
    ".",
    ":",
    "[",
    "alias",
    "bg",
    "break",
    "cd",
    "chdir",
    "command",
    "continue",
    "echo",
    "eval",
    "exec",
    "exit",
    "export",
    "false",
    "fg",
    "getopts",
    "hash",
    "help",
    "history",
    "jobs",
    "kill",
    "let",
    "local",
    "printf",
    "pwd",
    "read",
    "readonly",
    "return",
    "set",
    "shift",
    "source",
    "test",
    "times",
    "trap",
    "true",
    "type",
    "ulimit",
    "umask",
    "unalias",
    "unset",
    "wait",
    "logout",
    "enable",
    "system",
    "shell",
    "linuxshell",
    "start-shell",
    "development",
];

/// Executables of [`BINS`] that are their own file: BusyBox, and what the
/// vendor ships besides it, as on many current cameras: curl for its cloud
/// service (so `wget ... || curl ...` droppers and `curl -O` lines find it) and
/// iptables for its firewall.
pub const OWN_BINARIES: &[&str] = &["busybox", "curl", "iptables"];

/// The applets `busybox` lists: the names of [`BINS`] but [`OWN_BINARIES`],
/// sorted (a unit test keeps the two in step).
pub const APPLETS: &[&str] = &[
    "[",
    "arch",
    "ash",
    "awk",
    "base64",
    "cat",
    "chattr",
    "chgrp",
    "chmod",
    "chown",
    "chpasswd",
    "clear",
    "cp",
    "crontab",
    "cut",
    "date",
    "dd",
    "df",
    "dmesg",
    "echo",
    "egrep",
    "env",
    "false",
    "fgrep",
    "find",
    "free",
    "ftpget",
    "grep",
    "groups",
    "gunzip",
    "gzip",
    "halt",
    "head",
    "hexdump",
    "hostname",
    "id",
    "ifconfig",
    "ip",
    "kill",
    "killall",
    "ln",
    "ls",
    "lsattr",
    "md5sum",
    "mkdir",
    "modprobe",
    "mount",
    "mv",
    "netstat",
    "nice",
    "nohup",
    "nproc",
    "od",
    "passwd",
    "pkill",
    "poweroff",
    "printenv",
    "ps",
    "pwd",
    "reboot",
    "reset",
    "rm",
    "rmdir",
    "sed",
    "setsid",
    "sh",
    "sha256sum",
    "sleep",
    "sort",
    "stat",
    "stty",
    "su",
    "sync",
    "sysctl",
    "tail",
    "tar",
    "tee",
    "test",
    "tftp",
    "timeout",
    "top",
    "touch",
    "tr",
    "true",
    "uname",
    "uniq",
    "uptime",
    "users",
    "usleep",
    "w",
    "wc",
    "wget",
    "which",
    "who",
    "whoami",
    "xargs",
    "yes",
];

/// /proc/version.
pub fn proc_version(arch: Arch) -> String {
    format!(
        "Linux version {} (root@ubuntu) ({}) {}\n",
        arch.kernel_release(),
        arch.compiler(),
        arch.kernel_version()
    )
}

/// /proc/mounts: read-only squashfs root, tmpfs /var and /tmp, writable flash.
pub const MOUNTS: &str = "rootfs / rootfs rw 0 0\n/dev/root / squashfs ro,relatime 0 0\n\
devtmpfs /dev devtmpfs rw,relatime,size=29660k,nr_inodes=7415,mode=755 0 0\n\
proc /proc proc rw,relatime 0 0\nsysfs /sys sysfs rw,relatime 0 0\n\
tmpfs /var tmpfs rw,relatime,size=29748k 0 0\ntmpfs /tmp tmpfs rw,relatime,size=29748k 0 0\n\
devpts /dev/pts devpts rw,relatime,mode=600,ptmxmode=000 0 0\n\
/dev/mtdblock4 /mnt/mtd jffs2 rw,relatime 0 0\n";

/// The mounts of [`MOUNTS`] that are writable; the rest is the read-only
/// squashfs.
pub const WRITABLE_MOUNTS: &[&str] = &["/dev", "/var", "/tmp", "/mnt/mtd"];

/// BusyBox `df`, agreeing with [`MOUNTS`].
pub const DF: &str = "Filesystem           1K-blocks      Used Available Use% Mounted on\n\
/dev/root                 7424      7424         0 100% /\n\
devtmpfs                 29660         0     29660   0% /dev\n\
tmpfs                    29748        16     29732   0% /var\n\
tmpfs                    29748       108     29640   0% /tmp\n\
/dev/mtdblock4            5120       568      4552  11% /mnt/mtd\n";

/// BusyBox `df -h`.
pub const DF_HUMAN: &str = "Filesystem                Size      Used Available Use% Mounted on\n\
/dev/root                 7.3M      7.3M         0 100% /\n\
devtmpfs                 29.0M         0     29.0M   0% /dev\n\
tmpfs                    29.1M     16.0K     29.0M   0% /var\n\
tmpfs                    29.1M    108.0K     28.9M   0% /tmp\n\
/dev/mtdblock4            5.0M    568.0K      4.4M  11% /mnt/mtd\n";

/// The camera's listening services: its web UI, RTSP, the vendor's DVR port
/// and telnetd.
pub const NETSTAT: &str = "Active Internet connections (only servers)\n\
Proto Recv-Q Send-Q Local Address           Foreign Address         State       \n\
tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      \n\
tcp        0      0 0.0.0.0:554             0.0.0.0:*               LISTEN      \n\
tcp        0      0 0.0.0.0:34567           0.0.0.0:*               LISTEN      \n\
tcp        0      0 0.0.0.0:23              0.0.0.0:*               LISTEN      \n";

/// The processes: (pid, ppid, user, vsz KiB, stat, command); the session's
/// shell and `ps` are added after them.
const PROCESSES: &[(u32, u32, &str, u32, &str, &str)] = &[
    (1, 0, "root", 1580, "S", "init"),
    (2, 0, "root", 0, "SW", "[kthreadd]"),
    (3, 2, "root", 0, "SW", "[ksoftirqd/0]"),
    (5, 2, "root", 0, "SW<", "[kworker/0:0H]"),
    (7, 2, "root", 0, "SW", "[rcu_sched]"),
    (9, 2, "root", 0, "SW", "[migration/0]"),
    (10, 2, "root", 0, "SW<", "[lru-add-drain]"),
    (11, 2, "root", 0, "SW", "[kdevtmpfs]"),
    (168, 2, "root", 0, "SW", "[kswapd0]"),
    (201, 2, "root", 0, "SWN", "[jffs2_gcd_mtd4]"),
    (412, 1, "root", 1576, "S", "telnetd"),
    (
        418,
        1,
        "root",
        1572,
        "S",
        "crond -c /var/spool/cron/crontabs",
    ),
    (431, 1, "root", 2044, "S", "boa -c /etc/boa"),
    (512, 1, "root", 41236, "S", "/mnt/mtd/app/ipc_server"),
    (
        538,
        1,
        "root",
        1576,
        "S",
        "udhcpc -i eth0 -b -p /var/run/udhcpc.pid",
    ),
];

/// BusyBox `ps` (PID USER VSZ STAT COMMAND) for a session of `user`.
pub fn ps(view: &super::PsView<'_>) -> String {
    let mut out = String::from("  PID USER       VSZ STAT COMMAND\n");
    let user: String = view.user.chars().take(8).collect();
    let own = [
        (2841, 412, user.as_str(), 1588, "S", "-sh"),
        (2903, 2841, user.as_str(), 1576, "R", "ps"),
    ];
    for (pid, _, owner, vsz, stat, cmd) in PROCESSES.iter().copied().chain(own) {
        out.push_str(&format!("{pid:>5} {owner:<8} {vsz:>5} {stat:<4} {cmd}\n"));
    }
    for (pid, cmd) in (super::FIRST_PEER_PID..).zip(view.peers) {
        out.push_str(&format!(
            "{pid:>5} {user:<8} {:>5} {:<4} {cmd}\n",
            1576, "S"
        ));
    }
    out
}

/// BusyBox `top`, one screen, from the memory figures `v`
/// ([`Persona::free_kib`]).
pub fn top(v: [u64; 6]) -> String {
    let [total, used, free, shared, cache, _] = v;
    let buffers = total * 2 / 100;
    let mut out = format!(
        "Mem: {used}K used, {free}K free, {shared}K shrd, {buffers}K buff, {}K cached\n\
CPU:   1% usr   3% sys   0% nic  95% idle   0% io   0% irq   0% sirq\n\
Load average: 0.41 0.37 0.35 1/61 2903\n  PID  PPID USER     STAT   VSZ %VSZ %CPU COMMAND\n",
        cache - buffers
    );
    for (pid, ppid, owner, vsz, stat, cmd) in PROCESSES.iter().rev().copied() {
        let share = u64::from(vsz) * 100 / total.max(1);
        let cpu = u32::from(pid == 512) * 3;
        out.push_str(&format!(
            "{pid:>5} {ppid:>5} {owner:<8} {stat:<4} {vsz:>5} {share:>3}% {cpu:>3}% {cmd}\n"
        ));
    }
    out
}

/// BusyBox `free` (1.24: buffers and cached columns) with `args` (`-m`, `-k`).
pub fn free(v: [u64; 6], args: &[String]) -> String {
    let div = if args.iter().any(|a| a == "-m") {
        1024
    } else {
        1
    };
    let [total, used, free, shared, cache, _] = v.map(|x| x / div);
    let buffers = v[0] * 2 / 100 / div;
    let cached = cache.saturating_sub(buffers);
    format!(
        "{:>18}{:>11}{:>11}{:>11}{:>11}{:>11}\nMem: {total:>13}{used:>11}{free:>11}{shared:>11}{buffers:>11}{cached:>11}\n\
-/+ buffers/cache:{:>11}{:>11}\nSwap:{:>13}{:>11}{:>11}\n",
        "total",
        "used",
        "free",
        "shared",
        "buffers",
        "cached",
        used.saturating_sub(buffers + cached),
        free + buffers + cached,
        0,
        0,
        0
    )
}

/// BusyBox `ifconfig` with eth0 at `ip` and Ethernet address `mac`.
pub fn ifconfig(ip: &str, mac: &str) -> String {
    let bcast = match ip.rsplit_once('.') {
        Some((net, _)) => format!("{net}.255"),
        None => "0.0.0.0".into(),
    };
    let mac = mac.to_uppercase();
    format!(
        "eth0      Link encap:Ethernet  HWaddr {mac}  \n          inet addr:{ip}  Bcast:{bcast}  Mask:255.255.255.0\n          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\n          RX packets:2214723 errors:0 dropped:0 overruns:0 frame:0\n          TX packets:3816250 errors:0 dropped:0 overruns:0 carrier:0\n          collisions:0 txqueuelen:1000 \n          RX bytes:214336019 (204.4 MiB)  TX bytes:3218411765 (2.9 GiB)\n          Interrupt:38 \n\n\
lo        Link encap:Local Loopback  \n          inet addr:127.0.0.1  Mask:255.0.0.0\n          UP LOOPBACK RUNNING  MTU:65536  Metric:1\n          RX packets:1204 errors:0 dropped:0 overruns:0 frame:0\n          TX packets:1204 errors:0 dropped:0 overruns:0 carrier:0\n          collisions:0 txqueuelen:0 \n          RX bytes:98422 (96.1 KiB)  TX bytes:98422 (96.1 KiB)\n\n"
    )
}

/// /etc/passwd of the firmware, with `users` after it.
pub fn passwd(users: &[String]) -> String {
    let mut out = String::from(
        "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n\
bin:x:2:2:bin:/bin:/bin/false\nsys:x:3:3:sys:/dev:/bin/false\nsync:x:4:100:sync:/bin:/bin/sync\n\
mail:x:8:8:mail:/var/spool/mail:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\n\
operator:x:37:37:Operator:/var:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
    );
    for (i, user) in users.iter().enumerate() {
        let id = 1000 + i;
        out.push_str(&format!(
            "{user}:x:{id}:{id}:Linux User,,,:/home/{user}:/bin/sh\n"
        ));
    }
    out
}

/// Directories of the firmware's tree.
pub const DIRS: &[TreeDir] = &[
    ("/", 0o755),
    ("/bin", 0o755),
    ("/dev", 0o755),
    ("/dev/pts", 0o755),
    ("/dev/shm", 0o1777),
    ("/etc", 0o755),
    ("/etc/init.d", 0o755),
    ("/home", 0o755),
    ("/lib", 0o755),
    ("/mnt", 0o755),
    ("/mnt/mtd", 0o755),
    ("/mnt/mtd/app", 0o755),
    ("/mnt/mtd/Config", 0o755),
    ("/proc", 0o555),
    ("/root", 0o700),
    ("/sbin", 0o755),
    ("/sys", 0o555),
    ("/tmp", 0o1777),
    ("/usr", 0o755),
    ("/usr/bin", 0o755),
    ("/usr/sbin", 0o755),
    ("/var", 0o755),
    ("/var/log", 0o755),
    ("/var/run", 0o755),
    ("/var/spool", 0o755),
    ("/var/spool/cron", 0o755),
    ("/var/spool/cron/crontabs", 0o755),
    ("/var/tmp", 0o1777),
];

/// The firmware's text files.
pub fn files(persona: &Persona) -> Vec<TreeFile> {
    let hostname = &persona.hostname;
    let mut shadow = String::from(
        "root:$1$GdDlZQkd$sgXa7R0t9yV2d4cQ1pWbe.:18262:0:99999:7:::\ndaemon:*:18262:0:99999:7:::\n\
bin:*:18262:0:99999:7:::\nsys:*:18262:0:99999:7:::\nsync:*:18262:0:99999:7:::\n\
mail:*:18262:0:99999:7:::\nwww-data:*:18262:0:99999:7:::\noperator:*:18262:0:99999:7:::\n\
nobody:*:18262:0:99999:7:::\n",
    );
    let mut group = String::from(
        "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\ndisk:x:6:\nwheel:x:10:root\n\
utmp:x:43:\nstaff:x:50:\nwww-data:x:33:\nusers:x:100:\nnogroup:x:65534:\n",
    );
    for user in &persona.users {
        let id = persona.uid(user);
        shadow.push_str(&format!(
            "{user}:$1$Q3kPn8Vb$0uW2x9sYc5eR7tLm1Hq4z/:18262:0:99999:7:::\n"
        ));
        group.push_str(&format!("{user}:x:{id}:\n"));
    }
    let files: Vec<(&str, String, u32)> = vec![
        ("/etc/passwd", persona.passwd(), 0o644),
        ("/etc/shadow", shadow, 0o600),
        ("/etc/group", group, 0o644),
        ("/etc/hostname", format!("{hostname}\n"), 0o644),
        (
            "/etc/hosts",
            format!("127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n"),
            0o644,
        ),
        ("/etc/issue", "Welcome to HiLinux.\n".into(), 0o644),
        ("/etc/shells", "/bin/sh\n/bin/ash\n".into(), 0o644),
        ("/etc/resolv.conf", "nameserver 192.168.1.1\n".into(), 0o644),
        ("/etc/TZ", "CST-8\n".into(), 0o644),
        ("/etc/profile", PROFILE.into(), 0o644),
        ("/etc/inittab", INITTAB.into(), 0o644),
        ("/etc/fstab", FSTAB.into(), 0o644),
        ("/etc/init.d/rcS", RCS.into(), 0o755),
        (
            "/mnt/mtd/Config/network.cfg",
            "DHCP=1\nHOSTNAME=".to_owned() + hostname + "\n",
            0o644,
        ),
        ("/var/log/messages", String::new(), 0o644),
    ];
    files
        .into_iter()
        .map(|(path, text, mode)| (path.to_owned(), text, mode, 0))
        .collect()
}

const PROFILE: &str = "export PATH=/bin:/sbin:/usr/bin:/usr/sbin\nexport PS1='\\w \\$ '\nexport LD_LIBRARY_PATH=/lib:/usr/lib:/mnt/mtd/app/lib\nulimit -s 1024\nalias ll='ls -l'\n";

const INITTAB: &str = "::sysinit:/etc/init.d/rcS\n::respawn:-/bin/sh\n::restart:/sbin/init\n::ctrlaltdel:/sbin/reboot\n::shutdown:/bin/umount -a -r\n";

const FSTAB: &str = "proc\t/proc\tproc\tdefaults\t0\t0\nsysfs\t/sys\tsysfs\tdefaults\t0\t0\ntmpfs\t/var\ttmpfs\tdefaults\t0\t0\ntmpfs\t/tmp\ttmpfs\tdefaults\t0\t0\ndevpts\t/dev/pts\tdevpts\tdefaults\t0\t0\n";

const RCS: &str = "#!/bin/sh\n\nmount -a\nmkdir -p /var/run /var/log /var/spool/cron/crontabs\nmount -t jffs2 /dev/mtdblock4 /mnt/mtd\nhostname -F /etc/hostname\nifconfig lo 127.0.0.1\nudhcpc -i eth0 -b -p /var/run/udhcpc.pid\ntelnetd &\ncrond -c /var/spool/cron/crontabs\nboa -c /etc/boa &\n/mnt/mtd/app/ipc_server &\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applets_are_the_links_in_the_tree() {
        let mut names: Vec<&str> = BINS
            .iter()
            .map(|(_, n)| *n)
            .filter(|n| !OWN_BINARIES.contains(n))
            .collect();
        names.sort_unstable();
        assert_eq!(names, APPLETS);
    }
}
