//! The machine the fake shell pretends to be: one Debian 12 VM whose host name,
//! kernel, CPU and memory agree everywhere they show (`uname`, `/proc/cpuinfo`,
//! `lscpu`, `nproc`, `free`, `/proc/meminfo`). Inconsistent fake hardware is one
//! of the ways bots spot Cowrie.

/// The impersonated machine. Built once per honeypot and shared by every session.
#[derive(Debug, Clone)]
pub struct Persona {
    /// Host name (prompt, `hostname`, `uname -n`, /etc/hostname).
    pub hostname: String,
    /// Logins that exist on the machine besides root (from the accepted
    /// credentials), so /etc/passwd lists whoever logs in.
    pub users: Vec<String>,
    /// Number of vCPUs.
    pub cpus: u32,
    /// Memory in KiB as the kernel reports it.
    pub mem_kib: u64,
}

/// `uname -r`.
pub const KERNEL_RELEASE: &str = "6.1.0-28-amd64";
/// `uname -v`.
pub const KERNEL_VERSION: &str = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)";
/// `uname -m`.
pub const MACHINE: &str = "x86_64";
/// The CPU model of a common cloud VM.
pub const CPU_MODEL: &str = "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz";

impl Persona {
    /// A persona with `hostname` and the given extra users.
    pub fn new(hostname: &str, users: Vec<String>) -> Persona {
        Persona {
            hostname: hostname.to_owned(),
            users,
            cpus: 2,
            mem_kib: 4_026_452,
        }
    }

    /// `uname -a`.
    pub fn uname_a(&self) -> String {
        format!(
            "Linux {} {KERNEL_RELEASE} {KERNEL_VERSION} {MACHINE} GNU/Linux",
            self.hostname
        )
    }

    /// /proc/cpuinfo.
    pub fn cpuinfo(&self) -> String {
        let mut out = String::new();
        for i in 0..self.cpus {
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
                n = self.cpus
            ));
        }
        out
    }

    /// /proc/meminfo (the first lines, which is what scripts read).
    pub fn meminfo(&self) -> String {
        let total = self.mem_kib;
        let free = total * 41 / 100;
        let avail = total * 78 / 100;
        let cached = total * 33 / 100;
        format!(
            "MemTotal:       {total:>8} kB\nMemFree:        {free:>8} kB\nMemAvailable:   {avail:>8} kB\n\
Buffers:        {:>8} kB\nCached:         {cached:>8} kB\nSwapCached:            0 kB\n\
Active:         {:>8} kB\nInactive:       {:>8} kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n\
Dirty:                36 kB\nShmem:              1144 kB\n",
            total * 2 / 100,
            total * 30 / 100,
            total * 22 / 100,
        )
    }

    /// `free` in KiB: (total, used, free, shared, buff/cache, available).
    pub fn free_kib(&self) -> [u64; 6] {
        let total = self.mem_kib;
        let free = total * 41 / 100;
        let cache = total * 35 / 100;
        [
            total,
            total - free - cache,
            free,
            1144,
            cache,
            total * 78 / 100,
        ]
    }

    /// `lscpu`.
    pub fn lscpu(&self) -> String {
        format!(
            "Architecture:            x86_64\n  CPU op-mode(s):        32-bit, 64-bit\n  Address sizes:         46 bits physical, 48 bits virtual\n  Byte Order:            Little Endian\nCPU(s):                  {n}\n  On-line CPU(s) list:   0-{last}\nVendor ID:               GenuineIntel\n  Model name:            {CPU_MODEL}\n    CPU family:          6\n    Model:               79\n    Thread(s) per core:  1\n    Core(s) per socket:  {n}\n    Socket(s):           1\n    Stepping:            1\n    BogoMIPS:            4799.99\nVirtualization features: \n  Hypervisor vendor:     KVM\n  Virtualization type:   full\nCaches (sum of all):     \n  L1d:                   {l1} KiB ({n} instances)\n  L1i:                   {l1} KiB ({n} instances)\n  L2:                    {l2} KiB ({n} instances)\n  L3:                    35 MiB (1 instance)\nNUMA:                    \n  NUMA node(s):          1\n  NUMA node0 CPU(s):     0-{last}\n",
            n = self.cpus,
            last = self.cpus.saturating_sub(1),
            l1 = 32 * self.cpus,
            l2 = 256 * self.cpus,
        )
    }

    /// /etc/passwd.
    pub fn passwd(&self) -> String {
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
        for (i, user) in self.users.iter().enumerate() {
            let id = 1000 + i;
            out.push_str(&format!("{user}:x:{id}:{id}:,,,:/home/{user}:/bin/bash\n"));
        }
        out
    }

    /// The uid of `user` (0 for root, 1000+ for the others, 1000 if unknown).
    pub fn uid(&self, user: &str) -> usize {
        if user == "root" {
            return 0;
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
        } else {
            format!("/home/{user}")
        }
    }
}
