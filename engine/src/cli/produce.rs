//! `sluice produce`: writes access-log lines to a file or a Kafka topic, from the built-in
//! generator, the fixed test lines, or a log file replayed with its own timing or looped.
//! Replaces the seed system's LogDataProducer.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{FixedOffset, NaiveDate, Utc};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rdkafka::producer::FutureProducer;
use sluice_loggen::{GeneratorConfig, LogGenerator, TEST_LINES};

use crate::connectors::kafka::{DeliveryQueue, ensure_topic, producer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProduceTo {
    File,
    Kafka,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProduceMode {
    /// Realistic generated traffic (Zipf-popular courses, public IPs, a share of internal IPs and '-' referers).
    Random,
    /// The 10 fixed test lines.
    Test,
    /// The lines of INPUT, paced by their own timestamps (see --speedup).
    Replay,
    /// The lines of INPUT over and over (see --rate and --lines).
    Loop,
}

#[derive(Debug, Args)]
pub struct ProduceArgs {
    #[arg(long, value_enum, default_value_t = ProduceTo::File)]
    pub to: ProduceTo,
    /// Output file (created, or replaced); with --to file.
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// Kafka bootstrap servers; with --to kafka.
    #[arg(long, env = "SLUICE_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// Kafka topic; created with --partitions partitions when missing.
    #[arg(long, default_value = "raw-access-log")]
    pub topic: String,
    #[arg(long, default_value_t = 3)]
    pub partitions: i32,
    #[arg(long, value_enum, default_value_t = ProduceMode::Random)]
    pub mode: ProduceMode,
    /// The log file for --mode replay and --mode loop.
    pub input: Option<PathBuf>,
    /// Lines to write: random mode (default 1,000,000), loop mode (default: forever).
    #[arg(long)]
    pub lines: Option<u64>,
    /// At most this many lines per second (0 = as fast as possible). In random mode the
    /// generated event times then follow the wall clock, starting now.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Replay: play the log this many times faster than it was written (0 = no waiting).
    #[arg(long, default_value_t = 1.0)]
    pub speedup: f64,
    /// Seed of the generator: the same seed gives the same lines.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Day of the generated events, YYYYMMDD (local time, +08:00), when --rate is 0.
    #[arg(long, default_value = "20161110")]
    pub day: String,
    /// Shuffle event times: a line may be up to this many milliseconds older than the
    /// newest line before it (out-of-order arrival, as from many web servers).
    #[arg(long, default_value_t = 0)]
    pub disorder_ms: u64,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Where lines go.
enum Output {
    File(BufWriter<File>, PathBuf),
    Kafka(Box<FutureProducer>, String),
}

/// Lines in flight to Kafka before waiting for acknowledgements.
const KAFKA_IN_FLIGHT: usize = 50_000;

pub async fn produce(args: &ProduceArgs) -> anyhow::Result<i32> {
    let (output, target) = open_output(args).await?;
    let total = match args.mode {
        ProduceMode::Random => Some(args.lines.unwrap_or(1_000_000)),
        ProduceMode::Test => Some(TEST_LINES.len() as u64),
        ProduceMode::Loop => args.lines,
        ProduceMode::Replay => None,
    };
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        match total {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::new_spinner(),
        }
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} lines ({per_sec}, {elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut writer = Writer::new(output, args.rate, bar.clone());
    let written = match args.mode {
        ProduceMode::Test => {
            for line in TEST_LINES {
                writer.line(line).await?;
            }
            writer.count
        }
        ProduceMode::Random => random(args, &mut writer, total.unwrap_or(0)).await?,
        ProduceMode::Replay | ProduceMode::Loop => from_file(args, &mut writer).await?,
    };
    writer.finish().await?;
    bar.finish_and_clear();
    println!("wrote {written} lines to {target}");
    Ok(0)
}

async fn open_output(args: &ProduceArgs) -> anyhow::Result<(Output, String)> {
    match args.to {
        ProduceTo::File => {
            let Some(path) = &args.path else {
                bail!("--to file needs --path <file>");
            };
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let file =
                File::create(path).with_context(|| format!("creating {}", path.display()))?;
            Ok((
                Output::File(BufWriter::with_capacity(1 << 20, file), path.clone()),
                path.display().to_string(),
            ))
        }
        ProduceTo::Kafka => {
            let props = Default::default();
            ensure_topic(&args.brokers, &props, &args.topic, args.partitions)
                .await
                .with_context(|| format!("creating topic '{}' at {}", args.topic, args.brokers))?;
            let producer = producer(&args.brokers, &props, true)
                .with_context(|| format!("connecting to Kafka at {}", args.brokers))?;
            Ok((
                Output::Kafka(Box::new(producer), args.topic.clone()),
                format!("topic '{}' at {}", args.topic, args.brokers),
            ))
        }
    }
}

/// Writes lines to the output at most `rate` per second.
struct Writer {
    output: Output,
    rate: u64,
    started: Instant,
    count: u64,
    bar: ProgressBar,
    /// Lines for the next Kafka round: sent together, acknowledged before the next.
    pending: Vec<String>,
}

/// Lines gathered before a Kafka write round.
const KAFKA_CHUNK: usize = 10_000;

impl Writer {
    fn new(output: Output, rate: u64, bar: ProgressBar) -> Self {
        Writer {
            output,
            rate,
            started: Instant::now(),
            count: 0,
            bar,
            pending: Vec::new(),
        }
    }

    async fn line(&mut self, line: &str) -> anyhow::Result<()> {
        match &mut self.output {
            Output::File(out, path) => {
                writeln!(out, "{line}").with_context(|| format!("writing {}", path.display()))?;
            }
            Output::Kafka(..) => {
                self.pending.push(line.to_string());
                // Paced: about a tenth of a second's lines per round, so they leave on time.
                let round = match self.rate {
                    0 => KAFKA_CHUNK,
                    rate => KAFKA_CHUNK.min(rate as usize / 10 + 1),
                };
                if self.pending.len() >= round {
                    self.send_pending().await?;
                }
            }
        }
        self.count += 1;
        if self.count.is_multiple_of(1024) {
            self.bar.set_position(self.count);
        }
        if self.rate > 0 {
            // Paced: line n is due n / rate seconds after the start.
            let due = self.started + Duration::from_secs_f64(self.count as f64 / self.rate as f64);
            let now = Instant::now();
            if due > now + Duration::from_millis(5) {
                self.flush_soft().await?;
                tokio::time::sleep_until(due.into()).await;
            }
        }
        Ok(())
    }

    /// Sends what is gathered, so a paced producer's lines leave when they are due.
    async fn flush_soft(&mut self) -> anyhow::Result<()> {
        match &mut self.output {
            Output::File(out, path) => out
                .flush()
                .with_context(|| format!("writing {}", path.display())),
            Output::Kafka(..) => self.send_pending().await,
        }
    }

    async fn send_pending(&mut self) -> anyhow::Result<()> {
        let Output::Kafka(producer, topic) = &self.output else {
            return Ok(());
        };
        let mut queue = DeliveryQueue::new(producer, topic, KAFKA_IN_FLIGHT);
        for line in &self.pending {
            queue
                .send(None, line.as_bytes())
                .await
                .with_context(|| format!("producing to topic '{topic}'"))?;
        }
        queue
            .flush()
            .await
            .with_context(|| format!("producing to topic '{topic}'"))?;
        self.pending.clear();
        self.bar.set_position(self.count);
        Ok(())
    }

    async fn finish(&mut self) -> anyhow::Result<()> {
        self.flush_soft().await
    }
}

async fn random(args: &ProduceArgs, writer: &mut Writer, lines: u64) -> anyhow::Result<u64> {
    let day = NaiveDate::parse_from_str(&args.day, "%Y%m%d")
        .with_context(|| format!("--day '{}' is not a YYYYMMDD date", args.day))?;
    let mut config = GeneratorConfig::for_day(args.seed, day, lines);
    config.max_disorder_ms = args.disorder_ms;
    if args.rate > 0 {
        // A live feed: event times follow the wall clock.
        let cst = FixedOffset::east_opt(8 * 3600).context("UTC offset")?;
        config.start = Utc::now().with_timezone(&cst);
        config.events_per_second = args.rate as f64;
    }
    let mut generator = LogGenerator::new(config);
    if let Output::File(out, _) = &mut writer.output
        && args.rate == 0
    {
        // The fast path: whole chunks straight into the file.
        const STEP: u64 = 100_000;
        let mut done = 0;
        while done < lines {
            let n = STEP.min(lines - done);
            generator.write_lines(out, n)?;
            done += n;
            writer.bar.set_position(done);
        }
        writer.count = done;
        return Ok(done);
    }
    let mut line = String::with_capacity(512);
    for _ in 0..lines {
        line.clear();
        generator.next_line(&mut line);
        writer.line(&line).await?;
    }
    Ok(writer.count)
}

async fn from_file(args: &ProduceArgs, writer: &mut Writer) -> anyhow::Result<u64> {
    let Some(input) = &args.input else {
        bail!(
            "--mode {:?} needs the log file to read (sluice produce --mode replay access.log)",
            args.mode
        );
    };
    let limit = args.lines.unwrap_or(u64::MAX);
    let replay = args.mode == ProduceMode::Replay;
    let started = Instant::now();
    // Replay: the first line's time, to pace the others by.
    let mut first_ms: Option<i64> = None;
    loop {
        let file = File::open(input).with_context(|| format!("opening {}", input.display()))?;
        let mut lines_in_file = 0u64;
        for line in BufReader::new(file).lines() {
            let line = line.with_context(|| format!("reading {}", input.display()))?;
            if writer.count >= limit {
                return Ok(writer.count);
            }
            if replay
                && args.speedup > 0.0
                && let Some(ms) = line_time_ms(&line)
            {
                let first = *first_ms.get_or_insert(ms);
                let offset = ((ms - first).max(0) as f64 / args.speedup) as u64;
                let due = started + Duration::from_millis(offset);
                if due > Instant::now() {
                    writer.flush_soft().await?;
                    tokio::time::sleep_until(due.into()).await;
                }
            }
            writer.line(&line).await?;
            lines_in_file += 1;
        }
        if replay {
            return Ok(writer.count);
        }
        if lines_in_file == 0 {
            bail!("{} is empty: nothing to loop over", input.display());
        }
    }
}

/// The `[10/Nov/2016:00:01:02 +0800]` time of an nginx line, epoch ms.
fn line_time_ms(line: &str) -> Option<i64> {
    let start = line.find('[')? + 1;
    let end = start + line[start..].find(']')?;
    sluice_udfs::time::parse_nginx_time(&line[start..end])
        .ok()
        .map(|t| t.epoch_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_reads_the_time_of_a_line() {
        let ms = line_time_ms(TEST_LINES[0]).expect("a test line has a time");
        assert!(ms > 1_478_000_000_000, "{ms}");
        assert_eq!(line_time_ms("no time here"), None);
    }
}
