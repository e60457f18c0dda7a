//! The board registry: one declaration per board ([`BoardDecl`]), read by
//! every other part (the factory, BrainFlow's board descriptions, the C ABI,
//! the harness) instead of matching on board ids.
//!
//! A declaration holds the board's id and short name, its presets with their
//! row layouts kept as data (BrainFlow's own JSON, verbatim), the names of
//! its "other" rows, the BrainFlow quirks a harness must know, and how to
//! build its driver from [`InputParams`] and a transport. Each declaration
//! lives beside its driver (`cyton_board::CYTON`, `muse_board::MUSE_2`, …);
//! [`BOARDS`] lists them. Adding a board is: a device profile, a
//! declaration here, a protocol module and scenarios (see the README's
//! "Adding a board").

use std::sync::OnceLock;

use crate::ble::BleConnector;
use crate::board::Board;
use crate::descr::BoardDescr;
use crate::error::{BoardError, ExitCode, Result};
use crate::ids::{BoardId, Preset};
use crate::link::{SerialLink, SerialPortLink};
use crate::params::InputParams;
use crate::rfc2217_link::Rfc2217Link;
use crate::serial_session::LinkOpener;

/// One preset of a board and its row layout.
#[derive(Debug)]
pub struct PresetLayout {
    /// Which preset.
    pub preset: Preset,
    /// The layout exactly as BrainFlow prints it
    /// (`json.dumps(BoardShim.get_board_descr(id, preset), sort_keys=True)`).
    pub json: &'static str,
}

/// The three presets of a board that carries another board's rows
/// ([`Driver::Master`]), each with BrainFlow's name-only description `json`.
pub const fn name_only_layouts(json: &'static str) -> [PresetLayout; 3] {
    [
        PresetLayout {
            preset: Preset::Default,
            json,
        },
        PresetLayout {
            preset: Preset::Auxiliary,
            json,
        },
        PresetLayout {
            preset: Preset::Ancillary,
            json,
        },
    ]
}

/// An "other" row of the default preset the harness binds to a signal of
/// the device profile (OpenBCI's end byte, Muse's AUX electrode, Knight's
/// lead-off bytes). Named in row order from the layout's first other row.
#[derive(Debug)]
pub struct OtherRow {
    /// The profile's signal or field carried in that row.
    pub signal: &'static str,
    /// Compared with the declared signal unless a scenario lists its channels.
    pub checked_by_default: bool,
}

/// Builds a serial board: the params as the caller gave them and the opener
/// of its port (called by `prepare_session`).
pub type SerialBuilder = fn(&InputParams, LinkOpener) -> Box<dyn Board>;

/// How a serial board is opened and built.
#[derive(Debug, Clone, Copy)]
pub struct SerialDriver {
    /// The port's baud rate (BrainFlow's `set_custom_baudrate`, or 115200).
    pub baud: u32,
    /// Builds the driver.
    pub build: SerialBuilder,
}

/// Builds a BLE board: the params (`mac_address`, `serial_number`,
/// `timeout`, …) and the connector that finds and connects its device.
pub type BleBuilder = fn(&InputParams, Box<dyn BleConnector>) -> Box<dyn Board>;

/// How a board's driver is made, which also says its transport.
#[derive(Debug, Clone, Copy)]
pub enum Driver {
    /// A serial device (a port such as `/dev/ttyUSB0`).
    Serial(SerialDriver),
    /// A BLE peripheral.
    Ble(BleBuilder),
    /// No device: the host makes the rows (BrainFlow's synthetic board).
    Host(HostBuilder),
    /// No device: the rows come from a file or the network in the layout of
    /// the board named by `params.master_board` (BrainFlow's playback file
    /// and streaming boards). Its own layouts are BrainFlow's name-only
    /// descriptions; [`BoardDecl::layout`] refuses them.
    Master(HostBuilder),
    /// Described (BrainFlow's layout) but no driver yet.
    None,
}

/// Builds a board whose rows the host makes, from BrainFlow's params.
pub type HostBuilder = fn(&InputParams) -> Box<dyn Board>;

/// The transport a board's device is reached over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// A serial port.
    Serial,
    /// Bluetooth Low Energy.
    Ble,
}

impl Transport {
    /// Lower-case name, as `boardloop boards` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Serial => "serial",
            Transport::Ble => "BLE",
        }
    }
}

