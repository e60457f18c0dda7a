//! A serial port on another machine: `rfc2217://host:port`, the Telnet COM
//! port option (RFC 2217) that ser2net and labgrid's exporters serve. The
//! telnet stream is decoded by `rfc2217-rs`'s parser and its commands are
//! built with its types; this module is the client around them: connect,
//! negotiate, set the line (baud, 8N1, no flow control), escape and unescape
//! data, purge on a flush.
//!
//! Server input is untrusted: `rfc2217-rs` 0.1 panics on some malformed
//! subnegotiations (an unknown COM-port code, a short value, any option but
//! COM-PORT), so [`SbGuard`] checks each subnegotiation before its last byte
//! reaches the parser and drops a bad one (counted in [`Rfc2217Link::ignored`]).

use crate::error::{BoardError, ExitCode, Result};
use crate::link::SerialLink;
use rfc2217_rs::negotiation::{Intent, Option as TelnetOption};
use rfc2217_rs::parser::Event;
use rfc2217_rs::{Negotiation, Parser, Subnegotiation};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

const IAC: u8 = 255;
const SB: u8 = 250;
const SE: u8 = 240;
const COM_PORT: u8 = 44;

/// How long to wait for the TCP connection and for the server's answer to
/// the line settings.
const OPEN_TIMEOUT: Duration = Duration::from_secs(3);

/// A serial port served over RFC 2217.
pub struct Rfc2217Link {
    sock: TcpStream,
    url: String,
    parser: Parser,
    guard: SbGuard,
    /// Data decoded but not yet read.
    pending: VecDeque<u8>,
    /// The baud rate the server confirmed, once it has.
    confirmed_baud: Option<u32>,
    /// Subnegotiations dropped as malformed.
    pub ignored: u64,
    /// Whether the server refused the COM port option.
    refused: bool,
}

impl Rfc2217Link {
    /// The URL scheme a rig or `serial_port` param uses.
    pub const SCHEME: &'static str = "rfc2217://";

    /// Connects to `url` (`rfc2217://host:port`), offers binary mode and
    /// the COM port option, and sets the line to `baud` 8N1 without flow
    /// control; waits until the server confirms the baud rate. Fails with
    /// `UnableToOpenPort` naming the URL.
    pub fn open(url: &str, baud: u32) -> Result<Self> {
        let fail = |why: String| {
            BoardError::new(
                ExitCode::UnableToOpenPort,
                format!("unable to open serial port {url}: {why}"),
            )
        };
        let hostport = url
            .strip_prefix(Self::SCHEME)
            .map(|h| h.trim_end_matches('/'))
            .filter(|h| !h.is_empty())
            .ok_or_else(|| fail("expected rfc2217://host:port".into()))?;
        let addr = hostport
            .to_socket_addrs()
            .map_err(|e| fail(format!("cannot resolve {hostport}: {e}")))?
            .next()
            .ok_or_else(|| fail(format!("{hostport} resolves to nothing")))?;
        tracing::info!("opening port {url}");
        let sock =
            TcpStream::connect_timeout(&addr, OPEN_TIMEOUT).map_err(|e| fail(e.to_string()))?;
        // Small writes (a one-byte command) go out at once.
        let _ = sock.set_nodelay(true);
        let mut link = Rfc2217Link {
            sock,
            url: url.to_string(),
            parser: Parser::new(),
            guard: SbGuard::default(),
            pending: VecDeque::new(),
            confirmed_baud: None,
            ignored: 0,
            refused: false,
        };
        let mut hello = Vec::new();
        for (intent, option) in [
            (Intent::Will, TelnetOption::Binary),
            (Intent::Do, TelnetOption::Binary),
            (Intent::Will, TelnetOption::SuppressGoAhead),
            (Intent::Do, TelnetOption::SuppressGoAhead),
            (Intent::Will, TelnetOption::ComPort),
        ] {
            push_negotiation(&mut hello, intent, option);
        }
        for sub in [
            Subnegotiation::SetBaudRate(baud),
            Subnegotiation::SetDataSize(8),
            Subnegotiation::SetParity(1),   // NONE
            Subnegotiation::SetStopSize(1), // 1
            Subnegotiation::SetControl(1),  // no flow control
        ] {
            push_subnegotiation(&mut hello, sub);
        }
        link.sock
            .write_all(&hello)
            .map_err(|e| fail(e.to_string()))?;
        let deadline = Instant::now() + OPEN_TIMEOUT;
        while link.confirmed_baud.is_none() {
            if link.refused {
                return Err(fail(
                    "the server refuses the COM port option (RFC 2217)".into(),
                ));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(fail(
                    "no RFC 2217 answer to the line settings (is it a telnet(rfc2217) port?)"
                        .into(),
                ));
            }
            link.fill(left).map_err(|e| fail(e.to_string()))?;
        }
        tracing::trace!("port {url} is open at {:?} baud", link.confirmed_baud);
        Ok(link)
    }

