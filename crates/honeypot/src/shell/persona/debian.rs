//! The Debian 12 x86-64 cloud VM of the SSH honeypot (and of the Telnet
//! honeypot's `debian` profile): its kernel, Xeon CPU, 4 GiB of memory, merged
//! /usr tree, bash, x86-64 ELF binaries and Debian's /etc.

use super::{Persona, TreeDir, TreeFile};

/// `uname -r`.
pub const KERNEL_RELEASE: &str = "6.1.0-28-amd64";
/// `uname -v`.
pub const KERNEL_VERSION: &str = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)";
/// `uname -m`.
pub const MACHINE: &str = "x86_64";
/// The CPU model of a common cloud VM.
pub const CPU_MODEL: &str = "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz";

/// /proc/cpuinfo of `cpus` vCPUs.
pub fn cpuinfo(cpus: u32) -> String {
    let mut out = String::new();
    for i in 0..cpus {
        out.push_str(&format!(
            "processor\t: {i}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 79\n\
model name\t: {CPU_MODEL}\nstepping\t: 1\nmicrocode\t: 0xb000040\ncpu MHz\t\t: 2399.998\n\
cache size\t: 35840 KB\nphysical id\t: 0\nsiblings\t: {n}\ncore id\t\t: {i}\ncpu cores\t: {n}\n\
apicid\t\t: {i}\ninitial apicid\t: {i}\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\n\
wp\t\t: yes\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 \
clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology \
cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt \
tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch \
invpcid_single pti fsgsbase tsc_adjust bmi1 hle avx2 smep bmi2 erms invpcid rtm rdseed adx \
smap xsaveopt arat md_clear\nbugs\t\t: cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass \
l1tf mds swapgs taa itlb_multihit mmio_stale_data\nbogomips\t: 4799.99\nclflush size\t: 64\n\
cache_alignment\t: 64\naddress sizes\t: 46 bits physical, 48 bits virtual\npower management:\n\n",
            n = cpus
        ));
    }
    out
}

/// `lscpu` of `cpus` vCPUs.
pub fn lscpu(cpus: u32) -> String {
    format!(
        "Architecture:            x86_64\n  CPU op-mode(s):        32-bit, 64-bit\n  Address sizes:         46 bits physical, 48 bits virtual\n  Byte Order:            Little Endian\nCPU(s):                  {n}\n  On-line CPU(s) list:   0-{last}\nVendor ID:               GenuineIntel\n  Model name:            {CPU_MODEL}\n    CPU family:          6\n    Model:               79\n    Thread(s) per core:  1\n    Core(s) per socket:  {n}\n    Socket(s):           1\n    Stepping:            1\n    BogoMIPS:            4799.99\nVirtualization features: \n  Hypervisor vendor:     KVM\n  Virtualization type:   full\nCaches (sum of all):     \n  L1d:                   {l1} KiB ({n} instances)\n  L1i:                   {l1} KiB ({n} instances)\n  L2:                    {l2} KiB ({n} instances)\n  L3:                    35 MiB (1 instance)\nNUMA:                    \n  NUMA node(s):          1\n  NUMA node0 CPU(s):     0-{last}\n",
        n = cpus,
        last = cpus.saturating_sub(1),
        l1 = 32 * cpus,
        l2 = 256 * cpus,
    )
}

