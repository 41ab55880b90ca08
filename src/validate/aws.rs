//! AWS preflight: the S3 bucket and, for the iam overlay, the IAM role.
//!
//! AWS access goes through the standard chain of `aws-config` (profiles,
//! `AWS_*` variables, instance roles), with the region from the parameters.
//! `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL_IAM` point
//! the clients elsewhere (a local test server, say); S3 then uses path-style
//! addressing. One rustls crypto provider (ring) serves every client.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_s3::error::ProvideErrorMetadata;

use super::policy;
use super::report::{Options, Report};
use crate::params::{Params, Secret};

/// The service accounts whose pods reach S3 (they carry the IRSA annotation).
pub const S3_SERVICE_ACCOUNTS: [&str; 5] = [
    "ml-pipeline",
    "ml-pipeline-ui",
    "pipeline-runner",
    "argo",
    "kubeflow-pipelines-viewer",
];

async fn sdk_config(
    region: &str,
    timeout: Duration,
    creds: Option<(&Secret, &Secret)>,
) -> SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(timeout)
        .operation_attempt_timeout(timeout)
        .connect_timeout(timeout)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .http_client({
            use aws_smithy_http_client::tls;
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https()
        })
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2));
    if let Some((id, key)) = creds {
        loader = loader.credentials_provider(Credentials::new(
            id.expose(),
            key.expose(),
            None,
            None,
            "kfp-aws-params",
        ));
    }
    loader.load().await
}

/// The `AWS_ENDPOINT_URL*` variable that is set but not an http(s) URL with
/// a host, as a message naming it.
pub fn bad_endpoint_variable(get: impl Fn(&str) -> Option<String>) -> Option<String> {
    for k in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
    ] {
        let Some(v) = get(k).filter(|v| !v.is_empty()) else {
            continue;
        };
        let rest = v
            .strip_prefix("https://")
            .or_else(|| v.strip_prefix("http://"));
        let host = rest
            .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""))
            .unwrap_or("");
        let host_ok = !host.is_empty()
            && !host.starts_with(':')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]_@%".contains(c));
        if !host_ok || v.chars().any(char::is_whitespace) {
            return Some(format!(
                "{} '{}' is not a valid endpoint URL; use a URL like https://host:port, or unset it",
                k,
                crate::truncate(&v, 100)
            ));
        }
    }
    None
}

fn endpoint_overridden(service: &str) -> bool {
    let var = |k: &str| std::env::var(k).map(|v| !v.is_empty()).unwrap_or(false);
    var("AWS_ENDPOINT_URL") || var(&format!("AWS_ENDPOINT_URL_{}", service))
}

fn s3_client(cfg: &SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(cfg)
        .force_path_style(endpoint_overridden("S3"))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// The code and a short description of an SDK error, without anything the
/// request carried.
fn describe<E: ProvideErrorMetadata + std::fmt::Display>(
    e: &aws_sdk_s3::error::SdkError<E>,
) -> (String, String) {
    use aws_sdk_s3::error::SdkError;
    match e {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("").to_string();
            let status = se.raw().status().as_u16();
            let code = if code.is_empty() {
                format!("HTTP {}", status)
            } else {
                code
            };
            (
                code.clone(),
                se.err().message().map(str::to_string).unwrap_or(code),
            )
        }
        SdkError::TimeoutError(_) => ("Timeout".into(), "the request timed out".into()),
        SdkError::DispatchFailure(d) => (
            "Unreachable".into(),
            if d.is_timeout() {
                "the request timed out".into()
            } else {
                "could not reach the endpoint".into()
            },
        ),
        other => ("Error".into(), other.to_string()),
    }
}

fn region_of(location: Option<&str>) -> String {
    match location {
        None | Some("") => "us-east-1".into(),
        Some("EU") => "eu-west-1".into(),
        Some(r) => r.to_string(),
    }
}

