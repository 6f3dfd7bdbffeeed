//! The registry of live handles: every pointer a program passes in is looked up here before
//! it is used, so a pointer the library never gave out, one already freed, one of another
//! handle type, or a second `_unref` is `NTLS_EINVAL` — never a read of freed memory.
//!
//! An entry holds a `Weak` to its object and the references the program holds (`_new` gives
//! one, `_ref` adds one, `_unref` drops one), kept here as one strong `Arc` rather than as
//! leaked counts inside the object. While an entry exists its `Weak` keeps the allocation,
//! so a freed handle's address cannot be reused by a new one: it stays a dead entry (and
//! `NTLS_EINVAL`) until a sweep, which runs when a shard has doubled since the last one.
//! Objects lent for the length of a callback only (`ntls_error`) are entries of their own
//! kind, removed when the callback returns.
//!
//! The set is sharded by address so that calls on different handles from different threads
//! rarely meet on one lock; a lookup is one hash, one uncontended lock and one atomic
//! increment (the `Arc` the call works on).

use crate::error::{NTLS_EALREADY, NTLS_EINVAL};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::ffi::c_int;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

type Object = dyn Any + Send + Sync;

enum Entry {
    /// A reference-counted handle (loop, options, context, socket, server, cert, request).
    Counted {
        object: Weak<Object>,
        /// The program's references: `refs` of them, all held by `held`.
        held: Option<Arc<Object>>,
        refs: usize,
    },
    /// An object valid during callbacks only (`depth` of them running), by type.
    Lent { kind: TypeId, depth: usize },
}

/// Hashes an address (already unique) by spreading its bits, for the shard's table.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        let m = u128::from(n as u64) * 0x9E37_79B9_7F4A_7C15;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

struct Shard {
    entries: HashMap<usize, Entry, BuildHasherDefault<AddressHasher>>,
    /// The size at which dead entries are next swept.
    sweep_at: usize,
}

const SHARDS: usize = 32;
const FIRST_SWEEP: usize = 64;

static REGISTRY: [Mutex<Shard>; SHARDS] = [const {
    Mutex::new(Shard { entries: HashMap::with_hasher(BuildHasherDefault::new()), sweep_at: FIRST_SWEEP })
}; SHARDS];

fn shard(addr: usize) -> MutexGuard<'static, Shard> {
    // Allocations are at least 16-byte aligned: skip the bits that never change.
    let i = ((addr >> 4) ^ (addr >> 13)) % SHARDS;
    REGISTRY[i].lock().unwrap_or_else(|e| e.into_inner())
}

fn address<T>(p: *const T) -> usize {
    p as usize
}

impl Shard {
    /// Adds an entry for a counted object if it has none; returns it.
    fn counted<T: Send + Sync + 'static>(&mut self, obj: &Arc<T>) -> &mut Entry {
        let addr = address(Arc::as_ptr(obj));
        if self.entries.len() >= self.sweep_at && !self.entries.contains_key(&addr) {
            self.sweep();
        }
        self.entries.entry(addr).or_insert_with(|| {
            let object: Arc<Object> = obj.clone();
            Entry::Counted { object: Arc::downgrade(&object), held: None, refs: 0 }
        })
    }

    /// Drops the entries of freed objects.
    fn sweep(&mut self) {
        self.entries.retain(|_, e| match e {
            Entry::Counted { object, .. } => object.strong_count() > 0,
            Entry::Lent { .. } => true,
        });
        self.sweep_at = (self.entries.len() * 2).max(FIRST_SWEEP);
    }
}

/// Gives a new object to the program with the one reference `_new` hands out; returns the
/// program's pointer.
pub(crate) fn hand_out<T: Send + Sync + 'static>(obj: Arc<T>) -> *mut T {
    let ptr = Arc::as_ptr(&obj).cast_mut();
    let mut shard = shard(address(ptr));
    if let Entry::Counted { held, refs, .. } = shard.counted(&obj) {
        *refs += 1;
        if held.is_none() {
            *held = Some(obj);
        }
    }
    ptr
}

/// Makes an object the library lends to a callback known (without a program reference,
/// which the program takes with `_ref`); returns the program's pointer.
pub(crate) fn lend<T: Send + Sync + 'static>(obj: &Arc<T>) -> *mut T {
    let ptr = Arc::as_ptr(obj).cast_mut();
    shard(address(ptr)).counted(obj);
    ptr
}

