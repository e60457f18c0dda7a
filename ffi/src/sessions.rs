//! The process-wide session table, keyed as BrainFlow keys it: by board id and
//! the parsed input params (so the same params formatted differently reach the
//! same session, and params differing in any field, `timeout` included, are
//! another session).
//!
//! Locking: the table's mutex is held only to look up, insert or remove; each
//! session has its own mutex, held for the duration of one call on it. So a
//! slow handshake or a blocking `config_board` on one board never stalls calls
//! on other boards, which BrainFlow's single global mutex does.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};

use boardloop_boards::params::InputParams;
use boardloop_boards::{Board, BoardError, ExitCode};

/// A session's identity.
pub(crate) type Key = (i32, InputParams);

/// One board session; its mutex serialises the calls made on it.
pub(crate) struct Session {
    board: Mutex<Box<dyn Board>>,
}

impl Session {
    /// Locks the board. A panic caught at the boundary poisons the mutex; the
    /// board is still usable (its own state is behind its own locks), so the
    /// poison is cleared rather than turning every later call into an error.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Box<dyn Board>> {
        self.board.lock().unwrap_or_else(|e| e.into_inner())
    }
}

static SESSIONS: LazyLock<Mutex<HashMap<Key, Arc<Session>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Changes whenever an entry enters or leaves the table, so a cached lookup
/// (see [`find_cached`]) knows it still names the session the table would.
static GENERATION: AtomicU64 = AtomicU64::new(0);

fn table() -> MutexGuard<'static, HashMap<Key, Arc<Session>>> {
    SESSIONS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Entries of [`RECENT`] per thread: a program polls a few boards, each with
/// one params string.
const RECENT_ENTRIES: usize = 4;

/// One params string seen by this thread, and the session it named.
struct Recent {
    board_id: i32,
    /// The params exactly as passed (bytes before the NUL).
    json: Box<[u8]>,
    /// [`GENERATION`] when the lookup was made.
    generation: u64,
    /// Weak, so a released session's board and buffer are not kept alive by
    /// a thread that never calls again.
    session: Weak<Session>,
}

thread_local! {
    /// The sessions this thread found last, most recent first. BrainFlow's
    /// bindings pass the same params string on every call; parsing its 16
    /// keys and hashing the parsed key cost 3.1 µs of a
    /// `get_board_data_count` call (issue #15), so an exact match of the
    /// bytes skips both while no session has come or gone.
    static RECENT: RefCell<Vec<Recent>> = const { RefCell::new(Vec::new()) };
}

/// The session for `board_id` and the params string `json`: from this
/// thread's recent lookups if the bytes match exactly and the table has not
/// changed since, else through `key` (which parses them) and the table.
pub(crate) fn find_cached(
    board_id: i32,
    json: &[u8],
    key: impl FnOnce() -> Result<Key, BoardError>,
) -> Result<Arc<Session>, BoardError> {
    let generation = GENERATION.load(Ordering::Acquire);
    let hit = RECENT.with(|r| {
        let r = r.borrow();
        r.iter()
            .find(|e| e.board_id == board_id && e.generation == generation && *e.json == *json)
            .and_then(|e| e.session.upgrade())
    });
    if let Some(session) = hit {
        return Ok(session);
    }
    // The generation is read before the table: a change in between makes
    // the entry stale at once rather than wrongly fresh.
    let session = find(&key()?)?;
    RECENT.with(|r| {
        let mut r = r.borrow_mut();
        r.retain(|e| !(e.board_id == board_id && *e.json == *json));
        r.insert(
            0,
            Recent {
                board_id,
                json: json.into(),
                generation,
                session: Arc::downgrade(&session),
            },
        );
        r.truncate(RECENT_ENTRIES);
    });
    Ok(session)
}

fn not_created(key: &Key) -> BoardError {
    BoardError::new(
        ExitCode::BoardNotCreated,
        format!("no prepared session for board {} with these params", key.0),
    )
}

/// Creates and prepares the session `key`. An existing session with the same
/// key gives `ANOTHER_BOARD_IS_CREATED_ERROR` (what BrainFlow 5.23 returns for
/// a second `prepare_session`). The session is entered in the table before the
/// handshake, under its own lock, so concurrent calls on it wait for the
/// handshake instead of racing it; a failed handshake removes it again.
pub(crate) fn prepare(
    key: Key,
    make: impl FnOnce() -> Result<Box<dyn Board>, BoardError>,
) -> Result<(), BoardError> {
    let session;
    let mut board;
    {
        let mut sessions = table();
        if sessions.contains_key(&key) {
            return Err(BoardError::new(
                ExitCode::AnotherBoardIsCreated,
                format!("board {} with the same params is already prepared", key.0),
            ));
        }
        session = Arc::new(Session {
            board: Mutex::new(make()?),
        });
        board = session.lock();
        sessions.insert(key.clone(), session.clone());
        GENERATION.fetch_add(1, Ordering::AcqRel);
    }
    let res = board.prepare_session();
    drop(board);
    if res.is_err() {
        let mut sessions = table();
        // Only remove our own entry: a release and a new prepare may have
        // replaced it while the handshake ran.
        if sessions.get(&key).is_some_and(|s| Arc::ptr_eq(s, &session)) {
            sessions.remove(&key);
            GENERATION.fetch_add(1, Ordering::AcqRel);
        }
    }
    res
}

/// The session `key`, or `BOARD_NOT_CREATED_ERROR`.
pub(crate) fn find(key: &Key) -> Result<Arc<Session>, BoardError> {
    table().get(key).cloned().ok_or_else(|| not_created(key))
}

/// Releases the session `key`'s board, then removes the session. The entry
/// goes even if the release reports an error, as in BrainFlow. It stays in
/// the table until the port is closed, so a racing `prepare_session` of the
/// same key gets `ANOTHER_BOARD_IS_CREATED_ERROR` rather than finding the
/// port still open; a racing second release finds the board unprepared:
/// `BOARD_NOT_CREATED_ERROR`.
pub(crate) fn release(key: &Key) -> Result<(), BoardError> {
    let session = find(key)?;
    let mut board = session.lock();
    if !board.is_prepared() {
        return Err(not_created(key));
    }
    let res = board.release_session();
    // Lock order is session then table here; nothing takes them the other
    // way round except `prepare` on a session no one else can see yet.
    let mut sessions = table();
    if sessions.get(key).is_some_and(|s| Arc::ptr_eq(s, &session)) {
        sessions.remove(key);
        GENERATION.fetch_add(1, Ordering::AcqRel);
    }
    res
}

/// Removes and releases every session; returns the errors of those whose
/// release failed (BrainFlow's `release_all_sessions` still returns OK).
pub(crate) fn release_all() -> Vec<BoardError> {
    let all: Vec<Arc<Session>> = {
        let mut sessions = table();
        GENERATION.fetch_add(1, Ordering::AcqRel);
        sessions.drain().map(|(_, s)| s).collect()
    };
    all.into_iter()
        .filter_map(|s| s.lock().release_session().err())
        .collect()
}