/// Who is asking: `sts:GetCallerIdentity` needs no permission, so it tells
/// apart "no usable credentials" from "these credentials may not do that".
/// Returns false when nothing else can run.
pub async fn identity_check(p: &Params, o: &Options, r: &mut Report) -> bool {
    if let Some(msg) = bad_endpoint_variable(|k| std::env::var(k).ok()) {
        r.fail("aws.identity", msg);
        return false;
    }
    let cfg = sdk_config(p.get("awsRegion"), o.timeout, None).await;
    let sts = aws_sdk_sts::Client::new(&cfg);
    match sts.get_caller_identity().send().await {
        Ok(out) => {
            r.pass(
                "aws.identity",
                format!("checking as {}", out.arn().unwrap_or("an unnamed identity")),
            );
            true
        }
        Err(e) => {
            use aws_sdk_sts::error::SdkError;
            let msg = match &e {
                SdkError::ServiceError(se) => {
                    let code = se.err().code().unwrap_or("").to_string();
                    match code.as_str() {
                        "InvalidClientTokenId" => "AWS does not know the access key id of your credentials; check AWS_PROFILE or AWS_ACCESS_KEY_ID".to_string(),
                        "SignatureDoesNotMatch" => "the secret key of your credentials does not match the key id; check AWS_PROFILE or AWS_SECRET_ACCESS_KEY".to_string(),
                        "ExpiredToken" => "your AWS session has expired; log in again (aws sso login, or new session credentials)".to_string(),
                        _ => format!(
                            "AWS refused your credentials ({}); check AWS_PROFILE, or the pair AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                            if code.is_empty() { format!("HTTP {}", se.raw().status().as_u16()) } else { code }
                        ),
                    }
                }
                SdkError::TimeoutError(_) => "STS did not answer in time; check the network and AWS_ENDPOINT_URL".to_string(),
                // Connection trouble is I/O or a timeout; a credential chain
                // that found nothing also surfaces as a dispatch failure.
                SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => {
                    "could not reach STS; check the network and AWS_ENDPOINT_URL".to_string()
                }
                _ => "no usable AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance role is available".to_string(),
            };
            r.fail("aws.identity", msg);
            false
        }
    }
}

/// The bucket exists, is in `awsRegion`, and (accesskey overlay) the keys that
/// will go into the cluster can list, write, read and delete under the prefix.
pub async fn s3_checks(p: &Params, o: &Options, r: &mut Report) {
    let region = p.get("awsRegion");
    let bucket = p.get("s3Bucket");
    let cfg = sdk_config(region, o.timeout, None).await;
    let s3 = s3_client(&cfg);
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => r.pass("s3.bucket", format!("bucket {} exists", bucket)),
        Err(e) => {
            let (code, _) = describe(&e);
            let msg = match code.as_str() {
                "NotFound" | "NoSuchBucket" | "HTTP 404" => format!(
                    "bucket {} does not exist; create it (aws s3 mb s3://{} --region {}) or fix s3Bucket",
                    bucket, bucket, region
                ),
                "Forbidden" | "AccessDenied" | "HTTP 403" => format!(
                    "your credentials may not see bucket {} (403); check the bucket policy or use an identity that can",
                    bucket
                ),
                "Timeout" | "Unreachable" => format!("S3 did not answer for bucket {} ({}); check the endpoint and network", bucket, code),
                _ => format!("cannot check bucket {}: {}", bucket, code),
            };
            r.fail("s3.bucket", msg);
            r.skip("s3.region", "needs the bucket");
            r.skip("s3.access", "needs the bucket");
            return;
        }
    }
    match s3.get_bucket_location().bucket(bucket).send().await {
        Ok(out) => {
            let actual = region_of(out.location_constraint().map(|l| l.as_str()));
            if actual == region {
                r.pass("s3.region", format!("bucket {} is in {}", bucket, region));
            } else {
                r.fail(
                    "s3.region",
                    format!(
                        "bucket {} is in {} but awsRegion is {}; set awsRegion={}",
                        bucket, actual, region, actual
                    ),
                );
            }
        }
        Err(e) => {
            let (code, _) = describe(&e);
            r.fail(
                "s3.region",
                format!("cannot read the region of bucket {}: {}", bucket, code),
            );
        }
    }
    access_check(p, o, r).await;
}

