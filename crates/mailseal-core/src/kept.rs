//! A few values kept per thread across messages: OpenSSL keys and contexts whose setup costs
//! more than their use (`pgp::pkesk` for OpenPGP recipients, `smime::recipient_info` for
//! certificates).

/// How many values one list keeps; the one used longest ago goes first.
pub(crate) const KEPT: usize = 4;

/// Runs `use_it` on the value in `kept` whose key `matches`, or on one `make` makes (with its
/// key), and keeps that value as the most recently used.
pub(crate) fn with_kept<K, V, R, E>(
    kept: &mut Vec<(K, V)>,
    matches: impl Fn(&K) -> bool,
    make: impl FnOnce() -> Result<(K, V), E>,
    use_it: impl FnOnce(&mut V) -> Result<R, E>,
) -> Result<R, E> {
    let mut entry = match kept.iter().position(|(key, _)| matches(key)) {
        Some(at) => kept.remove(at),
        None => make()?,
    };
    let result = use_it(&mut entry.1);
    if kept.len() >= KEPT {
        kept.remove(0);
    }
    kept.push(entry);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_made_once_and_the_least_recently_used_goes_first() {
        let mut kept: Vec<(u32, u32)> = Vec::new();
        let mut made = Vec::new();
        let mut get = |kept: &mut Vec<(u32, u32)>, key: u32| {
            with_kept(
                kept,
                |k| *k == key,
                || {
                    made.push(key);
                    Ok::<_, ()>((key, key * 10))
                },
                |v| Ok(*v),
            )
            .unwrap()
        };
        for key in [1, 2, 3, 4, 1, 5, 1, 2] {
            assert_eq!(get(&mut kept, key), key * 10);
        }
        // 5 pushed out 2 (1 had been used again); 2 is made again.
        assert_eq!(made, [1, 2, 3, 4, 5, 2]);
        assert_eq!(kept.len(), KEPT);
    }
}
