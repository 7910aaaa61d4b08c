// NECTAR PATCH 10: sntrup761x25519-sha512 (and its @openssh.com alias), the key
// exchange OpenSSH 9.0 to 9.8 picks first. As OpenSSH's kexsntrup761x25519.c:
// the client sends Q_C = sntrup761 public key (1158) || X25519 public key (32)
// in SSH_MSG_KEX_ECDH_INIT; the server encapsulates to the sntrup761 key and
// answers Q_S = ciphertext (1039) || its X25519 public key (32) in
// SSH_MSG_KEX_ECDH_REPLY; K = SHA-512(sntrup761 key || X25519 shared secret),
// encoded as a string (not an mpint) in the exchange hash (SHA-512) and the
// key derivation (SHA-512). The lattice part is the `sntrup761` crate.
use byteorder::{BigEndian, ByteOrder};
use curve25519_dalek::montgomery::MontgomeryPoint;
use log::debug;
use sha2::Digest;
use ssh_encoding::{Encode, Writer};

use super::{compute_keys, KexAlgorithm, KexAlgorithmImplementor, KexType, SharedSecret};
use crate::mac;
use crate::session::Exchange;
use crate::{cipher, msg, CryptoVec, Error};

const PQ_PUBLIC_KEY_SIZE: usize = sntrup761::PUBLIC_KEY_SIZE;
const PQ_CIPHERTEXT_SIZE: usize = sntrup761::CIPHERTEXT_SIZE;
const X25519_PUBLIC_KEY_SIZE: usize = 32;

pub struct Sntrup761X25519KexType {}

impl KexType for Sntrup761X25519KexType {
    fn make(&self) -> KexAlgorithm {
        Sntrup761X25519Kex {
            pq_secret: None,
            x25519_secret: None,
            k: None,
        }
        .into()
    }
}

#[doc(hidden)]
pub struct Sntrup761X25519Kex {
    // Only a client holds these (between its init and the server's reply).
    pq_secret: Option<Box<sntrup761::DecapsulationKey>>,
    x25519_secret: Option<[u8; 32]>,
    /// K = SHA-512(sntrup761 shared key || X25519 shared secret).
    k: Option<[u8; 64]>,
}

impl std::fmt::Debug for Sntrup761X25519Kex {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Sntrup761X25519Kex {{ [hidden] }}")
    }
}

fn combine(pq: &[u8], cl: &[u8; 32]) -> [u8; 64] {
    let mut hasher = sha2::Sha512::new();
    hasher.update(pq);
    hasher.update(cl);
    hasher.finalize().into()
}

impl KexAlgorithmImplementor for Sntrup761X25519Kex {
    fn skip_exchange(&self) -> bool {
        false
    }

    fn server_dh(&mut self, exchange: &mut Exchange, payload: &[u8]) -> Result<(), Error> {
        debug!("server_dh (sntrup761x25519)");
        // SSH_MSG_KEX_ECDH_INIT is 30, like KEX_HYBRID_INIT.
        if payload.first() != Some(&msg::KEX_ECDH_INIT) || payload.len() < 5 {
            return Err(Error::Inconsistent);
        }
        #[allow(clippy::indexing_slicing)] // length checked above
        let len = BigEndian::read_u32(&payload[1..5]) as usize;
        if len != PQ_PUBLIC_KEY_SIZE + X25519_PUBLIC_KEY_SIZE || payload.len() < 5 + len {
            return Err(Error::Kex);
        }
        #[allow(clippy::indexing_slicing)] // length checked above
        let q_c = &payload[5..5 + len];
        let (pq_pk, cl_pk) = q_c.split_at(PQ_PUBLIC_KEY_SIZE);
        let pq_pk = sntrup761::EncapsulationKey::try_from(pq_pk).map_err(|_| Error::Kex)?;
        let (ct, pq_key) = pq_pk.encapsulate(sntrup761::rand::rng());

        let mut c_pk = MontgomeryPoint([0; 32]);
        c_pk.0.copy_from_slice(cl_pk);
        let s_secret = rand::random::<[u8; 32]>();
        let s_pk = MontgomeryPoint::mul_base_clamped(s_secret);
        let shared = c_pk.mul_clamped(s_secret);
        if shared.0 == [0u8; 32] {
            debug!("client sent a low-order curve25519 pubkey");
            return Err(Error::Kex);
        }

        exchange.server_ephemeral.clear();
        exchange.server_ephemeral.extend_from_slice(ct.as_ref());
        exchange.server_ephemeral.extend_from_slice(&s_pk.0);
        self.k = Some(combine(pq_key.as_ref(), &shared.0));
        Ok(())
    }

