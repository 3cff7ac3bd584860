//! The ids the world hands out. One sequence feeds HMC object ids, Cinder
//! UUIDs, session numbers and the order of pending transitions, so every id
//! is unique and a run is deterministic.

/// The world's id allocator. Domain operations that make objects receive it
/// as `&mut Ids`, so they need nothing else from the world.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    seq: u64,
    next_npiv: u64,
    /// Freed NPIV WWPNs, most recent last; handed out again only when
    /// `reuse_npiv` is on (as a real DPM's WWPN pool does).
    freed_npiv: Vec<fc_types::Wwpn>,
    /// Whether freed WWPNs are handed out again (a fault knob).
    pub(crate) reuse_npiv: bool,
}

impl Ids {
    /// A fresh sequence number.
    /// The last sequence number handed out.
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A fresh HMC object id in the HMC's UUID-like shape.
    pub(crate) fn new_object_id(&mut self, kind: u8) -> String {
        let n = self.next_seq();
        format!("{kind:x}{n:07x}-63d7-11f0-8067-fa163ed76c47")
    }

    /// A world-unique NPIV WWPN, in the range the HMC assigns: vHBAs and
    /// storage groups draw from this one allocator, so no WWPN is handed
    /// out twice.
    pub(crate) fn new_npiv_wwpn(&mut self) -> fc_types::Wwpn {
        if self.reuse_npiv {
            if let Some(w) = self.freed_npiv.pop() {
                return w;
            }
        }
        self.next_npiv += 1;
        fc_types::Wwpn::from_u64(0xc050_76ff_e500_0000 + self.next_npiv)
    }

    /// WWPNs no vHBA or storage group holds any more.
    pub(crate) fn free_npiv(&mut self, wwpns: impl IntoIterator<Item = fc_types::Wwpn>) {
        self.freed_npiv.extend(wwpns);
    }

    /// A fresh UUID for Cinder objects: the sequence number leads, so ids
    /// differ in their first digits; `kind` tells volumes from attachments.
    pub(crate) fn new_uuid(&mut self, kind: u8) -> u128 {
        let n = u128::from(self.next_seq());
        (n << 96) | (u128::from(kind) << 80) | (0x4000_u128 << 64) | (0x8000_u128 << 48) | n
    }
}

/// 64 bits no other process can predict (the standard library's per-process
/// random hash keys), so that served session ids and tokens are not
/// guessable. Not for cryptography.
pub(crate) fn unguessable() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish()
}

/// `len` characters of `0-9 a-z` no other process can predict: the shape
/// of the HMC's session ids and credentials (see `hmc/session.rs`). Each
/// [`unguessable`] draw gives 12 characters (36^12 < 2^64).
pub(crate) fn opaque_token(len: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut x = unguessable();
        for _ in 0..12 {
            if out.len() == len {
                break;
            }
            let digit = usize::try_from(x % 36).unwrap_or(0);
            out.push(char::from(DIGITS[digit]));
            x /= 36;
        }
    }
    out
}

/// Ids the simulator makes are always valid URI segments; this is never
/// reached, and exists so that no `unwrap` is needed.
#[cold]
pub(crate) fn unreachable_uri<T>() -> T {
    panic!("dpm-sim built an invalid URI from its own id")
}
