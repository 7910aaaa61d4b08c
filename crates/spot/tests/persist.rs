//! Save/restore.