/// Everything the rest of boardloop knows about one board.
#[derive(Debug)]
pub struct BoardDecl {
    /// BrainFlow's id.
    pub id: BoardId,
    /// Short name: the scenarios' `boards:` entry, the first part of every
    /// trial name, the rig file's key (`cyton`, `muse_2`).
    pub name: &'static str,
    /// Every preset BrainFlow defines for the board, with its layout.
    pub layouts: &'static [PresetLayout],
    /// Names of the default preset's "other" rows the harness checks.
    pub other_rows: &'static [OtherRow],
    /// Rows of each preset (default, auxiliary, ancillary) that BrainFlow's own
    /// driver keeps back per stream by design; the harness lowers row
    /// expectations on BrainFlow targets by exactly this much.
    pub brainflow_withheld_rows: [usize; 3],
    /// Bytes BrainFlow's own driver writes past each command it sends, a bug
    /// of its driver that reaches the device (BrainAlive: 18, see
    /// `brainalive_board`); the harness accepts exactly this many bytes the
    /// device refuses after each command on BrainFlow targets, and says so.
    pub brainflow_command_overrun: usize,
    /// How to build the driver.
    pub driver: Driver,
    /// File name of the board's C++ implementation built as a plugin by
    /// `ci/build-plugins.sh`, if it has one (then it gets `cpp` trials).
    pub cpp_plugin: Option<&'static str>,
}

impl BoardDecl {
    /// The transport of its driver (`None` when it has no device link: no
    /// driver, or rows the host makes).
    pub fn transport(&self) -> Option<Transport> {
        match self.driver {
            Driver::Serial(_) => Some(Transport::Serial),
            Driver::Ble(_) => Some(Transport::Ble),
            Driver::Host(_) | Driver::Master(_) | Driver::None => None,
        }
    }

    /// The serial port's baud rate, for a serial board.
    pub fn serial_baud(&self) -> Option<u32> {
        match self.driver {
            Driver::Serial(d) => Some(d.baud),
            _ => None,
        }
    }

    /// The board's presets in BrainFlow's order (`get_board_presets`: the
    /// JSON keys `ancillary`, `auxiliary`, `default` sorted by name).
    pub fn presets(&self) -> Vec<Preset> {
        let mut p: Vec<Preset> = self.layouts.iter().map(|l| l.preset).collect();
        p.sort_by_key(|p| preset_key(*p));
        p
    }

    /// The row layout of `preset`; `InvalidArguments` if the board lacks it
    /// or takes the layout of its `master_board`.
    pub fn layout(&self, preset: Preset) -> Result<&'static BoardDescr> {
        if let Driver::Master(_) = self.driver {
            return Err(BoardError::new(
                ExitCode::InvalidArguments,
                format!(
                    "board {} has the layout of its session's master_board",
                    self.id.name()
                ),
            ));
        }
        parsed()
            .iter()
            .find(|(id, p, _)| *id == self.id && *p == preset)
            .map(|(_, _, d)| d)
            .ok_or_else(|| {
                let known = self.layouts.iter().any(|l| l.preset == preset);
                if known {
                    // Only if a layout's JSON failed to parse (a unit test
                    // parses every one).
                    BoardError::new(
                        ExitCode::GeneralError,
                        format!("layout of {} {preset:?} does not parse", self.id),
                    )
                } else {
                    BoardError::new(
                        ExitCode::InvalidArguments,
                        format!("board {} has no preset {preset:?}", self.id.name()),
                    )
                }
            })
    }
}

/// BrainFlow's description of `id` in `preset`, verbatim: what
/// `get_board_descr` prints, and where every field getter of the C ABI
/// reads. For the playback and streaming boards it holds only a name, as in
/// BrainFlow. `UnsupportedBoard` for a board not declared,
/// `InvalidArguments` for a preset it lacks.
pub fn descr_json(id: BoardId, preset: Preset) -> Result<&'static str> {
    let decl = by_id(id)?;
    decl.layouts
        .iter()
        .find(|l| l.preset == preset)
        .map(|l| l.json)
        .ok_or_else(|| {
            BoardError::new(
                ExitCode::InvalidArguments,
                format!("board {} has no preset {preset:?}", id.name()),
            )
        })
}

