//! This process's count of calls to the SMS providers, by provider and outcome, and of the
//! answers that need an operator: the source of the `rosetta_sms_*` metrics.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::sms_sender::Attempt;

/// Calls to the SMS providers since start, by provider and outcome, and those that need an
/// operator, by provider: this process's counts, for its metrics.
#[derive(Debug, Default)]
pub struct SmsStats {
    calls: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    alerts: Mutex<BTreeMap<&'static str, u64>>,
}

impl SmsStats {
    /// Every series of `providers` at zero, so that rates and alerts work from the first call.
    pub fn for_providers(providers: &[&'static str]) -> SmsStats {
        let stats = SmsStats::default();
        if let (Ok(mut calls), Ok(mut alerts)) = (stats.calls.lock(), stats.alerts.lock()) {
            for provider in providers {
                for outcome in ["sent", "rate_limited", "invalid_phone", "failed"] {
                    calls.insert((provider, outcome), 0);
                }
                alerts.insert(provider, 0);
            }
        }
        stats
    }

    pub fn count(&self, attempt: &Attempt) {
        if let Ok(mut calls) = self.calls.lock() {
            *calls
                .entry((attempt.provider, attempt.outcome.name()))
                .or_default() += 1;
        }
        if attempt.alert
            && let Ok(mut alerts) = self.alerts.lock()
        {
            *alerts.entry(attempt.provider).or_default() += 1;
        }
    }

    /// `((provider, outcome), calls)`, sorted.
    pub fn calls(&self) -> Vec<((&'static str, &'static str), u64)> {
        self.calls
            .lock()
            .map(|calls| calls.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default()
    }

    /// `(provider, alerts)`, sorted.
    pub fn alerts(&self) -> Vec<(&'static str, u64)> {
        self.alerts
            .lock()
            .map(|alerts| alerts.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default()
    }
}
