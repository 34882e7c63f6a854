/// Requests allocate and free many small values; mimalloc does that faster than glibc's
/// malloc (see the server's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    profilestore_server::cli::main()
}
