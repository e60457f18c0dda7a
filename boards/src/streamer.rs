//! BrainFlow's streamer strings (`start_stream`'s `streamer_params`,
//! `add_streamer`, `delete_streamer`), parsed: `file://PATH:w|a`,
//! `streaming_board://IP:PORT`, `plotjuggler_udp://IP:PORT`. The last `:`
//! splits the destination from its mode or port, so a path may hold colons.

use crate::error::{BoardError, ExitCode, Result};

/// Where a streamer sends rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Streamer {
    /// A CSV file; `append` for mode `a`, truncate for `w`.
    File {
        /// The file's path.
        path: String,
        /// Append (`a`) rather than truncate (`w`).
        append: bool,
    },
    /// BrainFlow's multicast stream that `STREAMING_BOARD` reads.
    StreamingBoard {
        /// Multicast group address.
        ip: String,
        /// UDP port.
        port: u16,
    },
    /// PlotJuggler's UDP JSON stream.
    PlotJugglerUdp {
        /// Destination address.
        ip: String,
        /// UDP port.
        port: u16,
    },
}

impl Streamer {
    /// Parses `spec`; anything else than BrainFlow's forms is
    /// `INVALID_ARGUMENTS_ERROR`, BrainFlow's code for it.
    pub fn parse(spec: &str) -> Result<Streamer> {
        let bad = || {
            BoardError::new(
                ExitCode::InvalidArguments,
                format!("malformed streamer string {spec:?}"),
            )
        };
        let (kind, rest) = spec.split_once("://").ok_or_else(bad)?;
        let (dest, last) = rest.rsplit_once(':').ok_or_else(bad)?;
        if dest.is_empty() {
            return Err(bad());
        }
        let port = || last.parse::<u16>().map_err(|_| bad());
        match kind {
            "file" if last == "w" || last == "a" => Ok(Streamer::File {
                path: dest.into(),
                append: last == "a",
            }),
            "streaming_board" => Ok(Streamer::StreamingBoard {
                ip: dest.into(),
                port: port()?,
            }),
            "plotjuggler_udp" => Ok(Streamer::PlotJugglerUdp {
                ip: dest.into(),
                port: port()?,
            }),
            _ => Err(bad()),
        }
    }
}

/// The BrainFlow string of the streamer (what [`Streamer::parse`] reads).
impl std::fmt::Display for Streamer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Streamer::File { path, append } => {
                write!(f, "file://{path}:{}", if *append { "a" } else { "w" })
            }
            Streamer::StreamingBoard { ip, port } => write!(f, "streaming_board://{ip}:{port}"),
            Streamer::PlotJugglerUdp { ip, port } => write!(f, "plotjuggler_udp://{ip}:{port}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            Streamer::parse("file:///tmp/x.csv:w").unwrap(),
            Streamer::File {
                path: "/tmp/x.csv".into(),
                append: false
            }
        );
        assert_eq!(
            Streamer::parse("file://C:/out.csv:a").unwrap(),
            Streamer::File {
                path: "C:/out.csv".into(),
                append: true
            }
        );
        assert_eq!(
            Streamer::parse("streaming_board://225.1.1.1:6677").unwrap(),
            Streamer::StreamingBoard {
                ip: "225.1.1.1".into(),
                port: 6677
            }
        );
        let p = Streamer::parse("plotjuggler_udp://127.0.0.1:9870").unwrap();
        assert_eq!(p.to_string(), "plotjuggler_udp://127.0.0.1:9870");
        for bad in [
            "",
            "foo://bar",
            "file:///tmp/x.csv",
            "file://:w",
            "streaming_board://1.2.3.4:x",
            "streaming_board://1.2.3.4:70000",
            "plotjuggler_udp://:1",
        ] {
            assert_eq!(
                Streamer::parse(bad).unwrap_err().code,
                ExitCode::InvalidArguments,
                "{bad}"
            );
        }
    }
}
