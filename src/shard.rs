//! Shards: N workers (cron jobs, Kubernetes CronJobs) split the accounts of one database among
//! themselves without talking to each other. `integ sync --shard I/N` syncs only the accounts
//! whose stable hash falls in shard I of N; `integ status --shards N` shows the owner of each.
//!
//! The hash must give every worker the same answer, on any machine, platform, process or
//! database backend. So it hashes the account's identity, the provider and the provider's own
//! account id (which never changes), and never a local row id, which another database numbers
//! its own way. The algorithm is written down in the README so an operator can check it by
//! hand: SHA-256 of `<provider>:<account id>` (e.g. `jobber:12345`), its first 8 bytes read as a
//! big-endian unsigned 64-bit number, modulo N, plus one. Changing it moves accounts between
//! workers, so the tests pin known answers.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::provider::Provider;

/// The most shards a run may be split into: far more workers than one database serves well,
/// and small enough that every shard number is short.
pub const MAX_SHARDS: u32 = 1024;

/// Shard `index` of `count` (1-based: shards 1 to `count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` of `count`, if it exists (1 ≤ index ≤ count ≤ [`MAX_SHARDS`]).
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        let count = check_count(count)?;
        if index == 0 || index > count {
            return Err(format!(
                "shard {index} of {count} does not exist: shards are numbered from 1 to {count} (the first is 1/{count})"
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard that owns an account, when the accounts are split `count` ways.
    pub fn of(provider: Provider, account_id: &str, count: u32) -> Result<Shard, String> {
        let count = check_count(count)?;
        let digest = Sha256::new().chain_update(provider.name()).chain_update(":").chain_update(account_id).finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        // `count` is at least 1 and at most MAX_SHARDS, so the remainder plus one fits a u32.
        let index = (u64::from_be_bytes(first) % u64::from(count)) as u32 + 1;
        Ok(Shard { index, count })
    }

    /// Whether this shard owns the account.
    pub fn owns(&self, provider: Provider, account_id: &str) -> bool {
        Shard::of(provider, account_id, self.count).is_ok_and(|s| s == *self)
    }

    /// 1 to [`Shard::count`].
    pub fn index(&self) -> u32 {
        self.index
    }

    pub fn count(&self) -> u32 {
        self.count
    }
}

/// `I/N`, as `--shard` takes it.
impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `I/N`: shard I of N workers (`2/4`). The message of a refusal says how to write it.
impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let Some((index, count)) = s.trim().split_once('/') else {
            return Err(format!("'{s}' is not a shard: write I/N, shard I of N workers (e.g. 2/4)"));
        };
        let number = |part: &str| {
            number(part).ok_or_else(|| {
                format!("'{s}' is not a shard: write I/N with whole numbers, shard I of N workers (e.g. 2/4)")
            })
        };
        Shard::new(number(index)?, number(count)?)
    }
}

/// A number of shards (`integ status --shards N`), 1 to [`MAX_SHARDS`].
pub fn parse_count(s: &str) -> Result<u32, String> {
    let n = number(s)
        .ok_or_else(|| format!("'{s}' is not a number of shards: write a whole number from 1 to {MAX_SHARDS}"))?;
    check_count(n)
}

