//! `kfp-aws validate` against real peers on 127.0.0.1: moto for S3 and IAM,
//! MariaDB for an external MySQL. The peers come from `scripts/test`
//! (`KFP_AWS_PYTHON` with moto and boto3; the mariadb-server programs); a
//! plain `cargo test` without them skips these tests and says so.

mod support;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use support::peers::{mariadb_available, python, MariaDb, Moto};

const ACCOUNT: &str = "123456789012";
const OIDC: &str = "oidc.eks.us-east-1.amazonaws.com/id/TESTCLUSTER0001";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    json: Value,
}

impl Run {
    fn status(&self, id: &str) -> &str {
        self.check(id).0
    }
    fn message(&self, id: &str) -> &str {
        self.check(id).1
    }
    fn check(&self, id: &str) -> (&str, &str) {
        let checks = self.json["checks"].as_array().expect("checks");
        let c = checks
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no check {} in {}", id, self.stdout));
        (
            c["status"].as_str().unwrap(),
            c["message"].as_str().unwrap(),
        )
    }
    fn assert_no(&self, secret: &str) {
        assert!(
            !self.stdout.contains(secret) && !self.stderr.contains(secret),
            "a secret value is printed:\n{}\n{}",
            self.stdout,
            self.stderr
        );
    }
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kfp-aws-validate-test-{}-{}",
        std::process::id(),
        support::peers::free_port()
    ));
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// Run `kfp-aws validate --json` with these parameters and secrets, the AWS
/// endpoint pointing at moto, and `identity` as the ambient AWS credentials.
fn validate(
    endpoint: Option<&str>,
    identity: (&str, &str),
    params: &[(&str, &str)],
    secrets: &[(&str, &str)],
    extra: &[&str],
) -> Run {
    let dir = scratch();
    let pfile = dir.join("params.env");
    let sfile = dir.join("secrets.env");
    let text = |kv: &[(&str, &str)]| {
        kv.iter()
            .map(|(k, v)| format!("{}={}\n", k, v))
            .collect::<String>()
    };
    std::fs::write(&pfile, text(params)).unwrap();
    std::fs::write(&sfile, text(secrets)).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kfp-aws"));
    cmd.arg("validate")
        .arg("--json")
        .arg("--timeout")
        .arg("5")
        .arg("--params")
        .arg(&pfile)
        .arg("--secrets")
        .arg(&sfile)
        .args(extra);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("KFP_AWS_") || k.starts_with("KFP_MYSQL_") {
            cmd.env_remove(k);
        }
    }
    if !identity.0.is_empty() {
        cmd.env("AWS_ACCESS_KEY_ID", identity.0)
            .env("AWS_SECRET_ACCESS_KEY", identity.1);
    }
    cmd.env("AWS_CONFIG_FILE", dir.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(url) = endpoint {
        cmd.env("AWS_ENDPOINT_URL", url);
    }
    let out = cmd.output().expect("run kfp-aws");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout,
        stderr,
        json,
    }
}

fn accesskey(bucket: &str, region: &str) -> Vec<(&'static str, String)> {
    vec![
        ("overlay", "accesskey".into()),
        ("awsRegion", region.into()),
        ("s3Bucket", bucket.into()),
        ("s3KeyPrefix", "artifacts".into()),
    ]
}

fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, s)| (*k, s.as_str())).collect()
}

fn trust_policy(namespace: &str) -> String {
    let subs: Vec<String> = [
        "ml-pipeline",
        "ml-pipeline-ui",
        "pipeline-runner",
        "argo",
        "kubeflow-pipelines-viewer",
    ]
    .iter()
    .map(|sa| format!("system:serviceaccount:{}:{}", namespace, sa))
    .collect();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::{}:oidc-provider/{}", ACCOUNT, OIDC)},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {format!("{}:aud", OIDC): "sts.amazonaws.com"},
                "StringLike": {format!("{}:sub", OIDC): subs}
            }
        }]
    })
    .to_string()
}

fn s3_policy(bucket: &str, actions: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": format!("arn:aws:s3:::{}", bucket)},
            {"Effect": "Allow", "Action": actions, "Resource": format!("arn:aws:s3:::{}/*", bucket)}
        ]
    })
    .to_string()
}

