//! The command line: help, `nectar config`, and refusing bad configuration with
//! exit code 2 and a message naming the key.

use std::process::Command;

use crate::util::{BIN, nectar};

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("NECTAR_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn help_lists_the_subcommands() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "config", "token", "user", "--data-dir", "--config"] {
        assert!(text.contains(word), "--help lacks {word}: {text}");
    }
    for sub in [
        &["serve", "--help"][..],
        &["token", "create", "--help"],
        &["user", "add", "--help"],
    ] {
        let out = run(sub);
        assert!(out.status.success(), "{sub:?}");
        assert!(out.stdout.len() > 200, "{sub:?} help is too short");
    }
    let out = run(&["serve", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn config_prints_a_complete_file_that_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["config"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for key in [
        "data_dir",
        "[server]",
        "listen = \"127.0.0.1:8080\"",
        "[store]",
        "[event_log]",
        "# ",
    ] {
        assert!(text.contains(key), "missing {key}");
    }
    let path = dir.path().join("nectar.toml");
    std::fs::write(&path, &text).unwrap();
    let again = run(&["--config", path.to_str().unwrap(), "config"]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(String::from_utf8(again.stdout).unwrap(), text);
}

#[test]
fn bad_configuration_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let a_file = dir.path().join("plain-file");
    std::fs::write(&a_file, "x").unwrap();
    let cases = [
        ("[server]\nlisten = \"127.0.0.1:70000\"\n", "server.listen"),
        ("[server]\nlisten = 8080\n", "server.listen"),
        ("[server]\nlissten = \"127.0.0.1:1\"\n", "lissten"),
        ("[event_log]\nmax_bytes = \"lots\"\n", "event_log.max_bytes"),
        ("[store]\nmax_batch_events = 0\n", "store.max_batch_events"),
        ("this is not toml\n", "line 1"),
        (
            "[honeypot.telnet]\narch = \"sparc\"\n",
            "honeypot.telnet.arch",
        ),
        (
            "[honeypot.telnet]\nprofile = \"debian\"\narch = \"mipsel\"\n",
            "honeypot.telnet.arch",
        ),
        (
            &format!("data_dir = {:?}\n", a_file.to_str().unwrap()),
            "data_dir",
        ),
    ];
    for (i, (text, key)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        for command in [&["config"][..], &["serve"]] {
            let mut args = vec!["--config", path.to_str().unwrap()];
            args.extend_from_slice(command);
            let out = run(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{text:?}: {stderr}");
            assert!(
                stderr.contains(key),
                "{text:?}: stderr {stderr:?} does not name {key}"
            );
            assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"));
        }
    }
    let out = run(&["--config", "/nonexistent/nectar.toml", "config"]);
    assert_eq!(out.status.code(), Some(2));
    let out = nectar(&a_file, &["config"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--data-dir"));
    let out = run(&["serve", "--listen", "127.0.0.1:99999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--listen"));
}

#[test]
fn tokens_and_users_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = crate::util::token(&data, "sensor-1", "analyst");
    assert_eq!(token.len(), 4 + 64);
    let out = nectar(&data, &["token", "create", "--name", "sensor-1"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "duplicate name is a usage error"
    );
    let out = nectar(&data, &["token", "list"]);
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.contains("sensor-1") && list.contains("live") && !list.contains(&token[4..]));
    assert!(
        nectar(&data, &["token", "revoke", "sensor-1"])
            .status
            .success()
    );
    assert!(String::from_utf8_lossy(&nectar(&data, &["token", "list"]).stdout).contains("revoked"));
    assert_eq!(
        nectar(&data, &["token", "revoke", "nobody"]).status.code(),
        Some(2)
    );
    assert_eq!(
        nectar(&data, &["token", "create", "--name", "bad name!"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        nectar(&data, &["token", "create", "--name", "x", "--role", "god"])
            .status
            .code(),
        Some(2)
    );

    let out = nectar(&data, &["user", "add", "alice", "--role", "viewer"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim().len(),
        20,
        "generated password"
    );
    let out = nectar(&data, &["user", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("alice"));
}

#[test]
fn config_does_not_print_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nectar.toml");
    std::fs::write(
        &path,
        "[sinks.influxdb]\nusername = \"nectar\"\npassword = \"s3cret-influx-pw\"\ntoken = \"s3cret-influx-token\"\n",
    )
    .unwrap();
    let out = run(&["--config", path.to_str().unwrap(), "config"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("s3cret"), "a secret was printed:\n{text}");
    assert!(text.contains("# password = \"<redacted>\""), "{text}");
    assert!(text.contains("username = \"nectar\""));
    // What it prints is still a configuration file (without the secrets).
    let saved = dir.path().join("saved.toml");
    std::fs::write(&saved, &text).unwrap();
    let again = run(&["--config", saved.to_str().unwrap(), "config"]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn two_listeners_on_one_port_exit_2_naming_both_keys() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Nothing binds: the check runs before the first listener.
    let path = dir.path().join("clash.toml");
    std::fs::write(
        &path,
        "[server]\nlisten = \"127.0.0.1:18080\"\n[honeypot.ssh]\nlisten = \"127.0.0.1:18080\"\n",
    )
    .unwrap();
    let by_file = nectar(&data, &["--config", path.to_str().unwrap(), "serve"]);
    let by_flags = nectar(
        &data,
        &[
            "serve",
            "--listen",
            "127.0.0.1:18080",
            "--honeypot-ssh-listen",
            "127.0.0.1:18080",
        ],
    );
    for out in [by_file, by_flags] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("server.listen") && stderr.contains("honeypot.ssh.listen"),
            "{stderr}"
        );
    }
    // A wildcard address covers the loopback one on the same port.
    let out = nectar(
        &data,
        &[
            "serve",
            "--listen",
            "127.0.0.1:18081",
            "--honeypot-ssh-listen",
            "127.0.0.1:0",
            "--honeypot-http-listen",
            "0.0.0.0:18081",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("server.listen") && stderr.contains("honeypot.http.listen"),
        "{stderr}"
    );
}
