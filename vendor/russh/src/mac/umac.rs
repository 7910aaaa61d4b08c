// NECTAR PATCH 11: the UMAC MACs OpenSSH offers first (umac-64-etm@openssh.com,
// umac-128-etm@openssh.com, umac-64@openssh.com, umac-128@openssh.com). As
// OpenSSH's mac.c: a 16-byte key, the tag is UMAC-64 or UMAC-128 (RFC 4418) of
// the data alone, with the packet's sequence number as an 8-byte big-endian
// nonce (HMAC instead hashes the sequence number with the data). The UMAC
// itself is Nectar's `nectar-umac` crate (RFC 4418 test vectors there).
use subtle::ConstantTimeEq;

use super::{Mac, MacAlgorithm};

pub struct UmacAlgorithm {
    pub tag_len: usize,
    pub etm: bool,
}

impl MacAlgorithm for UmacAlgorithm {
    fn key_len(&self) -> usize {
        nectar_umac::KEY_LEN
    }

    fn make_mac(&self, mac_key: &[u8]) -> Box<dyn Mac + Send> {
        let mut key = [0u8; nectar_umac::KEY_LEN];
        // The key schedule always hands key_len() bytes.
        let n = mac_key.len().min(key.len());
        key[..n].copy_from_slice(&mac_key[..n]);
        #[allow(clippy::unwrap_used)] // 8 and 16 are UMAC tag lengths
        let umac = nectar_umac::Umac::new(&key, self.tag_len).unwrap();
        Box::new(UmacMac {
            umac: Box::new(umac),
            etm: self.etm,
        })
    }
}

pub struct UmacMac {
    umac: Box<nectar_umac::Umac>,
    etm: bool,
}

impl Mac for UmacMac {
    fn is_etm(&self) -> bool {
        self.etm
    }

    fn mac_len(&self) -> usize {
        self.umac.tag_len()
    }

    fn compute(&self, sequence_number: u32, payload: &[u8], output: &mut [u8]) {
        let nonce = u64::from(sequence_number).to_be_bytes();
        if self.umac.tag(payload, &nonce, output).is_err() {
            // Only a packet over 2 MiB, which russh never reads or writes: a
            // tag no peer accepts rather than a panic.
            output.fill(0);
        }
    }

    fn verify(&self, sequence_number: u32, payload: &[u8], mac: &[u8]) -> bool {
        let mut buf = [0u8; 16];
        let n = self.umac.tag_len();
        let nonce = u64::from(sequence_number).to_be_bytes();
        if mac.len() != n || self.umac.tag(payload, &nonce, &mut buf).is_err() {
            return false;
        }
        buf[..n].ct_eq(mac).into()
    }
}
