//! Qiniu (七牛) upload tokens: `AccessKey:urlsafe_b64(HMAC-SHA1(SecretKey, encoded_policy)):
//! encoded_policy`, minted locally (the gateway never calls Qiniu). The policy is what the
//! SealTalk server's SDK sent: `{"scope":"<bucket>","deadline":<unix seconds>}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha1::Sha1;

/// The credentials and bucket of a Qiniu account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QiniuAccount {
    pub access_key: String,
    pub secret_key: String,
    pub bucket: String,
}

/// Why an account cannot mint tokens (checked at start-up, never per request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Qiniu {0} is empty")]
pub struct EmptyField(pub &'static str);

/// An upload policy: `scope` and `deadline` first, then the optional fields that are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PutPolicy {
    pub scope: String,
    /// Unix seconds.
    pub deadline: u64,
    #[serde(rename = "insertOnly", skip_serializing_if = "Option::is_none")]
    pub insert_only: Option<u8>,
    #[serde(rename = "fsizeLimit", skip_serializing_if = "Option::is_none")]
    pub fsize_limit: Option<u64>,
    #[serde(rename = "mimeLimit", skip_serializing_if = "Option::is_none")]
    pub mime_limit: Option<String>,
    #[serde(rename = "returnBody", skip_serializing_if = "Option::is_none")]
    pub return_body: Option<String>,
}

impl PutPolicy {
    /// Any key in the bucket, until `deadline` (what SealTalk's server asked for).
    pub fn bucket(bucket: &str, deadline: u64) -> PutPolicy {
        PutPolicy {
            scope: bucket.to_owned(),
            deadline,
            insert_only: None,
            fsize_limit: None,
            mime_limit: None,
            return_body: None,
        }
    }
}

type HmacSha1 = Hmac<Sha1>;

impl QiniuAccount {
    pub fn new(
        access_key: &str,
        secret_key: &str,
        bucket: &str,
    ) -> Result<QiniuAccount, EmptyField> {
        for (name, value) in [
            ("access key", access_key),
            ("secret key", secret_key),
            ("bucket", bucket),
        ] {
            if value.is_empty() {
                return Err(EmptyField(name));
            }
        }
        Ok(QiniuAccount {
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            bucket: bucket.to_owned(),
        })
    }

    /// A token for uploads into the bucket, valid `lifetime_secs` from `now_secs`.
    pub fn upload_token(&self, now_secs: u64, lifetime_secs: u64) -> String {
        self.token_for(&PutPolicy::bucket(&self.bucket, now_secs + lifetime_secs))
    }

    /// A token for any policy.
    pub fn token_for(&self, policy: &PutPolicy) -> String {
        // Serialising a struct of strings and numbers cannot fail.
        let json = serde_json::to_vec(policy).unwrap_or_default();
        self.sign_policy_json(&json)
    }

    fn sign_policy_json(&self, json: &[u8]) -> String {
        let encoded_policy = URL_SAFE.encode(json);
        let mut mac = HmacSha1::new_from_slice(self.secret_key.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(encoded_policy.as_bytes());
        let sign = URL_SAFE.encode(mac.finalize().into_bytes());
        format!("{}:{sign}:{encoded_policy}", self.access_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(ak: &str, sk: &str) -> QiniuAccount {
        QiniuAccount::new(ak, sk, "rosetta-avatars").unwrap()
    }

    #[test]
    fn qiniu_documented_example() {
        let policy = r#"{"scope":"my-bucket:sunflower.jpg","deadline":1451491200,"returnBody":"{\"name\":$(fname),\"size\":$(fsize),\"w\":$(imageInfo.width),\"h\":$(imageInfo.height),\"hash\":$(etag)}"}"#;
        assert_eq!(
            account("MY_ACCESS_KEY", "MY_SECRET_KEY").sign_policy_json(policy.as_bytes()),
            "MY_ACCESS_KEY:wQ4ofysef1R7IKnrziqtomqyDvI=:eyJzY29wZSI6Im15LWJ1Y2tldDpzdW5mbG93ZXIuanBnIiwiZGVhZGxpbmUiOjE0NTE0OTEyMDAsInJldHVybkJvZHkiOiJ7XCJuYW1lXCI6JChmbmFtZSksXCJzaXplXCI6JChmc2l6ZSksXCJ3XCI6JChpbWFnZUluZm8ud2lkdGgpLFwiaFwiOiQoaW1hZ2VJbmZvLmhlaWdodCksXCJoYXNoXCI6JChldGFnKX0ifQ=="
        );
    }

    #[test]
    fn a_sealtalk_shaped_token_uses_the_url_safe_alphabet() {
        let token = account("rosetta-qiniu-ak", "rosetta-qiniu-sk")
            .upload_token(1_700_000_000 - 3600, 3600);
        assert_eq!(
            token,
            "rosetta-qiniu-ak:fW7Wm-ntEQEm3r4AuhehlCaXWU4=:eyJzY29wZSI6InJvc2V0dGEtYXZhdGFycyIsImRlYWRsaW5lIjoxNzAwMDAwMDAwfQ=="
        );
        let sign = token.split(':').nth(1).unwrap();
        assert_eq!(sign.len(), 28);
        assert!(!sign.contains(['+', '/']));
    }

    #[test]
    fn optional_fields_follow_scope_and_deadline() {
        let policy = PutPolicy {
            scope: "rosetta-avatars:portrait/42.jpg".into(),
            insert_only: Some(1),
            fsize_limit: Some(5_242_880),
            mime_limit: Some("image/*".into()),
            return_body: Some(r#"{"key":"$(key)","hash":"$(etag)"}"#.into()),
            ..PutPolicy::bucket("", 1_700_003_600)
        };
        assert_eq!(
            account("rosetta-qiniu-ak", "rosetta-qiniu-sk").token_for(&policy),
            "rosetta-qiniu-ak:roGB17LcsOGrTbjbfguZN6hH6sg=:eyJzY29wZSI6InJvc2V0dGEtYXZhdGFyczpwb3J0cmFpdC80Mi5qcGciLCJkZWFkbGluZSI6MTcwMDAwMzYwMCwiaW5zZXJ0T25seSI6MSwiZnNpemVMaW1pdCI6NTI0Mjg4MCwibWltZUxpbWl0IjoiaW1hZ2UvKiIsInJldHVybkJvZHkiOiJ7XCJrZXlcIjpcIiQoa2V5KVwiLFwiaGFzaFwiOlwiJChldGFnKVwifSJ9"
        );
    }

    #[test]
    fn empty_credentials_are_refused_up_front() {
        assert_eq!(
            QiniuAccount::new("", "sk", "b"),
            Err(EmptyField("access key"))
        );
        assert_eq!(
            QiniuAccount::new("ak", "sk", "").unwrap_err().to_string(),
            "the Qiniu bucket is empty"
        );
    }
}
