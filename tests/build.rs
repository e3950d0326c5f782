//! Tests that need PostgreSQL (several nodes, LISTEN/NOTIFY) are compiled as ignored unless
//! `TEST_DATABASE_URL` names one, so a SQLite run reports them as skipped, not passed; the same
//! for the S3 blob store tests and `TEST_S3=moto`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rustc-check-cfg=cfg(s3_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rerun-if-env-changed=TEST_S3");
    // The S3 tests start `moto_server` (PyPI `moto[server]`) themselves.
    if std::env::var("TEST_S3").is_ok_and(|server| server == "moto") {
        println!("cargo::rustc-cfg=s3_tests");
    }
    let postgres = std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"));
    if postgres {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
