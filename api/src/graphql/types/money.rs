//! Amounts of money.

use async_graphql::{InputObject, SimpleObject};

use crate::graphql::work::Text;

/// An amount in whole units of a currency.
#[derive(SimpleObject, Clone, Debug)]
pub struct Money {
    /// Whole currency units (no minor units).
    pub amount: i64,
    /// ISO 4217 currency code, e.g. `USD` or `KRW`.
    pub currency: Text<String>,
}

/// An amount in whole units of a currency.
#[derive(InputObject, Clone, Debug)]
pub struct MoneyInput {
    /// Whole currency units, zero or more.
    pub amount: i64,
    /// ISO 4217 currency code, e.g. `USD` or `KRW`.
    pub currency: String,
}

impl Money {
    /// The amount stored as `amount` and `currency`, when both are set.
    pub fn stored(amount: Option<i64>, currency: Option<&str>) -> Option<Self> {
        Some(Self::of(amount?, currency?))
    }

    /// `amount` whole units of `currency`.
    pub fn of(amount: i64, currency: &str) -> Self {
        Self {
            amount,
            currency: Text(currency.to_owned()),
        }
    }
}

impl From<MoneyInput> for crate::domain::validate::Money {
    fn from(input: MoneyInput) -> Self {
        Self {
            amount: input.amount,
            currency: input.currency,
        }
    }
}
