//! IAM policy evaluation for the pre-deployment checks of Kubeflow Pipelines
//! on AWS.
//!
//! Before deploying, kfp-aws checks that the IAM role the KFP pods use has
//! the S3 permissions KFP needs ([`missing_s3_permissions`]) and that the
//! role's trust policy lets the pods' Kubernetes service accounts assume it
//! through the cluster's OIDC provider ([`check_web_identity_trust`]).
//! Both are built on a small, self-contained evaluator of IAM policy
//! documents ([`parse_policy`], [`evaluate`], [`evaluate_trust`]).
//!
//! The evaluator follows the AWS IAM documentation (policy evaluation
//! logic, condition operators, wildcards, policy variables) for the subset
//! of the language it implements, and is conservative everywhere else:
//! whatever it cannot evaluate (an unsupported condition operator, a policy
//! variable with no value in the request context, ...) never makes a
//! statement match. Such a statement is reported in
//! [`Evaluation::warnings`], naming the statement by its `Sid` or index.
//!
//! Rules implemented:
//!
//! * an explicit `Deny` wins over any `Allow`; without a matching `Allow`
//!   the request is implicitly denied;
//! * `Action`/`NotAction` are matched case-insensitively, with `*` and `?`;
//! * `Resource`/`NotResource` are matched case-sensitively, with `*` and
//!   `?` inside an ARN segment; a `*` that ends a segment (followed by `:` or
//!   at the end of the pattern) may also match across `:`;
//! * `Principal`/`NotPrincipal` (trust policies): `"*"`, `{"AWS": ...}`,
//!   `{"Federated": ...}`, `{"Service": ...}`; `{"AWS": "*"}` is the same as
//!   `"*"`; an account id or `arn:<partition>:iam::<account>:root` matches
//!   every IAM/STS principal of that account;
//! * condition operators `StringEquals`, `StringNotEquals`,
//!   `StringEqualsIgnoreCase`, `StringNotEqualsIgnoreCase`, `StringLike`,
//!   `StringNotLike`, `ArnEquals`, `ArnLike`, `ArnNotEquals`, `ArnNotLike`,
//!   `Bool`, `Null`, with the `ForAnyValue:`/`ForAllValues:` qualifiers and
//!   the `IfExists` suffix; operators in one block and keys in one operator
//!   are ANDed, values of one key are ORed; condition keys are
//!   case-insensitive;
//! * a condition key missing from the request context makes a condition
//!   false, except: `...IfExists` (true), `Null` (tests presence),
//!   negated operators such as `StringNotEquals` (true, as the AWS
//!   documentation states) and `ForAllValues:` (true, as documented);
//! * policy variables (`${aws:username}`, `${key, 'default'}`, `${*}`,
//!   `${?}`, `${$}`) in `Resource`/`NotResource` and in string/ARN condition
//!   values, only with `"Version": "2012-10-17"`; a substituted value is
//!   matched literally (its `*` and `?` are not wildcards).

use serde_json::{Map, Value};

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// A parsed policy document (identity or trust policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    version: PolicyVersion,
    statements: Vec<Statement>,
}

impl Policy {
    /// The policy language version: `"2012-10-17"` or `"2008-10-17"` (the
    /// default when the document has no `Version`).
    pub fn version(&self) -> &'static str {
        match self.version {
            PolicyVersion::V2008 => "2008-10-17",
            PolicyVersion::V2012 => "2012-10-17",
        }
    }

    /// How many statements the document holds.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }
}

impl std::str::FromStr for Policy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_policy(text)
    }
}

/// One request to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The action, e.g. `s3:GetObject` (matched case-insensitively).
    pub action: &'a str,
    /// The resource ARN (matched case-sensitively).
    pub resource: &'a str,
    /// Who makes the request; only trust (resource) policies look at it.
    pub principal: Option<Principal<'a>>,
    /// Condition keys and their values. A key may appear several times: it
    /// then has several values (a multivalued key, for `ForAnyValue:` and
    /// `ForAllValues:`). Keys are compared case-insensitively.
    pub context: &'a [(&'a str, &'a str)],
}

/// The principal making a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal<'a> {
    /// A federated identity provider, e.g.
    /// `arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC`.
    Federated(&'a str),
    /// An AWS account id or IAM/STS principal ARN.
    Aws(&'a str),
    /// A service principal, e.g. `ec2.amazonaws.com`.
    Service(&'a str),
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// At least one statement allows the request and none denies it.
    Allow,
    /// A `Deny` statement matches the request.
    ExplicitDeny,
    /// No statement allows the request.
    ImplicitDeny,
}

/// A decision plus what could not be evaluated on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// Statements that could not be evaluated (unsupported condition
    /// operator, unresolvable policy variable, element not valid for this
    /// kind of policy, ...). Such a statement never matches: it does not
    /// allow, and a `Deny` among them is reported as possibly denying.
    pub warnings: Vec<String>,
}

/// Parses a policy document: JSON, or the URL-encoded JSON that IAM (and
/// moto) return from `GetRolePolicy`, `GetPolicyVersion` and `GetRole`.
///
/// JSON is tried first, then the percent-decoded text (and, if that fails
/// and the text holds a `+`, the form-decoded text where `+` is a space).
pub fn parse_policy(text: &str) -> Result<Policy, String> {
    let value = match serde_json::from_str::<Value>(text) {
        Ok(value) => value,
        Err(json_err) => decode_url_encoded_json(text).map_err(|decode_err| match decode_err {
            None => format!("policy is not valid JSON: {json_err}"),
            Some(why) => {
                format!("policy is not valid JSON ({json_err}) nor URL-encoded JSON ({why})")
            }
        })?,
    };
    policy_from_value(&value)
}

/// Evaluates a set of identity policies (e.g. a role's inline and attached
/// managed policies) for one request. `req.principal` is not used.
pub fn evaluate(policies: &[Policy], req: &Request) -> Evaluation {
    let labelled: Vec<(String, &Policy)> = policies
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("policy[{i}]"), p))
        .collect();
    let outcome = evaluate_set(&labelled, Mode::Identity, &Query::exact(req));
    outcome.into_evaluation()
}

/// Evaluates a trust (resource) policy: besides action, resource and
/// conditions, the statement's `Principal`/`NotPrincipal` must match
/// `req.principal` (a statement without either is reported and ignored).
/// A statement without `Resource` applies to any resource, as trust
/// policies have none.
pub fn evaluate_trust(policy: &Policy, req: &Request) -> Evaluation {
    let labelled = [("trust policy".to_string(), policy)];
    let outcome = evaluate_set(&labelled, Mode::Trust, &Query::exact(req));
    outcome.into_evaluation()
}

/// The S3 permissions KFP needs on `bucket` with key `prefix`:
/// `s3:GetObject`, `s3:PutObject`, `s3:DeleteObject` on every object
/// `arn:<partition>:s3:::<bucket>/<prefix>*`, and `s3:ListBucket`,
/// `s3:GetBucketLocation` on `arn:<partition>:s3:::<bucket>`.
///
/// Returns the actions that are NOT allowed (empty = all good) and the
/// warnings (each prefixed with the action and resource it concerns; an
/// explicit deny is explained there too).
///
/// The object actions must be allowed on the whole prefix: an `Allow` counts
/// only if its resource pattern covers every key under the prefix, and a
/// `Deny` counts as soon as it may apply to some key under it. The requests
/// carry `aws:SecureTransport = true` (KFP talks to S3 over HTTPS) and, for
/// `s3:ListBucket` with a non-empty prefix, `s3:prefix = <prefix>`.
pub fn missing_s3_permissions(
    policies: &[Policy],
    partition: &str,
    bucket: &str,
    prefix: &str,
) -> (Vec<String>, Vec<String>) {
    let bucket_arn = format!("arn:{partition}:s3:::{bucket}");
    let objects = format!("{bucket_arn}/{prefix}");
    let objects_shown = format!("{objects}*");
    let plain_ctx: [(&str, &str); 1] = [("aws:SecureTransport", "true")];
    let list_ctx: [(&str, &str); 2] = [("aws:SecureTransport", "true"), ("s3:prefix", prefix)];
    let list_ctx: &[(&str, &str)] = if prefix.is_empty() {
        &plain_ctx
    } else {
        &list_ctx
    };

    let checks: [S3Check; 5] = [
        (
            "s3:GetObject",
            ResourceQuery::Prefix(&objects),
            &objects_shown,
            &plain_ctx,
        ),
        (
            "s3:PutObject",
            ResourceQuery::Prefix(&objects),
            &objects_shown,
            &plain_ctx,
        ),
        (
            "s3:DeleteObject",
            ResourceQuery::Prefix(&objects),
            &objects_shown,
            &plain_ctx,
        ),
        (
            "s3:ListBucket",
            ResourceQuery::Exact(&bucket_arn),
            &bucket_arn,
            list_ctx,
        ),
        (
            "s3:GetBucketLocation",
            ResourceQuery::Exact(&bucket_arn),
            &bucket_arn,
            &plain_ctx,
        ),
    ];

    let labelled: Vec<(String, &Policy)> = policies
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("policy[{i}]"), p))
        .collect();
    let mut missing = Vec::new();
    let mut warnings = Vec::new();
    for (action, resource, shown, context) in checks {
        let query = Query {
            action,
            resource,
            principal: None,
            context,
        };
        let outcome = evaluate_set(&labelled, Mode::Identity, &query);
        if outcome.decision != Decision::Allow {
            missing.push(action.to_string());
        }
        if outcome.decision == Decision::ExplicitDeny {
            warnings.push(format!(
                "{action} on {shown}: explicitly denied by {}",
                outcome.denied_by.join(", ")
            ));
        }
        for w in outcome.warnings {
            warnings.push(format!("{action} on {shown}: {w}"));
        }
    }
    (missing, warnings)
}

/// One permission `missing_s3_permissions` checks: action, resources,
/// resources as shown in messages, request context.
type S3Check<'a> = (
    &'a str,
    ResourceQuery<'a>,
    &'a str,
    &'a [(&'a str, &'a str)],
);

/// Does this trust policy let the service account `namespace`/
/// `service_account` assume the role via web identity (IRSA)?
///
/// Evaluates `sts:AssumeRoleWithWebIdentity` for the federated principal
/// `arn:<partition>:iam::<account>:oidc-provider/<provider>` with the
/// context `<provider>:aud = sts.amazonaws.com` and
/// `<provider>:sub = system:serviceaccount:<namespace>:<service_account>`
/// (so `StringEquals` and `StringLike` wildcards both work). A leading
/// `https://` on `provider` is ignored.
///
/// `Ok(warnings)` when allowed; the warnings include statements that could
/// not be evaluated and a trust policy that does not restrict the audience
/// or the namespace. `Err(reason)` otherwise, one line naming what is wrong:
/// explicit deny, action missing, wrong provider, wrong audience, sub does
/// not match namespace/sa, or a condition that cannot be evaluated.
pub fn check_web_identity_trust(
    trust: &Policy,
    partition: &str,
    account: &str,
    provider: &str,
    namespace: &str,
    service_account: &str,
) -> Result<Vec<String>, String> {
    let provider = provider.trim();
    let provider = provider.strip_prefix("https://").unwrap_or(provider);
    let provider = provider.trim_end_matches('/');
    let provider_arn = format!("arn:{partition}:iam::{account}:oidc-provider/{provider}");
    let aud_key = format!("{provider}:aud");
    let sub_key = format!("{provider}:sub");
    let sub = format!("system:serviceaccount:{namespace}:{service_account}");
    let labelled = [("trust policy".to_string(), trust)];

    let run = |aud: &str, sub: &str| -> Outcome {
        let context = [(aud_key.as_str(), aud), (sub_key.as_str(), sub)];
        let query = Query {
            action: WEB_IDENTITY_ACTION,
            resource: ResourceQuery::Exact("*"),
            principal: Some(Principal::Federated(&provider_arn)),
            context: &context,
        };
        evaluate_set(&labelled, Mode::Trust, &query)
    };

    let outcome = run(STS_AUDIENCE, &sub);
    match outcome.decision {
        Decision::Allow => {
            let mut warnings = outcome.warnings;
            let other_namespace = format!("not-{namespace}");
            let other_sub = format!("system:serviceaccount:{other_namespace}:{service_account}");
            if run(STS_AUDIENCE, &other_sub).decision == Decision::Allow {
                warnings.push(format!(
                    "trust policy does not restrict {sub_key} to namespace {namespace}: \
                     service accounts of other namespaces (e.g. {other_sub}) can assume this role"
                ));
            }
            if run("kfp-aws-probe-audience", &sub).decision == Decision::Allow {
                warnings.push(format!(
                    "trust policy does not require {aud_key} = {STS_AUDIENCE}"
                ));
            }
            Ok(warnings)
        }
        Decision::ExplicitDeny => Err(format!(
            "explicit deny: {} denies {WEB_IDENTITY_ACTION} for {sub} via {provider_arn}",
            outcome.denied_by.join(", ")
        )),
        Decision::ImplicitDeny => {
            let context = [
                (aud_key.as_str(), STS_AUDIENCE),
                (sub_key.as_str(), sub.as_str()),
            ];
            let query = Query {
                action: WEB_IDENTITY_ACTION,
                resource: ResourceQuery::Exact("*"),
                principal: Some(Principal::Federated(&provider_arn)),
                context: &context,
            };
            Err(diagnose_web_identity(
                trust,
                &query,
                provider,
                &provider_arn,
                &sub,
            ))
        }
    }
}

