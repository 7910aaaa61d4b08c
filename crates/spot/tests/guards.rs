//! The guards libspot lacks.
