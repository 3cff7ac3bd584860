//! The README's list of the HMC operations is the route table's: this test
//! renders the table and compares; `DPM_BLESS=1 cargo test -p hmc-client
//! --test readme` writes it.

use hmc_client::HmcOp;

const BEGIN: &str = "<!-- hmc-operations: generated from hmc-client/src/route.rs -->\n";
const END: &str = "<!-- hmc-operations: end -->";

fn rendered() -> String {
    let mut s = String::from(BEGIN);
    s.push_str("| Operation (the WS API book's name) | Request | Query parameters |\n");
    s.push_str("|---|---|---|\n");
    for op in HmcOp::ALL {
        let query: Vec<String> = op.query().iter().map(|q| format!("`{q}`")).collect();
        s.push_str(&format!(
            "| {} | `{} {}` | {} |\n",
            op.title(),
            op.method(),
            op.template(),
            query.join(", ")
        ));
    }
    s
}

#[test]
fn the_readme_lists_the_route_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let text = std::fs::read_to_string(path).expect("the workspace's README.md");
    let (Some(start), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        panic!("README.md has no generated list of HMC operations (markers {BEGIN:?} .. {END:?})");
    };
    let want = rendered();
    if text[start..end] == want {
        return;
    }
    if std::env::var_os("DPM_BLESS").is_some() {
        let updated = format!("{}{}{}", &text[..start], want, &text[end..]);
        std::fs::write(path, updated).expect("README.md written");
        return;
    }
    panic!(
        "README.md's list of HMC operations is not the route table's; \
         run `DPM_BLESS=1 cargo test -p hmc-client --test readme`"
    );
}
