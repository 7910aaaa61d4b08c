//! End-to-end tests of network detection: `nectar analyze` on captures made
//! with real tools in network namespaces, on generated captures, and the
//! InfluxDB sink against a real InfluxDB.

mod analyze;
mod devices;
mod influx;
mod netns;
mod serve;
#[allow(dead_code)]
#[path = "../serve/util.rs"]
mod serve_util;
mod slow;
mod util;