/// The live object of type `T` behind a program's pointer, as a reference for the call;
/// None for NULL, a pointer never given out, a freed handle or one of another type.
pub(crate) fn get<T: Send + Sync + 'static>(p: *const T) -> Option<Arc<T>> {
    if p.is_null() {
        return None;
    }
    let shard = shard(address(p));
    let Some(Entry::Counted { object, .. }) = shard.entries.get(&address(p)) else {
        return None;
    };
    let object = object.upgrade()?;
    drop(shard);
    object.downcast::<T>().ok()
}

/// `_ref`: the program takes one more reference to a live handle.
pub(crate) fn add_ref<T: Send + Sync + 'static>(p: *const T) -> c_int {
    let Some(obj) = get(p) else { return NTLS_EINVAL };
    let mut shard = shard(address(p));
    if let Entry::Counted { held, refs, .. } = shard.counted(&obj) {
        *refs += 1;
        if held.is_none() {
            *held = Some(obj);
        }
    }
    0
}

/// `_unref`: the program gives up one of its references; `NTLS_EINVAL` when it holds none
/// (a second `_unref`, a handle only lent to a callback) or the pointer is not a handle.
pub(crate) fn unref<T: Send + Sync + 'static>(p: *const T) -> c_int {
    match take(p, false) {
        Ok(last) => {
            // The program's last reference may be the object's: free it outside the lock.
            drop(last);
            0
        }
        Err(_) => NTLS_EINVAL,
    }
}

/// Takes back the program's only reference to a handle handed to it to be finished once
/// (a request): the object, `NTLS_EALREADY` when it was already taken back, or
/// `NTLS_EINVAL` for a pointer that is no such handle.
pub(crate) fn take_back<T: Send + Sync + 'static>(p: *const T) -> Result<Arc<T>, c_int> {
    take(p, true)
}

fn take<T: Send + Sync + 'static>(p: *const T, whole: bool) -> Result<Arc<T>, c_int> {
    // Taken back twice is `NTLS_EALREADY` while the registry remembers the handle, even
    // once it is freed; an `_unref` too many is `NTLS_EINVAL`.
    let spent = if whole { NTLS_EALREADY } else { NTLS_EINVAL };
    if p.is_null() {
        return Err(NTLS_EINVAL);
    }
    let mut shard = shard(address(p));
    let Some(Entry::Counted { object, held, refs }) = shard.entries.get_mut(&address(p)) else {
        return Err(NTLS_EINVAL);
    };
    // Whatever is dropped here may be the object's last reference: only after the lock.
    let obj = object.upgrade().map(Arc::downcast::<T>);
    let (result, last) = match obj {
        None => (Err(spent), None),
        Some(Err(other)) => (Err(NTLS_EINVAL), Some(other)),
        Some(Ok(_)) if *refs == 0 => (Err(spent), None),
        Some(Ok(obj)) => {
            *refs = if whole { 0 } else { *refs - 1 };
            (Ok(obj), if *refs == 0 { held.take() } else { None })
        }
    };
    drop(shard);
    drop(last);
    result
}

/// Runs `f` with `obj` known to the registry as a lent object of its type, for the length
/// of a callback (the errors handed to `error` callbacks).
pub(crate) fn lend_during<T: 'static, R>(obj: &T, f: impl FnOnce(*const T) -> R) -> R {
    let p: *const T = obj;
    let addr = address(p);
    {
        let mut shard = shard(addr);
        match shard.entries.entry(addr).or_insert(Entry::Lent { kind: TypeId::of::<T>(), depth: 0 }) {
            Entry::Lent { depth, .. } => *depth += 1,
            // A counted object at this address is live, so no lent one can be: never happens.
            Entry::Counted { .. } => return f(p),
        }
    }
    /// Removes the lent entry when the callback returns or unwinds.
    struct Unlend(usize);
    impl Drop for Unlend {
        fn drop(&mut self) {
            let mut shard = shard(self.0);
            if let Some(Entry::Lent { depth, .. }) = shard.entries.get_mut(&self.0) {
                *depth -= 1;
                if *depth == 0 {
                    shard.entries.remove(&self.0);
                }
            }
        }
    }
    let _unlend = Unlend(addr);
    f(p)
}

