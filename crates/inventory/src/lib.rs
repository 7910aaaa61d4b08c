//! Nectar's inventory: who is on our networks, what they run, and what
//! changed.
//!
//! - [`config`]: `[inventory]` (networks, scan scope, subnets, profiles);
//! - [`observer`]: passive discovery on the packet path, emitting change events;
//! - [`stage`]: the committed-stream consumer that keeps the host tables;
//! - [`nmap`]: scan profiles, targets in scope, the nmap child process and
//!   its XML output;
//! - [`oui`]: MAC vendors.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod nmap;
pub mod observer;
pub mod oui;

pub use config::{Inventory, InventorySection, Networks, Subnet};
pub use observer::{Observer, ObserverStats};
pub mod scanner;
pub mod stage;

pub use scanner::{ScanHandle, SubmitError};
pub use stage::InventoryStage;