/// /etc/passwd with `users` after Debian's system accounts.
pub fn passwd(users: &[String]) -> String {
    let mut out = String::from(
        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
bin:x:2:2:bin:/bin:/usr/sbin/nologin\nsys:x:3:3:sys:/dev:/usr/sbin/nologin\n\
sync:x:4:65534:sync:/bin:/bin/sync\ngames:x:5:60:games:/usr/games:/usr/sbin/nologin\n\
man:x:6:12:man:/var/cache/man:/usr/sbin/nologin\nlp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin\n\
mail:x:8:8:mail:/var/mail:/usr/sbin/nologin\nnews:x:9:9:news:/var/spool/news:/usr/sbin/nologin\n\
uucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin\nproxy:x:13:13:proxy:/bin:/usr/sbin/nologin\n\
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nbackup:x:34:34:backup:/var/backups:/usr/sbin/nologin\n\
list:x:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin\nirc:x:39:39:ircd:/run/ircd:/usr/sbin/nologin\n\
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin\n\
messagebus:x:100:107::/nonexistent:/usr/sbin/nologin\nsshd:x:101:65534::/run/sshd:/usr/sbin/nologin\n",
    );
    for (i, user) in users.iter().enumerate() {
        let id = 1000 + i;
        out.push_str(&format!("{user}:x:{id}:{id}:,,,:/home/{user}:/bin/bash\n"));
    }
    out
}
/// `df -h`.
pub const DF_HUMAN: &str = "Filesystem      Size  Used Avail Use% Mounted on\nudev            1.9G     0  1.9G   0% /dev\ntmpfs           394M  572K  393M   1% /run\n/dev/vda1        79G  4.1G   71G   6% /\ntmpfs           2.0G     0  2.0G   0% /dev/shm\ntmpfs           5.0M     0  5.0M   0% /run/lock\n/dev/vda15      124M   12M  113M  10% /boot/efi\ntmpfs           394M     0  394M   0% /run/user/0\n";
/// `df`.
pub const DF: &str = "Filesystem     1K-blocks    Used Available Use% Mounted on\nudev             1995612       0   1995612   0% /dev\ntmpfs             402648     572    402076   1% /run\n/dev/vda1       82486728 4279340  74783704   6% /\ntmpfs            2013224       0   2013224   0% /dev/shm\ntmpfs               5120       0      5120   0% /run/lock\n/dev/vda15        126678   11840    114838  10% /boot/efi\ntmpfs             402644       0    402644   0% /run/user/0\n";

/// /proc/mounts.
pub const MOUNTS: &str = "/dev/vda1 / ext4 rw,relatime,errors=remount-ro 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\nsysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\ntmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=402648k,mode=755 0 0\n";

/// `top`, one screen, headed by the `uptime` line.
pub fn top(uptime: &str) -> String {
    format!(
        "top - {}\nTasks:  96 total,   1 running,  95 sleeping,   0 stopped,   0 zombie\n%Cpu(s):  0.3 us,  0.3 sy,  0.0 ni, 99.3 id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\nMiB Mem :   3932.1 total,   1612.2 free,    942.4 used,   1376.2 buff/cache\nMiB Swap:      0.0 total,      0.0 free,      0.0 used.   3067.0 avail Mem\n\n    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n      1 root      20   0  167820  12800   9472 S   0.0   0.3   0:21.74 systemd\n    611 root      20   0   15432   9164   7936 S   0.0   0.2   0:00.08 sshd\n",
        uptime.trim_start()
    )
}

/// `ifconfig` with eth0 at `ip`.
pub fn ifconfig(ip: &str) -> String {
    format!(
        "eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n        inet {ip}  netmask 255.255.255.0  broadcast 0.0.0.0\n        inet6 fe80::5054:ff:fe3a:1c2d  prefixlen 64  scopeid 0x20<link>\n        ether 52:54:00:3a:1c:2d  txqueuelen 1000  (Ethernet)\n        RX packets 8172635  bytes 2199023255 (2.0 GiB)\n        RX errors 0  dropped 0  overruns 0  frame 0\n        TX packets 5301842  bytes 1073741824 (1.0 GiB)\n        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n\nlo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n        inet 127.0.0.1  netmask 255.0.0.0\n        inet6 ::1  prefixlen 128  scopeid 0x10<host>\n        loop  txqueuelen 1000  (Local Loopback)\n        RX packets 1842  bytes 160330 (156.5 KiB)\n        RX errors 0  dropped 0  overruns 0  frame 0\n        TX packets 1842  bytes 160330 (156.5 KiB)\n        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n\n"
    )
}

/// `netstat -l`.
pub const NETSTAT: &str = "Active Internet connections (only servers)\nProto Recv-Q Send-Q Local Address           Foreign Address         State      \ntcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN     \ntcp6       0      0 :::22                   :::*                    LISTEN     \n";