    /// The baud rate the server confirmed.
    pub fn baud(&self) -> Option<u32> {
        self.confirmed_baud
    }

    /// Reads from the socket for up to `timeout` and decodes what came;
    /// returns whether anything came. An orderly close is an error: the
    /// port is gone.
    fn fill(&mut self, timeout: Duration) -> io::Result<bool> {
        self.sock
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        let mut raw = [0u8; 4096];
        let n = match self.sock.read(&mut raw) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("serial port {} closed by the server", self.url),
                ))
            }
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(false)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(false),
            Err(e) => return Err(e),
        };
        self.decode(&raw[..n])?;
        Ok(true)
    }

    /// Passes server bytes through the parser: data to `pending`, answers
    /// to negotiations written back.
    fn decode(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut answer = Vec::new();
        for &b in bytes {
            if !self.guard.admits(b) {
                // The frame would make the parser panic: drop it whole.
                self.parser.reset();
                self.ignored += 1;
                continue;
            }
            match self.parser.process_byte(b) {
                Ok(None) => {}
                Ok(Some(Event::Data(d))) => self.pending.push_back(d),
                Ok(Some(Event::Negotiation(n))) => self.negotiated(n, &mut answer),
                Ok(Some(Event::Subnegotiation(Subnegotiation::SetBaudRate(baud)))) => {
                    self.confirmed_baud = Some(baud);
                }
                // Line and modem state notifications, other acknowledgements,
                // telnet commands (NOP, break…): nothing a board needs.
                Ok(Some(_)) => {}
                Err(_) => {
                    self.parser.reset();
                    self.guard = SbGuard::default();
                    self.ignored += 1;
                }
            }
        }
        if !answer.is_empty() {
            self.sock.write_all(&answer)?;
        }
        Ok(())
    }

    /// Answers the server's negotiation: what we offered needs no answer;
    /// anything else is declined.
    fn negotiated(&mut self, n: Negotiation, answer: &mut Vec<u8>) {
        let ours = matches!(
            n.option,
            TelnetOption::Binary | TelnetOption::SuppressGoAhead | TelnetOption::ComPort
        );
        match (n.intent, ours) {
            (Intent::Dont, _) if n.option == TelnetOption::ComPort => self.refused = true,
            (Intent::Do | Intent::Will, true) | (Intent::Dont | Intent::Wont, _) => {}
            (Intent::Do, false) => push_negotiation(answer, Intent::Wont, n.option),
            (Intent::Will, false) => push_negotiation(answer, Intent::Dont, n.option),
        }
    }
}