/// With the accesskey overlay: what the cluster's keys can do under the prefix.
async fn access_check(p: &Params, o: &Options, r: &mut Report) {
    if p.overlay != crate::params::Overlay::AccessKey {
        r.skip("s3.access", "the iam overlay has no keys; the role's permissions are checked under iam.s3-permissions");
        return;
    }
    let (Some(id), Some(key)) = (p.secret("awsAccessKeyId"), p.secret("awsSecretAccessKey")) else {
        r.skip(
            "s3.access",
            format!(
                "the keys are in the existing Secret {}; they cannot be checked from here",
                p.get("awsSecretName")
            ),
        );
        return;
    };
    let bucket = p.get("s3Bucket");
    let prefix = p.get("s3KeyPrefix");
    let cfg = sdk_config(p.get("awsRegion"), o.timeout, Some((id, key))).await;
    let s3 = s3_client(&cfg);
    let key_problem = |code: &str, action: &str| -> String {
        match code {
            "InvalidAccessKeyId" => {
                "the access key id in the secrets is not known to AWS; check awsAccessKeyId"
                    .to_string()
            }
            "SignatureDoesNotMatch" => {
                "the secret access key does not match the key id; check awsSecretAccessKey"
                    .to_string()
            }
            "AccessDenied" | "Forbidden" | "HTTP 403" => format!(
                "the keys may not {} on s3://{}/{}; grant it to the keys' user",
                action, bucket, prefix
            ),
            other => format!("{} on s3://{}/{} failed: {}", action, bucket, prefix, other),
        }
    };
    // The listing asks for the prefix as it is (no trailing `/`): the same
    // s3:ListBucket permission, and a query without a `/` to encode.
    if let Err(e) = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .max_keys(1)
        .send()
        .await
    {
        let (code, _) = describe(&e);
        r.fail("s3.access", key_problem(&code, "s3:ListBucket"));
        return;
    }
    if !o.write_probe {
        r.pass(
            "s3.access",
            format!(
                "the keys can list s3://{}/{} (write probe skipped)",
                bucket, prefix
            ),
        );
        return;
    }
    let probe = format!("{}/.kfp-aws-probe-{}", prefix, std::process::id());
    if let Err(e) = s3
        .put_object()
        .bucket(bucket)
        .key(&probe)
        .body(b"kfp-aws probe".to_vec().into())
        .send()
        .await
    {
        let (code, _) = describe(&e);
        r.fail("s3.access", key_problem(&code, "s3:PutObject"));
        return;
    }
    let read = s3.get_object().bucket(bucket).key(&probe).send().await;
    let delete = s3.delete_object().bucket(bucket).key(&probe).send().await;
    match (read, delete) {
        (Ok(_), Ok(_)) => r.pass(
            "s3.access",
            format!(
                "the keys can list, write, read and delete under s3://{}/{}",
                bucket, prefix
            ),
        ),
        (Err(e), _) => {
            let (code, _) = describe(&e);
            r.fail("s3.access", key_problem(&code, "s3:GetObject"));
        }
        (_, Err(e)) => {
            let (code, _) = describe(&e);
            r.fail(
                "s3.access",
                format!(
                    "{} (the probe s3://{}/{} is left behind)",
                    key_problem(&code, "s3:DeleteObject"),
                    bucket,
                    probe
                ),
            );
        }
    }
}

fn iam_describe<E: ProvideErrorMetadata + std::fmt::Display>(
    e: &aws_sdk_iam::error::SdkError<E>,
) -> String {
    use aws_sdk_iam::error::SdkError;
    match e {
        SdkError::ServiceError(se) => se
            .err()
            .code()
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP {}", se.raw().status().as_u16())),
        SdkError::TimeoutError(_) => "Timeout".into(),
        SdkError::DispatchFailure(_) => "Unreachable".into(),
        other => other.to_string(),
    }
}