/// `ps` with `args` as `view` sees the machine (procps formats): system
/// processes started at boot, the session's at login, the pipeline's after ps.
pub fn ps(args: &[String], view: &super::PsView<'_>) -> String {
    use crate::shell::commands::ps_start;
    let user = view.user;
    let full = !args.is_empty();
    if !full {
        let mut out = String::from(
            "    PID TTY          TIME CMD\n   2841 pts/0    00:00:00 bash\n   2903 pts/0    00:00:00 ps\n",
        );
        for (pid, cmd) in (super::FIRST_PEER_PID..).zip(view.peers) {
            let name = cmd.split(' ').next().unwrap_or("");
            out.push_str(&format!("{pid:>7} pts/0    00:00:00 {name}\n"));
        }
        return out;
    }
    let boot = ps_start(view.boot, view.now);
    let login = ps_start(view.login, view.now);
    let now = ps_start(view.now, view.now);
    let bsd = args.iter().any(|a| !a.starts_with('-') && a.contains('u'));
    let mut out = if bsd {
        format!(
            "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\nroot           1  0.0  0.3 167820 12800 ?        Ss   {boot:<5}   0:21 /sbin/init\nroot           2  0.0  0.0      0     0 ?        S    {boot:<5}   0:00 [kthreadd]\nroot         312  0.0  0.4  48128 16512 ?        Ss   {boot:<5}   0:03 /lib/systemd/systemd-journald\nroot         347  0.0  0.1  25460  6272 ?        Ss   {boot:<5}   0:01 /lib/systemd/systemd-udevd\nroot         521  0.0  0.0   6612  2688 ?        Ss   {boot:<5}   0:00 /usr/sbin/cron -f\nmessage+     522  0.0  0.1   9124  4608 ?        Ss   {boot:<5}   0:00 /usr/bin/dbus-daemon --system\nroot         530  0.0  0.1  16548  7296 ?        Ss   {boot:<5}   0:00 /lib/systemd/systemd-logind\nroot         611  0.0  0.2  15432  9164 ?        Ss   {boot:<5}   0:00 sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups\nroot         640  0.0  0.0   5872  1024 tty1     Ss+  {boot:<5}   0:00 /sbin/agetty -o -p -- \\u --noclear - linux\nroot        2832  0.0  0.2  17976 10880 ?        Ss   {login:<5}   0:00 sshd: {user}@pts/0\n{user:<8}    2841  0.0  0.1   7968  4736 pts/0    Ss   {login:<5}   0:00 -bash\n{user:<8}    2903  0.0  0.0  11084  4352 pts/0    R+   {now:<5}   0:00 ps {}\n",
            args.join(" ")
        )
    } else {
        format!(
            "UID          PID    PPID  C STIME TTY          TIME CMD\nroot           1       0  0 {boot:<5} ?        00:00:21 /sbin/init\nroot           2       0  0 {boot:<5} ?        00:00:00 [kthreadd]\nroot         312       1  0 {boot:<5} ?        00:00:03 /lib/systemd/systemd-journald\nroot         521       1  0 {boot:<5} ?        00:00:00 /usr/sbin/cron -f\nroot         611       1  0 {boot:<5} ?        00:00:00 sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups\nroot        2832     611  0 {login:<5} ?        00:00:00 sshd: {user}@pts/0\n{user:<8}    2841    2832  0 {login:<5} pts/0    00:00:00 -bash\n{user:<8}    2903    2841  0 {now:<5} pts/0    00:00:00 ps {}\n",
            args.join(" ")
        )
    };
    for (pid, cmd) in (super::FIRST_PEER_PID..).zip(view.peers) {
        let line = if bsd {
            format!(
                "{user:<8} {pid:>7}  0.0  0.0   6332  2048 pts/0    S+   {now:<5}   0:00 {cmd}\n"
            )
        } else {
            format!("{user:<8} {pid:>7}    2841  0 {now:<5} pts/0    00:00:00 {cmd}\n")
        };
        out.push_str(&line);
    }
    out
}

