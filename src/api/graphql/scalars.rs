//! Custom scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar day, `YYYY-MM-DD` (ISO 8601), without time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar day, `YYYY-MM-DD` (ISO 8601), without time zone.
#[Scalar(
    name = "Date",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            // The bundle format's rule, so the API takes the dates an import takes.
            Value::String(s) => crate::bundle::rules::date(s).map(Date).map_err(InputValueError::custom),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

/// Cents as euros.
pub fn euros(cents: Option<i64>) -> Option<f64> {
    cents.map(|c| c as f64 / 100.0)
}

/// A stored day as a `Date`.
pub fn date(d: Option<chrono::NaiveDate>) -> Option<Date> {
    d.map(Date)
}
