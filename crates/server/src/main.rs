/// Requests allocate and free many small values; mimalloc does that faster than glibc's
/// malloc (see the server's Cargo.toml and `allocator`).
#[global_allocator]
static ALLOCATOR: profilestore_server::allocator::Mimalloc =
    profilestore_server::allocator::Mimalloc;

fn main() -> std::process::ExitCode {
    profilestore_server::cli::main()
}
