//! Which credentials the honeypots (SSH and Telnet) accept: Cowrie-style
//! `user:password` rules, shared so both protocols refuse and accept the same pairs.
//!
//! Accepting everything is itself a tell (a real server refuses most guesses), so
//! the default is a short list of the weak pairs bots try first.

/// One `user:password` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRule {
    user: Pattern,
    password: Pattern,
    accept: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Any,
    Exact(String),
}

impl Pattern {
    fn matches(&self, text: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(s) => s == text,
        }
    }
}

impl CredentialRule {
    /// The default rules: weak pairs that bots try first.
    pub const DEFAULTS: &'static [&'static str] = &[
        "root:123456",
        "root:password",
        "root:12345678",
        "root:admin",
        "root:1234",
        "admin:admin",
        "admin:1234",
        "pi:raspberry",
        "ubuntu:ubuntu",
        "user:user",
        "test:test",
    ];

    /// Parses `user:password`; the user cannot contain `:`, the password can.
    pub fn parse(text: &str) -> Result<CredentialRule, String> {
        let (user, password) = text
            .split_once(':')
            .ok_or_else(|| format!("{text:?} is not of the form user:password"))?;
        if user.is_empty() {
            return Err(format!("{text:?} has an empty user name (use * for any)"));
        }
        let (accept, password) = match password.strip_prefix('!') {
            Some(rest) => (false, rest),
            None => (true, password),
        };
        let pattern = |s: &str| {
            if s == "*" {
                Pattern::Any
            } else {
                Pattern::Exact(s.to_owned())
            }
        };
        Ok(CredentialRule {
            user: pattern(user),
            password: pattern(password),
            accept,
        })
    }
}

/// The rules, in order.
#[derive(Debug, Clone, Default)]
pub struct Credentials(Vec<CredentialRule>);

impl Credentials {
    /// Parses every rule (the config was validated, so errors name the rule).
    pub fn parse(rules: &[String]) -> Result<Credentials, String> {
        rules
            .iter()
            .map(|r| CredentialRule::parse(r))
            .collect::<Result<_, _>>()
            .map(Credentials)
    }

    /// Whether `user` may log in with `password`: the first matching rule decides.
    pub fn accepts(&self, user: &str, password: &str) -> bool {
        self.0
            .iter()
            .find(|r| r.user.matches(user) && r.password.matches(password))
            .is_some_and(|r| r.accept)
    }
}

/// The login names the rules accept besides root and `*`, in order and without
/// repeats: the fake machine's /etc/passwd lists them so whoever logs in exists.
pub fn login_names(rules: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for rule in rules {
        if let Some((user, _)) = rule.split_once(':')
            && user != "root"
            && user != "*"
            && !names.iter().any(|n| n == user)
        {
            names.push(user.to_owned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(rules: &[&str]) -> Credentials {
        Credentials::parse(&rules.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn first_match_wins_and_bang_refuses() {
        let c = creds(&["root:!root", "root:*", "admin:admin", "*:x:y"]);
        assert!(!c.accepts("root", "root"));
        assert!(c.accepts("root", "anything"));
        assert!(c.accepts("admin", "admin"));
        assert!(!c.accepts("admin", "admin2"));
        assert!(c.accepts("bob", "x:y"));
        assert!(!c.accepts("bob", "x"));
    }

    #[test]
    fn defaults_accept_the_usual_weak_pairs() {
        let c = creds(CredentialRule::DEFAULTS);
        for (u, p) in [
            ("root", "123456"),
            ("root", "password"),
            ("admin", "admin"),
            ("pi", "raspberry"),
            ("ubuntu", "ubuntu"),
        ] {
            assert!(c.accepts(u, p), "{u}/{p}");
        }
        assert!(!c.accepts("root", "root"));
        assert!(!c.accepts("root", "Zq9!x"));
        assert!(CredentialRule::parse("nocolon").is_err());
        assert!(CredentialRule::parse(":pw").is_err());
    }
}