// ---------------------------------------------------------------------------
// Policy model and parsing
// ---------------------------------------------------------------------------

const WEB_IDENTITY_ACTION: &str = "sts:AssumeRoleWithWebIdentity";
const STS_AUDIENCE: &str = "sts.amazonaws.com";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PolicyVersion {
    V2008,
    V2012,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

impl Effect {
    fn name(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: a list of patterns,
/// `negated` for the `Not...` form.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PatternList {
    negated: bool,
    items: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrincipalKind {
    Aws,
    Federated,
    Service,
    CanonicalUser,
}

impl PrincipalKind {
    fn name(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::Service => "Service",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PrincipalSet {
    /// `"Principal": "*"`.
    Any,
    /// `"Principal": {"AWS": [...], "Federated": ..., ...}`.
    Listed(Vec<(PrincipalKind, String)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PrincipalElement {
    negated: bool,
    set: PrincipalSet,
}

/// One `"Operator": {"key": values}` pair of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ConditionEntry {
    operator: String,
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    index: usize,
    sid: Option<String>,
    effect: Effect,
    action: PatternList,
    resource: Option<PatternList>,
    principal: Option<PrincipalElement>,
    conditions: Vec<ConditionEntry>,
}

impl Statement {
    fn label(&self) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => format!("statement[{}] {sid:?}", self.index),
            _ => format!("statement[{}]", self.index),
        }
    }
}

/// `Err(None)`: the text does not look URL-encoded at all;
/// `Err(Some(why))`: it does, but decoding or parsing failed.
fn decode_url_encoded_json(text: &str) -> Result<Value, Option<String>> {
    if !text.contains('%') && !text.contains('+') {
        return Err(None);
    }
    let first_error = match percent_decode(text) {
        Ok(decoded) => match serde_json::from_str::<Value>(&decoded) {
            Ok(value) => return Ok(value),
            Err(e) => format!("decoded text: {e}"),
        },
        Err(e) => e,
    };
    if text.contains('+') {
        if let Ok(decoded) = percent_decode(&text.replace('+', " ")) {
            if let Ok(value) = serde_json::from_str::<Value>(&decoded) {
                return Ok(value);
            }
        }
    }
    Err(Some(first_error))
}

/// Decodes `%XX` escapes; the result must be UTF-8.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| hex_value(*c));
            let lo = bytes.get(i + 2).and_then(|c| hex_value(*c));
            match (hi, lo) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 3;
                }
                _ => return Err(format!("bad percent escape at byte {i}")),
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "decoded bytes are not UTF-8".to_string())
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn policy_from_value(value: &Value) -> Result<Policy, String> {
    let obj = value.as_object().ok_or_else(|| {
        format!(
            "policy document must be a JSON object, not {}",
            json_type(value)
        )
    })?;
    for key in obj.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            return Err(format!(
                "unknown top-level policy element {key:?} (expected Version, Id, Statement)"
            ));
        }
    }
    let version = match obj.get("Version") {
        None => PolicyVersion::V2008,
        Some(Value::String(s)) if s == "2012-10-17" => PolicyVersion::V2012,
        Some(Value::String(s)) if s == "2008-10-17" => PolicyVersion::V2008,
        Some(Value::String(s)) => {
            return Err(format!(
                "unknown policy Version {s:?} (expected \"2012-10-17\" or \"2008-10-17\")"
            ))
        }
        Some(other) => {
            return Err(format!(
                "Version must be a string, not {}",
                json_type(other)
            ))
        }
    };
    if let Some(id) = obj.get("Id") {
        if !id.is_string() {
            return Err(format!("Id must be a string, not {}", json_type(id)));
        }
    }
    let raw_statements: Vec<&Value> = match obj.get("Statement") {
        None => return Err("policy has no Statement element".to_string()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        Some(other) => {
            return Err(format!(
                "Statement must be an object or a list of objects, not {}",
                json_type(other)
            ))
        }
    };
    let mut statements = Vec::with_capacity(raw_statements.len());
    for (index, raw) in raw_statements.into_iter().enumerate() {
        let stmt_obj = raw.as_object().ok_or_else(|| {
            format!(
                "statement[{index}] must be an object, not {}",
                json_type(raw)
            )
        })?;
        statements.push(parse_statement(index, stmt_obj)?);
    }
    Ok(Policy {
        version,
        statements,
    })
}

const STATEMENT_FIELDS: [&str; 9] = [
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
];

fn parse_statement(index: usize, obj: &Map<String, Value>) -> Result<Statement, String> {
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(format!(
                "statement[{index}]: Sid must be a string, not {}",
                json_type(other)
            ))
        }
    };
    let label = match &sid {
        Some(s) => format!("statement[{index}] {s:?}"),
        None => format!("statement[{index}]"),
    };
    for key in obj.keys() {
        if !STATEMENT_FIELDS.contains(&key.as_str()) {
            return Err(format!(
                "{label}: unknown element {key:?} (expected one of {})",
                STATEMENT_FIELDS.join(", ")
            ));
        }
    }
    let effect = match obj.get("Effect") {
        None => {
            return Err(format!(
                "{label}: missing Effect (must be \"Allow\" or \"Deny\")"
            ))
        }
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(Value::String(s)) => {
            return Err(format!(
                "{label}: unknown Effect {s:?} (must be \"Allow\" or \"Deny\")"
            ))
        }
        Some(other) => {
            return Err(format!(
                "{label}: Effect must be the string \"Allow\" or \"Deny\", not {}",
                json_type(other)
            ))
        }
    };
    let action = parse_pattern_pair(obj, "Action", "NotAction", &label)?
        .ok_or_else(|| format!("{label}: missing Action or NotAction"))?;
    let resource = parse_pattern_pair(obj, "Resource", "NotResource", &label)?;
    let principal = match (obj.get("Principal"), obj.get("NotPrincipal")) {
        (Some(_), Some(_)) => return Err(format!("{label}: has both Principal and NotPrincipal")),
        (Some(v), None) => Some(PrincipalElement {
            negated: false,
            set: parse_principal(v, &label, "Principal")?,
        }),
        (None, Some(v)) => Some(PrincipalElement {
            negated: true,
            set: parse_principal(v, &label, "NotPrincipal")?,
        }),
        (None, None) => None,
    };
    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(v) => parse_condition(v, &label)?,
    };
    Ok(Statement {
        index,
        sid,
        effect,
        action,
        resource,
        principal,
        conditions,
    })
}

fn string_list(v: &Value, what: &str, label: &str) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!(
                    "{label}: {what} entries must be strings, found {}",
                    json_type(other)
                )),
            })
            .collect(),
        other => Err(format!(
            "{label}: {what} must be a string or a list of strings, not {}",
            json_type(other)
        )),
    }
}

fn parse_pattern_pair(
    obj: &Map<String, Value>,
    positive: &str,
    negative: &str,
    label: &str,
) -> Result<Option<PatternList>, String> {
    match (obj.get(positive), obj.get(negative)) {
        (Some(_), Some(_)) => Err(format!("{label}: has both {positive} and {negative}")),
        (Some(v), None) => Ok(Some(PatternList {
            negated: false,
            items: string_list(v, positive, label)?,
        })),
        (None, Some(v)) => Ok(Some(PatternList {
            negated: true,
            items: string_list(v, negative, label)?,
        })),
        (None, None) => Ok(None),
    }
}

fn parse_principal(v: &Value, label: &str, what: &str) -> Result<PrincipalSet, String> {
    match v {
        Value::String(s) if s == "*" => Ok(PrincipalSet::Any),
        Value::String(s) => Err(format!(
            "{label}: {what} string must be \"*\" (found {s:?}); use {{\"AWS\": ...}}, \
             {{\"Federated\": ...}} or {{\"Service\": ...}}"
        )),
        Value::Object(map) => {
            let mut listed = Vec::new();
            for (kind_name, values) in map {
                let kind = match kind_name.as_str() {
                    "AWS" => PrincipalKind::Aws,
                    "Federated" => PrincipalKind::Federated,
                    "Service" => PrincipalKind::Service,
                    "CanonicalUser" => PrincipalKind::CanonicalUser,
                    other => {
                        return Err(format!(
                            "{label}: unknown {what} type {other:?} \
                             (expected AWS, Federated, Service or CanonicalUser)"
                        ))
                    }
                };
                for id in string_list(values, &format!("{what}.{kind_name}"), label)? {
                    listed.push((kind, id));
                }
            }
            Ok(PrincipalSet::Listed(listed))
        }
        other => Err(format!(
            "{label}: {what} must be \"*\" or an object, not {}",
            json_type(other)
        )),
    }
}

fn condition_scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_condition(v: &Value, label: &str) -> Result<Vec<ConditionEntry>, String> {
    let blocks = v
        .as_object()
        .ok_or_else(|| format!("{label}: Condition must be an object, not {}", json_type(v)))?;
    let mut entries = Vec::new();
    for (operator, keys) in blocks {
        let keys = keys.as_object().ok_or_else(|| {
            format!(
                "{label}: Condition operator {operator} must map to an object of keys, not {}",
                json_type(keys)
            )
        })?;
        for (key, raw_values) in keys {
            let bad = || {
                format!(
                    "{label}: Condition {operator} {key}: values must be strings, booleans \
                     or numbers, or a list of them"
                )
            };
            let values = match raw_values {
                Value::Array(items) => items
                    .iter()
                    .map(|item| condition_scalar(item).ok_or_else(bad))
                    .collect::<Result<Vec<_>, _>>()?,
                scalar => vec![condition_scalar(scalar).ok_or_else(bad)?],
            };
            entries.push(ConditionEntry {
                operator: operator.clone(),
                key: key.clone(),
                values,
            });
        }
    }
    Ok(entries)
}

// ---------------------------------------------------------------------------
// Three-valued logic
// ---------------------------------------------------------------------------

/// A match that may be undecidable (`Unknown` carries the reasons).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Unknown(Vec<String>),
}

impl Tri {
    fn from_bool(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }

    fn unknown(reason: String) -> Tri {
        Tri::Unknown(vec![reason])
    }

    fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Unknown(mut a), Tri::Unknown(b)) => {
                merge_reasons(&mut a, b);
                Tri::Unknown(a)
            }
            (Tri::Unknown(a), Tri::Yes) | (Tri::Yes, Tri::Unknown(a)) => Tri::Unknown(a),
            (Tri::Yes, Tri::Yes) => Tri::Yes,
        }
    }

    fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::Unknown(mut a), Tri::Unknown(b)) => {
                merge_reasons(&mut a, b);
                Tri::Unknown(a)
            }
            (Tri::Unknown(a), Tri::No) | (Tri::No, Tri::Unknown(a)) => Tri::Unknown(a),
            (Tri::No, Tri::No) => Tri::No,
        }
    }

    fn negate(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            unknown => unknown,
        }
    }
}

