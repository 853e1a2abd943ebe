//! The `trestle` binary: the command line of `trestle_api::cli`.

/// A GraphQL response is built from many small allocations (a value per
/// field, a string per name); mimalloc serves them from per-thread pages.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    trestle_api::cli::main()
}
