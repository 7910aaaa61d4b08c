//! The machine the fake shell pretends to be, and everything that shows it.
//!
//! Two machines: the Debian 12 x86-64 VM of the SSH honeypot ([`debian`]) and the
//! BusyBox camera behind the Telnet honeypot's `busybox` profile ([`device`], on
//! an ARM or MIPS processor, [`device_arch`]). Each one answers every place the hardware or the distribution
//! shows (`uname`, `/proc/cpuinfo`, `/proc/meminfo`, `free`, `df`, `/proc/mounts`,
//! `ps`, `ifconfig`, `/etc/passwd`, the file tree, the ELF header of its
//! binaries, the BusyBox version) from one description, so they agree with each
//! other: inconsistent fake hardware is one of the ways bots spot Cowrie, and
//! Mirai-like loaders pick the binary they fetch from the ELF header of
//! `/bin/echo`.

pub mod debian;
pub mod device;
pub mod device_arch;

use super::Profile;
pub use device_arch::Arch;

/// Which machine a [`Persona`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// Debian 12 on an x86-64 cloud VM, bash.
    Debian,
    /// An IP camera running BusyBox (ash, applets as links) on this processor.
    BusyboxDevice(Arch),
}

/// The impersonated machine. Built once per honeypot and shared by every session.
#[derive(Debug, Clone)]
pub struct Persona {
    /// Host name (prompt, `hostname`, `uname -n`, /etc/hostname).
    pub hostname: String,
    /// Logins that exist on the machine besides root (from the accepted
    /// credentials), so /etc/passwd lists whoever logs in.
    pub users: Vec<String>,
    /// Which machine.
    pub machine: Machine,
    /// Number of CPUs.
    pub cpus: u32,
    /// Memory in KiB as the kernel reports it.
    pub mem_kib: u64,
}

/// Compound-command words, run as no-ops (see `commands::run`).
pub const KEYWORDS: &[&str] = &[
    "while", "for", "if", "until", "case", "do", "done", "then", "fi", "else", "elif", "esac",
    "function", "select", "{", "}",
];

/// What `ps` sees besides its arguments: who runs it, when, and the other
/// commands of its pipeline (`ps aux | grep x` lists the grep, as real ps does).
#[derive(Debug, Clone, Copy)]
pub struct PsView<'a> {
    /// The session's user.
    pub user: &'a str,
    /// The clock (seconds since the epoch).
    pub now: u64,
    /// When the machine booted ([`Persona::boot_time`]).
    pub boot: u64,
    /// When the session began.
    pub login: u64,
    /// The pipeline's commands after `ps`, as typed.
    pub peers: &'a [String],
}

/// The first PID after `ps`'s own, for the commands of its pipeline.
pub const FIRST_PEER_PID: u32 = 2904;

/// What a command name is on a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    /// A word of the shell's grammar (`for`, `if`).
    Keyword,
    /// Built into the shell.
    Builtin,
    /// An executable in this directory.
    File(&'static str),
}

/// The machine has been up at least this long when anyone looks.
const MIN_UPTIME: u64 = 2 * 86_400;
/// It is rebooted (kernel updates, power cuts) about this often.
const REBOOT_PERIOD: u64 = 41 * 86_400;
/// Its admin logs in about this often.
const LOGIN_PERIOD: u64 = 3 * 86_400;
/// How long the admin's last session lasted.
pub const LAST_SESSION_SECS: u64 = 38 * 60 + 17;

