//! The fake shell: whatever a logged-in attacker types, over a terminal or not.

use nectar_event::text::must_escape;
use nectar_honeypot::shell::persona::{Arch, Persona};
use nectar_honeypot::shell::{Action, Limits, Origin, Shell, World, escape_bytes};

/// Most output one session may produce: every allowed command at the shell's
/// per-command cap, with room for prompts and echo. More means output that is not
/// bounded, which an attacker could use to exhaust memory.
const MAX_SESSION_OUTPUT: usize = 16 * 1024 * 1024;

/// Types `data` into a new session (the first byte picks the Debian VM's bash or
/// the BusyBox camera's ash on ARM or MIPS, with or without a terminal): output stays bounded, and what the events keep of it
/// (commands, download URLs, typed bytes) shows escaped without a control character.
pub fn shell_session(data: &[u8]) {
    let flags = data.first().copied().unwrap_or(0);
    let persona = if flags & 1 == 0 {
        Persona::debian("fuzz-1", vec!["pi".into()])
    } else {
        let arch = if flags & 4 == 0 {
            Arch::Arm
        } else {
            Arch::Mipsel
        };
        Persona::busybox_device("fuzz-1", vec!["pi".into()], arch)
    };
    let world = World::new(persona);
    let limits = Limits {
        max_line_bytes: 4096,
        max_commands: 50,
    };
    let origin = Origin {
        client_ip: "203.0.113.9".into(),
        server_ip: "10.0.0.5".into(),
        now: 1_732_871_331,
    };
    let mut shell = Shell::new(world, "root", limits, origin, flags & 2 != 0);
    let mut total = shell.greeting().data.len();
    for piece in crate::cuts(data) {
        let out = shell.feed(piece);
        total += out.data.len() + out.err.len();
        check_actions(&out.actions);
        assert!(total <= MAX_SESSION_OUTPUT, "{total} bytes of output");
        if out.exit.is_some() {
            break;
        }
    }
    let out = shell.end_input();
    check_actions(&out.actions);
    assert!(escape_bytes(data).chars().all(|c| !must_escape(c)));
}

fn check_actions(actions: &[Action]) {
    for action in actions {
        let shown = match action {
            Action::Command(text) | Action::NotFound(text) => escape_bytes(text.as_bytes()),
            Action::Download { url, outfile, .. } => {
                escape_bytes(format!("{url} {outfile}").as_bytes())
            }
            Action::Typed(text) => text.clone(),
            Action::FileWrite { path, .. } => escape_bytes(path.as_bytes()),
            Action::Process {
                image,
                command_line,
                ..
            } => {
                assert!(command_line.len() <= 1_024, "process line unbounded");
                escape_bytes(format!("{image} {command_line}").as_bytes())
            }
            Action::Limit(_) => continue,
        };
        assert!(
            shown.chars().all(|c| !must_escape(c)),
            "a control or invisible character in {shown:?}"
        );
    }
}
