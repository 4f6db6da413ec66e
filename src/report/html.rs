//! `report.html`: one self-contained file (inline SVG figures, inline CSS, no script, no font,
//! no external reference of any kind), so it opens anywhere, offline, and can be mailed.

use std::fmt::Write as _;

use super::content::{Content, DECOMPOSITION_TEXT, reading_guide};
use super::tables::Table;

const CSS: &str = "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.6em}h2{font-size:1.3em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}\
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}figcaption{font-size:.92em;color:#333}\
p.guide{font-size:.92em;color:#444;background:#f6f6f6;padding:.4em .7em;border-left:3px solid #999}\
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.8em;margin:.5em 0}\
th,td{border:1px solid #ddd;padding:2px 6px;text-align:right;white-space:nowrap}th{background:#f0f0f0}\
td:first-child,th:first-child{text-align:left}p.note{font-size:.9em;color:#444}code{background:#f3f3f3}";

/// Escapes text for HTML, and breaks every `://` (`&#58;//` renders the same) so that no URL
/// scheme appears in the file, whatever a file name or message contains.
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            _ => s.push(c),
        }
    }
    s.replace("://", "&#58;//")
}

/// An SVG document made ready to inline in HTML5: the XML declaration and the `xmlns`
/// attributes go (inline SVG needs neither, and their values are URLs), and any other `://`
/// is broken as in [`escape`].
pub fn inline_svg(svg: &str) -> String {
    let mut s = svg.trim().to_string();
    if s.starts_with("<?xml")
        && let Some(end) = s.find("?>")
    {
        s = s[end + 2..].trim_start().to_string();
    }
    // Remove ` xmlns="..."` and ` xmlns:xlink="..."` attributes (any prefix).
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find(" xmlns") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let removed = after.find('=').and_then(|eq| {
            let name = &after[..eq];
            let valid = name == "xmlns" || name.starts_with("xmlns:");
            let quote = after[eq + 1..].chars().next()?;
            if !valid || (quote != '"' && quote != '\'') {
                return None;
            }
            let close = after[eq + 2..].find(quote)?;
            Some(eq + 2 + close + 1)
        });
        match removed {
            Some(len) => rest = &after[len..],
            None => {
                out.push(' ');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace("://", "&#58;//")
}

fn table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "<h3 id=\"{}\">{}</h3>", t.id, escape(&t.title));
    let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(&t.note));
    out.push_str("<div class=\"scroll\"><table>\n<thead><tr>");
    for h in &t.header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in &t.rows {
        out.push_str("<tr");
        for (k, v) in &r.attrs {
            let _ = write!(out, " {}=\"{}\"", k, escape(v));
        }
        out.push('>');
        for c in &r.cells {
            let _ = write!(out, "<td>{}</td>", escape(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

/// The whole `report.html`.
pub fn render(c: &Content) -> String {
    let mut o = String::with_capacity(1 << 20);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p>{}</p>\n",
        escape(&c.title),
        escape(&c.title),
        escape(&c.summary)
    );
    o.push_str("<nav><p>Contents: <a href=\"#figures\">figures</a> · <a href=\"#fits\">fits</a> · <a href=\"#scaling\">scaling</a> · <a href=\"#predictions\">predictions</a> · <a href=\"#decomposition\">decomposition</a> · <a href=\"#provenance\">provenance</a></p></nav>\n");
    if !c.notes.is_empty() {
        o.push_str("<h2>Notes</h2>\n<ul>\n");
        for n in &c.notes {
            let _ = writeln!(o, "<li>{}</li>", escape(n));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("<h2 id=\"figures\">Figures</h2>\n");
    for f in &c.figures {
        let _ = write!(
            o,
            "<figure id=\"fig-{}\">\n{}\n<figcaption><b>{}</b> {}</figcaption>\n",
            escape(&f.name),
            inline_svg(&f.svg),
            escape(&f.title),
            escape(&f.caption)
        );
        let guide = reading_guide(&f.name);
        if !guide.is_empty() {
            let _ = writeln!(
                o,
                "<p class=\"guide\">How to read it: {}</p>",
                escape(guide)
            );
        }
        o.push_str("</figure>\n");
    }
    o.push_str("<h2>Tables</h2>\n");
    for t in &c.tables {
        if t.id == "decomposition" {
            o.push_str("<h3>The Goodhart decomposition</h3>\n");
            for p in DECOMPOSITION_TEXT {
                let _ = writeln!(o, "<p>{}</p>", escape(p));
            }
        }
        table(&mut o, t);
    }
    let p = &c.provenance;
    o.push_str("<h2 id=\"provenance\">Provenance</h2>\n<ul>\n");
    let _ = writeln!(o, "<li>goodhart {}</li>", escape(p.version));
    let _ = writeln!(o, "<li>command: <code>{}</code></li>", escape(&p.command));
    if let Some(s) = p.seed {
        let _ = writeln!(o, "<li>seed: {s}</li>");
    }
    for x in &p.computed {
        let _ = writeln!(o, "<li>{}</li>", escape(x));
    }
    o.push_str("</ul>\n<div class=\"scroll\"><table>\n<thead><tr><th>role</th><th>file</th><th>bytes</th><th>FNV-1a 64</th></tr></thead>\n<tbody>\n");
    for f in &p.inputs {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.role,
            escape(&f.label),
            f.bytes,
            f.fnv1a64
        );
    }
    o.push_str("</tbody></table></div>\n</body>\n</html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_svg_drops_namespaces_and_urls() {
        let svg = "<?xml version=\"1.0\"?>\n<svg width=\"10\" xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink='http://www.w3.org/1999/xlink' height=\"5\"><text>see https://x.org</text></svg>";
        let s = inline_svg(svg);
        assert!(!s.contains("http://") && !s.contains("https://"), "{s}");
        assert!(s.starts_with("<svg width=\"10\" height=\"5\">"), "{s}");
        assert!(!escape("a https://b <c>").contains("://"));
    }
}