/// A directory of the base tree: its path and permission bits.
pub type TreeDir = (&'static str, u32);

/// A text file of the base tree: path, content, permission bits, owner uid.
pub type TreeFile = (String, String, u32, usize);

impl Persona {
    /// The Debian 12 VM with `hostname` and the given extra users.
    pub fn debian(hostname: &str, users: Vec<String>) -> Persona {
        Persona {
            hostname: hostname.to_owned(),
            users,
            machine: Machine::Debian,
            cpus: 2,
            mem_kib: 4_026_452,
        }
    }

    /// The BusyBox camera on `arch` with `hostname` and the given extra users.
    pub fn busybox_device(hostname: &str, users: Vec<String>, arch: Arch) -> Persona {
        Persona {
            hostname: hostname.to_owned(),
            users,
            machine: Machine::BusyboxDevice(arch),
            cpus: 1,
            mem_kib: device::MEM_KIB,
        }
    }

    /// The shell this machine's logins get.
    pub fn profile(&self) -> Profile {
        match self.machine {
            Machine::Debian => Profile::Bash,
            Machine::BusyboxDevice(_) => Profile::Busybox,
        }
    }

    /// `uname -r`.
    pub fn kernel_release(&self) -> &'static str {
        match self.machine {
            Machine::Debian => debian::KERNEL_RELEASE,
            Machine::BusyboxDevice(arch) => arch.kernel_release(),
        }
    }

    /// `uname -v`.
    pub fn kernel_version(&self) -> &'static str {
        match self.machine {
            Machine::Debian => debian::KERNEL_VERSION,
            Machine::BusyboxDevice(arch) => arch.kernel_version(),
        }
    }

    /// `uname -m` and `arch`.
    pub fn machine_name(&self) -> &'static str {
        match self.machine {
            Machine::Debian => debian::MACHINE,
            Machine::BusyboxDevice(arch) => arch.machine(),
        }
    }

    /// `uname -a`.
    pub fn uname_a(&self) -> String {
        format!(
            "Linux {} {} {} {} GNU/Linux",
            self.hostname,
            self.kernel_release(),
            self.kernel_version(),
            self.machine_name()
        )
    }

    /// /proc/cpuinfo.
    pub fn cpuinfo(&self) -> String {
        match self.machine {
            Machine::Debian => debian::cpuinfo(self.cpus),
            Machine::BusyboxDevice(arch) => arch.cpuinfo(self.cpus),
        }
    }

    /// /proc/meminfo (the first lines, which is what scripts read).
    pub fn meminfo(&self) -> String {
        let total = self.mem_kib;
        let [_, _, free, shared, cache, avail] = self.free_kib();
        format!(
            "MemTotal:       {total:>8} kB\nMemFree:        {free:>8} kB\nMemAvailable:   {avail:>8} kB\n\
Buffers:        {:>8} kB\nCached:         {:>8} kB\nSwapCached:            0 kB\n\
Active:         {:>8} kB\nInactive:       {:>8} kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n\
Dirty:                36 kB\nShmem:          {shared:>8} kB\n",
            total * 2 / 100,
            cache - total * 2 / 100,
            total * 30 / 100,
            total * 22 / 100,
        )
    }

    /// Memory in KiB: (total, used, free, shared, buff/cache, available).
    pub fn free_kib(&self) -> [u64; 6] {
        let total = self.mem_kib;
        let (free, cache, shared, available) = match self.machine {
            Machine::Debian => (total * 41 / 100, total * 35 / 100, 1144, total * 78 / 100),
            Machine::BusyboxDevice(_) => (total * 22 / 100, total * 18 / 100, 96, total * 38 / 100),
        };
        [total, total - free - cache, free, shared, cache, available]
    }

    /// `free` with its arguments, in the format of the machine's `free`.
    pub fn free(&self, args: &[String]) -> String {
        match self.machine {
            Machine::Debian => debian::free(self.free_kib(), args),
            Machine::BusyboxDevice(_) => device::free(self.free_kib(), args),
        }
    }

    /// `lscpu`, if the machine has it.
    pub fn lscpu(&self) -> Option<String> {
        match self.machine {
            Machine::Debian => Some(debian::lscpu(self.cpus)),
            Machine::BusyboxDevice(_) => None,
        }
    }

    /// `getconf LONG_BIT`.
    pub fn long_bit(&self) -> u32 {
        match self.machine {
            Machine::Debian => 64,
            Machine::BusyboxDevice(_) => 32,
        }
    }

    /// /proc/mounts (and `mount`).
    pub fn mounts(&self) -> &'static str {
        match self.machine {
            Machine::Debian => debian::MOUNTS,
            Machine::BusyboxDevice(_) => device::MOUNTS,
        }
    }

    /// `df`, `df -h`.
    pub fn df(&self, human: bool) -> &'static str {
        match (self.machine, human) {
            (Machine::Debian, false) => debian::DF,
            (Machine::Debian, true) => debian::DF_HUMAN,
            (Machine::BusyboxDevice(_), false) => device::DF,
            (Machine::BusyboxDevice(_), true) => device::DF_HUMAN,
        }
    }

    /// `ps` with `args`, as `view` sees the machine.
    pub fn ps(&self, args: &[String], view: &PsView<'_>) -> String {
        match self.machine {
            Machine::Debian => debian::ps(args, view),
            Machine::BusyboxDevice(_) => device::ps(view),
        }
    }

    /// `top` (one screen); `uptime` is the `uptime` line of the moment.
    pub fn top(&self, uptime: &str) -> String {
        match self.machine {
            Machine::Debian => debian::top(uptime),
            Machine::BusyboxDevice(_) => device::top(self.free_kib()),
        }
    }

    /// `ifconfig` for the machine's address `ip`.
    pub fn ifconfig(&self, ip: &str) -> String {
        match self.machine {
            Machine::Debian => debian::ifconfig(ip),
            Machine::BusyboxDevice(arch) => device::ifconfig(ip, arch.mac()),
        }
    }

    /// The Ethernet address of eth0 (`ip link`, `ip addr`).
    pub fn mac(&self) -> &'static str {
        match self.machine {
            Machine::Debian => debian::MAC,
            Machine::BusyboxDevice(arch) => arch.mac(),
        }
    }

    /// `netstat -l` / `ss -l`: the machine's listening services.
    pub fn netstat(&self) -> &'static str {
        match self.machine {
            Machine::Debian => debian::NETSTAT,
            Machine::BusyboxDevice(_) => device::NETSTAT,
        }
    }

    /// /proc/version.
    pub fn proc_version(&self) -> String {
        match self.machine {
            Machine::Debian => debian::proc_version(),
            Machine::BusyboxDevice(arch) => device::proc_version(arch),
        }
    }

    /// /etc/passwd.
    pub fn passwd(&self) -> String {
        match self.machine {
            Machine::Debian => debian::passwd(&self.users),
            Machine::BusyboxDevice(_) => device::passwd(&self.users),
        }
    }

    /// The login shell (`$SHELL`).
    pub fn login_shell(&self) -> &'static str {
        match self.machine {
            Machine::Debian => "/bin/bash",
            Machine::BusyboxDevice(_) => "/bin/sh",
        }
    }

    /// `$PATH` of a root login.
    pub fn default_path(&self) -> &'static str {
        match self.machine {
            Machine::Debian => debian::DEFAULT_PATH,
            Machine::BusyboxDevice(_) => device::DEFAULT_PATH,
        }
    }

    /// The BusyBox build, as its banners show it (`v1.35.0 (Debian ...)`).
    pub fn busybox_version(&self) -> &'static str {
        match self.machine {
            Machine::Debian => debian::BUSYBOX_VERSION,
            Machine::BusyboxDevice(_) => device::BUSYBOX_VERSION,
        }
    }

    /// The applets `busybox` lists and runs, sorted.
    pub fn applets(&self) -> &'static [&'static str] {
        match self.machine {
            Machine::Debian => debian::APPLETS,
            Machine::BusyboxDevice(_) => device::APPLETS,
        }
    }

    /// Executables on the machine: (directory, name). `which`, `ls /bin` and
    /// running them by path all agree with this list.
    pub fn bins(&self) -> &'static [(&'static str, &'static str)] {
        match self.machine {
            Machine::Debian => debian::BINS,
            Machine::BusyboxDevice(_) => device::BINS,
        }
    }

    /// The builtins of the machine's shell (bash's, or BusyBox ash's with the
    /// router words the camera's login shell accepts).
    pub fn builtins(&self) -> &'static [&'static str] {
        match self.machine {
            Machine::Debian => debian::BUILTINS,
            Machine::BusyboxDevice(_) => device::BUILTINS,
        }
    }

    /// What `name` is on this machine, `None` when it has no such command.
    /// The one table of which commands exist: running one, `which`, `type`,
    /// `command -v` and the process image all read it, so they cannot disagree
    /// (`yum` on Debian is "command not found" and nothing else).
    pub fn lookup(&self, name: &str) -> Option<CommandKind> {
        if KEYWORDS.contains(&name) {
            return Some(CommandKind::Keyword);
        }
        if self.builtins().contains(&name) {
            return Some(CommandKind::Builtin);
        }
        self.which(name).map(CommandKind::File)
    }

    /// The directory of the executable `name`, if the machine has one.
    pub fn which(&self, name: &str) -> Option<&'static str> {
        self.bins()
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(dir, _)| *dir)
    }

    /// Whether `name` of [`Persona::bins`] is a link to the multi-call binary
    /// rather than a file of its own.
    pub fn is_applet_link(&self, name: &str) -> bool {
        match self.machine {
            Machine::Debian => false,
            Machine::BusyboxDevice(_) => !device::OWN_BINARIES.contains(&name),
        }
    }

    /// The executable behind every applet link (`None` when each binary is its
    /// own file).
    pub fn multi_call_binary(&self) -> Option<&'static str> {
        match self.machine {
            Machine::Debian => None,
            Machine::BusyboxDevice(_) => Some(device::BUSYBOX),
        }
    }

    /// The first 64 bytes of the machine's executables: what `cat`, `head -c`
    /// and `dd bs=52 count=1 if=/bin/echo` show of any binary.
    pub fn elf_header(&self) -> &'static [u8] {
        match self.machine {
            Machine::Debian => debian::ELF_HEADER,
            Machine::BusyboxDevice(arch) => arch.elf_header(),
        }
    }

    /// The size `ls -l` shows for a binary (the tree holds only its header).
    pub fn binary_size(&self) -> usize {
        match self.machine {
            Machine::Debian => 138_208,
            // BusyBox with ~100 applets, dynamically linked to uClibc.
            Machine::BusyboxDevice(_) => 1_034_612,
        }
    }

    /// What `file` says of a binary.
    pub fn elf_description(&self) -> &'static str {
        match self.machine {
            Machine::Debian => debian::ELF_DESCRIPTION,
            Machine::BusyboxDevice(arch) => arch.elf_description(),
        }
    }

    /// Directories of the base tree.
    pub fn dirs(&self) -> &'static [TreeDir] {
        match self.machine {
            Machine::Debian => debian::DIRS,
            Machine::BusyboxDevice(_) => device::DIRS,
        }
    }

    /// Top-level directory links (Debian's merged /usr: `/bin` -> `/usr/bin`),
    /// which paths are resolved through.
    pub fn dir_links(&self) -> &'static [(&'static str, &'static str)] {
        match self.machine {
            Machine::Debian => debian::LINKS,
            Machine::BusyboxDevice(_) => &[],
        }
    }

    /// The writable mounts when the root file system is read-only (the
    /// camera's squashfs; what its /proc/mounts says is `rw`), `None` when all
    /// of it is writable.
    pub fn writable_mounts(&self) -> Option<&'static [&'static str]> {
        match self.machine {
            Machine::Debian => None,
            Machine::BusyboxDevice(_) => Some(device::WRITABLE_MOUNTS),
        }
    }

    /// Text files of the base tree.
    pub fn files(&self) -> Vec<TreeFile> {
        match self.machine {
            Machine::Debian => debian::files(self),
            Machine::BusyboxDevice(_) => device::files(self),
        }
    }

    /// A number that is the same for every session and service showing this
    /// host (SSH's Debian and Telnet's camera or Debian behind one host name
    /// and address are one machine to a visitor), different for another host.
    fn seed(&self) -> u64 {
        self.hostname
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
    }

    /// When the machine booted, as of `now` (seconds since the epoch): a pure
    /// function of the machine and the clock, so SSH and Telnet sessions of one
    /// persona agree, uptime advances with the clock, and it is never less
    /// than [`MIN_UPTIME`] (the machine "reboots" every [`REBOOT_PERIOD`]).
    pub fn boot_time(&self, now: u64) -> u64 {
        let phase = self.seed() % REBOOT_PERIOD;
        let latest = now.saturating_sub(MIN_UPTIME);
        // (No overflow, and no underflow for a clock near the epoch.)
        latest.saturating_sub((latest % REBOOT_PERIOD + REBOOT_PERIOD - phase) % REBOOT_PERIOD)
    }

    /// When the login before this one began (MOTD's "Last login", `last`): the
    /// admin's last visit, at least an hour ago and after the boot.
    pub fn previous_login(&self, now: u64) -> u64 {
        let phase = (self.seed() >> 20) % LOGIN_PERIOD;
        let latest = now.saturating_sub(3_600);
        let login =
            latest.saturating_sub((latest % LOGIN_PERIOD + LOGIN_PERIOD - phase) % LOGIN_PERIOD);
        login
            .max(self.boot_time(now).saturating_add(900))
            .min(latest)
    }

    /// The uid of `user` (0 for root, 1000+ for the others, 1000 if unknown).
    pub fn uid(&self, user: &str) -> usize {
        if user == "root" {
            return 0;
        }
        // The web server's account (the HTTP honeypot's command injection runs
        // as it), as in /etc/passwd.
        if user == "www-data" {
            return 33;
        }
        self.users
            .iter()
            .position(|u| u == user)
            .map_or(1000, |i| 1000 + i)
    }

    /// The home directory of `user`.
    pub fn home(&self, user: &str) -> String {
        if user == "root" {
            "/root".into()
        } else if user == "www-data" {
            "/var/www".into()
        } else {
            format!("/home/{user}")
        }
    }
}
