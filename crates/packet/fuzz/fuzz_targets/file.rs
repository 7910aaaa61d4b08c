//! Any byte string as a capture file: reading and decoding must not panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) =
        nectar_packet::FileReader::from_reader(std::io::Cursor::new(data.to_vec()), "fuzz")
    {
        while let Ok(Some(p)) = r.next_packet() {
            let _ = p.decode();
        }
    }
});
