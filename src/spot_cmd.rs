//! `nectar spot`: run SPOT (or DSPOT) over a file of numbers, the way users
//! (and tests) try the detector on their own data. The algorithm lives in
//! `nectar-spot`; this file only reads values, maps parameters and prints.
//!
//! Input: one number per line, or one column of a comma-separated file
//! (`--column`). Empty lines and lines starting with `#` are skipped. The
//! first `--fit` values train the model; every later value is streamed and
//! printed as `index,value,status,threshold` (or a JSON object per line with
//! `--json`), where `index` counts values from 0 (training values included)
//! and `threshold` is the anomaly threshold after the step.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use nectar_spot::{DSpot, Spot, SpotConfig, SpotError, Status};

use crate::exit::UsageError;

/// Flags of `nectar spot`.
#[derive(Debug, clap::Args)]
pub struct SpotArgs {
    /// File of values: one number per line, or a CSV file with `--column`.
    /// `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Read this column of a comma-separated file: a 1-based number, or a
    /// header name (the first line is then the header). With a number, a
    /// first line that is not a number is taken as a header.
    #[arg(long, value_name = "N|NAME")]
    pub column: Option<String>,

    /// Train on the first N values, then stream the rest.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub fit: usize,

    /// Anomaly probability: a value is an anomaly when the fitted tail gives
    /// it a probability below q of being exceeded. In (0, 1 - level).
    #[arg(
        long,
        value_name = "P",
        default_value_t = 1e-4,
        allow_negative_numbers = true
    )]
    pub q: f64,

    /// Quantile of the training values used as the excess threshold. In (0, 1).
    #[arg(
        long,
        value_name = "P",
        default_value_t = 0.98,
        allow_negative_numbers = true
    )]
    pub level: f64,

    /// Number of most recent excesses kept to fit the tail.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub max_excess: usize,

    /// Watch the lower tail (values far below the rest) instead of the upper one.
    #[arg(long)]
    pub low: bool,

    /// Learn from anomalies instead of discarding them (libspot's
    /// discard_anomalies = 0: nothing is then reported as an anomaly).
    #[arg(long)]
    pub no_discard: bool,

    /// DSPOT: detect on the difference to the mean of the last N
    /// non-anomalous values, for drifting series (0 = plain SPOT). The first
    /// N training values only fill the average.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub depth: usize,

    /// Print one JSON object per line instead of CSV.
    #[arg(long)]
    pub json: bool,
}

/// Run `nectar spot`.
pub fn run(args: &SpotArgs) -> anyhow::Result<()> {
    let config = SpotConfig {
        q: args.q,
        level: args.level,
        max_excess: args.max_excess,
        low: args.low,
        discard_anomalies: !args.no_discard,
        unbounded: false,
    };
    let mut model = if args.depth == 0 {
        Model::Spot(Spot::new(config).map_err(param_error)?)
    } else {
        Model::DSpot(DSpot::spot(config, args.depth).map_err(param_error)?)
    };

    let input: Box<dyn BufRead> = if args.file.as_os_str() == "-" {
        Box::new(BufReader::new(io::stdin().lock()))
    } else {
        let file = File::open(&args.file)
            .map_err(|e| usage(format!("cannot open {}: {e}", args.file.display())))?;
        Box::new(BufReader::new(file))
    };
    let mut values = Values::new(input, args.column.as_deref())?;

    let mut train = Vec::with_capacity(args.fit.min(1 << 20));
    while train.len() < args.fit {
        match values.next_value()? {
            Some((_, x)) => train.push(x),
            None => {
                return Err(usage(format!(
                    "--fit {} needs at least {} values, the input has {}",
                    args.fit,
                    args.fit,
                    train.len()
                )));
            }
        }
    }
    model.fit(&train).map_err(|e| match e {
        SpotError::NotEnoughData { need, .. } => usage(format!(
            "--fit {} is too small: at least {need} training values are needed",
            args.fit
        )),
        e => usage(format!("cannot fit on the first {} values: {e}", args.fit)),
    })?;

    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = stream(&mut model, &mut values, train.len(), args.json, &mut out)
        .and_then(|()| out.flush().map_err(anyhow::Error::from));
    match result {
        // A closed pipe (`nectar spot ... | head`) is not an error.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn stream(
    model: &mut Model,
    values: &mut Values,
    first_index: usize,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if !json {
        writeln!(out, "index,value,status,threshold")?;
    }
    let mut index = first_index;
    while let Some((line, x)) = values.next_value()? {
        let status = model
            .step(x)
            .map_err(|e| usage(format!("line {line}: {e}")))?;
        let z = model.anomaly_threshold();
        if json {
            writeln!(
                out,
                "{{\"index\":{index},\"value\":{},\"status\":\"{status}\",\"code\":{},\"threshold\":{}}}",
                json_number(x),
                status.code(),
                json_number(z)
            )?;
        } else {
            writeln!(out, "{index},{x:?},{status},{z:?}")?;
        }
        index += 1;
    }
    Ok(())
}

/// JSON has no NaN or infinity: print them as null.
fn json_number(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        "null".to_string()
    }
}

