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