fn iam_params(bucket: &str, role: &str, namespace: &str) -> Vec<(&'static str, String)> {
    vec![
        ("overlay", "iam".into()),
        ("namespace", namespace.into()),
        ("awsRegion", "us-east-1".into()),
        ("s3Bucket", bucket.into()),
        (
            "iamRoleArn",
            format!("arn:aws:iam::{}:role/{}", ACCOUNT, role),
        ),
        ("oidcProvider", OIDC.into()),
    ]
}

#[test]
fn s3_and_iam_checks_against_moto() {
    let Some(py) = python() else {
        println!("KFP_AWS_PYTHON not set (scripts/test sets it): skipped");
        return;
    };
    let moto = Moto::start(&py);
    let url = Some(moto.url.as_str());
    let id = ("testing", "testing");
    moto.setup(
        "s3().create_bucket(Bucket='kfp-ok')\n\
         s3('eu-west-1').create_bucket(Bucket='kfp-eu', CreateBucketConfiguration={'LocationConstraint': 'eu-west-1'})",
    );
    let keys = [
        ("awsAccessKeyId", "AKIAEXAMPLEKEY000001"),
        ("awsSecretAccessKey", "s3cr3t-VALUE-never-printed"),
    ];

    // Everything in order: the bucket exists in the region and the keys can use it.
    let ok = validate(
        url,
        id,
        &refs(&accesskey("kfp-ok", "us-east-1")),
        &keys,
        &[],
    );
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    assert_eq!(ok.status("aws.identity"), "pass");
    assert!(
        ok.message("aws.identity").contains(ACCOUNT),
        "{}",
        ok.stdout
    );
    assert_eq!(ok.status("s3.bucket"), "pass");
    assert_eq!(ok.status("s3.region"), "pass");
    assert_eq!(ok.status("s3.access"), "pass", "{}", ok.stdout);
    assert!(ok
        .message("s3.access")
        .contains("list, write, read and delete"));
    assert_eq!(ok.status("iam"), "skip");
    assert_eq!(ok.status("mysql"), "skip");
    assert_eq!(ok.json["ok"], true);
    ok.assert_no("s3cr3t-VALUE-never-printed");
    ok.assert_no("AKIAEXAMPLEKEY000001");
    // The probe object is gone again.
    let left = moto.setup("print(s3().list_objects_v2(Bucket='kfp-ok').get('KeyCount', 0))");
    assert_eq!(left.trim(), "0", "the probe object was left behind");

    // No such bucket: the rest of S3 is skipped, the fix is named.
    let missing = validate(
        url,
        id,
        &refs(&accesskey("kfp-missing", "us-east-1")),
        &keys,
        &[],
    );
    assert_eq!(missing.code, 1);
    assert_eq!(missing.status("s3.bucket"), "fail");
    assert!(
        missing.message("s3.bucket").contains("does not exist"),
        "{}",
        missing.stdout
    );
    assert!(missing
        .message("s3.bucket")
        .contains("aws s3 mb s3://kfp-missing --region us-east-1"));
    assert_eq!(missing.status("s3.region"), "skip");
    assert_eq!(missing.json["ok"], false);

    // The bucket lives elsewhere: the region check names the right one.
    let wrong = validate(
        url,
        id,
        &refs(&accesskey("kfp-eu", "us-east-1")),
        &keys,
        &[],
    );
    assert_eq!(wrong.code, 1, "{}", wrong.stdout);
    assert_eq!(wrong.status("s3.region"), "fail");
    assert!(
        wrong.message("s3.region").contains("is in eu-west-1"),
        "{}",
        wrong.stdout
    );
    assert!(wrong.message("s3.region").contains("awsRegion=eu-west-1"));
    let right = validate(
        url,
        id,
        &refs(&accesskey("kfp-eu", "eu-west-1")),
        &keys,
        &["--checks", "s3"],
    );
    assert_eq!(right.code, 0, "{}", right.stdout);
    assert!(right.json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["id"].as_str().unwrap().starts_with("s3.") || c["id"] == "aws.identity"));

    // --no-write-probe only lists.
    let list_only = validate(
        url,
        id,
        &refs(&accesskey("kfp-ok", "us-east-1")),
        &keys,
        &["--no-write-probe"],
    );
    assert_eq!(list_only.status("s3.access"), "pass");
    assert!(list_only
        .message("s3.access")
        .contains("write probe skipped"));

    // An existing Secret: the keys cannot be checked from here.
    let mut existing = accesskey("kfp-ok", "us-east-1");
    existing.push(("createS3Secret", "false".into()));
    let ex = validate(url, id, &refs(&existing), &[], &[]);
    assert_eq!(ex.code, 0, "{}\n{}", ex.stdout, ex.stderr);
    assert_eq!(ex.status("s3.access"), "skip");

    // IAM: a role that trusts the namespace's service accounts and may use the bucket.
    moto.setup(&format!(
        "i = iam()\n\
         i.create_role(RoleName='kfp-good', AssumeRolePolicyDocument={trust:?})\n\
         i.put_role_policy(RoleName='kfp-good', PolicyName='s3', PolicyDocument={full:?})\n\
         i.create_role(RoleName='kfp-readonly', AssumeRolePolicyDocument={trust:?})\n\
         arn = i.create_policy(PolicyName='ro', PolicyDocument={ro:?})['Policy']['Arn']\n\
         i.attach_role_policy(RoleName='kfp-readonly', PolicyArn=arn)\n\
         i.create_role(RoleName='kfp-other-ns', AssumeRolePolicyDocument={other:?})\n\
         i.put_role_policy(RoleName='kfp-other-ns', PolicyName='s3', PolicyDocument={full:?})",
        trust = trust_policy("kubeflow"),
        other = trust_policy("team-a"),
        full = s3_policy(
            "kfp-ok",
            &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        ),
        ro = s3_policy("kfp-ok", &["s3:GetObject"]),
    ));
    let good = validate(
        url,
        id,
        &refs(&iam_params("kfp-ok", "kfp-good", "kubeflow")),
        &[],
        &[],
    );
    assert_eq!(good.code, 0, "{}\n{}", good.stdout, good.stderr);
    for c in [
        "s3.bucket",
        "s3.region",
        "iam.role",
        "iam.trust",
        "iam.s3-permissions",
    ] {
        assert_eq!(good.status(c), "pass", "{}: {}", c, good.stdout);
    }
    assert_eq!(good.status("s3.access"), "skip");

    let no_role = validate(
        url,
        id,
        &refs(&iam_params("kfp-ok", "kfp-absent", "kubeflow")),
        &[],
        &["--checks", "iam"],
    );
    assert_eq!(no_role.code, 1);
    assert_eq!(no_role.status("iam.role"), "fail");
    assert!(
        no_role.message("iam.role").contains("does not exist"),
        "{}",
        no_role.stdout
    );
    assert_eq!(no_role.status("iam.trust"), "skip");

    let ro = validate(
        url,
        id,
        &refs(&iam_params("kfp-ok", "kfp-readonly", "kubeflow")),
        &[],
        &["--checks", "iam"],
    );
    assert_eq!(ro.code, 1, "{}", ro.stdout);
    assert_eq!(ro.status("iam.trust"), "pass", "{}", ro.stdout);
    assert_eq!(ro.status("iam.s3-permissions"), "fail");
    let m = ro.message("iam.s3-permissions");
    assert!(
        m.contains("s3:PutObject") && m.contains("s3:DeleteObject") && !m.contains("s3:GetObject,"),
        "{}",
        m
    );

    let other = validate(
        url,
        id,
        &refs(&iam_params("kfp-ok", "kfp-other-ns", "kubeflow")),
        &[],
        &["--checks", "iam"],
    );
    assert_eq!(other.code, 1, "{}", other.stdout);
    assert_eq!(other.status("iam.trust"), "fail");
    assert!(
        other.message("iam.trust").contains("ml-pipeline"),
        "{}",
        other.stdout
    );
    // The same role is right for the namespace it trusts.
    let team = validate(
        url,
        id,
        &refs(&iam_params("kfp-ok", "kfp-other-ns", "team-a")),
        &[],
        &["--checks", "iam"],
    );
    assert_eq!(team.code, 0, "{}", team.stdout);

    // Wrong audience; a wildcard policy; an explicit Deny under an Allow.
    let wrong_aud = trust_policy("kubeflow").replace("sts.amazonaws.com", "sts.example.com");
    moto.setup(&format!(
        "i = iam()\n\
         i.create_role(RoleName='kfp-aud', AssumeRolePolicyDocument={wrong_aud:?})\n\
         i.put_role_policy(RoleName='kfp-aud', PolicyName='s3', PolicyDocument={full:?})\n\
         i.create_role(RoleName='kfp-wild', AssumeRolePolicyDocument={trust:?})\n\
         i.put_role_policy(RoleName='kfp-wild', PolicyName='s3', PolicyDocument={wild:?})\n\
         i.create_role(RoleName='kfp-denied', AssumeRolePolicyDocument={trust:?})\n\
         i.put_role_policy(RoleName='kfp-denied', PolicyName='s3', PolicyDocument={wild:?})\n\
         i.put_role_policy(RoleName='kfp-denied', PolicyName='deny', PolicyDocument={deny:?})",
        trust = trust_policy("kubeflow"),
        full = s3_policy("kfp-ok", &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]),
        wild = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::kfp-ok*"}]}"#,
        deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}"#,
    ));
    let aud = validate(
        url,
        id,
        &refs(&iam_params("kfp-ok", "kfp-aud", "kubeflow")),
        &[],
        &["--checks", "iam"],
    );
    assert_eq!(aud.code, 1, "{}", aud.stdout);
    assert_eq!(aud.status("iam.trust"), "fail");
    assert!(
        aud.message("iam.trust").contains("audience"),
        "{}",
        aud.stdout
    );
    assert_eq!(aud.status("iam.s3-permissions"), "pass");

    let wild = validate(
        url,
        id,
        &refs(&iam_params("kfp-ok", "kfp-wild", "kubeflow")),
        &[],
        &["--checks", "iam"],
    );
    assert_eq!(wild.code, 0, "{}", wild.stdout);
    assert_eq!(wild.status("iam.s3-permissions"), "pass");

    let denied = validate(
        url,
        id,
        &refs(&iam_params("kfp-ok", "kfp-denied", "kubeflow")),
        &[],
        &["--checks", "iam"],
    );
    assert_eq!(denied.code, 1, "{}", denied.stdout);
    assert_eq!(denied.status("iam.s3-permissions"), "fail");
    let m = denied.message("iam.s3-permissions");
    assert!(
        m.contains("s3:DeleteObject") && !m.contains("s3:PutObject"),
        "{}",
        m
    );

    // Without oidcProvider the trust cannot be judged; that is said, not guessed.
    let mut no_oidc = iam_params("kfp-ok", "kfp-good", "kubeflow");
    no_oidc.retain(|(k, _)| *k != "oidcProvider");
    let n = validate(url, id, &refs(&no_oidc), &[], &["--checks", "iam"]);
    assert_eq!(n.status("iam.trust"), "skip");
    assert!(n.message("iam.trust").contains("oidcProvider"));
}

