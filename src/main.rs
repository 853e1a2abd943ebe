fn main() -> std::process::ExitCode {
    trestle_api::cli::main()
}