/// bash's builtins (found by `type`, not by `which`): with [`BINS`] and the
/// shell's keywords, every command the machine has ([`super::Persona::lookup`]).
pub const BUILTINS: &[&str] = &[
    ".",
    ":",
    "[",
    "alias",
    "bg",
    "bind",
    "break",
    "builtin",
    "caller",
    "cd",
    "command",
    "compgen",
    "complete",
    "compopt",
    "continue",
    "declare",
    "dirs",
    "disown",
    "echo",
    "enable",
    "eval",
    "exec",
    "exit",
    "export",
    "false",
    "fc",
    "fg",
    "getopts",
    "hash",
    "help",
    "history",
    "jobs",
    "kill",
    "let",
    "local",
    "logout",
    "mapfile",
    "popd",
    "printf",
    "pushd",
    "pwd",
    "read",
    "readarray",
    "readonly",
    "return",
    "set",
    "shift",
    "shopt",
    "source",
    "suspend",
    "test",
    "time",
    "times",
    "trap",
    "true",
    "type",
    "typeset",
    "ulimit",
    "umask",
    "unalias",
    "unset",
    "wait",
];

/// Executables: (directory, name), each its own x86-64 binary. Only what a
/// Debian 12 cloud image has: no `python` (only `python3`), no `yum` or `dnf`.
pub const BINS: &[(&str, &str)] = &[
    ("/usr/bin", "awk"),
    ("/usr/bin", "base64"),
    ("/usr/bin", "bash"),
    ("/usr/bin", "busybox"),
    ("/usr/bin", "cat"),
    ("/usr/bin", "chattr"),
    ("/usr/bin", "chmod"),
    ("/usr/bin", "chown"),
    ("/usr/bin", "cp"),
    ("/usr/bin", "crontab"),
    ("/usr/bin", "curl"),
    ("/usr/bin", "cut"),
    ("/usr/bin", "dash"),
    ("/usr/bin", "date"),
    ("/usr/bin", "dd"),
    ("/usr/bin", "df"),
    ("/usr/bin", "dmesg"),
    ("/usr/bin", "echo"),
    ("/usr/bin", "env"),
    ("/usr/bin", "false"),
    ("/usr/bin", "free"),
    ("/usr/bin", "getconf"),
    ("/usr/bin", "grep"),
    ("/usr/bin", "groups"),
    ("/usr/bin", "find"),
    ("/usr/bin", "head"),
    ("/usr/bin", "hexdump"),
    ("/usr/bin", "od"),
    ("/usr/bin", "hostname"),
    ("/usr/bin", "id"),
    ("/usr/bin", "ip"),
    ("/usr/bin", "kill"),
    ("/usr/bin", "last"),
    ("/usr/bin", "ln"),
    ("/usr/bin", "ls"),
    ("/usr/bin", "lsattr"),
    ("/usr/bin", "lscpu"),
    ("/usr/bin", "md5sum"),
    ("/usr/bin", "mkdir"),
    ("/usr/bin", "mount"),
    ("/usr/bin", "mv"),
    ("/usr/bin", "netstat"),
    ("/usr/bin", "nohup"),
    ("/usr/bin", "nproc"),
    ("/usr/bin", "passwd"),
    ("/usr/bin", "perl"),
    ("/usr/bin", "pkill"),
    ("/usr/bin", "printf"),
    ("/usr/bin", "ps"),
    ("/usr/bin", "pwd"),
    ("/usr/bin", "python3"),
    ("/usr/bin", "rm"),
    ("/usr/bin", "rmdir"),
    ("/usr/bin", "sed"),
    ("/usr/bin", "sh"),
    ("/usr/bin", "sleep"),
    ("/usr/bin", "sort"),
    ("/usr/bin", "ss"),
    ("/usr/bin", "su"),
    ("/usr/bin", "sudo"),
    ("/usr/bin", "tail"),
    ("/usr/bin", "tar"),
    ("/usr/bin", "tee"),
    ("/usr/bin", "top"),
    ("/usr/bin", "touch"),
    ("/usr/bin", "tr"),
    ("/usr/bin", "true"),
    ("/usr/bin", "uname"),
    ("/usr/bin", "uniq"),
    ("/usr/bin", "uptime"),
    ("/usr/bin", "users"),
    ("/usr/bin", "w"),
    ("/usr/bin", "wc"),
    ("/usr/bin", "wget"),
    ("/usr/bin", "who"),
    ("/usr/bin", "whoami"),
    ("/usr/bin", "xargs"),
    ("/usr/bin", "yes"),
    ("/usr/bin", "apt"),
    ("/usr/bin", "apt-get"),
    ("/usr/bin", "dpkg"),
    ("/usr/bin", "systemctl"),
    ("/usr/bin", "tftp"),
    ("/usr/bin", "timeout"),
    ("/usr/bin", "setsid"),
    ("/usr/bin", "lastlog"),
    ("/usr/bin", "locale"),
    ("/usr/bin", "sha256sum"),
    ("/usr/bin", "ssh"),
    ("/usr/bin", "scp"),
    ("/usr/bin", "ssh-keygen"),
    ("/usr/bin", "killall"),
    ("/usr/bin", "which"),
    ("/usr/bin", "arch"),
    ("/usr/bin", "gzip"),
    ("/usr/bin", "stat"),
    ("/usr/bin", "file"),
    ("/usr/bin", "egrep"),
    ("/usr/bin", "fgrep"),
    ("/usr/bin", "mawk"),
    ("/usr/bin", "dir"),
    ("/usr/bin", "gunzip"),
    ("/usr/bin", "clear"),
    ("/usr/bin", "reset"),
    ("/usr/bin", "tput"),
    ("/usr/bin", "stty"),
    ("/usr/bin", "mesg"),
    ("/usr/bin", "chgrp"),
    ("/usr/bin", "sync"),
    ("/usr/bin", "printenv"),
    ("/usr/bin", "nice"),
    ("/usr/bin", "test"),
    ("/usr/bin", "["),
    ("/usr/sbin", "sysctl"),
    ("/usr/sbin", "modprobe"),
    ("/usr/sbin", "poweroff"),
    ("/usr/sbin", "halt"),
    ("/usr/sbin", "chpasswd"),
    ("/usr/sbin", "ifconfig"),
    ("/usr/sbin", "iptables"),
    ("/usr/sbin", "useradd"),
    ("/usr/sbin", "usermod"),
    ("/usr/sbin", "userdel"),
    ("/usr/sbin", "service"),
    ("/usr/sbin", "reboot"),
    ("/usr/sbin", "shutdown"),
    ("/usr/sbin", "sshd"),
    ("/usr/sbin", "ftpget"),
];