#[test]
fn access_denied_and_bad_keys_against_enforcing_moto() {
    let Some(py) = python() else {
        println!("KFP_AWS_PYTHON not set (scripts/test sets it): skipped");
        return;
    };
    let moto = Moto::start(&py);
    let url = Some(moto.url.as_str());
    let keys = moto.setup(&format!(
        "i = iam()\n\
         s3().create_bucket(Bucket='kfp-locked')\n\
         def user(name, doc):\n    i.create_user(UserName=name)\n    i.put_user_policy(UserName=name, PolicyName='p', PolicyDocument=doc)\n    k = i.create_access_key(UserName=name)['AccessKey']\n    return [k['AccessKeyId'], k['SecretAccessKey']]\n\
         i.create_user(UserName='nobody')\n\
         k = i.create_access_key(UserName='nobody')['AccessKey']\n\
         print(json.dumps({{'admin': user('admin', {admin:?}), 'reader': user('reader', {reader:?}), 'nobody': [k['AccessKeyId'], k['SecretAccessKey']]}}))",
        admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        reader = s3_policy("kfp-locked", &["s3:GetObject"]),
    ));
    moto.enforce_iam();
    let keys: Value = serde_json::from_str(keys.trim()).expect("keys");
    let pair = |who: &str| {
        (
            keys[who][0].as_str().unwrap().to_string(),
            keys[who][1].as_str().unwrap().to_string(),
        )
    };
    let (admin_id, admin_key) = pair("admin");
    let (reader_id, reader_key) = pair("reader");
    let admin = (admin_id.as_str(), admin_key.as_str());
    let params = accesskey("kfp-locked", "us-east-1");

    // The reader may list but not write: the failing action is named.
    let denied = validate(
        url,
        admin,
        &refs(&params),
        &[
            ("awsAccessKeyId", &reader_id),
            ("awsSecretAccessKey", &reader_key),
        ],
        &["--checks", "s3"],
    );
    assert_eq!(denied.code, 1, "{}\n{}", denied.stdout, denied.stderr);
    assert_eq!(denied.status("s3.bucket"), "pass", "{}", denied.stdout);
    assert_eq!(denied.status("s3.access"), "fail");
    assert!(
        denied.message("s3.access").contains("may not s3:PutObject"),
        "{}",
        denied.stdout
    );
    denied.assert_no(&reader_key);

    // A secret key that does not belong to the key id.
    let bad = validate(
        url,
        admin,
        &refs(&params),
        &[
            ("awsAccessKeyId", &reader_id),
            ("awsSecretAccessKey", "WRONG-secret-never-printed"),
        ],
        &["--checks", "s3"],
    );
    assert_eq!(bad.status("s3.access"), "fail", "{}", bad.stdout);
    assert!(
        bad.message("s3.access").contains("does not match"),
        "{}",
        bad.stdout
    );
    bad.assert_no("WRONG-secret-never-printed");

    // The caller's own secret key is wrong: said once, the rest is skipped.
    let caller = validate(
        url,
        (admin_id.as_str(), "WRONG-caller-never-printed"),
        &refs(&params),
        &[
            ("awsAccessKeyId", &reader_id),
            ("awsSecretAccessKey", &reader_key),
        ],
        &["--checks", "s3"],
    );
    assert_eq!(caller.code, 1);
    assert_eq!(caller.status("aws.identity"), "fail", "{}", caller.stdout);
    assert!(
        // AWS says SignatureDoesNotMatch; moto answers a bare 403.
        caller
            .message("aws.identity")
            .contains("refused your credentials")
            || caller.message("aws.identity").contains("does not match"),
        "{}",
        caller.stdout
    );
    assert_eq!(caller.status("s3"), "skip");
    caller.assert_no("WRONG-caller-never-printed");

    // A key id AWS does not know.
    let unknown = validate(
        url,
        admin,
        &refs(&params),
        &[
            ("awsAccessKeyId", "AKIAUNKNOWN000000000"),
            ("awsSecretAccessKey", "x-never-printed"),
        ],
        &["--checks", "s3"],
    );
    assert_eq!(unknown.status("s3.access"), "fail", "{}", unknown.stdout);
    assert!(
        unknown.message("s3.access").contains("not known"),
        "{}",
        unknown.stdout
    );

    // The caller itself may not look at the bucket.
    let (nobody_id, nobody_key) = pair("nobody");
    let blind = validate(
        url,
        (nobody_id.as_str(), nobody_key.as_str()),
        &refs(&params),
        &[
            ("awsAccessKeyId", &reader_id),
            ("awsSecretAccessKey", &reader_key),
        ],
        &["--checks", "s3"],
    );
    assert_eq!(blind.code, 1);
    assert_eq!(blind.status("s3.bucket"), "fail", "{}", blind.stdout);
    assert!(
        blind
            .message("s3.bucket")
            .contains("may not see bucket kfp-locked"),
        "{}",
        blind.stdout
    );
    blind.assert_no(&nobody_key);
    blind.assert_no(&reader_key);
}

