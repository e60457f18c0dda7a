//! Limits on profiles and scenarios.
//!
//! Profiles and scenarios arrive in pull requests and are loaded in CI, so a
//! small malformed file must get a clear error quickly and within bounded memory
//! rather than overflow the stack, panic or exhaust the machine. Every limit is
//! here, with why it is what it is; the README's "Limits on profiles and
//! scenarios" lists them for people. Each is far above what a real device or
//! scenario needs.

/// Largest profile or scenario file, in bytes. The largest shipped file is
/// under 10 KiB; 1 MiB also bounds everything parsed from a file.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Deepest nesting of YAML collections (sequences and mappings, aliases
/// expanded). libyaml's scanner is quadratic in the depth of flow collections
/// (`[[[…`: measured 0.45 s to reject 10,000 levels, 3.2 s for 30,000, 39 s
/// for 100,000), so the depth is checked on libyaml's event stream, which stops
/// at the limit. The deepest shipped file nests 15 levels.
pub const MAX_YAML_DEPTH: usize = 64;

/// Most YAML nodes in one file, every alias expanded (each alias counts the
/// nodes of what it names). Without it a few lines of nested aliases ask for
/// billions of nodes; serde_yaml_ng's own guard ("repetition limit exceeded")
/// counts alias jumps, not nodes, and names no line. The largest shipped file
/// has 1,222.
pub const MAX_YAML_NODES: usize = 100_000;

/// Deepest nesting of parentheses, brackets and unary operators in an
/// expression: the parser recurses a dozen calls per level (255 levels parse
/// in a 512 KiB stack, a test checks).
pub const MAX_EXPR_DEPTH: usize = 256;

/// Most nodes (numbers, names, operators) in one expression. Evaluation and
/// dropping recurse along the tree, which is as deep as it is large for a long
/// sum (a 2,000,000-term sum overflowed the stack).
pub const MAX_EXPR_NODES: usize = 1024;

/// Most work a profile's packet layouts may expand to: every field and every
/// `repeat` iteration after expansion counts one, every expression node
/// compiled counts one. Two nested `repeat: 100000` reached 5.9 GB in 27 s; the
/// shipped profiles use at most 600, and reaching this limit takes about 0.1 s.
pub const MAX_LAYOUT_ITEMS: usize = 65_536;

/// Longest BLE notification value, in bytes: the ATT protocol's longest
/// attribute value (Core spec Vol 3 Part F 3.2.9).
pub const MAX_NOTIFICATION_BYTES: usize = 512;

/// Longest packet, in bytes (BLE notifications are at most 512 bytes; the
/// serial packets here are 33).
pub const MAX_PACKET_BYTES: u64 = 4096;

/// Most alternatives in one `one_of`: each alternative's fields are present
/// only if no earlier condition holds, so conditions are checked per earlier
/// alternative.
pub const MAX_ONE_OF_ALTERNATIVES: usize = 64;

/// Largest array state variable (`gain: { size: … }`); `size: 100000000000`
/// asked for 800 GB. Boards here have at most 16 channels.
pub const MAX_STATE_ARRAY: usize = 1024;

/// Largest packet counter modulo; the counter is `(start + packet) % modulo`
/// and `start` must be below it, so the sum cannot overflow.
pub const MAX_COUNTER_MODULO: u64 = 1 << 32;

/// Largest CSV signal file, in bytes (the shipped one is under 100 KiB); a
/// CSV must also be a regular file (`/dev/zero` grew without bound).
pub const MAX_CSV_BYTES: u64 = 16 << 20;

/// Most packets a scenario may ask for (`packets`): over four days at 250 Hz.
pub const MAX_PACKETS: u64 = 100_000_000;

/// Most rows a `wait_samples` step may wait for: as [`MAX_PACKETS`].
pub const MAX_WAIT_SAMPLES: u64 = MAX_PACKETS;

/// Longest time in milliseconds any duration in a scenario or profile may give
/// (`wait_ms`, `stall_ms`, `advertise_after_ms`, `out_of_range_ms`,
/// `frame.timeout_ms`): one hour. A larger one only hangs CI, and near
/// `u64::MAX` adding it to a clock overflows.
pub const MAX_DURATION_MS: u64 = 3_600_000;

/// Most packets one fault may cover (`drop`, `burst`).
pub const MAX_FAULT_PACKETS: u64 = 1_000_000;

/// Largest `buffer_size`: BrainFlow's `MAX_CAPTURE_SAMPLES` (86,400 × 250),
/// above which every board refuses to start.
pub const MAX_BUFFER_SIZE: u64 = 86_400 * 250;

/// Pacing `speed` range: a factor on the device's rate. Outside it the packet
/// interval is either too long to be a test or too short to mean anything
/// (`speed: .inf` gave an interval of 0; a tiny speed, one too long for a
/// `Duration`). 10,000 lets a 250 Hz Cyton be asked for 2.5 M packets/s, past
/// what the serial emulator delivers (`ci/bench-vs-brainflow.sh` steps up to it).
pub const SPEED_RANGE: std::ops::RangeInclusive<f64> = 0.001..=10_000.0;

/// The environment variable that, set to `1`, lets a scenario name a device
/// profile or CSV file outside its scenarios folder (`boardloop check
/// --allow-outside-paths` sets the same permission).
pub const ALLOW_OUTSIDE_PATHS_ENV: &str = "BOARDLOOP_ALLOW_OUTSIDE_PATHS";

/// Most `extends` steps from a profile to the last profile it builds on. A
/// device family needs one or two; the bound keeps a long chain of small
/// files from multiplying the work of loading one profile.
pub const MAX_EXTENDS_DEPTH: usize = 8;

/// Clock drift a scenario's `realistic.clock_ppm` may give, ±ppm. A crystal
/// is within ±50 ppm and a cheap RC oscillator within ±2 % (20,000 ppm); past
/// 100,000 ppm (10 %) the device's rate is simply another rate.
pub const MAX_CLOCK_PPM: f64 = 100_000.0;

/// Longest burst period of `realistic.delivery_ms`, ms. FTDI's latency timer
/// goes up to 255 ms; a second is far beyond any adapter.
pub const MAX_DELIVERY_MS: u64 = 1000;
