//! Input rules shared by every mutation: lengths, characters, formats, ranges.

use chrono::NaiveDate;

use crate::error::{ApiError, ApiResult};
use crate::i18n::Message;

/// Longest name or title, in characters.
pub const NAME_MAX: usize = 200;
/// Longest long text (description, context, summary), in characters.
pub const TEXT_MAX: usize = 20_000;
/// Shortest password accepted.
pub const PASSWORD_MIN: usize = 8;
/// Longest password accepted (argon2 input stays bounded).
pub const PASSWORD_MAX: usize = 256;

/// Reject control characters other than newline and tab (NUL included).
fn check_characters(field: &str, value: &str) -> ApiResult<()> {
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(ApiError::bad_input(field, Message::ControlCharacters));
    }
    Ok(())
}

/// Characters that take no visible space: format characters (zero-width
/// spaces and joiners, direction marks, the byte-order mark, word joiners,
/// invisible operators, tags), variation selectors, the soft hyphen, the
/// combining grapheme joiner, Hangul fillers and the blank Braille pattern.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// Whether a text shows nothing: only whitespace and invisible characters.
fn is_blank(value: &str) -> bool {
    value.chars().all(|c| c.is_whitespace() || is_invisible(c))
}

fn check_length(field: &str, value: &str, max: usize) -> ApiResult<()> {
    if value.chars().count() > max {
        return Err(ApiError::bad_input(field, Message::TooLong { max }));
    }
    Ok(())
}

/// A required single-line name or title: trimmed, with something visible
/// (not only zero-width or other invisible characters), at most [`NAME_MAX`].
pub fn name(field: &str, value: &str) -> ApiResult<String> {
    let trimmed = value.trim();
    if is_blank(trimmed) {
        return Err(ApiError::bad_input(field, Message::Blank));
    }
    check_length(field, trimmed, NAME_MAX)?;
    check_characters(field, trimmed)?;
    if trimmed.contains(['\n', '\r']) {
        return Err(ApiError::bad_input(field, Message::ControlCharacters));
    }
    Ok(trimmed.to_owned())
}

/// A required long text: something visible, at most [`TEXT_MAX`].
pub fn long_text(field: &str, value: &str) -> ApiResult<String> {
    if is_blank(value) {
        return Err(ApiError::bad_input(field, Message::Blank));
    }
    check_length(field, value, TEXT_MAX)?;
    check_characters(field, value)?;
    Ok(value.to_owned())
}

/// An optional long text: blank (or only invisible characters) becomes `None`.
pub fn optional_text(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(text) if is_blank(text) => Ok(None),
        Some(text) => long_text(field, text).map(Some),
    }
}

/// Longest URL accepted.
pub const URL_MAX: usize = 2048;

/// An absolute `http` or `https` URL with a host, at most [`URL_MAX`] characters.
pub fn http_url(field: &str, value: &str) -> ApiResult<url::Url> {
    let trimmed = value.trim();
    let invalid = || {
        ApiError::bad_input(
            field,
            Message::InvalidFormat {
                expected: crate::i18n::Format::HttpUrl,
            },
        )
    };
    if trimmed.len() > URL_MAX {
        return Err(invalid());
    }
    let url = url::Url::parse(trimmed).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid());
    }
    Ok(url)
}

/// A program key: `^[A-Z][A-Z0-9]{1,9}$`.
pub fn program_key(field: &str, value: &str) -> ApiResult<String> {
    let bytes = value.as_bytes();
    let valid = (2..=10).contains(&bytes.len())
        && bytes[0].is_ascii_uppercase()
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if valid {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_input(
            field,
            Message::InvalidFormat {
                expected: crate::i18n::Format::ProgramKey,
            },
        ))
    }
}

/// An email address, lower-cased (addresses are unique case-insensitively).
pub fn email(field: &str, value: &str) -> ApiResult<String> {
    let email = value.trim().to_lowercase();
    let valid = email.len() <= 320
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(ApiError::bad_input(field, Message::InvalidEmail))
    }
}

/// A new password: long enough, bounded, no control characters.
pub fn password(field: &str, value: &str) -> ApiResult<()> {
    if value.chars().count() < PASSWORD_MIN {
        return Err(ApiError::bad_input(
            field,
            Message::PasswordTooShort { min: PASSWORD_MIN },
        ));
    }
    check_length(field, value, PASSWORD_MAX)?;
    check_characters(field, value)
}

/// An integer within `[min, max]`.
pub fn range(field: &str, value: i32, min: i32, max: i32) -> ApiResult<i32> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::bad_input(
            field,
            Message::OutOfRange {
                min: min.into(),
                max: max.into(),
            },
        ))
    }
}

/// A number of days between 0 and `max`, both included (a fraction allowed).
pub fn days(field: &str, value: f64, max: i64) -> ApiResult<f64> {
    if value.is_finite() && (0.0..=max as f64).contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::bad_input(
            field,
            Message::OutOfRange { min: 0, max },
        ))
    }
}

/// `end` must not precede `start` when both are set.
pub fn date_order(
    end_field: &str,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    start_name: &'static str,
) -> ApiResult<()> {
    match (start, end) {
        (Some(start), Some(end)) if end < start => Err(ApiError::bad_input(
            end_field,
            Message::DateBefore { other: start_name },
        )),
        _ => Ok(()),
    }
}

/// An IANA time zone name such as `Asia/Seoul`, kept as given.
pub fn time_zone(field: &str, value: &str) -> ApiResult<String> {
    let value = value.trim();
    value.parse::<chrono_tz::Tz>().map_err(|_| {
        ApiError::bad_input(
            field,
            Message::InvalidFormat {
                expected: crate::i18n::Format::TimeZone,
            },
        )
    })?;
    Ok(value.to_owned())
}

