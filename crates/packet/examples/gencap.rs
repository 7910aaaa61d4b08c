//! Writes a synthetic pcap capture: `gencap OUT.pcap [PACKETS] [SEED]`.
//!
//! Used to make large benchmark inputs in /tmp (never committed).
use std::io::BufWriter;

use nectar_packet::synth::{MixConfig, write_mix_pcap};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: gencap OUT.pcap [PACKETS] [SEED]")?;
    let packets: u64 = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(5_000_000);
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1);
    let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    let bytes = write_mix_pcap(
        file,
        MixConfig {
            packets,
            seed,
            ..MixConfig::default()
        },
    )?;
    eprintln!("wrote {out}: {packets} packets, {bytes} bytes of packet data");
    Ok(())
}
