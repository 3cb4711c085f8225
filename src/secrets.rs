//! The secret registry. Every key, token and password is registered as soon as it is read,
//! and [`redact`] removes it from every line cirelay prints — in each form an API or a
//! proxy may echo it back: as sent, percent- or form-encoded, JSON-escaped (also with `\/`
//! and `\u0026`-style escapes), HTML-escaped, or with its whitespace collapsed. Query
//! values of `api_key=`-style parameters are removed even when nobody registered them.

use std::fmt::Write as _;
use std::sync::Mutex;

/// A secret shorter than this is hidden only where it stands as a whole token: replaced
/// inside longer words, a short value such as `http` would wreck every URL in the output.
pub const SHORT: usize = 8;

struct Registry {
    /// Every form of every long secret, longest first (a secret containing another is
    /// removed whole).
    long: Vec<String>,
    /// Short secrets, removed only as whole tokens.
    short: Vec<String>,
    /// A short secret was registered and `--verbose` has not said so yet.
    short_unannounced: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    long: Vec::new(),
    short: Vec::new(),
    short_unannounced: false,
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    crate::lock(&REGISTRY)
}

/// Query parameters whose values are secrets wherever they appear.
const SECRET_PARAMS: &[&str] = &[
    "api_key",
    "apikey",
    "access_token",
    "token",
    "circle-token",
    "password",
    "auth",
    "private_token",
    "job_token",
    // Signed download links (a GitHub job log's redirect, cloud storage): the signature is a
    // credential for as long as the link lives.
    "sig",
    "signature",
    "urlsignature",
    "x-amz-signature",
];

/// Remembers a secret so that [`redact`] removes it, in every form it may be echoed in,
/// from every line cirelay prints.
pub fn register_secret(secret: &str) {
    let secret = secret.trim();
    if secret.is_empty() {
        return;
    }
    let mut reg = registry();
    if secret.chars().count() < SHORT {
        if !reg.short.iter().any(|s| s == secret) {
            reg.short.push(secret.to_string());
            reg.short_unannounced = true;
        }
        return;
    }
    for form in forms(secret) {
        if !reg.long.contains(&form) {
            reg.long.push(form);
        }
    }
    reg.long.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Once, after a short secret was registered: the note `--verbose` prints about it.
pub fn short_secret_note() -> Option<String> {
    let mut reg = registry();
    if !std::mem::take(&mut reg.short_unannounced) {
        return None;
    }
    Some(format!(
        "note: a secret shorter than {SHORT} characters is set; it is hidden wherever it stands alone, but not inside longer words — use a longer key or token"
    ))
}

/// The forms a secret may come back in. Only forms that differ from the secret itself and
/// from each other are kept.
fn forms(secret: &str) -> Vec<String> {
    let json = json_escaped(secret);
    let mut all = vec![
        secret.to_string(),
        percent_encoded(secret, false),
        lowercase_escapes(&percent_encoded(secret, false)),
        percent_encoded(secret, true),
        json.replace('/', "\\/"),
        unicode_escaped(&json),
        unicode_escaped(&json).replace('/', "\\/"),
        json,
        html_escaped(secret, "&#39;"),
        html_escaped(secret, "&#x27;"),
        secret.split_whitespace().collect::<Vec<_>>().join(" "),
    ];
    all.sort();
    all.dedup();
    // A form that collapsed to something short (whitespace only) would wreck the output.
    all.retain(|f| f.chars().count() >= SHORT);
    all
}

/// `%2F` → `%2f`: some servers echo percent-escapes in lower case.
fn lowercase_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for h in chars.by_ref().take(2) {
                out.push(h.to_ascii_lowercase());
            }
        }
    }
    out
}

