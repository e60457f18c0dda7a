use dbus::Message;
use dbus::channel::MatchingReceiver;
use dbus::nonblock::{MsgMatch, SyncConnection};
use futures::Stream;
use futures::channel::mpsc::UnboundedReceiver;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Wrapper for a stream of D-Bus messages which automatically removes the `MsgMatch` from the D-Bus
/// connection when it is dropped.
pub struct MessageStream {
    msg_match: Option<MsgMatch>,
    /// boardloop patch: the match rule, as sent to the bus.
    match_str: String,
    events: UnboundedReceiver<Message>,
    connection: Arc<SyncConnection>,
}

impl MessageStream {
    pub fn new(msg_match: MsgMatch, match_str: String, connection: Arc<SyncConnection>) -> Self {
        let (msg_match, events) = msg_match.msg_stream();
        Self {
            msg_match: Some(msg_match),
            match_str,
            events,
            connection,
        }
    }
}

impl Stream for MessageStream {
    type Item = Message;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.events).poll_next(cx)
    }
}

// boardloop patch (see BOARDLOOP-PATCH.md). The original spawned
// `connection.remove_match(token).await.unwrap()`, which panics with "No match
// with that id found" whenever the local filter is already gone: a signal that
// matched after the receiver was dropped made the dispatcher remove it (its
// callback returns false once the channel is closed), or the dispatcher had it
// taken out while delivering a signal at that moment. Here the local filter is
// removed at once, if it is still there, so no later message reaches it, and
// only the bus-side rule is removed in the background; neither step can panic.
impl Drop for MessageStream {
    fn drop(&mut self) {
        if let Some(msg_match) = self.msg_match.take() {
            let _ = self.connection.stop_receive(msg_match.token());
        }
        let connection = self.connection.clone();
        let match_str = std::mem::take(&mut self.match_str);
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Err(e) = connection.remove_match_no_cb(&match_str).await {
                        log::debug!("removing D-Bus match {match_str:?}: {e}");
                    }
                });
            }
            Err(_) => log::debug!("no tokio runtime to remove D-Bus match {match_str:?}"),
        }
    }
}