#[test]
fn unreachable_aws_is_a_failed_check_not_a_hang() {
    // Nothing listens on this port.
    let port = support::peers::free_port();
    let url = format!("http://127.0.0.1:{}", port);
    let r = validate(
        Some(&url),
        ("testing", "testing"),
        &refs(&accesskey("kfp-any", "us-east-1")),
        &[
            ("awsAccessKeyId", "AKIAEXAMPLEKEY000001"),
            ("awsSecretAccessKey", "secret"),
        ],
        &["--checks", "s3"],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.status("aws.identity"), "fail");
    assert!(
        r.message("aws.identity").contains("could not reach STS"),
        "{}",
        r.stdout
    );
    assert_eq!(r.status("s3"), "skip");
}

#[test]
fn no_credentials_is_said_plainly() {
    // Nothing listens here either; the credential chain fails before any call.
    let url = format!("http://127.0.0.1:{}", support::peers::free_port());
    let r = validate(
        Some(&url),
        ("", ""),
        &refs(&accesskey("kfp-any", "us-east-1")),
        &[
            ("awsAccessKeyId", "AKIAEXAMPLEKEY000001"),
            ("awsSecretAccessKey", "secret"),
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.status("aws.identity"), "fail");
    assert!(
        r.message("aws.identity")
            .contains("no usable AWS credentials"),
        "{}",
        r.stdout
    );
    assert_eq!(r.status("s3"), "skip");
}

#[test]
fn mysql_checks_against_mariadb() {
    if !mariadb_available() {
        println!("mariadb-server is not installed (scripts/test installs it): skipped");
        return;
    }
    let db = MariaDb::start();
    db.sql(
        "CREATE USER 'kfp'@'%' IDENTIFIED BY 'Pa55-never-printed'; GRANT ALL PRIVILEGES ON *.* TO 'kfp'@'%';\
         CREATE USER 'narrow'@'%' IDENTIFIED BY 'narrow-pw'; GRANT ALL PRIVILEGES ON `mlpipeline`.* TO 'narrow'@'%';\
         CREATE USER 'nocache'@'%' IDENTIFIED BY 'nocache-pw'; GRANT ALL PRIVILEGES ON `mlpipeline`.* TO 'nocache'@'%'; GRANT ALL PRIVILEGES ON `metadb`.* TO 'nocache'@'%';",
    );
    let port = db.port.to_string();
    let params = |host: &str, port: &str| {
        vec![
            ("overlay", "iam".to_string()),
            ("awsRegion", "us-east-1".to_string()),
            ("s3Bucket", "kfp-x".to_string()),
            ("iamRoleArn", format!("arn:aws:iam::{}:role/r", ACCOUNT)),
            ("mysqlHost", host.to_string()),
            ("mysqlPort", port.to_string()),
        ]
    };
    let good = validate(
        None,
        ("t", "t"),
        &refs(&params("127.0.0.1", &port)),
        &[
            ("mysqlUser", "kfp"),
            ("mysqlPassword", "Pa55-never-printed"),
        ],
        &["--checks", "mysql"],
    );
    assert_eq!(good.code, 0, "{}\n{}", good.stdout, good.stderr);
    for c in [
        "mysql.reachable",
        "mysql.login",
        "mysql.version",
        "mysql.databases",
    ] {
        assert_eq!(good.status(c), "pass", "{}: {}", c, good.stdout);
    }
    assert!(
        good.message("mysql.version").contains("MariaDB"),
        "{}",
        good.stdout
    );
    assert_eq!(good.status("mysql.auth-plugin"), "skip");
    good.assert_no("Pa55-never-printed");

    let wrong = validate(
        None,
        ("t", "t"),
        &refs(&params("127.0.0.1", &port)),
        &[
            ("mysqlUser", "kfp"),
            ("mysqlPassword", "Wr0ng-never-printed"),
        ],
        &["--checks", "mysql"],
    );
    assert_eq!(wrong.code, 1);
    assert_eq!(wrong.status("mysql.reachable"), "pass");
    assert_eq!(wrong.status("mysql.login"), "fail");
    assert!(
        wrong.message("mysql.login").contains("refused user kfp"),
        "{}",
        wrong.stdout
    );
    assert_eq!(wrong.status("mysql.databases"), "skip");
    wrong.assert_no("Wr0ng-never-printed");

    let narrow = validate(
        None,
        ("t", "t"),
        &refs(&params("127.0.0.1", &port)),
        &[("mysqlUser", "narrow"), ("mysqlPassword", "narrow-pw")],
        &["--checks", "mysql"],
    );
    assert_eq!(narrow.code, 1, "{}", narrow.stdout);
    assert_eq!(narrow.status("mysql.databases"), "fail");
    let m = narrow.message("mysql.databases");
    assert!(
        m.contains("metadb") && m.contains("cachedb") && !m.contains("mlpipeline"),
        "{}",
        m
    );

    // Without a cache server (cacheTls=none) the cache database is not needed.
    let mut no_cache = params("127.0.0.1", &port);
    no_cache.push(("cacheTls", "none".to_string()));
    let nocache = validate(
        None,
        ("t", "t"),
        &refs(&no_cache),
        &[("mysqlUser", "nocache"), ("mysqlPassword", "nocache-pw")],
        &["--checks", "mysql"],
    );
    assert_eq!(
        nocache.status("mysql.databases"),
        "pass",
        "{}",
        nocache.stdout
    );
    assert_eq!(
        nocache.message("mysql.databases"),
        "user nocache may create mlpipeline and metadb"
    );
    let with_cache = validate(
        None,
        ("t", "t"),
        &refs(&params("127.0.0.1", &port)),
        &[("mysqlUser", "nocache"), ("mysqlPassword", "nocache-pw")],
        &["--checks", "mysql"],
    );
    assert_eq!(with_cache.status("mysql.databases"), "fail");

    let closed = support::peers::free_port().to_string();
    let refused = validate(
        None,
        ("t", "t"),
        &refs(&params("127.0.0.1", &closed)),
        &[
            ("mysqlUser", "kfp"),
            ("mysqlPassword", "Pa55-never-printed"),
        ],
        &["--checks", "mysql"],
    );
    assert_eq!(refused.code, 1);
    assert_eq!(refused.status("mysql.reachable"), "fail");
    assert!(
        refused
            .message("mysql.reachable")
            .contains("connection refused"),
        "{}",
        refused.stdout
    );
    assert_eq!(refused.status("mysql.login"), "skip");
}

#[test]
fn unknown_check_group_is_a_usage_error() {
    let r = validate(
        None,
        ("t", "t"),
        &refs(&accesskey("b", "us-east-1")),
        &[("awsAccessKeyId", "A"), ("awsSecretAccessKey", "B")],
        &["--checks", "s3,dns"],
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("unknown check group 'dns'"),
        "{}",
        r.stderr
    );
}

/// The trust check covers exactly the ServiceAccounts that the iam render
/// annotates with the role.
#[test]
fn trust_check_covers_every_annotated_service_account() {
    let mut raw = kfp_aws::params::RawParams::default();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    raw.add_text(
        &std::fs::read_to_string(root.join("params/params.env")).unwrap(),
        "params.env",
    )
    .unwrap();
    raw.set("overlay=iam").unwrap();
    let p = raw.resolve().expect("params");
    let items = kfp_aws::render::Tree::new(None)
        .render(&p, false)
        .expect("render");
    let mut annotated: Vec<String> = items
        .iter()
        .filter(|r| {
            r.obj["kind"] == "ServiceAccount"
                && !r.obj["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].is_null()
        })
        .map(|r| r.obj["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    annotated.sort();
    let mut checked: Vec<String> = kfp_aws::validate::aws::S3_SERVICE_ACCOUNTS
        .iter()
        .map(|s| s.to_string())
        .collect();
    checked.sort();
    assert_eq!(annotated, checked);
}

#[test]
fn validate_needs_your_parameters() {
    let out = Command::new(env!("CARGO_BIN_EXE_kfp-aws"))
        .args(["validate", "--overlay", "iam"])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run kfp-aws");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("validate needs your parameters: --params FILE"));
    assert!(out.stdout.is_empty());
}
