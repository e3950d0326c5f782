//! The `plein` binary.

use std::process::ExitCode;

use clap::Parser as _;
use plein_server::cli::{Cli, run};

// Search scorers allocate per query; mimalloc makes that measurably cheaper than glibc malloc
// (BENCHMARKS.md, people search). Its `override` feature makes it the C allocator too, so the
// bundled SQLite's many small allocations per statement skip glibc's arenas (BENCHMARKS.md,
// groups and posts).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
