//! Keeps README.md's harness example true: it must be the example file that `cargo test` builds.

#[test]
fn readme_shows_the_compiled_example() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let example = std::fs::read_to_string(format!("{root}/crates/harness/examples/guide_test.rs")).expect("example");
    let code: String = example.lines().filter(|l| !l.starts_with("//!")).collect::<Vec<_>>().join("\n");
    assert!(readme.contains(code.trim()), "README.md's harness example differs from crates/harness/examples/guide_test.rs");
}
