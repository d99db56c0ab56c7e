//! Keeps README.md's harness example true: it must be the example file that `cargo test` builds.

#[test]
fn readme_shows_the_compiled_example() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let example = std::fs::read_to_string(format!("{root}/crates/harness/examples/guide_test.rs")).expect("example");
    let code: String = example.lines().filter(|l| !l.starts_with("//!")).collect::<Vec<_>>().join("\n");
    assert!(readme.contains(code.trim()), "README.md's harness example differs from crates/harness/examples/guide_test.rs");
}

/// README's "Use it in your project" test is the adopter example's, verbatim (`.ci/run` runs it).
#[test]
fn readme_shows_the_adopter_test() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let adopter = std::fs::read_to_string(format!("{root}/examples/adopter/tests/replication.rs")).expect("adopter test");
    let block = readme
        .split("// tests/replication.rs — the accounts come from your spec; one emulator serves every test\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README.md has the adopter's tests/replication.rs block");
    assert!(adopter.contains(block.trim()), "README.md's adopter block differs from examples/adopter/tests/replication.rs");
}
