//! Plain-text tables.

use crate::out::print;

/// Prints a table with a title, aligned columns and a rule under the header.
pub fn print(title: &str, headers: &[&str], rows: &[Vec<String>]) {
    print!("{}", render(title, headers, rows));
}

/// A table with a title, aligned columns and a rule under the header, as
/// text (lines end with a newline; it starts with an empty line).
pub fn render(title: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("\n{title}\n");
    if rows.is_empty() {
        out.push_str("  (none)\n");
        return out;
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(&format!("  {}\n", parts.join("  ").trim_end()));
    };
    line(headers.to_vec());
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(rule.iter().map(String::as_str).collect());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

/// The volumes table, shared by the demo and `dpm volume list`.
pub fn volumes(vols: &[cinder_client::Volume]) {
    let rows: Vec<Vec<String>> = vols
        .iter()
        .map(|v| {
            vec![
                v.id.to_string(),
                v.name.clone().unwrap_or_default(),
                v.status.to_string(),
                v.bootable.to_string(),
                format!("{} GiB", v.size),
            ]
        })
        .collect();
    print(
        "Volumes",
        &["id", "name", "status", "bootable", "size"],
        &rows,
    );
}
