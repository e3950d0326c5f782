//! Tests that need PostgreSQL (several nodes, LISTEN/NOTIFY) are compiled as ignored unless
//! `TEST_DATABASE_URL` names one, so a SQLite run reports them as skipped, not passed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    let postgres = std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"));
    if postgres {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
