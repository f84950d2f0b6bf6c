use tracing_subscriber::EnvFilter;

fn main() {
    let cli = sluice::cli::Cli::parse_args();
    let default_level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = match runtime.block_on(sluice::cli::execute(cli)) {
        Ok(code) => code,
        Err(e) => {
            match e.downcast_ref::<sluice::SluiceError>() {
                // Already rendered as `file:line:col: error: …` with the source line.
                Some(sluice::SluiceError::Sql(rendered)) => eprintln!("{rendered}"),
                _ => eprintln!("error: {e:#}"),
            }
            1
        }
    };
    std::process::exit(code);
}
