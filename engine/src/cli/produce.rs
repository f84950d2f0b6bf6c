//! `sluice produce`: writes access-log lines from the built-in generator (or the fixed test
//! lines) to a file. Kafka output arrives with the Kafka connector.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::generator::{GeneratorConfig, LogGenerator, TEST_LINES};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProduceTo {
    File,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProduceMode {
    /// Realistic generated traffic (Zipf-popular courses, public IPs, a share of internal IPs and '-' referers).
    Random,
    /// The 10 fixed test lines.
    Test,
}

#[derive(Debug, Args)]
pub struct ProduceArgs {
    #[arg(long, value_enum, default_value_t = ProduceTo::File)]
    pub to: ProduceTo,
    /// Output file (created, or replaced).
    #[arg(long)]
    pub path: PathBuf,
    #[arg(long, value_enum, default_value_t = ProduceMode::Random)]
    pub mode: ProduceMode,
    /// Number of lines (random mode), spread over one day.
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: u64,
    /// Seed of the generator: the same seed gives the same lines.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Day of the generated events, YYYYMMDD (local time, +08:00).
    #[arg(long, default_value = "20161110")]
    pub day: String,
    /// Shuffle event times: a line may be up to this many milliseconds older than the
    /// newest line before it (out-of-order arrival, as from many web servers).
    #[arg(long, default_value_t = 0)]
    pub disorder_ms: u64,
}

pub fn produce(args: &ProduceArgs) -> anyhow::Result<i32> {
    if let Some(parent) = args.path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let file =
        File::create(&args.path).with_context(|| format!("creating {}", args.path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let written = match args.mode {
        ProduceMode::Test => {
            for line in TEST_LINES {
                writeln!(out, "{line}")?;
            }
            TEST_LINES.len() as u64
        }
        ProduceMode::Random => {
            let day = NaiveDate::parse_from_str(&args.day, "%Y%m%d")
                .with_context(|| format!("--day '{}' is not a YYYYMMDD date", args.day))?;
            let mut config = GeneratorConfig::for_day(args.seed, day, args.lines);
            config.max_disorder_ms = args.disorder_ms;
            let mut generator = LogGenerator::new(config);
            let bar = ProgressBar::new(args.lines);
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {pos}/{len} lines ({per_sec}, eta {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            const STEP: u64 = 100_000;
            let mut done = 0;
            while done < args.lines {
                let n = STEP.min(args.lines - done);
                generator.write_lines(&mut out, n)?;
                done += n;
                bar.set_position(done);
            }
            bar.finish_and_clear();
            done
        }
    };
    out.flush()
        .with_context(|| format!("writing {}", args.path.display()))?;
    println!("wrote {written} lines to {}", args.path.display());
    Ok(0)
}