fn merge_reasons(into: &mut Vec<String>, from: Vec<String>) {
    for reason in from {
        if !into.contains(&reason) {
            into.push(reason);
        }
    }
}

fn any_tri<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
    let mut acc = Tri::No;
    for t in items {
        acc = acc.or(t);
        if acc == Tri::Yes {
            return acc;
        }
    }
    acc
}

fn all_tri<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
    let mut acc = Tri::Yes;
    for t in items {
        acc = acc.and(t);
        if acc == Tri::No {
            return acc;
        }
    }
    acc
}

// ---------------------------------------------------------------------------
// Wildcard patterns
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: any single character.
    One,
}

/// A compiled wildcard pattern, matched by simulating its NFA (linear in
/// pattern length times input length; no backtracking blow-up).
#[derive(Debug, Clone)]
struct Glob {
    toks: Vec<Tok>,
    /// Resource-ARN rules: `?` and a `*` in the middle of a segment do not
    /// match `:`; a `*` that ends a segment (followed by `:` or at the end
    /// of the pattern) does.
    arn: bool,
}

impl Glob {
    fn new(toks: Vec<Tok>, arn: bool) -> Glob {
        Glob { toks, arn }
    }

    fn star_crosses_colon(&self, i: usize) -> bool {
        !self.arn || i + 1 == self.toks.len() || self.toks[i + 1] == Tok::Lit(':')
    }

    fn close(&self, states: &mut [bool]) {
        for i in 0..self.toks.len() {
            if states[i] && self.toks[i] == Tok::Star {
                states[i + 1] = true;
            }
        }
    }

    /// The set of pattern positions reachable after reading `input`.
    fn run(&self, input: &str) -> Vec<bool> {
        let n = self.toks.len();
        let mut states = vec![false; n + 1];
        states[0] = true;
        self.close(&mut states);
        for c in input.chars() {
            let mut next = vec![false; n + 1];
            let mut any = false;
            for (i, tok) in self.toks.iter().enumerate() {
                if !states[i] {
                    continue;
                }
                match *tok {
                    Tok::Lit(l) => {
                        if l == c {
                            next[i + 1] = true;
                            any = true;
                        }
                    }
                    Tok::One => {
                        if !(self.arn && c == ':') {
                            next[i + 1] = true;
                            any = true;
                        }
                    }
                    Tok::Star => {
                        if c != ':' || self.star_crosses_colon(i) {
                            next[i] = true;
                            any = true;
                        }
                    }
                }
            }
            if !any {
                return next;
            }
            self.close(&mut next);
            states = next;
        }
        states
    }

    fn matches(&self, input: &str) -> bool {
        self.run(input)[self.toks.len()]
    }

    /// Does the pattern match every string that starts with `prefix`?
    /// (Exact for one pattern, conservative for a union of patterns.)
    fn covers_prefix(&self, prefix: &str) -> bool {
        let states = self.run(prefix);
        (0..self.toks.len()).any(|i| states[i] && self.toks[i..].iter().all(|t| *t == Tok::Star))
    }

    /// Does the pattern match at least one string that starts with `prefix`?
    fn intersects_prefix(&self, prefix: &str) -> bool {
        self.run(prefix).iter().any(|s| *s)
    }
}

#[derive(Debug, Clone, Copy)]
struct CompileOptions<'c> {
    /// `*` and `?` are wildcards (otherwise literal).
    wildcards: bool,
    /// Lower-case literal characters (for case-insensitive matching).
    lowercase: bool,
    /// Substitute policy variables from this context (2012-10-17 only).
    variables: Option<&'c [(&'c str, &'c str)]>,
}

fn push_literal(toks: &mut Vec<Tok>, c: char, lowercase: bool) {
    if lowercase {
        toks.extend(c.to_lowercase().map(Tok::Lit));
    } else {
        toks.push(Tok::Lit(c));
    }
}

/// Compiles a pattern; `Err` names a policy variable that cannot be resolved.
fn compile(text: &str, opts: CompileOptions) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let (Some(ctx), true) = (opts.variables, rest.starts_with("${")) {
            if let Some(end) = rest.find('}') {
                let inner = &rest[2..end];
                let value = resolve_variable(inner, ctx)?;
                for vc in value.chars() {
                    push_literal(&mut toks, vc, opts.lowercase);
                }
                rest = &rest[end + 1..];
                continue;
            }
        }
        match c {
            '*' if opts.wildcards => toks.push(Tok::Star),
            '?' if opts.wildcards => toks.push(Tok::One),
            other => push_literal(&mut toks, other, opts.lowercase),
        }
        rest = &rest[c.len_utf8()..];
    }
    Ok(toks)
}

/// Resolves `name` or `name, 'default'` (the text between `${` and `}`).
fn resolve_variable(inner: &str, ctx: &[(&str, &str)]) -> Result<String, String> {
    let (name, default) = match inner.split_once(',') {
        Some((name, rest)) => {
            let rest = rest.trim();
            let default = rest
                .strip_prefix('\'')
                .and_then(|r| r.strip_suffix('\''))
                .map(str::to_string);
            if default.is_none() {
                return Err(format!(
                    "policy variable ${{{inner}}} has a malformed default value"
                ));
            }
            (name.trim(), default)
        }
        None => (inner.trim(), None),
    };
    match name {
        "*" => return Ok("*".to_string()),
        "?" => return Ok("?".to_string()),
        "$" => return Ok("$".to_string()),
        _ => {}
    }
    let values = context_values(ctx, name);
    match (values.as_slice(), default) {
        ([single], _) => Ok((*single).to_string()),
        ([], Some(default)) => Ok(default),
        ([], None) => Err(format!(
            "policy variable ${{{name}}} has no value in the request context"
        )),
        (_, _) => Err(format!(
            "policy variable ${{{name}}} refers to a multivalued context key"
        )),
    }
}

fn keys_equal(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || a.to_lowercase() == b.to_lowercase()
}

fn context_values<'c>(ctx: &[(&'c str, &'c str)], key: &str) -> Vec<&'c str> {
    ctx.iter()
        .filter(|(k, _)| keys_equal(k, key))
        .map(|(_, v)| *v)
        .collect()
}

fn action_matches(list: &PatternList, action: &str) -> bool {
    let action = action.to_lowercase();
    let opts = CompileOptions {
        wildcards: true,
        lowercase: true,
        variables: None,
    };
    let hit = list
        .items
        .iter()
        .any(|pattern| match compile(pattern, opts) {
            Ok(toks) => Glob::new(toks, false).matches(&action),
            Err(_) => false,
        });
    hit != list.negated
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Identity,
    Trust,
}

/// The resource(s) a query asks about.
#[derive(Debug, Clone, Copy)]
enum ResourceQuery<'a> {
    /// One concrete resource.
    Exact(&'a str),
    /// Every resource whose ARN starts with this string.
    Prefix(&'a str),
}

#[derive(Debug, Clone, Copy)]
struct Query<'a> {
    action: &'a str,
    resource: ResourceQuery<'a>,
    principal: Option<Principal<'a>>,
    context: &'a [(&'a str, &'a str)],
}

impl<'a> Query<'a> {
    fn exact(req: &Request<'a>) -> Query<'a> {
        Query {
            action: req.action,
            resource: ResourceQuery::Exact(req.resource),
            principal: req.principal,
            context: req.context,
        }
    }
}

struct Outcome {
    decision: Decision,
    warnings: Vec<String>,
    denied_by: Vec<String>,
}

impl Outcome {
    fn into_evaluation(self) -> Evaluation {
        Evaluation {
            decision: self.decision,
            warnings: self.warnings,
        }
    }
}

fn evaluate_set(policies: &[(String, &Policy)], mode: Mode, query: &Query) -> Outcome {
    let mut allowed = false;
    let mut denied_by = Vec::new();
    let mut warnings = Vec::new();
    for (policy_label, policy) in policies {
        for stmt in &policy.statements {
            match statement_applies(policy, stmt, mode, query) {
                Tri::No => {}
                Tri::Yes => match stmt.effect {
                    Effect::Allow => allowed = true,
                    Effect::Deny => denied_by.push(format!("{policy_label} {}", stmt.label())),
                },
                Tri::Unknown(reasons) => {
                    let consequence = match stmt.effect {
                        Effect::Allow => "treated as not matching",
                        Effect::Deny => {
                            "treated as not matching, but it may deny the request in AWS"
                        }
                    };
                    warnings.push(format!(
                        "{policy_label} {}: cannot evaluate: {}; this {} statement is {consequence}",
                        stmt.label(),
                        reasons.join("; "),
                        stmt.effect.name()
                    ));
                }
            }
        }
    }
    let decision = if !denied_by.is_empty() {
        Decision::ExplicitDeny
    } else if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    };
    Outcome {
        decision,
        warnings,
        denied_by,
    }
}

fn statement_applies(policy: &Policy, stmt: &Statement, mode: Mode, query: &Query) -> Tri {
    if !action_matches(&stmt.action, query.action) {
        return Tri::No;
    }
    let principal = principal_tri(stmt, mode, query.principal);
    if principal == Tri::No {
        return Tri::No;
    }
    // An Allow must cover every resource of the query; a Deny counts as soon
    // as it may apply to one of them (the same thing for an exact resource).
    let need_full = stmt.effect == Effect::Allow;
    let resource = resource_tri(policy.version, stmt, mode, query, need_full);
    if resource == Tri::No {
        return Tri::No;
    }
    let conditions = conditions_tri(policy.version, &stmt.conditions, query.context);
    principal.and(resource).and(conditions)
}

fn principal_tri(stmt: &Statement, mode: Mode, principal: Option<Principal>) -> Tri {
    match (mode, &stmt.principal) {
        (Mode::Identity, None) => Tri::Yes,
        (Mode::Identity, Some(_)) => Tri::unknown(
            "Principal/NotPrincipal is not allowed in an identity-based policy".to_string(),
        ),
        (Mode::Trust, None) => Tri::unknown(
            "statement has neither Principal nor NotPrincipal, which a trust policy requires"
                .to_string(),
        ),
        (Mode::Trust, Some(element)) => {
            Tri::from_bool(principal_set_matches(&element.set, principal) != element.negated)
        }
    }
}

fn principal_set_matches(set: &PrincipalSet, principal: Option<Principal>) -> bool {
    match set {
        PrincipalSet::Any => true,
        PrincipalSet::Listed(entries) => entries
            .iter()
            .any(|(kind, id)| principal_entry_matches(*kind, id, principal)),
    }
}