/// Applets of Debian's `busybox` package (each one emulated).
pub const APPLETS: &[&str] = &[
    "[",
    "arch",
    "ash",
    "awk",
    "base64",
    "cat",
    "chmod",
    "chown",
    "cp",
    "cut",
    "date",
    "dd",
    "df",
    "echo",
    "env",
    "false",
    "find",
    "free",
    "ftpget",
    "grep",
    "head",
    "hexdump",
    "hostname",
    "id",
    "ifconfig",
    "kill",
    "killall",
    "ln",
    "ls",
    "md5sum",
    "mkdir",
    "mount",
    "mv",
    "nohup",
    "nproc",
    "od",
    "printf",
    "ps",
    "pwd",
    "reboot",
    "rm",
    "rmdir",
    "sed",
    "sh",
    "sha256sum",
    "sleep",
    "sort",
    "tail",
    "tee",
    "test",
    "tftp",
    "touch",
    "tr",
    "true",
    "uname",
    "uniq",
    "uptime",
    "wc",
    "wget",
    "which",
    "whoami",
    "xargs",
];

/// The first 64 bytes of an x86-64 ELF executable (PIE, e_machine 0x3e).
pub const ELF_HEADER: &[u8] = &[
    0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0, 0x60,
    0x61, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x38, 0x2c, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0x40, 0, 0x38, 0, 0x0d, 0, 0x40, 0, 0x1e, 0, 0x1d, 0,
];
/// Top-level links of Debian 12's merged /usr.
pub const LINKS: &[(&str, &str)] = &[
    ("/bin", "/usr/bin"),
    ("/sbin", "/usr/sbin"),
    ("/lib", "/usr/lib"),
    ("/lib64", "/usr/lib64"),
    ("/var/run", "/run"),
];

