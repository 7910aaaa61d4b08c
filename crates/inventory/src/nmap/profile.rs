//! Scan profiles: the built-in ones (NECTOR's: fast, version, aggressive, no
//! ping) and the check that keeps configured ones from writing files or
//! reading target lists (nmap's output goes to us, its targets come from us).

/// The built-in profiles and their nmap options.
pub const BUILTIN_PROFILES: &[(&str, &[&str])] = &[
    ("fast", &["-F"]),
    ("version", &["-sV"]),
    ("aggressive", &["-A"]),
    ("noping", &["-Pn"]),
];

/// Options a profile may not carry: they write files, read targets or
/// options from files, or run scripts from paths we do not control.
const REFUSED: &[&str] = &[
    "-o",
    "-i",
    "--resume",
    "--datadir",
    "--servicedb",
    "--versiondb",
    "--excludefile",
    "--stylesheet",
    "--script",
    "--script-args-file",
    "--log-errors",
    "--append-output",
];

/// Checks a configured profile's options.
pub fn check_args(args: &[String]) -> Result<(), String> {
    if args.len() > 64 {
        return Err("at most 64 options".into());
    }
    for a in args {
        if a.len() > 256 || a.contains('\0') {
            return Err("an option is longer than 256 bytes".into());
        }
        if REFUSED.iter().any(|r| a.starts_with(r)) {
            return Err(format!(
                "{a:?} is not allowed in a profile (output, input lists and scripts are Nectar's to choose)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_files_and_scripts() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(check_args(&s(&["-sV", "-T4", "--top-ports", "100"])).is_ok());
        for bad in [
            "-oX",
            "-oN",
            "-iL",
            "--script=vuln",
            "--datadir",
            "--resume",
        ] {
            assert!(check_args(&s(&[bad])).is_err(), "{bad}");
        }
    }
}