impl SerialLink for Rfc2217Link {
    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        // 0xFF in data is doubled on a telnet stream.
        let mut out = Vec::with_capacity(b.len() + 4);
        for &x in b {
            out.push(x);
            if x == IAC {
                out.push(IAC);
            }
        }
        self.sock.write_all(&out)?;
        self.sock.flush()
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = Instant::now() + timeout;
        // Telnet commands alone are not data: wait on until data or the deadline.
        while self.pending.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(0);
            }
            self.fill(left)?;
        }
        let n = buf.len().min(self.pending.len());
        for (dst, src) in buf.iter_mut().zip(self.pending.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }

    fn clear_input(&mut self) -> io::Result<()> {
        // Ask the server to drop what the device sent that we have not got
        // (PURGE-DATA 1: the access server's receive buffer), then drop what
        // already arrived here, reading the socket dry.
        let mut purge = Vec::new();
        push_subnegotiation(&mut purge, Subnegotiation::PurgeData(1));
        self.sock.write_all(&purge)?;
        self.pending.clear();
        self.sock.set_nonblocking(true)?;
        let mut raw = [0u8; 4096];
        let drained = loop {
            match self.sock.read(&mut raw) {
                Ok(0) => {
                    break Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("serial port {} closed by the server", self.url),
                    ))
                }
                Ok(n) => {
                    if let Err(e) = self.decode(&raw[..n]) {
                        break Err(e);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.sock.set_nonblocking(false)?;
        self.pending.clear();
        drained
    }
}

fn push_negotiation(out: &mut Vec<u8>, intent: Intent, option: TelnetOption) {
    let mut b = [0u8; 3];
    Negotiation { intent, option }.serialize(&mut b);
    out.extend_from_slice(&b);
}

fn push_subnegotiation(out: &mut Vec<u8>, sub: Subnegotiation) {
    let mut b = [0u8; rfc2217_rs::subnegotiation::MAX_SIZE];
    let n = sub.serialize_client(&mut b);
    out.extend_from_slice(&b[..n]);
}

/// Follows telnet framing beside the parser to see each subnegotiation whole
/// before its closing `SE` reaches the parser, and refuses one that
/// `rfc2217-rs` 0.1 would panic on.
#[derive(Debug, Default)]
struct SbGuard {
    state: GuardState,
    /// The frame's bytes after `IAC SB`, escapes undone.
    frame: Vec<u8>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum GuardState {
    #[default]
    Data,
    /// After an IAC in data.
    Iac,
    /// After IAC and a negotiation verb: one option byte follows.
    Option,
    /// Inside `IAC SB … `.
    Sub,
    /// After an IAC inside a subnegotiation.
    SubIac,
}

impl SbGuard {
    /// Whether byte `b` may go to the parser; `false` only for the `SE`
    /// that would close a malformed subnegotiation (the guard is then back
    /// in data, as the reset parser is).
    fn admits(&mut self, b: u8) -> bool {
        use GuardState::*;
        self.state = match (self.state, b) {
            (Data, IAC) => Iac,
            (Data, _) => Data,
            (Iac, SB) => {
                self.frame.clear();
                Sub
            }
            (Iac, 251..=254) => Option,
            (Iac, _) => Data,
            (Option, _) => Data,
            (Sub, IAC) => SubIac,
            (Sub, x) | (SubIac, x @ IAC) => {
                self.frame.push(x);
                Sub
            }
            (SubIac, SE) => {
                self.state = Data;
                return well_formed(&self.frame);
            }
            // Anything else after an IAC in a subnegotiation is the
            // parser's error to report (it resets itself).
            (SubIac, _) => Data,
        };
        true
    }
}

/// Whether `rfc2217-rs` 0.1 decodes this subnegotiation (option, code and
/// value, escapes undone) without panicking, i.e. a COM-PORT one of a known
/// code with a value as long as the code needs.
fn well_formed(frame: &[u8]) -> bool {
    let [option, code, value @ ..] = frame else {
        return false;
    };
    if *option != COM_PORT || frame.len() + 4 > rfc2217_rs::subnegotiation::MAX_SIZE {
        return false;
    }
    let need = match code % 100 {
        0 | 8 | 9 => 0,
        1 => 4,
        2..=7 | 10..=12 => 1,
        _ => return false,
    };
    matches!(*code, 0..=12 | 100..=112) && value.len() >= need
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-connection RFC 2217 server written from the RFC's bytes, for
    /// fast tests of the client (ser2net is the real one: ci/rfc2217.sh).
    /// Join the handle: the server's own assertions then count.
    fn serve(
        script: impl FnOnce(TcpStream) + Send + 'static,
    ) -> (String, std::thread::JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            script(s);
        });
        (format!("rfc2217://{addr}"), server)
    }

    /// Reads until `n` bytes came (or the client closed).
    fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
        let mut got = vec![0u8; n];
        s.read_exact(&mut got).unwrap();
        got
    }

    const HELLO: usize = 5 * 3 + 10 + 4 * 7; // negotiations, baud, four 1-byte settings

    #[test]
    fn sets_the_line_escapes_data_and_drops_bad_subnegotiations() {
        let (url, server) = serve(|mut s| {
            let hello = read_n(&mut s, HELLO);
            assert_eq!(&hello[..3], &[IAC, 251, 0], "WILL BINARY first");
            assert_eq!(&hello[12..15], &[IAC, 251, COM_PORT]);
            assert_eq!(
                &hello[15..25],
                &[IAC, SB, COM_PORT, 1, 0, 1, 0xC2, 0, IAC, SE]
            );
            // A notification the crate would panic on (a short baud value),
            // an unknown option, the baud confirmation, then data with an
            // escaped 0xFF and a DO for an option the client declines.
            let mut reply = vec![IAC, SB, COM_PORT, 101, 1, IAC, SE];
            reply.extend([IAC, SB, 24, 1, IAC, SE]);
            reply.extend([IAC, SB, COM_PORT, 101, 0, 1, 0xC2, 0, IAC, SE]);
            reply.extend([0xA0, IAC, IAC, 0x01, IAC, 253, 24]);
            s.write_all(&reply).unwrap();
            // The client writes 0xFF doubled, and declines option 24.
            let got = read_n(&mut s, 3 + 3);
            assert_eq!(got, vec![IAC, 252, 24, b'b', IAC, IAC]);
        });
        let mut link = Rfc2217Link::open(&url, 115_200).unwrap();
        assert_eq!(link.baud(), Some(115_200));
        let mut buf = [0u8; 16];
        let mut got = Vec::new();
        while got.len() < 3 {
            let n = link.read(&mut buf, Duration::from_secs(5)).unwrap();
            assert!(n > 0, "timed out with {got:?}");
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, vec![0xA0, 0xFF, 0x01]);
        assert_eq!(link.ignored, 2);
        link.write_all(&[b'b', 0xFF]).unwrap();
        server.join().unwrap();
    }

    #[test]
    fn a_server_that_never_answers_is_a_clear_error() {
        let (url, server) = serve(|mut s| {
            let _ = read_n(&mut s, HELLO);
            s.write_all(&[IAC, 254, COM_PORT]).unwrap(); // DONT COM-PORT
                                                         // Held open until the client gives up and closes.
            let _ = s.read(&mut [0u8; 1]);
        });
        let e = Rfc2217Link::open(&url, 115_200).err().unwrap();
        server.join().unwrap();
        assert_eq!(e.code, ExitCode::UnableToOpenPort);
        assert!(e.message.contains("refuses the COM port option"), "{e}");
        let e = Rfc2217Link::open("rfc2217://", 115_200).err().unwrap();
        assert!(e.message.contains("expected rfc2217://host:port"), "{e}");
    }

    #[test]
    fn the_guard_passes_what_the_parser_handles_and_stops_what_panics_it() {
        let mut g = SbGuard::default();
        let feed =
            |g: &mut SbGuard, bytes: &[u8]| bytes.iter().map(|b| g.admits(*b)).collect::<Vec<_>>();
        assert!(feed(&mut g, &[1, IAC, IAC, IAC, 251, 0, 7])
            .iter()
            .all(|x| *x));
        let ok = feed(&mut g, &[IAC, SB, COM_PORT, 112, 1, IAC, SE]);
        assert!(ok.iter().all(|x| *x));
        for bad in [
            vec![IAC, SB, COM_PORT, 101, 1, IAC, SE], // short baud
            vec![IAC, SB, COM_PORT, 50, 1, IAC, SE],  // unknown code
            vec![IAC, SB, 24, 1, IAC, SE],            // another option
            vec![IAC, SB, COM_PORT, IAC, SE],         // no code
        ] {
            let r = feed(&mut g, &bad);
            assert_eq!(r.last(), Some(&false), "{bad:?}");
            assert!(r[..r.len() - 1].iter().all(|x| *x));
        }
        // An escaped IAC inside a value counts once.
        assert!(well_formed(&[COM_PORT, 101, 0, 0, IAC, 0]));
    }
}