    fn client_dh(
        &mut self,
        client_ephemeral: &mut Vec<u8>,
        writer: &mut impl Writer,
    ) -> Result<(), Error> {
        let (pq_pk, pq_sk) = sntrup761::generate_key(sntrup761::rand::rng());
        let x25519_secret = rand::random::<[u8; 32]>();
        let x25519_pk = MontgomeryPoint::mul_base_clamped(x25519_secret);

        client_ephemeral.clear();
        client_ephemeral.extend_from_slice(pq_pk.as_ref());
        client_ephemeral.extend_from_slice(&x25519_pk.0);

        msg::KEX_ECDH_INIT.encode(writer)?;
        client_ephemeral.as_slice().encode(writer)?;

        self.pq_secret = Some(Box::new(pq_sk));
        self.x25519_secret = Some(x25519_secret);
        Ok(())
    }

    fn compute_shared_secret(&mut self, remote: &[u8]) -> Result<(), Error> {
        if remote.len() != PQ_CIPHERTEXT_SIZE + X25519_PUBLIC_KEY_SIZE {
            return Err(Error::Kex);
        }
        let (ct, s_pk) = remote.split_at(PQ_CIPHERTEXT_SIZE);
        let ct = sntrup761::Ciphertext::try_from(ct).map_err(|_| Error::Kex)?;
        let pq_secret = self.pq_secret.take().ok_or(Error::KexInit)?;
        let pq_key = pq_secret.decapsulate(&ct);
        let mut s_pk1 = MontgomeryPoint([0; 32]);
        s_pk1.0.copy_from_slice(s_pk);
        let x25519_secret = self.x25519_secret.take().ok_or(Error::KexInit)?;
        let shared = s_pk1.mul_clamped(x25519_secret);
        if shared.0 == [0u8; 32] {
            debug!("server sent a low-order curve25519 pubkey");
            return Err(Error::Kex);
        }
        self.k = Some(combine(pq_key.as_ref(), &shared.0));
        Ok(())
    }

    fn shared_secret_bytes(&self) -> Option<&[u8]> {
        self.k.as_ref().map(|k| k.as_slice())
    }

    fn compute_exchange_hash(
        &self,
        key: &[u8],
        exchange: &Exchange,
        buffer: &mut CryptoVec,
    ) -> Result<Vec<u8>, Error> {
        let k = self.k.as_ref().ok_or(Error::KexInit)?;
        buffer.clear();
        exchange.client_id.encode(buffer)?;
        exchange.server_id.encode(buffer)?;
        exchange.client_kex_init.encode(buffer)?;
        exchange.server_kex_init.encode(buffer)?;
        buffer.extend(key);
        exchange.client_ephemeral.encode(buffer)?;
        exchange.server_ephemeral.encode(buffer)?;
        k.as_slice().encode(buffer)?;
        let mut hasher = sha2::Sha512::new();
        hasher.update(&buffer);
        Ok(hasher.finalize().to_vec())
    }

    fn compute_keys(
        &self,
        session_id: &[u8],
        exchange_hash: &[u8],
        cipher: cipher::Name,
        remote_to_local_mac: mac::Name,
        local_to_remote_mac: mac::Name,
        is_server: bool,
    ) -> Result<super::cipher::CipherPair, Error> {
        let k = self.k.as_ref().ok_or(Error::KexInit)?;
        let shared_secret = SharedSecret::from_string(k)?;
        compute_keys::<sha2::Sha512>(
            Some(&shared_secret),
            session_id,
            exchange_hash,
            cipher,
            remote_to_local_mac,
            local_to_remote_mac,
            is_server,
        )
    }
}
