//! The server's global allocator: mimalloc 2, called the way its fast paths expect.
//!
//! The `mimalloc` crate's wrapper asks `mi_malloc_aligned` for every allocation. mimalloc's
//! aligned entry takes its fast path only for alignments of 8, or of 16 above 8 bytes; the
//! alignment of a `String`, a `Vec<u8>` or a byte buffer is 1, so most of a request's
//! allocations went the slow way: ~50 instructions each instead of ~20, and ~190 above 1 KiB,
//! ~73 of them per compatible read (callgrind). Every block mimalloc hands out is aligned to at
//! least 8 bytes (its smallest block holds a pointer), so for alignments up to 8 the plain
//! calls return what Rust asks for; larger alignments still go to the aligned calls.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use libmimalloc_sys as mi;

/// Whether a plain mimalloc block serves `layout`: every block is aligned to at least 8.
#[inline]
fn plain(layout: &Layout) -> bool {
    layout.align() <= 8
}

pub struct Mimalloc;

// SAFETY: every method returns a block of mimalloc's (or null), aligned to at least
// `layout.align()` (see the module doc), and frees only blocks it returned.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe {
            if plain(&layout) {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe {
            if plain(&layout) {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe {
            if plain(&layout) {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of every alignment Rust asks for come back aligned, keep their bytes when they
    /// grow, and are zeroed when asked.
    #[test]
    fn blocks_are_aligned_as_asked_zeroed_when_asked_and_keep_their_bytes_when_grown() {
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1usize, 3, 8, 24, 100, 1025, 70_000] {
                let size = size.next_multiple_of(align);
                let layout = Layout::from_size_align(size, align).unwrap();
                unsafe {
                    let block = Mimalloc.alloc(layout);
                    assert!(!block.is_null());
                    assert_eq!(block as usize % align, 0, "size {size}, align {align}");
                    block.write_bytes(0xA5, size);
                    let grown = Mimalloc.realloc(block, layout, size * 3);
                    assert_eq!(grown as usize % align, 0, "grown, align {align}");
                    assert!(
                        std::slice::from_raw_parts(grown, size)
                            .iter()
                            .all(|b| *b == 0xA5)
                    );
                    Mimalloc.dealloc(grown, Layout::from_size_align(size * 3, align).unwrap());

                    let zeroed = Mimalloc.alloc_zeroed(layout);
                    assert_eq!(zeroed as usize % align, 0);
                    assert!(
                        std::slice::from_raw_parts(zeroed, size)
                            .iter()
                            .all(|b| *b == 0)
                    );
                    Mimalloc.dealloc(zeroed, layout);
                }
            }
        }
    }
}
