use tokio::sync::mpsc::Sender;

use super::WindowSizeRef;
use crate::ChannelMsg;

/// A handle to the [`super::Channel`]'s to be able to transmit messages
/// to it and update it's `window_size`.
#[derive(Debug)]
pub struct ChannelRef {
    pub(super) sender: Sender<ChannelMsg>,
    pub(super) window_size: WindowSizeRef,
}

impl ChannelRef {
    pub fn new(sender: Sender<ChannelMsg>) -> Self {
        Self {
            sender,
            window_size: WindowSizeRef::new(0),
        }
    }

    pub(crate) fn window_size(&self) -> &WindowSizeRef {
        &self.window_size
    }

    /// NECTAR PATCH 3: true once nothing can observe this channel any more:
    /// its [`super::Channel`] (the receiver) and every write half (they share
    /// the window size) are dropped, so whatever is sent here is never read.
    /// The session then drops it too, which frees the channel's message block
    /// (32 slots of `ChannelMsg`, about 2.6 KiB) for as long as the channel
    /// stays open.
    pub(crate) fn is_unobserved(&self) -> bool {
        self.sender.is_closed() && self.window_size.is_unshared()
    }
}

impl std::ops::Deref for ChannelRef {
    type Target = Sender<ChannelMsg>;

    fn deref(&self) -> &Self::Target {
        &self.sender
    }
}