/// Plain digits only (no sign, no spaces inside), and a value that fits a u32.
fn number(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn check_count(count: u32) -> Result<u32, String> {
    match count {
        0 => Err(format!("there must be at least one shard: N in I/N is from 1 to {MAX_SHARDS} (1/1 is everything)")),
        n if n > MAX_SHARDS => {
            Err(format!("{n} shards are more than integ allows: N in I/N is from 1 to {MAX_SHARDS}"))
        }
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(provider: Provider, id: &str, count: u32) -> u32 {
        Shard::of(provider, id, count).unwrap().index()
    }

    #[test]
    fn parses_i_of_n_and_refuses_the_rest_with_the_fix() {
        assert_eq!("2/4".parse::<Shard>(), Shard::new(2, 4));
        assert_eq!(" 1/1 ".parse::<Shard>().unwrap().to_string(), "1/1");
        assert_eq!("1024/1024".parse::<Shard>().unwrap().to_string(), "1024/1024");
        let refused = |s: &str| s.parse::<Shard>().unwrap_err();
        assert!(refused("0/4").contains("numbered from 1 to 4"), "{}", refused("0/4"));
        assert!(refused("5/4").contains("shard 5 of 4 does not exist"), "{}", refused("5/4"));
        assert!(refused("1/0").contains("at least one shard"), "{}", refused("1/0"));
        assert!(refused("1/1025").contains("from 1 to 1024"), "{}", refused("1/1025"));
        for bad in ["x", "3", "", "/", "1/", "/4", "a/b", "-1/4", "+1/4", "1/4/2", "1.5/4", "1 /4x", "99999999999/4"] {
            assert!(refused(bad).contains("write I/N"), "{bad:?}: {}", refused(bad));
        }
        assert_eq!(parse_count("8"), Ok(8));
        assert!(parse_count("0").unwrap_err().contains("at least one"));
        assert!(parse_count("2000").unwrap_err().contains("1 to 1024"));
        assert!(parse_count("eight").unwrap_err().contains("whole number from 1 to 1024"));
    }

    /// Known answers: a change of algorithm moves accounts between workers, so it must show up
    /// here. (Recomputed by hand with `printf 'jobber:acme' | sha256sum`: the first 16 hex
    /// digits as a number, modulo N, plus one.)
    #[test]
    fn the_hash_is_pinned() {
        assert_eq!(owner(Provider::Jobber, "acme", 1), 1);
        assert_eq!(owner(Provider::Jobber, "acme", 8), 8);
        assert_eq!(owner(Provider::Jobber, "acme", 1024), 856);
        assert_eq!(owner(Provider::Google, "user@example.com", 8), 5);
        assert_eq!(owner(Provider::Microsoft, "00000000-0000-0000-0000-000000000001", 16), 7);
        assert_eq!(owner(Provider::Calendly, "https://api.calendly.com/users/AAAA", 3), 2);
        // The provider is part of the identity: the same id at two providers is two accounts.
        let spread: std::collections::BTreeSet<u32> =
            Provider::ALL.iter().map(|p| owner(*p, "same-id", MAX_SHARDS)).collect();
        assert_eq!(spread.len(), 4);
    }

    fn spread(accounts: u32, count: u32) -> Vec<u32> {
        let mut per = vec![0; count as usize];
        for i in 0..accounts {
            per[owner(Provider::Jobber, &format!("account-{i}"), count) as usize - 1] += 1;
        }
        per
    }

    #[test]
    fn accounts_spread_over_the_shards() {
        // 16 accounts on 8 workers (the PostgreSQL test's round) and 100 on 16: no shard is
        // empty of work for long, and none carries several times its share.
        let per = spread(16, 8);
        assert!(per.iter().filter(|n| **n > 0).count() >= 6, "{per:?}");
        assert!(per.iter().all(|n| *n <= 5), "{per:?}");
        let per = spread(100, 16);
        assert!(per.iter().all(|n| (1..=14).contains(n)), "{per:?}");
        let per = spread(10_000, 10);
        assert!(per.iter().all(|n| (900..=1100).contains(n)), "{per:?}");
    }

    proptest::proptest! {
        /// The N shards split any set of accounts: each account is owned by exactly one.
        #[test]
        fn each_account_has_exactly_one_owner(id in "\\PC{0,40}", count in 1u32..=64, p in 0usize..4) {
            let provider = Provider::ALL[p];
            let owners: Vec<u32> =
                (1..=count).filter(|i| Shard::new(*i, count).unwrap().owns(provider, &id)).collect();
            proptest::prop_assert_eq!(owners, vec![owner(provider, &id, count)]);
        }
    }
}
