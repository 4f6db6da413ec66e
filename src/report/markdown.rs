//! `report.md`: the same content as `report.html` in Markdown, figures linked as the PNG files
//! beside it (for a repository page or a notebook).

use std::fmt::Write as _;

use super::content::{Content, DECOMPOSITION_TEXT, reading_guide};
use super::tables::Table;

/// A table cell: pipes escaped, no line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "### {}\n\n{}\n", t.title, t.note);
    let _ = writeln!(
        out,
        "| {} |",
        t.header
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|{}", "---|".repeat(t.header.len()));
    for r in &t.rows {
        let _ = writeln!(
            out,
            "| {} |",
            r.cells
                .iter()
                .map(|c| cell(c))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    out.push('\n');
}

/// The whole `report.md`.
pub fn render(c: &Content) -> String {
    let mut o = String::with_capacity(1 << 18);
    let _ = writeln!(o, "# {}\n\n{}\n", c.title, c.summary);
    if !c.notes.is_empty() {
        o.push_str("## Notes\n\n");
        for n in &c.notes {
            let _ = writeln!(o, "- {n}");
        }
        o.push('\n');
    }
    o.push_str("## Figures\n\n");
    for f in &c.figures {
        let _ = writeln!(
            o,
            "### {}\n\n![{}]({})\n\n{}\n",
            f.title, f.title, f.png, f.caption
        );
        let guide = reading_guide(&f.name);
        if !guide.is_empty() {
            let _ = writeln!(o, "*How to read it:* {guide}\n");
        }
    }
    o.push_str("## Tables\n\n");
    for t in &c.tables {
        if t.id == "decomposition" {
            o.push_str("### The Goodhart decomposition\n\n");
            for p in DECOMPOSITION_TEXT {
                let _ = writeln!(o, "{p}\n");
            }
        }
        table(&mut o, t);
    }
    let p = &c.provenance;
    let _ = writeln!(
        o,
        "## Provenance\n\n- goodhart {}\n- command: `{}`",
        p.version, p.command
    );
    if let Some(s) = p.seed {
        let _ = writeln!(o, "- seed: {s}");
    }
    for x in &p.computed {
        let _ = writeln!(o, "- {x}");
    }
    o.push_str("\n| role | file | bytes | FNV-1a 64 |\n|---|---|---|---|\n");
    for f in &p.inputs {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            f.role,
            cell(&f.label),
            f.bytes,
            f.fnv1a64
        );
    }
    o
}
