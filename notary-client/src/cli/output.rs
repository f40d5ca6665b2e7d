//! Output as Go `notary` prints it: tabwriter tables (columns padded to the widest cell plus
//! four spaces, a dashed rule under the header) and `* fatal:` errors on stdout.

/// A table: header row, a rule of dashes as long as each header, then the rows.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cols = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let mut out = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            out.push_str(c);
            if i + 1 < cols {
                out.push_str(&" ".repeat(w - c.chars().count() + 4));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(headers.iter().map(|h| (*h).to_owned()).collect());
    out.push_str(&line(
        headers
            .iter()
            .map(|h| "-".repeat(h.chars().count()))
            .collect(),
    ));
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_go_list_output() {
        let rows = vec![
            vec![
                "latest".to_owned(),
                "a2e659dacb4691e887ac0139f8893d04764ee197d70fb73d3190d56113d18e3e".to_owned(),
                "4096".to_owned(),
                "targets".to_owned(),
            ],
            vec![
                "v1".to_owned(),
                "64853fda4ac63ec4750031fb545a1f8d5f6eb5ebba7db0a04abea35ad32e1602".to_owned(),
                "15".to_owned(),
                "targets".to_owned(),
            ],
        ];
        let expected = "NAME      DIGEST                                                              SIZE (BYTES)    ROLE\n\
----      ------                                                              ------------    ----\n\
latest    a2e659dacb4691e887ac0139f8893d04764ee197d70fb73d3190d56113d18e3e    4096            targets\n\
v1        64853fda4ac63ec4750031fb545a1f8d5f6eb5ebba7db0a04abea35ad32e1602    15              targets\n";
        assert_eq!(
            table(&["NAME", "DIGEST", "SIZE (BYTES)", "ROLE"], &rows),
            expected
        );
    }
}
