//! Checksums of archived bytes: MD5 (the INSDC interchange digest) and SHA-256.

use std::{fmt, str::FromStr};

/// An error parsing a hexadecimal checksum.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("expected {expected} hexadecimal digits")]
pub struct ParseChecksumError {
    expected: usize,
}

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], ParseChecksumError> {
    let error = ParseChecksumError { expected: N * 2 };
    let bytes = s.as_bytes();
    if bytes.len() != N * 2 {
        return Err(error);
    }
    let mut out = [0; N];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16).ok_or(error.clone())?;
        let lo = (pair[1] as char).to_digit(16).ok_or(error.clone())?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Ok(out)
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

macro_rules! digest_type {
    ($(#[$doc:meta])* $name:ident, $len:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Eq, Hash, Ord, PartialEq, PartialOrd)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Wraps raw digest bytes.
            pub fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// Returns the raw digest bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            /// Lowercase hexadecimal, as `md5sum` and `sha256sum` print it.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(f, &self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = ParseChecksumError;

            /// Parses hexadecimal digits, either case.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex(s).map(Self)
            }
        }
    };
}

digest_type!(
    /// An MD5 digest (16 bytes).
    Md5,
    16
);
digest_type!(
    /// A SHA-256 digest (32 bytes).
    Sha256,
    32
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_round_trips_through_hex() {
        let md5: Md5 = "D41D8CD98F00B204E9800998ECF8427E"
            .parse()
            .expect("valid hex");
        assert_eq!(md5.to_string(), "d41d8cd98f00b204e9800998ecf8427e");
        assert!("d41d8cd98f00b204e9800998ecf8427".parse::<Md5>().is_err());
        assert!("g41d8cd98f00b204e9800998ecf8427e".parse::<Md5>().is_err());
    }
}
