//! The data directory is private: the directory 0700, the database, its WAL and
//! the event logs 0600 (they hold password hashes, captured credentials and
//! malware), also for files an older version made with wider modes.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::util::{Server, token};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn the_data_directory_and_its_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    // An event log left by an older version, readable by all.
    std::fs::write(data.join("events.jsonl"), "").unwrap();
    std::fs::set_permissions(
        data.join("events.jsonl"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let config = dir.path().join("nectar.toml");
    std::fs::write(&config, "[honeypot.cowrie]\nenabled = true\n").unwrap();
    let _token = token(&data, "t", "analyst");
    let mut server = Server::start(&data, Some(&config));
    assert_eq!(mode(&data), 0o700);
    for file in ["nectar.db", "nectar.db-wal", "events.jsonl", "cowrie.json"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert!(server.sigterm().success());
}