/// The zone of a stored time zone name; UTC for a name this build does not know.
pub fn zone_of(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::Tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_keys_follow_the_pattern() {
        for good in ["AB", "GDPR", "K8S2026", "ABCDEFGHIJ"] {
            assert!(program_key("key", good).is_ok(), "{good}");
        }
        for bad in ["A", "ab", "1AB", "ABCDEFGHIJK", "AB-C", "ÄB", ""] {
            assert!(program_key("key", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_refuse_nul_and_overlong_text() {
        assert!(name("name", "a\0b").is_err());
        assert!(name("name", &"x".repeat(201)).is_err());
        assert_eq!(name("name", "  한국 진출  ").unwrap(), "한국 진출");
        assert!(name("name", "   ").is_err());
    }

    #[test]
    fn names_of_only_invisible_characters_are_blank() {
        for invisible in [
            "\u{200B}\u{200B}",
            " \u{200D}\u{FEFF} ",
            "\u{3164}",
            "\u{2060}\u{180E}\u{00AD}",
            "\u{E0041}\u{FE0F}",
        ] {
            assert!(name("name", invisible).is_err(), "{invisible:?}");
            assert!(long_text("d", invisible).is_err(), "{invisible:?}");
            assert_eq!(optional_text("d", Some(invisible)).unwrap(), None);
        }
        // Joiners inside real text are kept (emoji sequences, Persian, Hangul).
        assert_eq!(
            name("name", "👩\u{200D}💻 team").unwrap(),
            "👩\u{200D}💻 team"
        );
        assert!(name("name", "می\u{200C}خواهم").is_ok());
    }

    #[test]
    fn long_text_keeps_newlines_and_tabs() {
        assert!(long_text("d", "line one\n\tline two").is_ok());
        assert!(long_text("d", "bell\u{7}").is_err());
        assert!(long_text("d", &"가".repeat(20_000)).is_ok());
        assert!(long_text("d", &"가".repeat(20_001)).is_err());
    }

    #[test]
    fn emails_are_lowercased() {
        assert_eq!(email("e", " Ada@Example.COM ").unwrap(), "ada@example.com");
        assert!(email("e", "no-at-sign").is_err());
        assert!(email("e", "a@b@c").is_err());
    }
}

/// Every input error among independent checks, reported together: `Ok`
/// with all the values when each check passed, otherwise the one error, or
/// [`ApiError::BadUserInputs`] listing each bad field. An error that is not
/// about input (a database failure) is returned as it is.
pub trait AllInputs {
    /// The checked values.
    type Values;
    /// The values, or every input error.
    fn all(self) -> ApiResult<Self::Values>;
}

/// Keep an input error for the report; another failure ends the check.
fn gather(errors: &mut Vec<(String, Message)>, error: ApiError) -> ApiResult<()> {
    match error {
        ApiError::BadUserInput { field, message } => {
            errors.push((field, message));
            Ok(())
        }
        ApiError::BadUserInputs(more) => {
            errors.extend(more);
            Ok(())
        }
        other => Err(other),
    }
}

/// Every input error among a list of independent checks (one per item),
/// reported together like [`AllInputs::all`]: the values in order, or the errors.
pub fn all_of<T>(checks: impl IntoIterator<Item = ApiResult<T>>) -> ApiResult<Vec<T>> {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for check in checks {
        match check {
            Ok(value) => values.push(value),
            Err(error) => gather(&mut errors, error)?,
        }
    }
    report(values, errors)
}

/// `values` when no input error was gathered; otherwise the one error or the list.
fn report<T>(values: T, mut errors: Vec<(String, Message)>) -> ApiResult<T> {
    match errors.len() {
        0 => Ok(values),
        1 => {
            let (field, message) = errors.remove(0);
            Err(ApiError::BadUserInput { field, message })
        }
        _ => Err(ApiError::BadUserInputs(errors)),
    }
}

macro_rules! all_inputs {
    ($($value:ident),+) => {
        impl<$($value),+> AllInputs for ($(ApiResult<$value>,)+) {
            type Values = ($($value,)+);
            #[allow(non_snake_case)]
            fn all(self) -> ApiResult<Self::Values> {
                let ($($value,)+) = self;
                let mut errors = Vec::new();
                $(
                    let $value = match $value {
                        Ok(value) => Some(value),
                        Err(error) => {
                            gather(&mut errors, error)?;
                            None
                        }
                    };
                )+
                match ($($value,)+) {
                    ($(Some($value),)+) if errors.is_empty() => Ok(($($value,)+)),
                    _ => report((), errors).and_then(|()| {
                        Err(ApiError::internal("an input check failed without an error"))
                    }),
                }
            }
        }
    };
}

all_inputs!(A, B);
all_inputs!(A, B, C);
all_inputs!(A, B, C, D);
all_inputs!(A, B, C, D, E);
all_inputs!(A, B, C, D, E, F);
all_inputs!(A, B, C, D, E, F, G);
all_inputs!(A, B, C, D, E, F, G, H);

/// An amount in whole units of a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// Whole currency units.
    pub amount: i64,
    /// ISO 4217 code, e.g. `USD`, `KRW`.
    pub currency: String,
}

/// An amount of zero or more in a real ISO 4217 currency.
pub fn money(field: &str, money: &Money) -> ApiResult<()> {
    if money.amount < 0 {
        return Err(ApiError::bad_input(
            format!("{field}.amount"),
            Message::OutOfRange {
                min: 0,
                max: i64::MAX,
            },
        ));
    }
    if iso_currency::Currency::from_code(&money.currency).is_none() {
        return Err(ApiError::bad_input(
            format!("{field}.currency"),
            Message::InvalidFormat {
                expected: crate::i18n::Format::CurrencyCode,
            },
        ));
    }
    Ok(())
}