/// Directories of the tree.
pub const DIRS: &[TreeDir] = &[
    ("/", 0o755),
    ("/boot", 0o755),
    ("/dev", 0o755),
    ("/dev/shm", 0o1777),
    ("/etc", 0o755),
    ("/etc/ssh", 0o755),
    ("/etc/cron.d", 0o755),
    ("/etc/network", 0o755),
    ("/home", 0o755),
    ("/media", 0o755),
    ("/mnt", 0o755),
    ("/opt", 0o755),
    ("/proc", 0o755),
    ("/root", 0o700),
    ("/root/.ssh", 0o700),
    ("/run", 0o755),
    ("/srv", 0o755),
    ("/sys", 0o755),
    ("/tmp", 0o1777),
    ("/usr", 0o755),
    ("/usr/bin", 0o755),
    ("/usr/sbin", 0o755),
    ("/usr/lib", 0o755),
    ("/usr/lib64", 0o755),
    ("/usr/local", 0o755),
    ("/usr/local/bin", 0o755),
    ("/usr/share", 0o755),
    ("/var", 0o755),
    ("/var/log", 0o755),
    ("/var/tmp", 0o1777),
    ("/var/spool", 0o755),
    ("/var/spool/cron", 0o755),
    ("/var/spool/cron/crontabs", 0o755),
    ("/var/www", 0o755),
    ("/var/lib", 0o755),
    ("/var/cache", 0o755),
    ("/var/mail", 0o755),
    ("/var/backups", 0o755),
];

/// Debian's text files (the /proc files common to both machines are added by
/// the tree builder).
pub fn files(persona: &Persona) -> Vec<TreeFile> {
    let hostname = &persona.hostname;
    let text_files: Vec<(&str, String, u32)> = vec![
        ("/etc/passwd", persona.passwd(), 0o644),
        ("/etc/shadow", shadow(persona), 0o640),
        ("/etc/group", group(persona), 0o644),
        ("/etc/hostname", format!("{hostname}\n"), 0o644),
        (
            "/etc/hosts",
            format!("127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"),
            0o644,
        ),
        ("/etc/issue", "Debian GNU/Linux 12 \\n \\l\n\n".into(), 0o644),
        ("/etc/issue.net", "Debian GNU/Linux 12\n".into(), 0o644),
        ("/etc/debian_version", "12.8\n".into(), 0o644),
        ("/etc/os-release", OS_RELEASE.into(), 0o644),
        ("/usr/lib/os-release", OS_RELEASE.into(), 0o644),
        ("/etc/resolv.conf", "nameserver 1.1.1.1\nnameserver 8.8.8.8\n".into(), 0o644),
        ("/etc/shells", "# /etc/shells: valid login shells\n/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/bin/dash\n/usr/bin/dash\n".into(), 0o644),
        ("/etc/crontab", CRONTAB.into(), 0o644),
        ("/etc/fstab", "# /etc/fstab: static file system information.\nUUID=5c3b6c4e-2b1c-4f5e-9a4e-1d2f3a4b5c6d /               ext4    errors=remount-ro 0       1\n".into(), 0o644),
        ("/etc/motd", MOTD.into(), 0o644),
        ("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nPrintMotd no\nAcceptEnv LANG LC_*\nSubsystem\tsftp\t/usr/lib/openssh/sftp-server\nPermitRootLogin yes\n".into(), 0o644),
        ("/root/.bashrc", BASHRC.into(), 0o644),
        ("/root/.profile", PROFILE.into(), 0o644),
        ("/var/log/auth.log", String::new(), 0o640),
    ];
    let mut out: Vec<TreeFile> = text_files
        .into_iter()
        .map(|(path, text, mode)| (path.to_owned(), text, mode, 0))
        .collect();
    for user in &persona.users {
        let home = persona.home(user);
        let uid = persona.uid(user);
        out.push((format!("{home}/.bashrc"), BASHRC.into(), 0o644, uid));
        out.push((format!("{home}/.profile"), PROFILE.into(), 0o644, uid));
    }
    out
}

