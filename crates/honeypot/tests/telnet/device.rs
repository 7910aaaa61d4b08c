//! The `busybox` profile's machine over Telnet: a Mirai-like session (its own
//! script, `bots/mirai_arch_probe.txt`) through the real socket client must meet
//! one ARMv7 camera everywhere it looks, down to the ELF header bytes of
//! `/bin/echo` as they arrive on the wire; the recording stays valid asciicast.

use nectar_event::Kind;
use nectar_honeypot::telnet::{Arch, TelnetHoneypotConfig};
use serde_json::Value;

use super::{bot, start};
use crate::{have, of};

/// The bytes of an answer the client decoded as Latin-1.
fn bytes(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// EI_CLASS, EI_DATA and e_machine of what arrived for a `cat` of a binary.
fn elf_kind(received: &[u8]) -> (u8, u8, u16) {
    assert!(received.starts_with(b"\x7fELF"), "{received:?}");
    assert!(received.len() >= 52, "{received:?}");
    (
        received[4],
        received[5],
        u16::from_le_bytes([received[18], received[19]]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirai_session_meets_one_arm_device() {
    if !have("python3", &["-V"]) {
        return;
    }
    let pot = start(TelnetHoneypotConfig::default()).await;
    let addr = pot.addr;
    let run = tokio::task::spawn_blocking(move || {
        bot(addr, "raw", "root", "123456", Some("mirai_arch_probe.txt"))
    })
    .await
    .unwrap();
    assert_eq!(run["login"], "ok", "{run}");
    let results = run["results"].as_array().unwrap();
    let answer = |cmd: &str| -> String {
        let r: &Value = results
            .iter()
            .find(|r| r["cmd"] == cmd)
            .unwrap_or_else(|| panic!("{cmd} not run: {run}"));
        assert_eq!(r["prompt"], true, "{cmd}: no prompt: {r}");
        r["out"].as_str().unwrap().to_owned()
    };
    assert!(
        run["banner"].as_str().unwrap().contains("BusyBox v1.24.1"),
        "{run}"
    );
    for word in ["enable", "system", "shell", "sh"] {
        assert_eq!(answer(word), "", "{word}");
    }
    assert_eq!(answer("/bin/busybox MIRAI"), "MIRAI: applet not found");
    let mounts = answer("cat /proc/mounts");
    assert!(mounts.contains("/dev/root / squashfs ro"), "{mounts}");
    assert!(mounts.contains("tmpfs /tmp tmpfs rw"), "{mounts}");
    // The ELF header as received: 32-bit, little-endian, ARM, each way of
    // reading it.
    let echo = bytes(&answer("cat /bin/echo"));
    assert_eq!(elf_kind(&echo), (1, 1, 0x28));
    assert_eq!(bytes(&answer("/bin/busybox cat /bin/echo")), echo);
    // dd's record counts come on the merged stderr; the header is in one piece.
    let dd = bytes(&answer("dd bs=52 count=1 if=/bin/echo"));
    let at = dd
        .windows(4)
        .position(|w| w == b"\x7fELF")
        .expect("an ELF header");
    assert_eq!(dd[at..], echo[..52]);
    assert!(String::from_utf8_lossy(&dd[..at]).contains("52 bytes"));
    // The same machine in uname, cpuinfo, memory, processes and busybox.
    assert_eq!(answer("uname -m"), "armv7l");
    assert!(answer("uname -a").ends_with(" armv7l GNU/Linux"));
    let cpuinfo = answer("cat /proc/cpuinfo");
    assert!(cpuinfo.contains("CPU architecture: 7"), "{cpuinfo}");
    assert!(cpuinfo.contains("ARMv7 Processor"), "{cpuinfo}");
    assert!(!cpuinfo.contains("Xeon"), "{cpuinfo}");
    let total = answer("grep MemTotal /proc/meminfo");
    let kib = total.split_whitespace().nth(1).unwrap().to_owned();
    assert!(kib.len() == 5, "tens of MB: {total}");
    assert!(answer("free").contains(&format!("Mem: {kib:>13}")));
    assert!(answer("ps").starts_with("  PID USER       VSZ STAT COMMAND"));
    let busybox = answer("busybox");
    assert!(
        busybox.contains("Currently defined functions:"),
        "{busybox}"
    );
    assert!(!busybox.contains("lscpu"));
    assert_eq!(answer("lscpu"), "-sh: lscpu: not found");

    let (events, dir) = pot.finish_keeping_files().await;
    // The binary went into the recording escaped as JSON: every line parses.
    let close = &of(&events, Kind::SessionClose)[0];
    let file = close.data["recording"].as_str().expect("a recording");
    let cast = std::fs::read_to_string(dir.path().join(file)).unwrap();
    for line in cast.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    assert!(cast.contains("\"SHELL\":\"/bin/sh\""), "{cast}");
    assert!(cast.contains("\u{7f}ELF\\u0001\\u0001\\u0001"), "{cast}");
    // The probe is a typed command with its unknown applet noted.
    let typed = of(&events, Kind::TelnetCommand);
    let lscpu = typed.iter().find(|e| e.data["input"] == "lscpu").unwrap();
    assert_eq!(lscpu.data["unknown"], serde_json::json!(["lscpu"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arch_mipsel_makes_the_camera_little_endian_mips() {
    if !have("python3", &["-V"]) {
        return;
    }
    let pot = start(TelnetHoneypotConfig {
        arch: Arch::Mipsel,
        ..Default::default()
    })
    .await;
    let addr = pot.addr;
    let run = tokio::task::spawn_blocking(move || {
        bot(
            addr,
            "negotiate",
            "root",
            "123456",
            Some("mirai_arch_probe.txt"),
        )
    })
    .await
    .unwrap();
    assert_eq!(run["login"], "ok", "{run}");
    let results = run["results"].as_array().unwrap();
    let answer = |cmd: &str| -> String {
        results
            .iter()
            .find(|r| r["cmd"] == cmd)
            .and_then(|r| r["out"].as_str())
            .unwrap_or_else(|| panic!("{cmd} not run: {run}"))
            .to_owned()
    };
    assert_eq!(elf_kind(&bytes(&answer("cat /bin/echo"))), (1, 1, 0x08));
    assert_eq!(answer("uname -m"), "mips");
    assert!(answer("cat /proc/cpuinfo").contains("system type\t\t: Ingenic Xburst"));
    pot.finish().await;
}
