mod cli;

fn main() -> std::process::ExitCode {
    cli::main::<cli::attrs::Md5>("mmd5")
}