/// Runs `f` on a lent object while its callback runs (holding the registry's lock, so `f`
/// must be short and call nothing here); None for any other pointer.
pub(crate) fn with_lent<T: 'static, R>(p: *const T, f: impl FnOnce(&T) -> R) -> Option<R> {
    if p.is_null() {
        return None;
    }
    let shard = shard(address(p));
    match shard.entries.get(&address(p)) {
        Some(Entry::Lent { kind, .. }) if *kind == TypeId::of::<T>() => {
            // SAFETY: a lent entry exists only while the object is borrowed by the callback
            // in `lend_during`, which removes it (taking this lock) before the borrow ends.
            Some(f(unsafe { &*p }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_lives_until_the_program_lets_go_and_then_is_refused() {
        let p = hand_out(Arc::new(String::from("options")));
        assert_eq!(get(p).as_deref().map(String::as_str), Some("options"));
        assert_eq!(add_ref(p), 0);
        assert_eq!(unref(p), 0);
        assert!(get(p).is_some(), "one reference left");
        assert_eq!(unref(p), 0);
        assert!(get(p).is_none());
        assert_eq!(unref(p), NTLS_EINVAL, "a second unref");
        assert_eq!(add_ref(p), NTLS_EINVAL);
    }

    #[test]
    fn a_foreign_pointer_or_another_type_is_refused() {
        let local = 5u64;
        assert!(get(&local as *const u64).is_none());
        assert_eq!(unref(&local as *const u64), NTLS_EINVAL);
        let p = hand_out(Arc::new(7u32));
        assert!(get(p.cast::<u64>().cast_const()).is_none(), "same address, wrong type");
        assert_eq!(unref(p.cast::<i32>().cast_const()), NTLS_EINVAL);
        assert_eq!(unref(p), 0);
    }

    #[test]
    fn a_lent_object_has_no_program_reference() {
        let obj = Arc::new(vec![1u8]);
        let p = lend(&obj);
        assert!(get(p).is_some());
        assert_eq!(unref(p), NTLS_EINVAL);
        drop(obj);
        assert!(get(p).is_none());
    }

    #[test]
    fn a_request_is_taken_back_once() {
        let p = hand_out(Arc::new(1i16));
        assert_eq!(take_back(p).map(|v| *v), Ok(1));
        assert_eq!(take_back(p).err(), Some(NTLS_EALREADY), "freed, and remembered");
        let keep = Arc::new(2i16);
        let p = hand_out(keep.clone());
        assert!(take_back(p).is_ok());
        assert_eq!(take_back(p).err(), Some(NTLS_EALREADY), "still alive, already answered");
    }

    #[test]
    fn an_error_is_readable_only_during_its_callback() {
        let e = String::from("ECONNRESET");
        let p = lend_during(&e, |p| {
            assert_eq!(with_lent(p, |e| e.len()), Some(10));
            assert!(with_lent(p.cast::<u32>(), |_| ()).is_none());
            p
        });
        assert!(with_lent(p, |e| e.len()).is_none());
    }

    #[test]
    fn dead_entries_are_swept_and_live_ones_kept() {
        let keep: Vec<_> = (0..8).map(|i| Arc::new(i as u128)).collect();
        let ptrs: Vec<_> = keep.iter().map(lend).collect();
        for _ in 0..(SHARDS * FIRST_SWEEP * 4) {
            assert_eq!(unref(hand_out(Arc::new(0u128))), 0);
        }
        for (p, k) in ptrs.iter().zip(&keep) {
            assert_eq!(get(*p).as_deref(), Some(&**k));
        }
        let total: usize = REGISTRY.iter().map(|s| s.lock().unwrap().entries.len()).sum();
        assert!(total < SHARDS * FIRST_SWEEP * 3, "{total} entries left after sweeps");
    }

    /// What a call pays for its handle check: `get` (lookup, type check, upgrade, drop) on
    /// one of 1,000 live handles, from two threads at once.
    #[test]
    #[ignore = "a measurement: cargo test --release --lib lookup_cost -- --ignored --nocapture"]
    fn lookup_cost() {
        let objects: Vec<_> = (0..1000).map(|i| Arc::new(i as u64)).collect();
        let ptrs: Vec<usize> = objects.iter().map(|o| lend(o) as usize).collect();
        const ROUNDS: usize = 2000;
        let start = std::time::Instant::now();
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..ROUNDS {
                        for p in &ptrs {
                            assert!(get(*p as *const u64).is_some());
                        }
                    }
                });
            }
        });
        let per_call = start.elapsed().as_nanos() as f64 / (ROUNDS * ptrs.len()) as f64;
        println!("handle lookup: {per_call:.1} ns per call per thread, 2 threads");
    }
}