/// `%XX` for every byte but unreserved ones; `form`: a space is `+`, as in form bodies.
fn percent_encoded(s: &str, form: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else if form && b == b' ' {
            out.push('+');
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The secret as a JSON string's contents (`"` → `\"`, `\` → `\\`, controls → `\uXXXX`).
fn json_escaped(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// JSON escaping as Go and Rails do it: `&`, `<`, `>` and `'` as `\u00XX`.
fn unicode_escaped(json: &str) -> String {
    json.replace('&', "\\u0026")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('\'', "\\u0027")
}

fn html_escaped(s: &str, apostrophe: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', apostrophe)
}

/// Removes every registered secret and every `api_key=…`-style query value.
pub fn redact(text: &str) -> String {
    let reg = registry();
    let mut out = text.to_string();
    // A secret that itself contains `*` (a password may) can be formed again by a `***`
    // and the text around it: repeat until a pass changes nothing. Should some text never
    // settle, none of it is printed.
    for _ in 0..MAX_REDACT_PASSES {
        let before = out.clone();
        for secret in &reg.long {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        for secret in &reg.short {
            out = redact_token(&out, secret);
        }
        for param in SECRET_PARAMS {
            out = redact_param(&out, param);
        }
        if out == before {
            return out;
        }
    }
    MASK.to_string()
}

const MASK: &str = "***";
const MAX_REDACT_PASSES: usize = 16;

/// Characters that end a token: a short secret between two of them (or the text's ends)
/// stands alone, as a value in JSON, a header, a query string or a sentence does.
fn ends_token(c: char) -> bool {
    c.is_whitespace() || "\"'`,;=&?()[]{}<>".contains(c)
}

fn redact_token(text: &str, secret: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut prev: Option<char> = None;
    while let Some(at) = rest.find(secret) {
        let before = rest[..at].chars().next_back().or(prev);
        let after = rest[at + secret.len()..].chars().next();
        let alone = before.is_none_or(ends_token) && after.is_none_or(ends_token);
        out.push_str(&rest[..at]);
        if alone {
            out.push_str(MASK);
        } else {
            out.push_str(secret);
        }
        prev = secret.chars().next_back();
        rest = &rest[at + secret.len()..];
    }
    out.push_str(rest);
    out
}

fn redact_param(text: &str, param: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let needle = format!("{param}=");
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(&needle) {
        let start = from + found;
        let value_start = start + needle.len();
        from = value_start;
        let boundary = start == 0
            || matches!(
                text.as_bytes()[start - 1],
                b'?' | b'&' | b' ' | b'"' | b'\''
            );
        if !boundary {
            continue;
        }
        let value_end = text[value_start..]
            .find(|c: char| matches!(c, '&' | '#' | '"' | '\'' | ',') || c.is_whitespace())
            .map_or(text.len(), |i| value_start + i);
        if value_end == value_start || &text[value_start..value_end] == MASK {
            continue;
        }
        out.push_str(&text[copied..value_start]);
        out.push_str(MASK);
        copied = value_end;
        from = value_end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Forgets every registered secret, so a fuzz target can start each input afresh.
#[cfg(fuzzing)]
pub(crate) fn forget_secrets() {
    let mut reg = registry();
    reg.long.clear();
    reg.short.clear();
    reg.short_unannounced = false;
}

#[cfg(test)]
mod tests {
    use super::*;

    // The registry is process-wide: each test registers values no other test prints.

    #[test]
    fn redacts_registered_secrets_and_their_encoded_form() {
        register_secret("s3cr3t/key+value");
        let text = "GET /x?k=s3cr3t%2Fkey%2Bvalue failed; said s3cr3t/key+value";
        let red = redact(text);
        assert!(!red.contains("s3cr3t"), "{red}");
        assert_eq!(red, "GET /x?k=*** failed; said ***");
        assert_eq!(redact("lower: s3cr3t%2fkey%2bvalue"), "lower: ***");
    }

    #[test]
    fn redacts_secret_query_values_even_when_unregistered() {
        assert_eq!(
            redact("https://h/api/v1/projects/1.json?api_key=abc123&branch=main"),
            "https://h/api/v1/projects/1.json?api_key=***&branch=main"
        );
        assert_eq!(redact("x?API_KEY=abc"), "x?API_KEY=***");
        assert_eq!(
            redact("see \"token=zzz\" and circle-token=yy"),
            "see \"token=***\" and circle-token=***"
        );
        assert_eq!(
            redact("https://x.firebaseio.com/p.json?auth=eyJh"),
            "https://x.firebaseio.com/p.json?auth=***"
        );
        // Not a parameter of its own: left alone.
        assert_eq!(redact("my_api_key=value"), "my_api_key=value");
        assert_eq!(redact("api_key=&x=1"), "api_key=&x=1");
        // A job log's signed redirect: its signature reads the log while the link lives.
        assert_eq!(
            redact("GET https://logs.example.net/j/1?urlExpires=2026&urlSigningMethod=HMACV1&urlSignature=2TUDfIg4"),
            "GET https://logs.example.net/j/1?urlExpires=2026&urlSigningMethod=HMACV1&urlSignature=***"
        );
        assert_eq!(
            redact("https://b.blob.core.windows.net/x?sv=2019&sig=abc%2Bdef&se=1"),
            "https://b.blob.core.windows.net/x?sv=2019&sig=***&se=1"
        );
    }

    #[test]
    fn secrets_containing_the_mask_do_not_reappear() {
        // Found by fuzzing: replacing "~\0\u{0}4" left "***" next to "\0", which is the other
        // secret again.
        register_secret("~\0\u{0}4~\0\u{0}4");
        register_secret("***\0***\0");
        let red = redact("a~\0\u{0}4~\0\u{0}4***\0***\0~\0\u{0}4~\0\u{0}4b");
        assert!(
            !red.contains("***\0***\0") && !red.contains("~\0\u{0}4~\0\u{0}4"),
            "{red:?}"
        );
        register_secret("zzzzzzz***");
        assert_eq!(redact("zzzzzzzzzz***!"), "zzz***!");
    }

    #[test]
    fn secrets_echoed_escaped_are_redacted() {
        let secret = r#"pa"ss\w/o&rd<1>'x y"#;
        register_secret(secret);
        for echoed in [
            r#"pa\"ss\\w/o&rd<1>'x y"#,
            r#"pa\"ss\\w\/o&rd<1>'x y"#,
            r#"pa\"ss\\w/o\u0026rd\u003c1\u003e\u0027x y"#,
            r#"pa\"ss\\w\/o\u0026rd\u003c1\u003e\u0027x y"#,
            "pa&quot;ss\\w/o&amp;rd&lt;1&gt;&#39;x y",
            "pa&quot;ss\\w/o&amp;rd&lt;1&gt;&#x27;x y",
            "pa%22ss%5Cw%2Fo%26rd%3C1%3E%27x%20y",
            "pa%22ss%5Cw%2Fo%26rd%3C1%3E%27x+y",
        ] {
            let red = redact(&format!("said: {echoed}."));
            assert_eq!(red, "said: ***.", "{echoed}");
        }
        register_secret("tab\tand  spaces-0123");
        assert_eq!(redact("got tab and spaces-0123 back"), "got *** back");
    }

    #[test]
    fn short_secrets_are_hidden_where_they_stand_alone() {
        register_secret("ab");
        assert_eq!(redact("tab"), "tab");
        assert_eq!(redact("ab"), "***");
        register_secret("http");
        assert_eq!(
            redact("GET http://h/x?k=http said \"http\" (http)"),
            "GET http://h/x?k=*** said \"***\" (***)"
        );
        register_secret("q1w2");
        assert_eq!(redact("q1w2 q1w2q1w2 q1w2"), "*** q1w2q1w2 ***");
        assert!(short_secret_note().is_some());
        assert!(short_secret_note().is_none(), "said once");
    }
}