/// Every board boardloop declares, in the order `boardloop boards` lists them.
pub static BOARDS: &[&BoardDecl] = &[
    &crate::cyton_board::CYTON,
    &crate::cyton_board::CYTON_DAISY,
    &crate::ganglion_board::GANGLION_NATIVE,
    &crate::brainalive_board::BRAINALIVE,
    &crate::aavaa_board::AAVAA_V3,
    &crate::muse_board::MUSE_2,
    &crate::muse_board::MUSE_S,
    &crate::muse_board::MUSE_2016,
    &crate::muse_athena_board::MUSE_S_ATHENA,
    &crate::knight_board::NEUROPAWN_KNIGHT,
    &crate::knight_board::NEUROPAWN_KNIGHT_IMU,
    &crate::freeeeg_board::FREEEEG32,
    &crate::freeeeg_board::FREEEEG128,
    &crate::freeeeg_board::IRONBCI32,
    &crate::shimmer3_board::SHIMMER3,
    &crate::synthetic::SYNTHETIC,
    &crate::playback::PLAYBACK_FILE,
    &crate::streaming::STREAMING,
];

/// The declaration of `id`; `UnsupportedBoard` if there is none.
pub fn by_id(id: BoardId) -> Result<&'static BoardDecl> {
    BOARDS.iter().copied().find(|d| d.id == id).ok_or_else(|| {
        BoardError::new(
            ExitCode::UnsupportedBoard,
            format!("board {} ({}) is not supported yet", id.name(), id.id()),
        )
    })
}

/// The declaration whose short name is `name`.
pub fn by_name(name: &str) -> Option<&'static BoardDecl> {
    BOARDS.iter().copied().find(|d| d.name == name)
}

/// The scenarios' name of a preset (`expect.presets.auxiliary`), which is
/// also BrainFlow's JSON key.
pub fn preset_key(preset: Preset) -> &'static str {
    match preset {
        Preset::Default => "default",
        Preset::Auxiliary => "auxiliary",
        Preset::Ancillary => "ancillary",
    }
}

/// The preset named `key` (see [`preset_key`]).
pub fn preset_by_key(key: &str) -> Option<Preset> {
    [Preset::Default, Preset::Auxiliary, Preset::Ancillary]
        .into_iter()
        .find(|p| preset_key(*p) == key)
}

/// Every layout parsed once: `get_board_descr` and every driver read them
/// on hot paths (the C ABI's per-call checks). A plain `Vec`, not a hash
/// map: a hash map's table is reached through a pointer into its middle,
/// which valgrind reports as "possibly lost" for this process-long cache.
fn parsed() -> &'static [(BoardId, Preset, BoardDescr)] {
    static PARSED: OnceLock<Vec<(BoardId, Preset, BoardDescr)>> = OnceLock::new();
    PARSED.get_or_init(|| {
        let mut m = Vec::new();
        for d in BOARDS
            .iter()
            .filter(|d| !matches!(d.driver, Driver::Master(_)))
        {
            for l in d.layouts {
                match serde_json::from_str::<BoardDescr>(l.json) {
                    Ok(descr) => m.push((d.id, l.preset, descr)),
                    Err(e) => tracing::error!("layout of {} {:?}: {e}", d.id, l.preset),
                }
            }
        }
        m
    })
}

/// The transport a board is created on.
pub enum Connection {
    /// Opens the serial port on `prepare_session`.
    Serial(LinkOpener),
    /// Finds and connects the BLE device on `prepare_session`.
    Ble(Box<dyn BleConnector>),
}

/// Creates an (unprepared) session for `id` on `connection`.
/// `UnsupportedBoard` for a board without a driver, `InvalidArguments` when
/// the connection is not the board's transport.
pub fn create_board_on(
    id: BoardId,
    params: &InputParams,
    connection: Connection,
) -> Result<Box<dyn Board>> {
    let decl = by_id(id)?;
    match (decl.driver, connection) {
        (Driver::Serial(d), Connection::Serial(opener)) => Ok((d.build)(params, opener)),
        (Driver::Ble(build), Connection::Ble(connector)) => Ok(build(params, connector)),
        (Driver::Host(build) | Driver::Master(build), _) => Ok(build(params)),
        (Driver::None, _) => Err(BoardError::new(
            ExitCode::UnsupportedBoard,
            format!("board {} ({}) has no driver yet", id.name(), id.id()),
        )),
        (Driver::Serial(_), Connection::Ble(_)) | (Driver::Ble(_), Connection::Serial(_)) => {
            Err(BoardError::new(
                ExitCode::InvalidArguments,
                format!(
                    "board {} is a {} board",
                    id.name(),
                    decl.transport().map_or("", Transport::name)
                ),
            ))
        }
    }
}