/// `free` with `args` (procps-ng 4 format) of memory `v` ([`Persona::free_kib`]).
pub fn free(v: [u64; 6], args: &[String]) -> String {
    let human_units = args.iter().any(|a| a.contains('h'));
    let div = if args.iter().any(|a| a == "-m" || a == "--mega") {
        1024
    } else if args.iter().any(|a| a == "-g" || a == "--giga") {
        1024 * 1024
    } else {
        1
    };
    let fmt = |x: u64| -> String {
        if human_units {
            if x >= 1024 * 1024 {
                format!("{:.1}Gi", x as f64 / 1_048_576.0)
            } else {
                format!("{}Mi", x / 1024)
            }
        } else {
            format!("{}", x / div)
        }
    };
    format!(
        "               total        used        free      shared  buff/cache   available\nMem:     {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}\nSwap:    {:>11} {:>11} {:>11}\n",
        fmt(v[0]),
        fmt(v[1]),
        fmt(v[2]),
        fmt(v[3]),
        fmt(v[4]),
        fmt(v[5]),
        fmt(0),
        fmt(0),
        fmt(0)
    )
}

/// /proc/version.
pub fn proc_version() -> String {
    format!(
        "Linux version {KERNEL_RELEASE} (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) {KERNEL_VERSION}\n"
    )
}

/// The virtio NIC's address.
pub const MAC: &str = "52:54:00:3a:1c:2d";

/// `$PATH` of a root login.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Debian's `busybox` package, as its banners show it.
pub const BUSYBOX_VERSION: &str = "v1.35.0 (Debian 1:1.35.0-4+b3)";

/// What `file` says of a binary.
pub const ELF_DESCRIPTION: &str = "ELF 64-bit LSB pie executable, x86-64, version 1 (SYSV), dynamically linked, interpreter /lib64/ld-linux-x86-64.so.2, for GNU/Linux 3.2.0, stripped";

fn shadow(persona: &Persona) -> String {
    let mut out = String::from(
        "root:$y$j9T$Q0xV6l0n5G2hT1a8b3c4d.$Wq3yXh9kZ1mN4pR7sT0uV2wX5yZ8aB1cD4eF7gH0iJ2:20052:0:99999:7:::\n\
daemon:*:20052:0:99999:7:::\nbin:*:20052:0:99999:7:::\nsys:*:20052:0:99999:7:::\nsync:*:20052:0:99999:7:::\n\
www-data:*:20052:0:99999:7:::\nnobody:*:20052:0:99999:7:::\nsshd:*:20052:0:99999:7:::\n",
    );
    for user in &persona.users {
        out.push_str(&format!(
            "{user}:$y$j9T$k3Lm9Np2Qr5St8Uv1Wx4Yz$A7bC0dE3fG6hI9jK2lM5nO8pQ1rS4tU7vW0xY3zA6bC:20052:0:99999:7:::\n"
        ));
    }
    out
}

fn group(persona: &Persona) -> String {
    let mut out = String::from(
        "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\ndisk:x:6:\nlp:x:7:\nmail:x:8:\n\
news:x:9:\nsudo:x:27:\nwww-data:x:33:\nusers:x:100:\nnogroup:x:65534:\n",
    );
    for user in &persona.users {
        let id = persona.uid(user);
        out.push_str(&format!("{user}:x:{id}:\n"));
    }
    out
}

const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\nSUPPORT_URL=\"https://www.debian.org/support\"\nBUG_REPORT_URL=\"https://bugs.debian.org/\"\n";

/// The message of the day Debian prints at login.
pub const MOTD: &str = "\nThe programs included with the Debian GNU/Linux system are free software;\nthe exact distribution terms for each program are described in the\nindividual files in /usr/share/doc/*/copyright.\n\nDebian GNU/Linux comes with ABSOLUTELY NO WARRANTY, to the extent\npermitted by applicable law.\n";

const BASHRC: &str = "# ~/.bashrc: executed by bash(1) for non-login shells.\n\nexport LS_OPTIONS='--color=auto'\nalias ls='ls $LS_OPTIONS'\n";

const PROFILE: &str = "# ~/.profile: executed by Bourne-compatible login shells.\n\nif [ \"$BASH\" ]; then\n  if [ -f ~/.bashrc ]; then\n    . ~/.bashrc\n  fi\nfi\n\nmesg n 2> /dev/null || true\n";

const CRONTAB: &str = "# /etc/crontab: system-wide crontab\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n\n17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n25 6\t* * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }\n";
