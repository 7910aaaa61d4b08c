//! Any frame under any link type: decode must not panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|d: (u16, &[u8])| {
    let _ = nectar_packet::decode(
        nectar_packet::LinkType::from_linktype(u32::from(d.0 % 300)),
        d.1,
        0,
        0,
    );
});