/// The opener of the serial port named in `params.serial_port`, at `baud`:
/// a local port, or `rfc2217://host:port` for one served over the network
/// (ser2net, labgrid).
pub fn serial_port_opener(params: &InputParams, baud: u32) -> LinkOpener {
    let path = params.serial_port.clone();
    Box::new(move || {
        if path.starts_with(Rfc2217Link::SCHEME) {
            Rfc2217Link::open(&path, baud).map(|l| Box::new(l) as Box<dyn SerialLink>)
        } else {
            SerialPortLink::open(&path, baud).map(|l| Box::new(l) as Box<dyn SerialLink>)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_is_brainflows_json_verbatim() {
        for d in BOARDS {
            assert!(!d.layouts.is_empty(), "{} has no layout", d.name);
            if let Driver::Master(_) = d.driver {
                // BrainFlow's name-only descriptions, on all three presets.
                assert_eq!(d.presets().len(), 3, "{}", d.name);
                for l in d.layouts {
                    let v: serde_json::Value = serde_json::from_str(l.json).unwrap();
                    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{}", l.json);
                    assert!(v["name"].is_string(), "{}", l.json);
                    assert_eq!(
                        d.layout(l.preset).unwrap_err().code,
                        ExitCode::InvalidArguments
                    );
                }
                continue;
            }
            for l in d.layouts {
                let descr = d.layout(l.preset).unwrap();
                // Re-serialising gives the same text: the JSON is complete,
                // in BrainFlow's key order, with nothing our struct drops.
                assert_eq!(descr.to_json(), l.json, "{} {:?}", d.name, l.preset);
                // The marker is the last row except on BrainAlive, whose
                // layout ends with the timestamp (BrainFlow's, verbatim).
                assert!(descr.marker_channel < descr.num_rows);
                assert_ne!(descr.marker_channel, descr.timestamp_channel);
                assert!(descr.timestamp_channel < descr.num_rows);
                assert!(descr.package_num_channel < descr.num_rows);
            }
            let other = &d.layout(Preset::Default).unwrap().other_channels;
            assert!(d.other_rows.len() <= other.len(), "{}", d.name);
        }
    }

    #[test]
    fn names_and_ids_are_unique() {
        for (i, a) in BOARDS.iter().enumerate() {
            for b in &BOARDS[i + 1..] {
                assert_ne!(a.id, b.id);
                assert_ne!(a.name, b.name);
            }
            assert!(std::ptr::eq(by_id(a.id).unwrap(), *a));
            assert!(std::ptr::eq(by_name(a.name).unwrap(), *a));
        }
        assert_eq!(
            by_id(BoardId::Unicorn).unwrap_err().code,
            ExitCode::UnsupportedBoard
        );
    }

    #[test]
    fn presets_in_brainflow_order() {
        let muse = by_id(BoardId::Muse2).unwrap();
        assert_eq!(
            muse.presets(),
            [Preset::Ancillary, Preset::Auxiliary, Preset::Default]
        );
        assert_eq!(muse.layout(Preset::Auxiliary).unwrap().name, "Muse2Aux");
        let cyton = by_id(BoardId::Cyton).unwrap();
        assert_eq!(
            cyton.layout(Preset::Ancillary).unwrap_err().code,
            ExitCode::InvalidArguments
        );
        for p in [Preset::Default, Preset::Auxiliary, Preset::Ancillary] {
            assert_eq!(preset_by_key(preset_key(p)), Some(p));
        }
        assert_eq!(preset_by_key("aux"), None);
    }

    #[test]
    fn a_connection_must_match_the_transport() {
        let params = InputParams::default();
        let e = create_board_on(
            BoardId::Muse2,
            &params,
            Connection::Serial(serial_port_opener(&params, SerialPortLink::OPENBCI_BAUD)),
        )
        .err()
        .unwrap();
        assert_eq!(e.code, ExitCode::InvalidArguments);
        assert!(e.message.contains("BLE"), "{}", e.message);
        // A board the host makes rows for takes any connection and uses none.
        let b = create_board_on(
            BoardId::Synthetic,
            &params,
            Connection::Serial(serial_port_opener(&params, SerialPortLink::OPENBCI_BAUD)),
        )
        .unwrap();
        assert_eq!(b.board_id(), BoardId::Synthetic);
        let b = create_board_on(
            BoardId::Streaming,
            &params,
            Connection::Serial(serial_port_opener(&params, SerialPortLink::OPENBCI_BAUD)),
        )
        .unwrap();
        assert_eq!(b.board_id(), BoardId::Streaming);
        let e = create_board_on(
            BoardId::BrainBit,
            &params,
            Connection::Serial(serial_port_opener(&params, SerialPortLink::OPENBCI_BAUD)),
        )
        .err()
        .unwrap();
        assert_eq!(e.code, ExitCode::UnsupportedBoard);
    }
}
