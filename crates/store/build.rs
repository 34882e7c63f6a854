// The migrations are embedded by `sqlx::migrate!` at compile time: rebuild when one is added or
// changed, or the binary would silently carry the old set.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
