//! The InfluxDB sink against a real InfluxDB 1.x (filled in with the sink).
