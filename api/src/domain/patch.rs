//! Partial updates: an absent field is kept, an explicit null clears it.

/// A change to one field of an update.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Patch<T> {
    /// The field was absent: keep the stored value.
    #[default]
    Keep,
    /// The field was null: clear the stored value.
    Clear,
    /// The field has a new value.
    Set(T),
}

/// An optional value as a patch: absent keeps, present sets.
impl<T> From<Option<T>> for Patch<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Keep, Self::Set)
    }
}

impl<T> Patch<T> {
    /// Map the new value, keeping `Keep` and `Clear`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Self::Keep => Patch::Keep,
            Self::Clear => Patch::Clear,
            Self::Set(value) => Patch::Set(f(value)),
        }
    }

    /// Validate or transform the new value, keeping `Keep` and `Clear`.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Patch<U>, E> {
        Ok(match self {
            Self::Keep => Patch::Keep,
            Self::Clear => Patch::Clear,
            Self::Set(value) => Patch::Set(f(value)?),
        })
    }

    /// The value after applying this change to an optional `current` one.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Self::Keep => current,
            Self::Clear => None,
            Self::Set(value) => Some(value),
        }
    }

    /// Apply the change to a nullable column of an active model: absent
    /// leaves it, `null` clears it, a value sets it.
    pub fn assign(self, column: &mut sea_orm::ActiveValue<Option<T>>)
    where
        Option<T>: Into<sea_orm::Value>,
    {
        match self {
            Self::Keep => {}
            Self::Clear => *column = sea_orm::ActiveValue::Set(None),
            Self::Set(value) => *column = sea_orm::ActiveValue::Set(Some(value)),
        }
    }

    /// Whether the field was given at all.
    pub fn is_given(&self) -> bool {
        !matches!(self, Self::Keep)
    }

    /// For a required field: like [`Patch::required`], then `check` validates
    /// the new value (it receives the field name for its errors).
    pub fn required_with<U>(
        self,
        field: &str,
        check: impl FnOnce(&str, T) -> crate::error::ApiResult<U>,
    ) -> crate::error::ApiResult<Option<U>> {
        self.required(field)?
            .map(|value| check(field, value))
            .transpose()
    }

    /// For a required field: `Clear` is refused with `BAD_USER_INPUT` at `field`;
    /// returns the new value if one was given.
    pub fn required(self, field: &str) -> crate::error::ApiResult<Option<T>> {
        match self {
            Self::Keep => Ok(None),
            Self::Clear => Err(crate::error::ApiError::bad_input(
                field,
                crate::i18n::Message::Required,
            )),
            Self::Set(value) => Ok(Some(value)),
        }
    }
}

/// Set a required column of an active model when a new value was given.
pub fn assign<T: Into<sea_orm::Value>>(column: &mut sea_orm::ActiveValue<T>, value: Option<T>) {
    if let Some(value) = value {
        *column = sea_orm::ActiveValue::Set(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_keeps_null_clears_value_sets() {
        assert_eq!(Patch::<i32>::Keep.apply(Some(1)), Some(1));
        assert_eq!(Patch::<i32>::Clear.apply(Some(1)), None);
        assert_eq!(Patch::Set(2).apply(Some(1)), Some(2));
        assert!(Patch::<i32>::Clear.required("f").is_err());
        assert_eq!(Patch::Set(3).required("f").unwrap(), Some(3));
    }
}