enum Model {
    Spot(Spot),
    DSpot(DSpot<Spot>),
}

impl Model {
    fn fit(&mut self, data: &[f64]) -> Result<(), SpotError> {
        match self {
            Model::Spot(s) => s.fit(data),
            Model::DSpot(d) => d.fit(data),
        }
    }

    fn step(&mut self, x: f64) -> Result<Status, SpotError> {
        match self {
            Model::Spot(s) => s.step(x),
            Model::DSpot(d) => d.step(x),
        }
    }

    fn anomaly_threshold(&self) -> f64 {
        match self {
            Model::Spot(s) => s.anomaly_threshold(),
            Model::DSpot(d) => d.anomaly_threshold(),
        }
    }
}

/// Which field of a line holds the value.
enum Column {
    /// The whole line.
    Line,
    /// 0-based field index; `header_possible` while the first data line has
    /// not been seen (it may be a header).
    Index { index: usize, header_possible: bool },
    /// Named column, resolved from the header (first data line).
    Name(String),
}

/// Numbers read from the input, with the line each came from.
struct Values {
    input: Box<dyn BufRead>,
    column: Column,
    line_no: usize,
    buf: String,
}

impl Values {
    fn new(input: Box<dyn BufRead>, column: Option<&str>) -> anyhow::Result<Self> {
        let column = match column {
            None => Column::Line,
            Some(c) => match c.trim().parse::<usize>() {
                Ok(0) => return Err(usage("--column numbers start at 1")),
                Ok(n) => Column::Index {
                    index: n - 1,
                    header_possible: true,
                },
                Err(_) if c.trim().is_empty() => {
                    return Err(usage("--column needs a number or a header name"));
                }
                Err(_) => Column::Name(c.trim().to_string()),
            },
        };
        Ok(Values {
            input,
            column,
            line_no: 0,
            buf: String::new(),
        })
    }

    /// Next non-empty, non-comment line, trimmed (`None` at the end).
    fn next_line(&mut self) -> anyhow::Result<Option<String>> {
        loop {
            self.buf.clear();
            let n = self
                .input
                .read_line(&mut self.buf)
                .with_context(|| format!("reading line {}", self.line_no + 1))?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            let line = self.buf.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            return Ok(Some(line.to_string()));
        }
    }

    /// Next value and its line number.
    fn next_value(&mut self) -> anyhow::Result<Option<(usize, f64)>> {
        loop {
            let Some(line) = self.next_line()? else {
                return Ok(None);
            };
            let n = self.line_no;
            let field = match &mut self.column {
                Column::Line => {
                    if line.contains(',') {
                        return Err(usage(format!(
                            "line {n}: '{}' is not a number (pick a CSV column with --column)",
                            shorten(&line)
                        )));
                    }
                    line.as_str()
                }
                Column::Name(name) => {
                    let header: Vec<&str> = line.split(',').map(str::trim).collect();
                    let Some(index) = header.iter().position(|h| h.trim_matches('"') == name)
                    else {
                        return Err(usage(format!(
                            "line {n}: no column '{name}' in the header ({})",
                            shorten(&header.join(", "))
                        )));
                    };
                    self.column = Column::Index {
                        index,
                        header_possible: false,
                    };
                    continue;
                }
                Column::Index {
                    index,
                    header_possible,
                } => {
                    let Some(field) = line.split(',').nth(*index).map(str::trim) else {
                        return Err(usage(format!(
                            "line {n}: no column {} (the line has {} fields)",
                            *index + 1,
                            line.split(',').count()
                        )));
                    };
                    if std::mem::replace(header_possible, false) && field.parse::<f64>().is_err() {
                        // A header line.
                        continue;
                    }
                    field
                }
            };
            let x: f64 = field.parse().map_err(|_| {
                let hint = if matches!(self.column, Column::Line) && n == 1 {
                    " (a header? use --column 1 to skip it)"
                } else {
                    ""
                };
                usage(format!(
                    "line {n}: '{}' is not a number{hint}",
                    shorten(field)
                ))
            })?;
            if !x.is_finite() {
                return Err(usage(format!("line {n}: {field} is not a finite number")));
            }
            return Ok(Some((n, x)));
        }
    }
}

/// At most 60 characters of user input, for error messages.
fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

fn param_error(e: SpotError) -> anyhow::Error {
    let flag = match e {
        SpotError::LevelOutOfRange { .. } => "--level",
        SpotError::QOutOfRange { .. } => "--q",
        SpotError::MaxExcessOutOfRange { .. } => "--max-excess",
        SpotError::DepthOutOfRange { .. } => "--depth",
        _ => "parameter",
    };
    usage(format!("{flag}: {e}"))
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
