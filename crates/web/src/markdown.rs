//! Markdown written by people (incident descriptions and comments) turned
//! into HTML a page may include as is.
//!
//! Two steps, each by a well-kept crate: pulldown-cmark renders CommonMark
//! with raw HTML turned into text (it never reaches the output as markup),
//! then ammonia keeps only a small set of tags and attributes and only
//! `http`, `https` and `mailto` links, so `javascript:` and `data:` URLs lose
//! their `href`. Links get `rel="noopener noreferrer nofollow"`. The page's
//! CSP forbids scripts anyway; this keeps the markup itself harmless.

use std::collections::HashSet;
use std::sync::OnceLock;

use pulldown_cmark::{Event, Options, Parser, html};

/// Most characters of Markdown rendered; the rest is cut (the stored text is
/// bounded too, this guards the renderer).
const MAX_INPUT: usize = 100_000;

fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let tags: HashSet<&str> = [
            "p",
            "br",
            "hr",
            "em",
            "strong",
            "del",
            "code",
            "pre",
            "blockquote",
            "ul",
            "ol",
            "li",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "a",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
        ]
        .into_iter()
        .collect();
        let schemes: HashSet<&str> = ["http", "https", "mailto"].into_iter().collect();
        let mut builder = ammonia::Builder::empty();
        builder
            .tags(tags)
            .tag_attributes(
                [("a", ["href"].into_iter().collect())]
                    .into_iter()
                    .collect(),
            )
            .url_schemes(schemes)
            .url_relative(ammonia::UrlRelative::Deny)
            .link_rel(Some("noopener noreferrer nofollow"));
        builder
    })
}

/// `markdown` as safe HTML.
pub fn render(markdown: &str) -> String {
    let text: String = markdown.chars().take(MAX_INPUT).collect();
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    // Raw HTML, inline or in blocks, becomes text: it is shown, never parsed.
    let events = Parser::new_ext(&text, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut unsafe_html = String::with_capacity(text.len() * 2);
    html::push_html(&mut unsafe_html, events);
    cleaner().clean(&unsafe_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders_to_the_safe_subset() {
        assert_eq!(
            render("Some **bold** and `code`"),
            "<p>Some <strong>bold</strong> and <code>code</code></p>\n"
        );
        let link = render("[site](https://example.org/a?b=1)");
        assert!(
            link.contains("href=\"https://example.org/a?b=1\""),
            "{link}"
        );
        assert!(
            link.contains("rel=\"noopener noreferrer nofollow\""),
            "{link}"
        );
    }

    #[test]
    fn scripts_handlers_and_raw_html_never_pass() {
        for hostile in [
            "<script>alert(1)</script>",
            "before <script>alert(1)</script> after",
            "<img src=x onerror=alert(1)>",
            "text <img src=x onerror=alert(1)> text",
            "<div style=\"x\" onclick=\"alert(1)\">raw</div>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<a href=\"javascript:alert(1)\">x</a>",
        ] {
            let html = render(hostile);
            // Every tag left is one of the plain ones, without attributes.
            for tag in html.split('<').skip(1) {
                let tag = tag.split('>').next().unwrap_or_default();
                assert!(
                    ["p", "/p"].contains(&tag),
                    "{hostile:?} gave the tag <{tag}> in {html:?}"
                );
            }
        }
        // Shown as text.
        assert!(render("<script>alert(1)</script>").contains("&lt;script&gt;"));
    }

    #[test]
    fn javascript_and_data_links_lose_their_target() {
        for link in [
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](data:text/html;base64,PHNjcmlwdD4=)",
            "<javascript:alert(1)>",
            "[click](/relative)",
        ] {
            let html = render(link);
            assert!(!html.contains("href"), "{link:?} gave {html:?}");
        }
    }
}
