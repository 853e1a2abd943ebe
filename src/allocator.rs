//! The process's allocator: mimalloc for the many small allocations a
//! GraphQL response is built from (a value per field, a string per name),
//! served from per-thread pages; the system's allocator for large ones.
//! glibc maps each allocation past its threshold on its own and unmaps it
//! when freed, so argon2's 19 MiB per password hash goes back to the system
//! the moment a hash is done (`trestle_api::auth::password`), where
//! mimalloc would keep it for later.

use std::alloc::{GlobalAlloc, Layout, System};

use mimalloc::MiMalloc;

/// Allocations of at least this many bytes come from the system.
const LARGE: usize = 1 << 20;

/// mimalloc below [`LARGE`], the system from there on.
pub struct Allocator;

fn large(size: usize) -> bool {
    size >= LARGE
}

/// The allocator that serves blocks of `size` bytes.
fn serving(size: usize) -> &'static dyn GlobalAlloc {
    if large(size) { &System } else { &MiMalloc }
}

// SAFETY: every block is allocated and freed by the allocator its size
// selects, and `dealloc` and `realloc` receive the layout the block was
// allocated with (the `GlobalAlloc` contract), so a block always goes back
// to the allocator it came from. `realloc` across the boundary allocates
// from the other one, copies and frees, as `GlobalAlloc::realloc` does.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `layout` are passed on.
        unsafe { serving(layout.size()).alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe { serving(layout.size()).alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from the allocator `layout.size()` selects.
        unsafe { serving(layout.size()).dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let from = serving(layout.size());
        // (Both allocators are zero-sized: their addresses cannot tell them apart.)
        if large(layout.size()) == large(new_size) {
            // SAFETY: within one allocator its own `realloc` applies.
            return unsafe { from.realloc(ptr, layout, new_size) };
        }
        // SAFETY: across the boundary the block is allocated anew from the
        // other allocator, `min(old, new)` bytes are copied and the old
        // block is freed by the allocator it came from.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            let new_ptr = self.alloc(new_layout);
            if !new_ptr.is_null() {
                std::ptr::copy_nonoverlapping(ptr, new_ptr, layout.size().min(new_size));
                from.dealloc(ptr, layout);
            }
            new_ptr
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block keeps its bytes when `realloc` moves it between the two
    /// allocators, in both directions, and is freed by the one that holds it.
    #[test]
    fn a_block_keeps_its_bytes_across_the_boundary() {
        let small = Layout::from_size_align(4096, 16).unwrap();
        // SAFETY: each pointer is used within the layout it was last
        // allocated or reallocated with, and freed once with that layout.
        unsafe {
            let ptr = Allocator.alloc(small);
            assert!(!ptr.is_null());
            for i in 0..small.size() {
                *ptr.add(i) = (i % 251) as u8;
            }
            let grown = Allocator.realloc(ptr, small, 2 * LARGE);
            assert!(!grown.is_null());
            for i in 0..small.size() {
                assert_eq!(*grown.add(i), (i % 251) as u8);
            }
            let large = Layout::from_size_align(2 * LARGE, 16).unwrap();
            let shrunk = Allocator.realloc(grown, large, 1024);
            assert!(!shrunk.is_null());
            for i in 0..1024 {
                assert_eq!(*shrunk.add(i), (i % 251) as u8);
            }
            Allocator.dealloc(shrunk, Layout::from_size_align(1024, 16).unwrap());
        }
    }
}
