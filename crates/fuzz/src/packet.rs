//! Packets off the wire and capture files handed to `nectar analyze`.

use nectar_packet::{FileReader, LinkType, decode};

/// Decodes `data` as one frame of every kind of link type, with a wire length that may
/// disagree with the captured bytes.
pub fn packet_frame(data: &[u8]) {
    let wire = u32::from_le_bytes([
        data.first().copied().unwrap_or(0),
        data.get(1).copied().unwrap_or(0),
        0,
        0,
    ]);
    for link in LinkType::SAMPLES {
        let _ = decode(link, data, 1_700_000_000_000_000_000, wire);
    }
}

/// Reads `data` as a pcap or pcapng file and decodes every packet in it (at most
/// 10,000: a file may claim any number).
pub fn capture_file(data: &[u8]) {
    let Ok(mut reader) = FileReader::from_reader(std::io::Cursor::new(data.to_vec()), "fuzz")
    else {
        return;
    };
    for _ in 0..10_000 {
        match reader.next_packet() {
            Ok(Some(packet)) => {
                let _ = packet.decode();
            }
            Ok(None) | Err(_) => break,
        }
    }
}
