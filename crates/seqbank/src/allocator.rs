//! The binary's allocator: mimalloc, and how long it keeps memory freed.

// Parsing dumps and indexing make many small allocations; mimalloc serves them faster than the
// system allocator (see benchsuite/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (number 15 of `mi_option_e` in its `mimalloc.h`): how
/// many milliseconds freed memory is kept before it goes back to the kernel; -1 keeps it.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// Its default in mimalloc 3 (`src/options.c`), which tells that the option number above is
/// still that option.
const PURGE_DELAY_DEFAULT: std::ffi::c_long = 1000;

/// Keeps memory freed by this process for reuse instead of giving it back to the kernel.
///
/// For commands that run to their end and build large tables over and over (a mirror import, a
/// reindex): an index writer's tables and a batch's records are freed and allocated again
/// every few seconds, and memory given back is zeroed by the kernel, page by page, when it is
/// taken again. Importing 2,000,000 BioSample records (two runs each, alternating) took 98 and
/// 105 s instead of 115 and 117 s, 35 s of system time instead of 45 and 51 s, at 160 MB more
/// peak memory (1.30 GB). `serve` keeps the
/// default, so a long-running server gives memory back.
pub(crate) fn keep_freed_memory() {
    #[allow(unsafe_code)]
    // SAFETY: reads and sets an option of the allocator linked into this binary; the option
    // functions take any option number and value.
    unsafe {
        if libmimalloc_sys::mi_option_get(PURGE_DELAY) == PURGE_DELAY_DEFAULT {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option number is mimalloc's purge delay: an upgrade that renumbers the options
    /// fails here rather than setting another option.
    #[test]
    fn the_purge_delay_option_is_found_and_set() {
        #[allow(unsafe_code)]
        // SAFETY: as in `keep_freed_memory`.
        let before = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(before, PURGE_DELAY_DEFAULT);
        keep_freed_memory();
        #[allow(unsafe_code)]
        // SAFETY: as in `keep_freed_memory`.
        let after = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(after, -1);
    }
}
