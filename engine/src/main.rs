use std::io::IsTerminal;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

fn main() {
    let cli = sluice::cli::Cli::parse_args();
    // A server says what its jobs do; a foreground run only what goes wrong.
    let server = matches!(cli.command, sluice::cli::Command::Serve(_));
    let default_level = match cli.verbose {
        0 if server => "info",
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    // A server also files each job's events under the job, for its log endpoint.
    let logs = sluice::server::logs::JobLogs::default();
    let job_logs = server.then(|| logs.layer().with_filter(LevelFilter::INFO));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .with(job_logs)
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
    let code = match runtime.block_on(sluice::cli::execute(cli, logs)) {
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