fn principal_entry_matches(kind: PrincipalKind, id: &str, principal: Option<Principal>) -> bool {
    // {"AWS": "*"} is documented as equivalent to "Principal": "*".
    if kind == PrincipalKind::Aws && id == "*" {
        return true;
    }
    match (kind, principal) {
        (PrincipalKind::Aws, Some(Principal::Aws(arn))) => aws_principal_matches(id, arn),
        (PrincipalKind::Federated, Some(Principal::Federated(provider))) => {
            id == "*" || id == provider
        }
        (PrincipalKind::Service, Some(Principal::Service(service))) => {
            id == "*" || id.eq_ignore_ascii_case(service)
        }
        _ => false,
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `(partition, account)` of an IAM or STS ARN.
fn iam_arn_account(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam" | "sts", "", account, _] => Some((partition, account)),
        _ => None,
    }
}

/// Policy principal `id` against a request's AWS principal. An account id,
/// or the account's root ARN, stands for every principal of that account.
fn aws_principal_matches(id: &str, arn: &str) -> bool {
    if id == arn {
        return true;
    }
    if is_account_id(id) {
        return arn == id || iam_arn_account(arn).is_some_and(|(_, account)| account == id);
    }
    if let Some((partition, account)) = iam_arn_account(id) {
        if id.ends_with(":root") && id == format!("arn:{partition}:iam::{account}:root") {
            return arn == account
                || iam_arn_account(arn).is_some_and(|(p, a)| p == partition && a == account);
        }
    }
    false
}

fn resource_pattern_tri(pattern: &str, version: PolicyVersion, query: &Query, full: bool) -> Tri {
    let opts = CompileOptions {
        wildcards: true,
        lowercase: false,
        variables: (version == PolicyVersion::V2012).then_some(query.context),
    };
    match compile(pattern, opts) {
        Err(why) => Tri::unknown(format!("Resource {pattern:?}: {why}")),
        Ok(toks) => {
            let glob = Glob::new(toks, true);
            Tri::from_bool(match query.resource {
                ResourceQuery::Exact(resource) => glob.matches(resource),
                ResourceQuery::Prefix(prefix) if full => glob.covers_prefix(prefix),
                ResourceQuery::Prefix(prefix) => glob.intersects_prefix(prefix),
            })
        }
    }
}

fn resource_tri(
    version: PolicyVersion,
    stmt: &Statement,
    mode: Mode,
    query: &Query,
    need_full: bool,
) -> Tri {
    let Some(list) = &stmt.resource else {
        return match mode {
            // Trust policies have no Resource: the role itself is implied.
            Mode::Trust => Tri::Yes,
            Mode::Identity => Tri::unknown(
                "statement has neither Resource nor NotResource, which an identity-based \
                 policy requires"
                    .to_string(),
            ),
        };
    };
    if list.negated {
        // Applies to the whole query iff no pattern touches it; applies to
        // part of it unless one pattern covers all of it.
        any_tri(
            list.items
                .iter()
                .map(|p| resource_pattern_tri(p, version, query, !need_full)),
        )
        .negate()
    } else {
        any_tri(
            list.items
                .iter()
                .map(|p| resource_pattern_tri(p, version, query, need_full)),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Bool,
    Null,
}

impl BaseOperator {
    fn negated(self) -> bool {
        matches!(
            self,
            BaseOperator::StringNotEquals
                | BaseOperator::StringNotEqualsIgnoreCase
                | BaseOperator::StringNotLike
                | BaseOperator::ArnNotEquals
                | BaseOperator::ArnNotLike
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Operator {
    set: Option<SetQualifier>,
    base: BaseOperator,
    if_exists: bool,
}

/// Parses an operator name (case-insensitively); `None` if unsupported.
fn parse_operator(raw: &str) -> Option<Operator> {
    let lower = raw.to_ascii_lowercase();
    let (set, rest) = if let Some(rest) = lower.strip_prefix("foranyvalue:") {
        (Some(SetQualifier::ForAnyValue), rest)
    } else if let Some(rest) = lower.strip_prefix("forallvalues:") {
        (Some(SetQualifier::ForAllValues), rest)
    } else {
        (None, lower.as_str())
    };
    let (if_exists, name) = match rest.strip_suffix("ifexists") {
        Some(name) => (true, name),
        None => (false, rest),
    };
    let base = match name {
        "stringequals" => BaseOperator::StringEquals,
        "stringnotequals" => BaseOperator::StringNotEquals,
        "stringequalsignorecase" => BaseOperator::StringEqualsIgnoreCase,
        "stringnotequalsignorecase" => BaseOperator::StringNotEqualsIgnoreCase,
        "stringlike" => BaseOperator::StringLike,
        "stringnotlike" => BaseOperator::StringNotLike,
        "arnequals" => BaseOperator::ArnEquals,
        "arnlike" => BaseOperator::ArnLike,
        "arnnotequals" => BaseOperator::ArnNotEquals,
        "arnnotlike" => BaseOperator::ArnNotLike,
        "bool" => BaseOperator::Bool,
        "null" => BaseOperator::Null,
        _ => return None,
    };
    // IfExists is documented for every operator except Null; a set qualifier
    // on Null has no meaning either.
    if base == BaseOperator::Null && (if_exists || set.is_some()) {
        return None;
    }
    Some(Operator {
        set,
        base,
        if_exists,
    })
}

/// A compiled policy value of a condition.
enum ValueMatcher {
    Plain {
        glob: Glob,
        lowercase: bool,
    },
    /// `parts`: the six colon-separated ARN components, when the policy value
    /// has all six (each matched on its own, as documented for ArnLike).
    Arn {
        whole: Glob,
        parts: Option<Vec<Glob>>,
    },
}

impl ValueMatcher {
    fn matches(&self, value: &str) -> bool {
        match self {
            ValueMatcher::Plain {
                glob,
                lowercase: false,
            } => glob.matches(value),
            ValueMatcher::Plain {
                glob,
                lowercase: true,
            } => glob.matches(&value.to_lowercase()),
            ValueMatcher::Arn { whole, parts } => {
                let value_parts: Vec<&str> = value.splitn(6, ':').collect();
                match parts {
                    Some(parts) if value_parts.len() == 6 => parts
                        .iter()
                        .zip(value_parts.iter())
                        .all(|(glob, part)| glob.matches(part)),
                    _ => whole.matches(value),
                }
            }
        }
    }
}

fn split_arn_tokens(toks: &[Tok]) -> Option<Vec<Glob>> {
    let mut parts: Vec<Vec<Tok>> = vec![Vec::new()];
    for tok in toks {
        match (tok, parts.len()) {
            (Tok::Lit(':'), n) if n < 6 => parts.push(Vec::new()),
            (tok, _) => {
                if let Some(last) = parts.last_mut() {
                    last.push(*tok);
                }
            }
        }
    }
    (parts.len() == 6).then(|| parts.into_iter().map(|p| Glob::new(p, false)).collect())
}

fn compile_condition_value(
    base: BaseOperator,
    value: &str,
    variables: Option<&[(&str, &str)]>,
) -> Result<ValueMatcher, String> {
    use BaseOperator as B;
    let (wildcards, lowercase, vars) = match base {
        B::StringEquals | B::StringNotEquals => (false, false, variables),
        B::StringEqualsIgnoreCase | B::StringNotEqualsIgnoreCase => (false, true, variables),
        B::StringLike | B::StringNotLike => (true, false, variables),
        B::ArnEquals | B::ArnLike | B::ArnNotEquals | B::ArnNotLike => {
            let toks = compile(
                value,
                CompileOptions {
                    wildcards: true,
                    lowercase: false,
                    variables,
                },
            )?;
            let parts = split_arn_tokens(&toks);
            return Ok(ValueMatcher::Arn {
                whole: Glob::new(toks, true),
                parts,
            });
        }
        B::Bool | B::Null => (false, true, None),
    };
    let toks = compile(
        value,
        CompileOptions {
            wildcards,
            lowercase,
            variables: vars,
        },
    )?;
    Ok(ValueMatcher::Plain {
        glob: Glob::new(toks, false),
        lowercase,
    })
}

fn conditions_tri(version: PolicyVersion, entries: &[ConditionEntry], ctx: &[(&str, &str)]) -> Tri {
    all_tri(entries.iter().map(|e| condition_entry_tri(version, e, ctx)))
}

fn condition_entry_tri(
    version: PolicyVersion,
    entry: &ConditionEntry,
    ctx: &[(&str, &str)],
) -> Tri {
    let Some(op) = parse_operator(&entry.operator) else {
        return Tri::unknown(format!(
            "unsupported condition operator {} (on key {})",
            entry.operator, entry.key
        ));
    };
    let present = context_values(ctx, &entry.key);

    if op.base == BaseOperator::Null {
        return any_tri(
            entry
                .values
                .iter()
                .map(|v| match v.to_ascii_lowercase().as_str() {
                    "true" => Tri::from_bool(present.is_empty()),
                    "false" => Tri::from_bool(!present.is_empty()),
                    _ => Tri::unknown(format!(
                        "Null condition on {} has value {v:?}, expected true or false",
                        entry.key
                    )),
                }),
        );
    }

    if present.is_empty() {
        if op.if_exists {
            return Tri::Yes;
        }
        return match op.set {
            Some(SetQualifier::ForAnyValue) => Tri::No,
            Some(SetQualifier::ForAllValues) => Tri::Yes,
            None => Tri::from_bool(op.base.negated()),
        };
    }

    let variables = (version == PolicyVersion::V2012).then_some(ctx);
    let matchers: Vec<Result<ValueMatcher, String>> = entry
        .values
        .iter()
        .map(|v| compile_condition_value(op.base, v, variables))
        .collect();
    let positive = |value: &str| -> Tri {
        any_tri(matchers.iter().map(|m| match m {
            Ok(m) => Tri::from_bool(m.matches(value)),
            Err(why) => Tri::unknown(format!("{} {}: {why}", entry.operator, entry.key)),
        }))
    };
    let per_value = |value: &str| -> Tri {
        if op.base.negated() {
            positive(value).negate()
        } else {
            positive(value)
        }
    };
    match op.set {
        Some(SetQualifier::ForAnyValue) => any_tri(present.iter().map(|v| per_value(v))),
        Some(SetQualifier::ForAllValues) => all_tri(present.iter().map(|v| per_value(v))),
        None => {
            // Without a set qualifier a negated operator holds when no
            // request value matches any policy value.
            let any = any_tri(present.iter().map(|v| positive(v)));
            if op.base.negated() {
                any.negate()
            } else {
                any
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Web-identity trust diagnostics
// ---------------------------------------------------------------------------

fn show_values(values: &[String]) -> String {
    match values {
        [single] => format!("{single:?}"),
        many => format!("{many:?}"),
    }
}

fn diagnose_web_identity(
    trust: &Policy,
    query: &Query,
    provider: &str,
    provider_arn: &str,
    sub: &str,
) -> String {
    let granting: Vec<&Statement> = trust
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow && action_matches(&s.action, WEB_IDENTITY_ACTION))
        .collect();
    if granting.is_empty() {
        return format!("action missing: no Allow statement grants {WEB_IDENTITY_ACTION}");
    }
    let for_provider: Vec<&Statement> = granting
        .iter()
        .copied()
        .filter(|s| principal_tri(s, Mode::Trust, query.principal) == Tri::Yes)
        .collect();
    if for_provider.is_empty() {
        let mut principals: Vec<String> = Vec::new();
        for stmt in &granting {
            match &stmt.principal {
                Some(PrincipalElement {
                    negated: false,
                    set: PrincipalSet::Listed(entries),
                }) => {
                    for (kind, id) in entries {
                        let shown = format!("{}:{id}", kind.name());
                        if !principals.contains(&shown) {
                            principals.push(shown);
                        }
                    }
                }
                Some(PrincipalElement { negated: true, .. }) => {
                    principals.push("NotPrincipal (excluding this provider)".to_string())
                }
                Some(PrincipalElement {
                    set: PrincipalSet::Any,
                    ..
                }) => {}
                None => principals.push("a statement without Principal".to_string()),
            }
        }
        let found = if principals.is_empty() {
            "no principal".to_string()
        } else {
            principals.join(", ")
        };
        return format!(
            "wrong provider: {WEB_IDENTITY_ACTION} is allowed for {found}, \
             not for Federated:{provider_arn}"
        );
    }

    let aud_key = format!("{provider}:aud").to_lowercase();
    let sub_key = format!("{provider}:sub").to_lowercase();
    let mut best: Option<Vec<String>> = None;
    for stmt in for_provider {
        let mut problems = Vec::new();
        if let Tri::No | Tri::Unknown(_) =
            resource_tri(trust.version, stmt, Mode::Trust, query, true)
        {
            problems.push(format!(
                "{} has a Resource element that does not match",
                stmt.label()
            ));
        }
        for entry in &stmt.conditions {
            let result = condition_entry_tri(trust.version, entry, query.context);
            let key = entry.key.to_lowercase();
            let values = show_values(&entry.values);
            let problem = match result {
                Tri::Yes => continue,
                Tri::Unknown(reasons) => format!(
                    "condition cannot be evaluated ({}) in {}",
                    reasons.join("; "),
                    stmt.label()
                ),
                Tri::No if key == aud_key => format!(
                    "wrong audience: {} {} requires {values}, but the pods' tokens carry \
                     aud {STS_AUDIENCE}",
                    entry.operator, entry.key
                ),
                Tri::No if key == sub_key => format!(
                    "sub does not match namespace/sa: {} {} requires {values}, but the service \
                     account's sub is {sub}",
                    entry.operator, entry.key
                ),
                Tri::No
                    if key.ends_with(":aud") || key.ends_with(":sub") || key.ends_with(":amr") =>
                {
                    format!(
                        "wrong provider in condition: {} {} names another OIDC provider than {provider}",
                        entry.operator, entry.key
                    )
                }
                Tri::No => format!(
                    "condition {} {} = {values} is not satisfied by a web-identity request \
                     from {sub}",
                    entry.operator, entry.key
                ),
            };
            problems.push(problem);
        }
        let better = match &best {
            None => true,
            Some(b) => problems.len() < b.len(),
        };
        if better {
            best = Some(problems);
        }
    }
    match best {
        Some(problems) if !problems.is_empty() => problems.join("; "),
        _ => format!("the trust policy does not allow {WEB_IDENTITY_ACTION} for {sub}"),
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> Policy {
        match parse_policy(text) {
            Ok(p) => p,
            Err(e) => panic!("policy did not parse: {e}\n{text}"),
        }
    }

    fn req<'a>(
        action: &'a str,
        resource: &'a str,
        context: &'a [(&'a str, &'a str)],
    ) -> Request<'a> {
        Request {
            action,
            resource,
            principal: None,
            context,
        }
    }

    fn decide(p: &Policy, action: &str, resource: &str) -> Decision {
        evaluate(std::slice::from_ref(p), &req(action, resource, &[])).decision
    }

    fn decide_ctx(p: &Policy, action: &str, resource: &str, ctx: &[(&str, &str)]) -> Decision {
        evaluate(std::slice::from_ref(p), &req(action, resource, ctx)).decision
    }

    /// An Allow of s3:GetObject on everything, under `condition`.
    fn cond_policy(condition: &str) -> Policy {
        policy(&format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Sid":"C","Effect":"Allow",
               "Action":"s3:GetObject","Resource":"*","Condition":{condition}}}}}"#
        ))
    }

    fn cond(condition: &str, ctx: &[(&str, &str)]) -> Decision {
        decide_ctx(
            &cond_policy(condition),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            ctx,
        )
    }

    const OBJ: &str = "arn:aws:s3:::my-bucket/key";

    // ---- parsing ----------------------------------------------------------

    #[test]
    fn parses_single_statement_object_with_string_action() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-bucket/*"}}"#,
        );
        assert_eq!(p.statement_count(), 1);
        assert_eq!(p.version(), "2012-10-17");
        assert_eq!(decide(&p, "s3:GetObject", OBJ), Decision::Allow);
        let via_from_str: Result<Policy, String> =
            r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#.parse();
        assert_eq!(via_from_str.map(|p| p.statement_count()), Ok(1));
    }

    #[test]
    fn parses_statement_list_with_action_and_resource_lists() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::a/*","arn:aws:s3:::my-bucket/*"]},
                {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::my-bucket"}]}"#,
        );
        assert_eq!(p.statement_count(), 2);
        assert_eq!(decide(&p, "s3:PutObject", OBJ), Decision::Allow);
        assert_eq!(
            decide(&p, "s3:ListBucket", "arn:aws:s3:::my-bucket"),
            Decision::Allow
        );
        assert_eq!(decide(&p, "s3:DeleteObject", OBJ), Decision::ImplicitDeny);
    }

    #[test]
    fn missing_version_defaults_to_2008() {
        let p = policy(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
        assert_eq!(p.version(), "2008-10-17");
    }

    #[test]
    fn invalid_json_is_an_error() {
        let err = parse_policy(r#"{"Statement": ["#).unwrap_err();
        assert!(err.contains("not valid JSON"), "{err}");
        let err = parse_policy("").unwrap_err();
        assert!(err.contains("not valid JSON"), "{err}");
    }

    #[test]
    fn missing_effect_is_an_error() {
        let err =
            parse_policy(r#"{"Statement":{"Sid":"NoEffect","Action":"s3:*","Resource":"*"}}"#)
                .unwrap_err();
        assert!(err.contains("missing Effect"), "{err}");
        assert!(err.contains("NoEffect"), "{err}");
    }

    #[test]
    fn unknown_effect_is_an_error() {
        let err =
            parse_policy(r#"{"Statement":[{"Effect":"Permit","Action":"s3:*","Resource":"*"}]}"#)
                .unwrap_err();
        assert!(err.contains("unknown Effect \"Permit\""), "{err}");
        let err = parse_policy(r#"{"Statement":[{"Effect":true,"Action":"s3:*","Resource":"*"}]}"#)
            .unwrap_err();
        assert!(err.contains("Effect"), "{err}");
    }

    #[test]
    fn structural_errors_are_reported() {
        let cases = [
            (r#"{"Version":"2012-10-17"}"#, "no Statement"),
            (r#"[]"#, "must be a JSON object"),
            (r#"{"Statement":5}"#, "Statement must be"),
            (r#"{"Statement":[5]}"#, "statement[0] must be an object"),
            (
                r#"{"Version":"2020-01-01","Statement":[]}"#,
                "unknown policy Version",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
                "missing Action or NotAction",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","NotAction":"c:d","Resource":"*"}}"#,
                "both Action and NotAction",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","NotResource":"*"}}"#,
                "both Resource and NotResource",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Conditon":{}}}"#,
                "unknown element \"Conditon\"",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":[1],"Resource":"*"}}"#,
                "Action entries must be strings",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","Principal":"someone"}}"#,
                "Principal string must be",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","Principal":{"Robot":"x"}}}"#,
                "unknown Principal type",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":"x"}}}"#,
                "must map to an object",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"k":null}}}}"#,
                "values must be",
            ),
        ];
        for (text, expected) in cases {
            let err = parse_policy(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let inputs = [
            "",
            " ",
            "%",
            "%2",
            "%zz",
            "%ff%fe",
            "+",
            "null",
            "true",
            "\"x\"",
            "{}",
            "[{}]",
            "{\"Statement\":null}",
            "{\"Statement\":[null]}",
            "{\"Statement\":{}}",
            "%7B%22Statement%22%3A",
            "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":{}}}",
            "\u{0}\u{1}",
            "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"${\"}}",
        ];
        for input in inputs {
            let _ = parse_policy(input);
        }
        // Odd but valid documents evaluate without panicking too.
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"${aws:x, 'd'}${","Condition":{"StringLike":{"k":"${unterminated"}}}}"#,
        );
        let _ = evaluate(&[p], &req("s3:x", "é:::${", &[("k", "${unterminated")]));
    }

    #[test]
    fn url_encoded_document_is_accepted() {
        // As returned by iam:GetRolePolicy / GetRole.
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Amy-bucket%2A%22%7D%5D%7D";
        let p = policy(encoded);
        assert_eq!(decide(&p, "s3:GetObject", OBJ), Decision::Allow);
    }

    #[test]
    fn form_encoded_document_with_plus_for_space_is_accepted() {
        let encoded = "%7B+%22Statement%22%3A+%7B+%22Effect%22%3A+%22Allow%22%2C+%22Action%22%3A+%22s3%3AGetObject%22%2C+%22Resource%22%3A+%22%2A%22+%7D+%7D";
        let p = policy(encoded);
        assert_eq!(decide(&p, "s3:GetObject", OBJ), Decision::Allow);
        let err = parse_policy("%7B%22Statement%22").unwrap_err();
        assert!(err.contains("URL-encoded"), "{err}");
    }

    #[test]
    fn condition_values_may_be_booleans_and_numbers() {
        let p = cond_policy(
            r#"{"Bool":{"aws:SecureTransport":true},"StringEquals":{"s3:max-keys":[10, "20"]}}"#,
        );
        let d = decide_ctx(
            &p,
            "s3:GetObject",
            OBJ,
            &[("aws:SecureTransport", "true"), ("s3:max-keys", "10")],
        );
        assert_eq!(d, Decision::Allow);
    }

    // ---- basic evaluation ---------------------------------------------------

    #[test]
    fn no_matching_allow_is_implicit_deny() {
        let p = policy(
            r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}}"#,
        );
        assert_eq!(decide(&p, "s3:GetObject", OBJ), Decision::ImplicitDeny);
        assert_eq!(
            evaluate(&[], &req("s3:GetObject", OBJ, &[])).decision,
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn explicit_deny_overrides_allow() {
        let allow = policy(r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#);
        let deny = policy(
            r#"{"Statement":{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::my-bucket/*"}}"#,
        );
        let both = [allow.clone(), deny];
        assert_eq!(
            evaluate(&both, &req("s3:DeleteObject", OBJ, &[])).decision,
            Decision::ExplicitDeny
        );
        assert_eq!(
            evaluate(&both, &req("s3:GetObject", OBJ, &[])).decision,
            Decision::Allow
        );
        // Deny in the same policy, before the Allow.
        let same = policy(
            r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        );
        assert_eq!(decide(&same, "s3:GetObject", OBJ), Decision::ExplicitDeny);
        assert_eq!(decide(&same, "ec2:RunInstances", "*"), Decision::Allow);
        assert_eq!(decide(&allow, "s3:DeleteObject", OBJ), Decision::Allow);
    }

    #[test]
    fn s3_star_and_bucket_star_resource_are_accepted() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::my-bucket*"}}"#,
        );
        assert_eq!(decide(&p, "s3:GetObject", OBJ), Decision::Allow);
        assert_eq!(
            decide(&p, "s3:ListBucket", "arn:aws:s3:::my-bucket"),
            Decision::Allow
        );
        assert_eq!(
            decide(&p, "s3:ListBucket", "arn:aws:s3:::my-bucket-2"),
            Decision::Allow
        );
        assert_eq!(
            decide(&p, "s3:GetObject", "arn:aws:s3:::other/key"),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(&p, "ec2:DescribeInstances", "arn:aws:s3:::my-bucket"),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn star_alone_matches_everything() {
        let p = policy(r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
        assert_eq!(
            decide(&p, "iam:CreateRole", "arn:aws:iam::111122223333:role/x:y"),
            Decision::Allow
        );
        assert_eq!(decide(&p, "s3:GetObject", ""), Decision::Allow);
    }

    #[test]
    fn actions_are_case_insensitive() {
        let p =
            policy(r#"{"Statement":{"Effect":"Allow","Action":"S3:getobject","Resource":"*"}}"#);
        assert_eq!(decide(&p, "s3:GetObject", OBJ), Decision::Allow);
        assert_eq!(decide(&p, "s3:GETOBJECT", OBJ), Decision::Allow);
        let p = policy(r#"{"Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#);
        assert_eq!(decide(&p, "s3:getobjectacl", OBJ), Decision::Allow);
        assert_eq!(decide(&p, "s3:PutObject", OBJ), Decision::ImplicitDeny);
    }

    #[test]
    fn resources_are_case_sensitive() {
        let p = policy(
            r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::My-Bucket/*"}}"#,
        );
        assert_eq!(
            decide(&p, "s3:GetObject", "arn:aws:s3:::My-Bucket/k"),
            Decision::Allow
        );
        assert_eq!(
            decide(&p, "s3:GetObject", "arn:aws:s3:::my-bucket/k"),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn question_mark_wildcard() {
        let p = policy(
            r#"{"Statement":{"Effect":"Allow","Action":"s3:?etObject","Resource":"arn:aws:s3:::log?/*"}}"#,
        );
        assert_eq!(
            decide(&p, "s3:GetObject", "arn:aws:s3:::logs/x"),
            Decision::Allow
        );
        assert_eq!(
            decide(&p, "s3:SetObject", "arn:aws:s3:::log1/x"),
            Decision::Allow
        );
        assert_eq!(
            decide(&p, "s3:GetObject", "arn:aws:s3:::log/x"),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(&p, "s3:GetObject", "arn:aws:s3:::logs2/x"),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(&p, "s3:PutObject", "arn:aws:s3:::logs/x"),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn resource_star_inside_a_segment_stays_inside_it() {
        let p = policy(
            r#"{"Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"arn:aws:ec2:*:111122223333:instance/i-*-x"}}"#,
        );
        assert_eq!(
            decide(
                &p,
                "ec2:StartInstances",
                "arn:aws:ec2:us-east-1:111122223333:instance/i-1-x"
            ),
            Decision::Allow
        );
        // The mid-segment `*` does not swallow a `:`.
        assert_eq!(
            decide(
                &p,
                "ec2:StartInstances",
                "arn:aws:ec2:us-east-1:111122223333:instance/i-1:2-x"
            ),
            Decision::ImplicitDeny
        );
        // A segment-ending `*` (here the region) may.
        let p = policy(
            r#"{"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::*"}}"#,
        );
        assert_eq!(
            decide(&p, "iam:GetRole", "arn:aws:iam::111122223333:role/x"),
            Decision::Allow
        );
    }

    #[test]
    fn not_action_allows_everything_else() {
        let p = policy(
            r#"{"Statement":{"Effect":"Allow","NotAction":["iam:*","s3:DeleteObject"],"Resource":"*"}}"#,
        );
        assert_eq!(decide(&p, "s3:GetObject", OBJ), Decision::Allow);
        assert_eq!(decide(&p, "s3:deleteobject", OBJ), Decision::ImplicitDeny);
        assert_eq!(decide(&p, "iam:CreateUser", "*"), Decision::ImplicitDeny);
    }

    #[test]
    fn not_action_in_a_deny() {
        let p = policy(
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}]}"#,
        );
        assert_eq!(decide(&p, "s3:PutObject", OBJ), Decision::Allow);
        assert_eq!(decide(&p, "ec2:RunInstances", "*"), Decision::ExplicitDeny);
    }

    #[test]
    fn not_resource_semantics() {
        let p = policy(
            r#"{"Statement":[
            {"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::secret*"},
            {"Effect":"Deny","Action":"s3:DeleteObject","NotResource":"arn:aws:s3:::scratch/*"}]}"#,
        );
        assert_eq!(decide(&p, "s3:GetObject", OBJ), Decision::Allow);
        assert_eq!(
            decide(&p, "s3:GetObject", "arn:aws:s3:::secret/k"),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(&p, "s3:DeleteObject", "arn:aws:s3:::scratch/k"),
            Decision::Allow
        );
        assert_eq!(decide(&p, "s3:DeleteObject", OBJ), Decision::ExplicitDeny);
    }

    #[test]
    fn multiple_statements_and_policies_combine() {
        let reads = policy(
            r#"{"Statement":[{"Sid":"R","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-bucket/*"},
                                          {"Sid":"L","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::my-bucket"}]}"#,
        );
        let writes = policy(
            r#"{"Statement":{"Sid":"W","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::my-bucket/*"}}"#,
        );
        let both = [reads, writes];
        for action in ["s3:GetObject", "s3:PutObject"] {
            assert_eq!(
                evaluate(&both, &req(action, OBJ, &[])).decision,
                Decision::Allow,
                "{action}"
            );
        }
        assert_eq!(
            evaluate(&both, &req("s3:ListBucket", "arn:aws:s3:::my-bucket", &[])).decision,
            Decision::Allow
        );
        assert_eq!(
            evaluate(&both, &req("s3:ListBucket", OBJ, &[])).decision,
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn principal_in_identity_policy_is_reported_and_ignored() {
        let p = policy(
            r#"{"Statement":{"Sid":"P","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
        );
        let e = evaluate(&[p], &req("s3:GetObject", OBJ, &[]));
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert!(
            e.warnings[0].contains("not allowed in an identity-based policy"),
            "{:?}",
            e.warnings
        );
    }

    #[test]
    fn identity_statement_without_resource_is_reported() {
        let p = policy(r#"{"Statement":{"Effect":"Allow","Action":"s3:*"}}"#);
        let e = evaluate(&[p], &req("s3:GetObject", OBJ, &[]));
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert!(
            e.warnings[0].contains("neither Resource nor NotResource"),
            "{:?}",
            e.warnings
        );
    }

    // ---- conditions ---------------------------------------------------------

    #[test]
    fn string_equals_values_are_ored_and_case_sensitive() {
        let c = r#"{"StringEquals":{"aws:PrincipalTag/team":["ml","data"]}}"#;
        assert_eq!(
            cond(c, &[("aws:PrincipalTag/team", "data")]),
            Decision::Allow
        );
        assert_eq!(
            cond(c, &[("aws:PrincipalTag/team", "ML")]),
            Decision::ImplicitDeny
        );
        assert_eq!(
            cond(c, &[("aws:PrincipalTag/team", "web")]),
            Decision::ImplicitDeny
        );
        // StringEquals has no wildcards.
        let c = r#"{"StringEquals":{"k":"a*"}}"#;
        assert_eq!(cond(c, &[("k", "abc")]), Decision::ImplicitDeny);
        assert_eq!(cond(c, &[("k", "a*")]), Decision::Allow);
    }

    #[test]
    fn keys_in_one_operator_and_operators_are_anded() {
        let c = r#"{"StringEquals":{"a":"1","b":"2"},"Bool":{"aws:SecureTransport":"true"}}"#;
        assert_eq!(
            cond(
                c,
                &[("a", "1"), ("b", "2"), ("aws:SecureTransport", "true")]
            ),
            Decision::Allow
        );
        assert_eq!(
            cond(
                c,
                &[("a", "1"), ("b", "3"), ("aws:SecureTransport", "true")]
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            cond(
                c,
                &[("a", "1"), ("b", "2"), ("aws:SecureTransport", "false")]
            ),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn condition_keys_are_case_insensitive() {
        let c = r#"{"StringEquals":{"AWS:PrincipalTag/Team":"ml"}}"#;
        assert_eq!(cond(c, &[("aws:principaltag/team", "ml")]), Decision::Allow);
        // ...and operator names too.
        let c = r#"{"stringequals":{"k":"v"}}"#;
        assert_eq!(cond(c, &[("K", "v")]), Decision::Allow);
    }

    #[test]
    fn missing_condition_key_makes_the_condition_false() {
        assert_eq!(
            cond(r#"{"StringEquals":{"k":"v"}}"#, &[]),
            Decision::ImplicitDeny
        );
        assert_eq!(
            cond(r#"{"StringLike":{"k":"*"}}"#, &[("other", "v")]),
            Decision::ImplicitDeny
        );
        assert_eq!(
            cond(r#"{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#, &[]),
            Decision::ImplicitDeny
        );
        assert_eq!(
            cond(r#"{"ArnLike":{"aws:SourceArn":"*"}}"#, &[]),
            Decision::ImplicitDeny
        );
        assert_eq!(
            cond(r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"a"}}"#, &[]),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn negated_operators_hold_when_the_key_is_missing() {
        // Documented: "If the policy condition requires that the key is not
        // matched, such as StringNotLike or ArnNotLike, and the right key is
        // not present, the condition is true."
        assert_eq!(
            cond(r#"{"StringNotEquals":{"k":"v"}}"#, &[]),
            Decision::Allow
        );
        assert_eq!(
            cond(
                r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:t"}}"#,
                &[]
            ),
            Decision::Allow
        );
        // A Deny with StringNotEquals therefore applies to requests without the key.
        let p = policy(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
            {"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpc":"vpc-1"}}}]}"#,
        );
        assert_eq!(decide(&p, "s3:GetObject", OBJ), Decision::ExplicitDeny);
        assert_eq!(
            decide_ctx(&p, "s3:GetObject", OBJ, &[("aws:SourceVpc", "vpc-1")]),
            Decision::Allow
        );
    }

    #[test]
    fn string_not_equals_with_several_values_means_none_of_them() {
        let c = r#"{"StringNotEquals":{"k":["a","b"]}}"#;
        assert_eq!(cond(c, &[("k", "a")]), Decision::ImplicitDeny);
        assert_eq!(cond(c, &[("k", "b")]), Decision::ImplicitDeny);
        assert_eq!(cond(c, &[("k", "c")]), Decision::Allow);
    }

    #[test]
    fn ignore_case_operators() {
        assert_eq!(
            cond(
                r#"{"StringEqualsIgnoreCase":{"k":"KubeFlow"}}"#,
                &[("k", "kubeflow")]
            ),
            Decision::Allow
        );
        assert_eq!(
            cond(
                r#"{"StringEqualsIgnoreCase":{"k":"KubeFlow"}}"#,
                &[("k", "kubeflow2")]
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            cond(
                r#"{"StringNotEqualsIgnoreCase":{"k":"KubeFlow"}}"#,
                &[("k", "KUBEFLOW")]
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            cond(
                r#"{"StringNotEqualsIgnoreCase":{"k":"KubeFlow"}}"#,
                &[("k", "other")]
            ),
            Decision::Allow
        );
    }

    #[test]
    fn string_like_and_not_like() {
        let c = r#"{"StringLike":{"s3:prefix":["home/*","pub/??"]}}"#;
        assert_eq!(cond(c, &[("s3:prefix", "home/alice/x")]), Decision::Allow);
        assert_eq!(cond(c, &[("s3:prefix", "pub/ab")]), Decision::Allow);
        assert_eq!(cond(c, &[("s3:prefix", "pub/abc")]), Decision::ImplicitDeny);
        assert_eq!(
            cond(c, &[("s3:prefix", "Home/alice")]),
            Decision::ImplicitDeny
        );
        let c = r#"{"StringNotLike":{"s3:prefix":"secret/*"}}"#;
        assert_eq!(
            cond(c, &[("s3:prefix", "secret/x")]),
            Decision::ImplicitDeny
        );
        assert_eq!(cond(c, &[("s3:prefix", "public/x")]), Decision::Allow);
    }

    #[test]
    fn arn_operators() {
        let c = r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:topic-*"}}"#;
        assert_eq!(
            cond(
                c,
                &[(
                    "aws:SourceArn",
                    "arn:aws:sns:us-east-1:111122223333:topic-a"
                )]
            ),
            Decision::Allow
        );
        assert_eq!(
            cond(
                c,
                &[(
                    "aws:SourceArn",
                    "arn:aws:sns:us-east-1:444455556666:topic-a"
                )]
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            cond(c, &[("aws:SourceArn", "not-an-arn")]),
            Decision::ImplicitDeny
        );
        // ArnEquals accepts the same wildcards (documented together with ArnLike).
        let c = r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::bucket-?"}}"#;
        assert_eq!(
            cond(c, &[("aws:SourceArn", "arn:aws:s3:::bucket-1")]),
            Decision::Allow
        );
        assert_eq!(
            cond(c, &[("aws:SourceArn", "arn:aws:s3:::Bucket-1")]),
            Decision::ImplicitDeny
        );
        let c = r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::bad-*"}}"#;
        assert_eq!(
            cond(c, &[("aws:SourceArn", "arn:aws:s3:::bad-1")]),
            Decision::ImplicitDeny
        );
        assert_eq!(
            cond(c, &[("aws:SourceArn", "arn:aws:s3:::good")]),
            Decision::Allow
        );
        let c = r#"{"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::x"}}"#;
        assert_eq!(
            cond(c, &[("aws:SourceArn", "arn:aws:s3:::x")]),
            Decision::ImplicitDeny
        );
        assert_eq!(
            cond(c, &[("aws:SourceArn", "arn:aws:s3:::y")]),
            Decision::Allow
        );
    }

    #[test]
    fn bool_operator() {
        let c = r#"{"Bool":{"aws:SecureTransport":"true"}}"#;
        assert_eq!(cond(c, &[("aws:SecureTransport", "true")]), Decision::Allow);
        assert_eq!(cond(c, &[("aws:SecureTransport", "TRUE")]), Decision::Allow);
        assert_eq!(
            cond(c, &[("aws:SecureTransport", "false")]),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn null_operator_tests_presence() {
        let absent = r#"{"Null":{"aws:TokenIssueTime":"true"}}"#;
        let present = r#"{"Null":{"aws:TokenIssueTime":"false"}}"#;
        assert_eq!(cond(absent, &[]), Decision::Allow);
        assert_eq!(
            cond(absent, &[("aws:TokenIssueTime", "t")]),
            Decision::ImplicitDeny
        );
        assert_eq!(
            cond(present, &[("aws:tokenissuetime", "t")]),
            Decision::Allow
        );
        assert_eq!(cond(present, &[]), Decision::ImplicitDeny);
    }

    #[test]
    fn if_exists_suffix() {
        let c = r#"{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}"#;
        assert_eq!(cond(c, &[]), Decision::Allow);
        assert_eq!(
            cond(c, &[("ec2:InstanceType", "t3.micro")]),
            Decision::Allow
        );
        assert_eq!(
            cond(c, &[("ec2:InstanceType", "p4d.24xlarge")]),
            Decision::ImplicitDeny
        );
        let c = r#"{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:s3:::ok"}}"#;
        assert_eq!(cond(c, &[]), Decision::Allow);
        assert_eq!(
            cond(c, &[("aws:SourceArn", "arn:aws:s3:::no")]),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn for_any_value_qualifier() {
        let c = r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["team","owner"]}}"#;
        assert_eq!(
            cond(c, &[("aws:TagKeys", "x"), ("aws:TagKeys", "owner")]),
            Decision::Allow
        );
        assert_eq!(
            cond(c, &[("aws:TagKeys", "x"), ("aws:TagKeys", "y")]),
            Decision::ImplicitDeny
        );
        let c = r#"{"ForAnyValue:StringNotLike":{"aws:TagKeys":"kfp-*"}}"#;
        assert_eq!(
            cond(c, &[("aws:TagKeys", "kfp-a"), ("aws:TagKeys", "other")]),
            Decision::Allow
        );
        assert_eq!(
            cond(c, &[("aws:TagKeys", "kfp-a"), ("aws:TagKeys", "kfp-b")]),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn for_all_values_qualifier() {
        let c = r#"{"ForAllValues:StringLike":{"aws:TagKeys":["kfp-*","team"]}}"#;
        assert_eq!(
            cond(c, &[("aws:TagKeys", "kfp-a"), ("aws:TagKeys", "team")]),
            Decision::Allow
        );
        assert_eq!(
            cond(c, &[("aws:TagKeys", "kfp-a"), ("aws:TagKeys", "other")]),
            Decision::ImplicitDeny
        );
        // Documented: true when the key is not in the request at all.
        assert_eq!(cond(c, &[]), Decision::Allow);
        let c = r#"{"ForAllValues:StringEqualsIfExists":{"aws:TagKeys":"a"}}"#;
        assert_eq!(cond(c, &[("aws:TagKeys", "b")]), Decision::ImplicitDeny);
    }

    #[test]
    fn unsupported_operator_warns_and_never_allows() {
        let p = cond_policy(r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#);
        let e = evaluate(&[p], &req("s3:GetObject", OBJ, &[("s3:max-keys", "5")]));
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert_eq!(e.warnings.len(), 1, "{:?}", e.warnings);
        assert!(
            e.warnings[0].contains("NumericLessThan"),
            "{}",
            e.warnings[0]
        );
        assert!(e.warnings[0].contains("\"C\""), "{}", e.warnings[0]);
        // Without a Sid the statement is named by its index.
        let p = policy(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"},
            {"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}"#,
        );
        let e = evaluate(
            &[p],
            &req("s3:GetObject", OBJ, &[("aws:SourceIp", "10.1.2.3")]),
        );
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert!(
            e.warnings[0].contains("policy[0] statement[1]"),
            "{}",
            e.warnings[0]
        );
        assert!(
            e.warnings[0].contains("IpAddress") && e.warnings[0].contains("DateGreaterThan"),
            "{}",
            e.warnings[0]
        );
        // NullIfExists is not a valid operator.
        assert_eq!(
            cond(r#"{"NullIfExists":{"k":"true"}}"#, &[]),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn unsupported_operator_is_not_reported_when_another_condition_is_false() {
        let p = cond_policy(r#"{"NumericLessThan":{"n":"10"},"StringEquals":{"k":"v"}}"#);
        let e = evaluate(&[p], &req("s3:GetObject", OBJ, &[("k", "other")]));
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    }

    #[test]
    fn unevaluable_deny_is_reported_as_possibly_denying() {
        let p = policy(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
            {"Sid":"DenyOutsideOffice","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}"#,
        );
        let e = evaluate(&[p], &req("s3:GetObject", OBJ, &[]));
        assert_eq!(e.decision, Decision::Allow);
        assert!(
            e.warnings[0].contains("DenyOutsideOffice") && e.warnings[0].contains("may deny"),
            "{:?}",
            e.warnings
        );
    }

    // ---- policy variables ---------------------------------------------------

    #[test]
    fn variables_are_substituted_in_version_2012() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject",
            "Resource":"arn:aws:s3:::home/${aws:username}/*",
            "Condition":{"StringLike":{"s3:prefix":"${aws:username}/*"}}}}"#,
        );
        let ctx = [("aws:username", "alice"), ("s3:prefix", "alice/x")];
        assert_eq!(
            decide_ctx(&p, "s3:GetObject", "arn:aws:s3:::home/alice/f", &ctx),
            Decision::Allow
        );
        assert_eq!(
            decide_ctx(&p, "s3:GetObject", "arn:aws:s3:::home/bob/f", &ctx),
            Decision::ImplicitDeny
        );
        let ctx = [("aws:username", "alice"), ("s3:prefix", "bob/x")];
        assert_eq!(
            decide_ctx(&p, "s3:GetObject", "arn:aws:s3:::home/alice/f", &ctx),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn variables_are_literal_in_version_2008() {
        let p = policy(
            r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}}"#,
        );
        let ctx = [("aws:username", "alice")];
        let e = evaluate(
            std::slice::from_ref(&p),
            &req("s3:GetObject", "arn:aws:s3:::home/alice/f", &ctx),
        );
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert!(e.warnings.is_empty());
        assert_eq!(
            decide_ctx(
                &p,
                "s3:GetObject",
                "arn:aws:s3:::home/${aws:username}/f",
                &ctx
            ),
            Decision::Allow
        );
    }

    #[test]
    fn unknown_variable_is_a_warning_and_no_allow() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":{"Sid":"Home","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}}"#,
        );
        let e = evaluate(&[p], &req("s3:GetObject", "arn:aws:s3:::home/alice/f", &[]));
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert!(
            e.warnings[0].contains("${aws:username}") && e.warnings[0].contains("Home"),
            "{:?}",
            e.warnings
        );
    }

    #[test]
    fn variable_defaults_and_special_characters() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username, 'shared'}/${*}"}}"#,
        );
        assert_eq!(
            decide(&p, "s3:GetObject", "arn:aws:s3:::b/shared/*"),
            Decision::Allow
        );
        // ${*} is a literal asterisk, not a wildcard.
        assert_eq!(
            decide(&p, "s3:GetObject", "arn:aws:s3:::b/shared/x"),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide_ctx(
                &p,
                "s3:GetObject",
                "arn:aws:s3:::b/bob/*",
                &[("aws:username", "bob")]
            ),
            Decision::Allow
        );
        // A substituted value is literal too.
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/k"}}"#,
        );
        assert_eq!(
            decide_ctx(
                &p,
                "s3:GetObject",
                "arn:aws:s3:::b/x/k",
                &[("aws:username", "*")]
            ),
            Decision::ImplicitDeny
        );
    }

    // ---- trust policies -----------------------------------------------------

    const PROVIDER: &str = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
    const PROVIDER_ARN: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

    fn irsa_trust(operator: &str, aud: &str, sub: &str) -> Policy {
        policy(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
                "Principal":{{"Federated":"{PROVIDER_ARN}"}},
                "Action":"sts:AssumeRoleWithWebIdentity",
                "Condition":{{"{operator}":{{"{PROVIDER}:aud":"{aud}","{PROVIDER}:sub":"{sub}"}}}}}}]}}"#
        ))
    }

    fn irsa(trust: &Policy, namespace: &str, sa: &str) -> Result<Vec<String>, String> {
        check_web_identity_trust(trust, "aws", "111122223333", PROVIDER, namespace, sa)
    }

    #[test]
    fn trust_principal_must_match() {
        let p = irsa_trust(
            "StringEquals",
            "sts.amazonaws.com",
            "system:serviceaccount:kubeflow:ml-pipeline",
        );
        let aud = format!("{PROVIDER}:aud");
        let sub = format!("{PROVIDER}:sub");
        let ctx = [
            (aud.as_str(), "sts.amazonaws.com"),
            (sub.as_str(), "system:serviceaccount:kubeflow:ml-pipeline"),
        ];
        let mut r = Request {
            action: "sts:AssumeRoleWithWebIdentity",
            resource: "*",
            principal: Some(Principal::Federated(PROVIDER_ARN)),
            context: &ctx,
        };
        assert_eq!(evaluate_trust(&p, &r).decision, Decision::Allow);
        r.principal = Some(Principal::Federated(
            "arn:aws:iam::111122223333:oidc-provider/other",
        ));
        assert_eq!(evaluate_trust(&p, &r).decision, Decision::ImplicitDeny);
        r.principal = Some(Principal::Aws(PROVIDER_ARN));
        assert_eq!(evaluate_trust(&p, &r).decision, Decision::ImplicitDeny);
        r.principal = None;
        assert_eq!(evaluate_trust(&p, &r).decision, Decision::ImplicitDeny);
    }

    #[test]
    fn trust_star_principals_and_services() {
        let star =
            policy(r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}"#);
        let aws_star = policy(
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}}"#,
        );
        let service = policy(
            r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","eks.amazonaws.com"]},"Action":"sts:AssumeRole"}}"#,
        );
        let r = |principal| Request {
            action: "sts:AssumeRole",
            resource: "*",
            principal,
            context: &[],
        };
        for p in [&star, &aws_star] {
            assert_eq!(
                evaluate_trust(p, &r(Some(Principal::Service("ec2.amazonaws.com")))).decision,
                Decision::Allow
            );
            assert_eq!(evaluate_trust(p, &r(None)).decision, Decision::Allow);
        }
        assert_eq!(
            evaluate_trust(&service, &r(Some(Principal::Service("eks.amazonaws.com")))).decision,
            Decision::Allow
        );
        assert_eq!(
            evaluate_trust(
                &service,
                &r(Some(Principal::Service("lambda.amazonaws.com")))
            )
            .decision,
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn trust_account_principal_covers_the_account() {
        let by_id = policy(
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}}"#,
        );
        let by_root = policy(
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}}"#,
        );
        let by_role = policy(
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/admin"]},"Action":"sts:AssumeRole"}}"#,
        );
        let r = |arn| Request {
            action: "sts:AssumeRole",
            resource: "*",
            principal: Some(Principal::Aws(arn)),
            context: &[],
        };
        for p in [&by_id, &by_root] {
            assert_eq!(
                evaluate_trust(p, &r("arn:aws:iam::111122223333:role/ci")).decision,
                Decision::Allow
            );
            assert_eq!(
                evaluate_trust(p, &r("arn:aws:iam::444455556666:role/ci")).decision,
                Decision::ImplicitDeny
            );
        }
        assert_eq!(
            evaluate_trust(&by_role, &r("arn:aws:iam::111122223333:role/admin")).decision,
            Decision::Allow
        );
        assert_eq!(
            evaluate_trust(&by_role, &r("arn:aws:iam::111122223333:role/ci")).decision,
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn trust_not_principal_deny() {
        let p = policy(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"},
            {"Sid":"OnlyAdmin","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"sts:AssumeRole"}]}"#,
        );
        let r = |arn| Request {
            action: "sts:AssumeRole",
            resource: "*",
            principal: Some(Principal::Aws(arn)),
            context: &[],
        };
        assert_eq!(
            evaluate_trust(&p, &r("arn:aws:iam::111122223333:role/admin")).decision,
            Decision::Allow
        );
        assert_eq!(
            evaluate_trust(&p, &r("arn:aws:iam::111122223333:role/ci")).decision,
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn trust_statement_without_principal_is_reported() {
        let p = policy(r#"{"Statement":{"Sid":"NoP","Effect":"Allow","Action":"sts:AssumeRole"}}"#);
        let e = evaluate_trust(
            &p,
            &Request {
                action: "sts:AssumeRole",
                resource: "*",
                principal: Some(Principal::Aws("111122223333")),
                context: &[],
            },
        );
        assert_eq!(e.decision, Decision::ImplicitDeny);
        assert!(
            e.warnings[0].contains("NoP") && e.warnings[0].contains("Principal"),
            "{:?}",
            e.warnings
        );
    }

    // ---- check_web_identity_trust --------------------------------------------

    #[test]
    fn web_identity_string_equals_ok() {
        let p = irsa_trust(
            "StringEquals",
            "sts.amazonaws.com",
            "system:serviceaccount:kubeflow:ml-pipeline",
        );
        assert_eq!(irsa(&p, "kubeflow", "ml-pipeline"), Ok(vec![]));
        // https:// on the provider URL is tolerated.
        let with_scheme = format!("https://{PROVIDER}");
        assert_eq!(
            check_web_identity_trust(
                &p,
                "aws",
                "111122223333",
                &with_scheme,
                "kubeflow",
                "ml-pipeline"
            ),
            Ok(vec![])
        );
    }

    #[test]
    fn web_identity_string_like_namespace_wildcard() {
        let p = irsa_trust(
            "StringLike",
            "sts.amazonaws.com",
            "system:serviceaccount:kubeflow:*",
        );
        assert_eq!(irsa(&p, "kubeflow", "ml-pipeline"), Ok(vec![]));
        assert_eq!(irsa(&p, "kubeflow", "pipeline-runner"), Ok(vec![]));
        let err = irsa(&p, "default", "ml-pipeline").unwrap_err();
        assert!(err.starts_with("sub does not match namespace/sa"), "{err}");
    }

    #[test]
    fn web_identity_wrong_audience() {
        let p = irsa_trust(
            "StringEquals",
            "sts.amazonaws.com.cn",
            "system:serviceaccount:kubeflow:ml-pipeline",
        );
        let err = irsa(&p, "kubeflow", "ml-pipeline").unwrap_err();
        assert!(err.starts_with("wrong audience"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn web_identity_wrong_namespace() {
        let p = irsa_trust(
            "StringEquals",
            "sts.amazonaws.com",
            "system:serviceaccount:kubeflow:ml-pipeline",
        );
        let err = irsa(&p, "kubeflow-user", "ml-pipeline").unwrap_err();
        assert!(err.starts_with("sub does not match namespace/sa"), "{err}");
        assert!(
            err.contains("system:serviceaccount:kubeflow-user:ml-pipeline"),
            "{err}"
        );
        let err = irsa(&p, "kubeflow", "pipeline-runner").unwrap_err();
        assert!(err.starts_with("sub does not match namespace/sa"), "{err}");
    }

    #[test]
    fn web_identity_wrong_provider() {
        let p = irsa_trust(
            "StringEquals",
            "sts.amazonaws.com",
            "system:serviceaccount:kubeflow:ml-pipeline",
        );
        let err = check_web_identity_trust(
            &p,
            "aws",
            "111122223333",
            "oidc.eks.us-west-2.amazonaws.com/id/OTHER",
            "kubeflow",
            "ml-pipeline",
        )
        .unwrap_err();
        assert!(err.starts_with("wrong provider"), "{err}");
        assert!(err.contains(PROVIDER_ARN), "{err}");
        // Right principal, conditions written for another provider.
        let other = "oidc.eks.us-west-2.amazonaws.com/id/OTHER";
        let p = policy(&format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER_ARN}"}},"Action":"sts:AssumeRoleWithWebIdentity",
                "Condition":{{"StringEquals":{{"{other}:sub":"system:serviceaccount:kubeflow:ml-pipeline"}}}}}}}}"#
        ));
        let err = irsa(&p, "kubeflow", "ml-pipeline").unwrap_err();
        assert!(err.starts_with("wrong provider in condition"), "{err}");
    }

    #[test]
    fn web_identity_action_missing() {
        let p = policy(&format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER_ARN}"}},"Action":"sts:AssumeRole"}}}}"#
        ));
        let err = irsa(&p, "kubeflow", "ml-pipeline").unwrap_err();
        assert!(err.starts_with("action missing"), "{err}");
    }

    #[test]
    fn web_identity_explicit_deny() {
        let p = policy(&format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER_ARN}"}},"Action":"sts:AssumeRoleWithWebIdentity"}},
               {{"Sid":"NoPipelines","Effect":"Deny","Principal":"*","Action":"sts:*",
                 "Condition":{{"StringLike":{{"{PROVIDER}:sub":"system:serviceaccount:kubeflow:*"}}}}}}]}}"#
        ));
        let err = irsa(&p, "kubeflow", "ml-pipeline").unwrap_err();
        assert!(
            err.starts_with("explicit deny") && err.contains("NoPipelines"),
            "{err}"
        );
        // Other namespaces pass, but the policy does not restrict sub or aud.
        let warnings = irsa(&p, "team-a", "runner").unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("does not restrict"), "{warnings:?}");
        assert!(warnings[1].contains(":aud"), "{warnings:?}");
    }

    #[test]
    fn web_identity_unsupported_condition_is_an_error_not_an_allow() {
        let p = policy(&format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER_ARN}"}},"Action":"sts:AssumeRoleWithWebIdentity",
                "Condition":{{"DateLessThan":{{"aws:CurrentTime":"2030-01-01T00:00:00Z"}},
                              "StringEquals":{{"{PROVIDER}:sub":"system:serviceaccount:kubeflow:ml-pipeline"}}}}}}}}"#
        ));
        let err = irsa(&p, "kubeflow", "ml-pipeline").unwrap_err();
        assert!(
            err.contains("cannot be evaluated") && err.contains("DateLessThan"),
            "{err}"
        );
    }

    #[test]
    fn web_identity_url_encoded_trust_policy() {
        // GetRole returns AssumeRolePolicyDocument URL-encoded.
        let json = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{PROVIDER_ARN}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{PROVIDER}:sub":"system:serviceaccount:kubeflow:ml-pipeline","{PROVIDER}:aud":"sts.amazonaws.com"}}}}}}]}}"#
        );
        let mut encoded = String::new();
        for b in json.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                encoded.push(b as char);
            } else {
                encoded.push_str(&format!("%{b:02X}"));
            }
        }
        let p = policy(&encoded);
        assert_eq!(irsa(&p, "kubeflow", "ml-pipeline"), Ok(vec![]));
    }

    // ---- missing_s3_permissions ----------------------------------------------

    #[test]
    fn s3_all_permissions_present() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::kfp-artifacts","arn:aws:s3:::kfp-artifacts/*"]}}"#,
        );
        let (missing, warnings) =
            missing_s3_permissions(&[p], "aws", "kfp-artifacts", "pipelines/");
        assert!(missing.is_empty(), "{missing:?}");
        assert!(warnings.is_empty(), "{warnings:?}");
        let p = policy(
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::kfp-artifacts*"}}"#,
        );
        assert!(missing_s3_permissions(&[p], "aws", "kfp-artifacts", "")
            .0
            .is_empty());
    }

    #[test]
    fn s3_bucket_level_actions_missing() {
        let p = policy(
            r#"{"Statement":{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::kfp-artifacts/*"}}"#,
        );
        let (missing, _) = missing_s3_permissions(&[p], "aws", "kfp-artifacts", "");
        assert_eq!(missing, vec!["s3:ListBucket", "s3:GetBucketLocation"]);
    }

    #[test]
    fn s3_object_permissions_must_cover_the_whole_prefix() {
        let narrow = policy(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*Object","Resource":"arn:aws:s3:::kfp-artifacts/pipelines/run-1/*"},
            {"Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::kfp-artifacts"}]}"#,
        );
        let (missing, _) = missing_s3_permissions(
            std::slice::from_ref(&narrow),
            "aws",
            "kfp-artifacts",
            "pipelines/",
        );
        assert_eq!(
            missing,
            vec!["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        );
        let exact = policy(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*Object","Resource":"arn:aws:s3:::kfp-artifacts/pipelines/*"},
            {"Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::kfp-artifacts"}]}"#,
        );
        let (missing, _) = missing_s3_permissions(&[exact], "aws", "kfp-artifacts", "pipelines/");
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn s3_deny_on_part_of_the_prefix_is_missing() {
        let allow = policy(r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#);
        let deny = policy(
            r#"{"Statement":{"Sid":"KeepModels","Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::kfp-artifacts/pipelines/models/*"}}"#,
        );
        let (missing, warnings) =
            missing_s3_permissions(&[allow, deny], "aws", "kfp-artifacts", "pipelines/");
        assert_eq!(missing, vec!["s3:DeleteObject"]);
        assert!(
            warnings[0].contains("explicitly denied") && warnings[0].contains("KeepModels"),
            "{warnings:?}"
        );
    }

    #[test]
    fn s3_list_bucket_with_prefix_condition_and_partition() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws-cn:s3:::kfp","Condition":{"StringLike":{"s3:prefix":"artifacts/*"}}},
            {"Effect":"Allow","Action":"s3:GetBucketLocation","Resource":"arn:aws-cn:s3:::kfp"},
            {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws-cn:s3:::kfp/artifacts/*"}]}"#,
        );
        let (missing, warnings) =
            missing_s3_permissions(std::slice::from_ref(&p), "aws-cn", "kfp", "artifacts/");
        assert!(missing.is_empty(), "{missing:?} {warnings:?}");
        let (missing, _) =
            missing_s3_permissions(std::slice::from_ref(&p), "aws", "kfp", "artifacts/");
        assert_eq!(missing.len(), 5);
    }

    #[test]
    fn s3_unsupported_condition_is_missing_with_warning() {
        let p = policy(
            r#"{"Statement":{"Sid":"Ip","Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}"#,
        );
        let (missing, warnings) = missing_s3_permissions(&[p], "aws", "b", "");
        assert_eq!(missing.len(), 5);
        assert_eq!(warnings.len(), 5);
        assert!(
            warnings[0].starts_with("s3:GetObject on arn:aws:s3:::b/*:"),
            "{}",
            warnings[0]
        );
        assert!(warnings[0].contains("IpAddress"), "{}", warnings[0]);
    }

    // ---- wildcard engine ------------------------------------------------------

    fn glob(text: &str, arn: bool) -> Glob {
        let opts = CompileOptions {
            wildcards: true,
            lowercase: false,
            variables: None,
        };
        Glob::new(compile(text, opts).unwrap_or_default(), arn)
    }

    #[test]
    fn glob_prefix_coverage_and_intersection() {
        let g = glob("arn:aws:s3:::b/*", true);
        assert!(g.covers_prefix("arn:aws:s3:::b/p/"));
        assert!(g.covers_prefix("arn:aws:s3:::b/"));
        assert!(!g.covers_prefix("arn:aws:s3:::b"));
        assert!(g.intersects_prefix("arn:aws:s3:::b"));
        let g = glob("arn:aws:s3:::b/p/x?", true);
        assert!(!g.covers_prefix("arn:aws:s3:::b/p/"));
        assert!(g.intersects_prefix("arn:aws:s3:::b/p/"));
        assert!(!g.intersects_prefix("arn:aws:s3:::b/q/"));
        let g = glob("a*b*", false);
        assert!(g.covers_prefix("axxb"));
        assert!(!g.covers_prefix("axx"));
        assert!(g.matches("ab") && g.matches("a:b:c") && !g.matches("ba"));
        // Long inputs do not blow up.
        let g = glob("*a*a*a*a*a*a*a*a*b", false);
        assert!(!g.matches(&"a".repeat(5000)));
    }
}
