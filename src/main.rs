//! The `trestle` binary: the command line of `trestle_api::cli`.

mod allocator;

#[global_allocator]
static ALLOCATOR: allocator::Allocator = allocator::Allocator;

fn main() -> std::process::ExitCode {
    trestle_api::cli::main()
}
