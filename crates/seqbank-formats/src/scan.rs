//! Scans over a record's bases and qualities, compiled twice: for AVX2 and for any x86-64.
//!
//! The scans are plain loops over blocks small enough for byte-wide counters, which the compiler
//! turns into vector code. A processor with AVX2 (nearly every x86-64 server of the last ten
//! years) runs the build with twice the vector width; the choice is made once per call, from a
//! feature test the standard library caches.

/// Defines `$name`, which runs `$body` built for AVX2 when the processor has it.
macro_rules! dispatch {
    ($(#[$doc:meta])* fn $name:ident / $wide:ident / $body:ident ($arg:ident) -> $out:ty) => {
        $(#[$doc])*
        #[inline]
        fn $name($arg: &[u8]) -> $out {
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2, checked just above; that is the only
                // requirement of a function whose only unsafety is its target feature.
                #[allow(unsafe_code)]
                return unsafe { $wide($arg) };
            }
            $body($arg)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $wide($arg: &[u8]) -> $out {
            $body($arg)
        }
    };
}

pub(crate) use dispatch;
