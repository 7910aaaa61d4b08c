//! Writes a pcap of synthetic device traffic for the benchmark
//! (`scripts/bench_devices.sh`): `gendevices FILE DEVICES SECONDS`.
//! Devices are plugs, cameras and laptops in turn from 198.18.0.1 (the
//! benchmarking range); about 10 packets per device per second.

use std::net::Ipv4Addr;

use nectar_devices::synth::{Lab, Scenario};
use nectar_packet::LinkType;
use nectar_packet::synth::PcapWriter;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(devices), Some(secs)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: gendevices FILE DEVICES SECONDS");
        std::process::exit(2);
    };
    let devices: u32 = devices.parse().unwrap_or(10_000);
    let secs: u64 = secs.parse().unwrap_or(60);
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut w = PcapWriter::new(file, LinkType::Ethernet, 65535, true, false)?;
    let mut lab = Lab::new(devices, Ipv4Addr::new(198, 18, 0, 0), 1);
    let t0 = 1_800_000_000_000_000_000u64;
    let mut packets = 0u64;
    let mut err = None;
    for t in 0..secs {
        lab.second(
            t0 + t * 1_000_000_000,
            &Scenario::default(),
            &mut |ts, f| {
                if err.is_none()
                    && let Err(e) = w.write_packet(ts, f, f.len() as u32)
                {
                    err = Some(e);
                }
                packets += 1;
            },
        );
        if let Some(e) = err.take() {
            return Err(e);
        }
    }
    w.finish()?;
    eprintln!("{packets} packets, {devices} devices, {secs} s");
    Ok(())
}
