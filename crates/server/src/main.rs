fn main() -> std::process::ExitCode {
    profilestore_server::cli::main()
}
