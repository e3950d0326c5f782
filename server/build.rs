//! Builds the browser client (`web/`, TypeScript + Vite) into `$OUT_DIR/web`, where the binary
//! embeds it from. Runs again only when the client's sources change, so `cargo build` and
//! `cargo run` need no separate step. Needs Node.js 20+ with npm.
//!
//! `PLEIN_WEB_DIST=/path/to/dist` embeds a client built elsewhere instead (no Node.js needed).

use std::path::{Path, PathBuf};
use std::process::Command;

const WATCHED: &[&str] = &[
    "src",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
];

fn main() -> Result<(), String> {
    let variable = |name: &str| std::env::var_os(name).ok_or(format!("cargo did not set {name}"));
    let web = PathBuf::from(variable("CARGO_MANIFEST_DIR")?)
        .join("..")
        .join("web");
    let out = PathBuf::from(variable("OUT_DIR")?).join("web");
    println!("cargo:rerun-if-env-changed=PLEIN_WEB_DIST");
    for watched in WATCHED {
        println!("cargo:rerun-if-changed={}", web.join(watched).display());
    }

    if let Some(dist) = std::env::var_os("PLEIN_WEB_DIST") {
        return copy_dir(Path::new(&dist), &out)
            .map_err(|error| format!("cannot copy PLEIN_WEB_DIST: {error}"));
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let installed = web.join("node_modules").join(".package-lock.json");
    let lock = web.join("package-lock.json");
    let stale = match (modified(&installed), modified(&lock)) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    };
    if stale {
        run(
            Command::new(npm)
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&web),
            npm,
        )?;
    }
    run(
        Command::new(npm)
            .args(["run", "build", "--", "--outDir"])
            .arg(&out)
            .current_dir(&web),
        npm,
    )
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

fn run(command: &mut Command, npm: &str) -> Result<(), String> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!(
            "building the web client failed ({status}); see the npm output above"
        )),
        Err(error) => Err(format!(
            "building the web client needs Node.js 20 or newer with npm, and `{npm}` could not be \
             run ({error}). Install Node.js (https://nodejs.org or your distribution's `nodejs` \
             and `npm` packages), or set PLEIN_WEB_DIST to a client built elsewhere."
        )),
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