/// The role exists, trusts the cluster's service accounts, and may use the bucket.
pub async fn iam_checks(p: &Params, o: &Options, r: &mut Report) {
    let arn = p.get("iamRoleArn");
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (partition, account, role) = match parts.as_slice() {
        [_, part, _, _, acct, res] => (*part, *acct, res.rsplit('/').next().unwrap_or("")),
        _ => {
            r.fail(
                "iam.role",
                format!("iamRoleArn '{}' is not a role ARN", arn),
            );
            return;
        }
    };
    let cfg = sdk_config(p.get("awsRegion"), o.timeout, None).await;
    let iam = aws_sdk_iam::Client::new(&cfg);
    let got = match iam.get_role().role_name(role).send().await {
        Ok(out) => out,
        Err(e) => {
            let code = iam_describe(&e);
            if code == "NoSuchEntity" {
                r.fail(
                    "iam.role",
                    format!(
                        "role {} does not exist in account {}; create it or fix iamRoleArn",
                        role, account
                    ),
                );
            } else {
                r.fail("iam.role", format!("cannot read role {}: {}", role, code));
            }
            r.skip("iam.trust", "needs the role");
            r.skip("iam.s3-permissions", "needs the role");
            return;
        }
    };
    r.pass("iam.role", format!("role {} exists", role));

    // Trust: IRSA needs web identity from the cluster's OIDC provider.
    let trust_doc = got
        .role()
        .map(|ro| ro.assume_role_policy_document().unwrap_or("").to_string())
        .unwrap_or_default();
    if p.get("iamMode") == "kube2iam" {
        r.skip(
            "iam.trust",
            "kube2iam: the node role assumes this role; its trust is not checked",
        );
    } else if p.get("oidcProvider").is_empty() {
        r.skip("iam.trust", "set oidcProvider (the cluster's OIDC issuer without https://) to check the trust policy");
    } else {
        match policy::parse_policy(&trust_doc) {
            Err(e) => r.fail(
                "iam.trust",
                format!("the trust policy of {} cannot be read: {}", role, e),
            ),
            Ok(trust) => {
                let provider = p.get("oidcProvider").trim_start_matches("https://");
                let mut problems = Vec::new();
                let mut warnings = Vec::new();
                for sa in S3_SERVICE_ACCOUNTS {
                    match policy::check_web_identity_trust(
                        &trust,
                        partition,
                        account,
                        provider,
                        p.get("namespace"),
                        sa,
                    ) {
                        Ok(w) => warnings.extend(w),
                        Err(e) => problems.push(format!("{}: {}", sa, e)),
                    }
                }
                if problems.is_empty() {
                    let note = if warnings.is_empty() {
                        String::new()
                    } else {
                        format!(" (warnings: {})", warnings.join("; "))
                    };
                    r.pass(
                        "iam.trust",
                        format!(
                            "role {} trusts {} service accounts of namespace {}{}",
                            role,
                            S3_SERVICE_ACCOUNTS.len(),
                            p.get("namespace"),
                            note
                        ),
                    );
                } else {
                    r.fail(
                        "iam.trust",
                        format!(
                            "the trust policy of {} does not let {}",
                            role,
                            problems.join("; ")
                        ),
                    );
                }
            }
        }
    }

    // Permissions: the role's inline and attached managed policies.
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    match iam.list_role_policies().role_name(role).send().await {
        Ok(out) => {
            for name in out.policy_names() {
                match iam
                    .get_role_policy()
                    .role_name(role)
                    .policy_name(name)
                    .send()
                    .await
                {
                    Ok(pol) => docs.push((name.to_string(), pol.policy_document().to_string())),
                    Err(e) => errors.push(format!("inline policy {}: {}", name, iam_describe(&e))),
                }
            }
        }
        Err(e) => errors.push(format!("inline policies: {}", iam_describe(&e))),
    }
    match iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
    {
        Ok(out) => {
            for ap in out.attached_policies() {
                let Some(parn) = ap.policy_arn() else {
                    continue;
                };
                let version = match iam.get_policy().policy_arn(parn).send().await {
                    Ok(pol) => pol
                        .policy()
                        .and_then(|x| x.default_version_id())
                        .unwrap_or("v1")
                        .to_string(),
                    Err(e) => {
                        errors.push(format!("policy {}: {}", parn, iam_describe(&e)));
                        continue;
                    }
                };
                match iam
                    .get_policy_version()
                    .policy_arn(parn)
                    .version_id(version)
                    .send()
                    .await
                {
                    Ok(v) => docs.push((
                        parn.to_string(),
                        v.policy_version()
                            .and_then(|x| x.document())
                            .unwrap_or("")
                            .to_string(),
                    )),
                    Err(e) => errors.push(format!("policy {}: {}", parn, iam_describe(&e))),
                }
            }
        }
        Err(e) => errors.push(format!("attached policies: {}", iam_describe(&e))),
    }
    if !errors.is_empty() {
        r.fail(
            "iam.s3-permissions",
            format!(
                "cannot read the policies of {}: {}",
                role,
                errors.join("; ")
            ),
        );
        return;
    }
    let mut policies = Vec::new();
    for (name, doc) in &docs {
        match policy::parse_policy(doc) {
            Ok(pol) => policies.push(pol),
            Err(e) => {
                r.fail(
                    "iam.s3-permissions",
                    format!("policy {} of {} cannot be read: {}", name, role, e),
                );
                return;
            }
        }
    }
    let (missing, warnings) = policy::missing_s3_permissions(
        &policies,
        partition,
        p.get("s3Bucket"),
        p.get("s3KeyPrefix"),
    );
    let note = if warnings.is_empty() {
        String::new()
    } else {
        format!(" (warnings: {})", warnings.join("; "))
    };
    if missing.is_empty() {
        r.pass(
            "iam.s3-permissions",
            format!(
                "role {} may use s3://{}/{}{}",
                role,
                p.get("s3Bucket"),
                p.get("s3KeyPrefix"),
                note
            ),
        );
    } else {
        r.fail(
            "iam.s3-permissions",
            format!(
                "role {} is missing {} on s3://{}; add them to its policy{}",
                role,
                missing.join(", "),
                p.get("s3Bucket"),
                note
            ),
        );
    }
}
