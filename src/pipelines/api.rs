//! A small client of the KFP v2beta1 REST API: the calls `kfp-aws pipelines`
//! makes, with the shapes of upstream's `backend/api/v2beta1/swagger`
//! (checked against KFP 2.14.0, 2.14.3, 2.14.4 and 2.15.0).
//!
//! Requests go through `kube`'s client: to `--api-url` directly, or by
//! default to the Kubernetes API server's service proxy
//! (`/api/v1/namespaces/<ns>/services/ml-pipeline:8888/proxy`), with the
//! kubeconfig's credentials.

use anyhow::{anyhow, Context};
use kube::client::Body;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Where the KFP API is.
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    /// The KFP API's base URL (`http://localhost:8888`); without it, the
    /// service proxy of the cluster in the kubeconfig.
    pub api_url: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Namespace of the `ml-pipeline` Service (where KFP is installed).
    pub kfp_namespace: String,
    /// A bearer token; never printed.
    pub token: Option<String>,
    /// `--request-timeout`: limit for each request (`None`: no limit).
    pub request_timeout: Option<std::time::Duration>,
}

/// The path prefix of the service proxy for KFP's API server in `ns`.
pub fn proxy_prefix(ns: &str) -> String {
    format!(
        "/api/v1/namespaces/{}/services/ml-pipeline:8888/proxy",
        encode(ns)
    )
}

/// Percent-encoding for a path segment or query value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{:02X}", b));
        }
    }
    out
}

pub struct Kfp {
    rt: tokio::runtime::Runtime,
    client: kube::Client,
    prefix: String,
    /// Where requests go, for messages.
    pub target: String,
}

/// Tries of a read before its error is reported.
const READ_ATTEMPTS: u32 = 3;

/// Upstream's page size limit is 200; 100 keeps answers small.
const PAGE_SIZE: usize = 100;

impl Kfp {
    pub fn connect(e: &Endpoint) -> anyhow::Result<Kfp> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let token = e
            .token
            .as_ref()
            .map(|t| secrecy::SecretString::from(t.clone()));
        let (config, prefix, target) = match &e.api_url {
            Some(url) => {
                let uri: http::Uri = url.parse().map_err(|_| {
                    anyhow!(
                        "--api-url '{}' is not a URL; write one such as http://localhost:8888",
                        url
                    )
                })?;
                if uri.scheme().is_none() || uri.host().is_none() {
                    return Err(anyhow!(
                        "--api-url '{}' needs a scheme and host, such as http://localhost:8888",
                        url
                    ));
                }
                let mut c = kube::Config::new(uri);
                c.auth_info.token = token;
                let c = crate::kubeclient::with_request_timeout(c, e.request_timeout);
                (c, String::new(), url.trim_end_matches('/').to_string())
            }
            None => {
                let mut c = rt.block_on(kube_config(e))?;
                if let Some(t) = token {
                    // Like `kubectl --token`: the token authenticates to the
                    // API server instead of the kubeconfig's user.
                    c.auth_info = kube::config::AuthInfo {
                        token: Some(t),
                        ..Default::default()
                    };
                }
                let prefix = proxy_prefix(&e.kfp_namespace);
                let target = format!(
                    "{}{} (the service proxy)",
                    c.cluster_url.to_string().trim_end_matches('/'),
                    prefix
                );
                (c, prefix, target)
            }
        };
        // kube's own retry layer would resend any request, writes too, up
        // to 15 times; `call` decides instead (reads only, a few times).
        let mut config = config;
        config.default_retry = false;
        // The client spawns its buffer task on the runtime.
        let client = {
            let _guard = rt.enter();
            kube::Client::try_from(config).context("cannot create the HTTP client")?
        };
        Ok(Kfp {
            rt,
            client,
            prefix,
            target,
        })
    }

    /// One request; the JSON answer, or an error naming the call and KFP's
    /// message.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> anyhow::Result<Value> {
        let uri = format!("{}{}", self.prefix, path);
        let op = path.split('?').next().unwrap_or(path);
        let (ct, body) = match body {
            Some((ct, bytes)) => (Some(ct), bytes),
            None => (None, Vec::new()),
        };
        // Reads are retried on a broken connection, throttling or a
        // gateway error; writes are not (a create is not idempotent, and
        // the next apply completes what one left undone).
        let attempts = if method == "GET" { READ_ATTEMPTS } else { 1 };
        let mut attempt = 0;
        let (status, bytes) = loop {
            attempt += 1;
            let mut b = http::Request::builder()
                .method(method)
                .uri(&uri)
                .header("Accept", "application/json");
            if let Some(ct) = ct {
                b = b.header("Content-Type", ct);
            }
            let req = b
                .body(Body::from(body.clone()))
                .map_err(|e| anyhow!("{} {}: cannot build the request: {}", method, op, e))?;
            let got = self.rt.block_on(async {
                let resp = self.client.send(req).await?;
                let status = resp.status();
                let bytes = resp.into_body().collect_bytes().await?;
                Ok::<_, kube::Error>((status, bytes))
            });
            let transient = match &got {
                Ok((status, _)) => matches!(status.as_u16(), 429 | 502 | 503 | 504),
                Err(_) => true,
            };
            if transient && attempt < attempts {
                std::thread::sleep(std::time::Duration::from_millis(200 << attempt));
                continue;
            }
            break got.map_err(|e| {
                anyhow!(
                    "{} {}: cannot reach the KFP API at {}: {}; check --api-url or the kubeconfig",
                    method,
                    op,
                    self.target,
                    describe(&e)
                )
            })?;
        };
        let text = String::from_utf8_lossy(&bytes);
        if !status.is_success() {
            return Err(anyhow!(
                "{} {}: KFP answered {}: {}",
                method,
                op,
                status,
                error_message(&text)
            ));
        }
        if text.trim().is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_str(&text).map_err(|e| {
            anyhow!(
                "{} {}: the answer is not JSON ({}); is {} the KFP API?",
                method,
                op,
                e,
                self.target
            )
        })
    }

    fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call("GET", path, None)
    }

    fn post_json(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.call(
            "POST",
            path,
            Some(("application/json", body.to_string().into_bytes())),
        )
    }

    /// Every item of a paged list.
    fn list_all(
        &self,
        path: &str,
        query: &[(&str, &str)],
        key: &str,
    ) -> anyhow::Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let mut q: Vec<String> = query
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| format!("{}={}", k, encode(v)))
                .collect();
            q.push(format!("page_size={}", PAGE_SIZE));
            if !token.is_empty() {
                q.push(format!("page_token={}", encode(&token)));
            }
            let v = self.get(&format!("{}?{}", path, q.join("&")))?;
            if let Some(items) = v.get(key).and_then(Value::as_array) {
                out.extend(items.iter().cloned());
            }
            match v.get("next_page_token").and_then(Value::as_str) {
                Some(t) if !t.is_empty() && t != token => token = t.to_string(),
                _ => return Ok(out),
            }
        }
    }

    pub fn list_experiments(&self, ns: &str) -> anyhow::Result<Vec<Value>> {
        self.list_all(
            "/apis/v2beta1/experiments",
            &[("namespace", ns)],
            "experiments",
        )
    }

    pub fn create_experiment(
        &self,
        name: &str,
        description: &str,
        ns: &str,
    ) -> anyhow::Result<Value> {
        let mut body = json!({ "display_name": name, "description": description });
        if !ns.is_empty() {
            body["namespace"] = json!(ns);
        }
        self.post_json("/apis/v2beta1/experiments", &body)
    }

    /// The pipeline called `name` in `ns`, if there is one.
    pub fn pipeline_by_name(&self, name: &str, ns: &str) -> anyhow::Result<Option<Value>> {
        let mut path = format!("/apis/v2beta1/pipelines/names/{}", encode(name));
        if !ns.is_empty() {
            path.push_str(&format!("?namespace={}", encode(ns)));
        }
        match self.get(&path) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.to_string().contains("KFP answered 404") => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn list_versions(&self, pipeline_id: &str) -> anyhow::Result<Vec<Value>> {
        self.list_all(
            &format!("/apis/v2beta1/pipelines/{}/versions", encode(pipeline_id)),
            &[],
            "pipeline_versions",
        )
    }

    /// `POST /apis/v2beta1/pipelines/upload`: a new pipeline and its first
    /// version (named after the pipeline), from the file's bytes.
    pub fn upload_pipeline(
        &self,
        name: &str,
        description: &str,
        ns: &str,
        yaml: &[u8],
    ) -> anyhow::Result<Value> {
        let mut q = format!(
            "name={}&display_name={}&description={}",
            encode(name),
            encode(name),
            encode(description)
        );
        if !ns.is_empty() {
            q.push_str(&format!("&namespace={}", encode(ns)));
        }
        let (ct, body) = multipart(yaml);
        self.call(
            "POST",
            &format!("/apis/v2beta1/pipelines/upload?{}", q),
            Some((&ct, body)),
        )
    }

    /// `POST /apis/v2beta1/pipelines/upload_version`.
    pub fn upload_version(
        &self,
        pipeline_id: &str,
        name: &str,
        description: &str,
        yaml: &[u8],
    ) -> anyhow::Result<Value> {
        let q = format!(
            "pipelineid={}&name={}&display_name={}&description={}",
            encode(pipeline_id),
            encode(name),
            encode(name),
            encode(description)
        );
        let (ct, body) = multipart(yaml);
        self.call(
            "POST",
            &format!("/apis/v2beta1/pipelines/upload_version?{}", q),
            Some((&ct, body)),
        )
    }

    pub fn list_recurring_runs(&self, ns: &str) -> anyhow::Result<Vec<Value>> {
        self.list_all(
            "/apis/v2beta1/recurringruns",
            &[("namespace", ns)],
            "recurringRuns",
        )
    }

    pub fn create_recurring_run(&self, body: &Value) -> anyhow::Result<Value> {
        self.post_json("/apis/v2beta1/recurringruns", body)
    }

    pub fn enable_recurring_run(&self, id: &str) -> anyhow::Result<()> {
        self.call(
            "POST",
            &format!("/apis/v2beta1/recurringruns/{}:enable", encode(id)),
            None,
        )
        .map(|_| ())
    }

    pub fn disable_recurring_run(&self, id: &str) -> anyhow::Result<()> {
        self.call(
            "POST",
            &format!("/apis/v2beta1/recurringruns/{}:disable", encode(id)),
            None,
        )
        .map(|_| ())
    }

    pub fn delete_recurring_run(&self, id: &str) -> anyhow::Result<()> {
        self.call(
            "DELETE",
            &format!("/apis/v2beta1/recurringruns/{}", encode(id)),
            None,
        )
        .map(|_| ())
    }

    pub fn create_run(&self, body: &Value) -> anyhow::Result<Value> {
        self.post_json("/apis/v2beta1/runs", body)
    }

    pub fn get_run(&self, id: &str) -> anyhow::Result<Value> {
        self.get(&format!("/apis/v2beta1/runs/{}", encode(id)))
    }
}

/// The kubeconfig's cluster: `--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`,
/// then the in-cluster service account (read by `kubeclient`, whose errors
/// never quote the file).
async fn kube_config(e: &Endpoint) -> anyhow::Result<kube::Config> {
    crate::kubeclient::load_config(&crate::kubeclient::Target {
        kubeconfig: e.kubeconfig.clone(),
        context: e.context.clone(),
        request_timeout: e.request_timeout,
    })
    .await
    .map_err(|err| {
        if err.to_string().starts_with("no cluster configured") {
            anyhow!("no cluster configured: pass --api-url, set KUBECONFIG, pass --kubeconfig, or run in a cluster")
        } else {
            err
        }
    })
}

/// A `multipart/form-data` body with the pipeline file as `uploadfile`, the
/// form field KFP's upload server reads. The file name's extension tells KFP
/// the format.
pub fn multipart(yaml: &[u8]) -> (String, Vec<u8>) {
    use sha2::{Digest, Sha256};
    let boundary = format!(
        "kfp-aws-{}",
        super::config::hex(&Sha256::digest(yaml)[..12])
    );
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{}\r\nContent-Disposition: form-data; name=\"uploadfile\"; filename=\"pipeline.yaml\"\r\nContent-Type: application/x-yaml\r\n\r\n",
            boundary
        )
        .as_bytes(),
    );
    body.extend_from_slice(yaml);
    body.extend_from_slice(format!("\r\n--{}--\r\n", boundary).as_bytes());
    (format!("multipart/form-data; boundary={}", boundary), body)
}

/// KFP's error text: grpc-gateway's `{code, message}` or the upload
/// server's `{error_message}`; otherwise the body itself, shortened.
fn error_message(text: &str) -> String {
    let msg = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.get("error_message"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| text.to_string());
    let one: String = msg.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.is_empty() {
        return "(no message)".into();
    }
    if one.chars().count() > 300 {
        let cut: String = one.chars().take(300).collect();
        return format!("{}…", cut);
    }
    one
}

fn describe(e: &kube::Error) -> String {
    crate::kubeclient::cause(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_path_and_encoding() {
        assert_eq!(
            proxy_prefix("kubeflow"),
            "/api/v1/namespaces/kubeflow/services/ml-pipeline:8888/proxy"
        );
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn multipart_names_the_upload_field() {
        let (ct, body) = multipart(b"x: 1\n");
        let b = String::from_utf8(body).unwrap();
        let boundary = ct.split("boundary=").nth(1).unwrap();
        assert!(b.starts_with(&format!("--{}\r\n", boundary)));
        assert!(b.contains("name=\"uploadfile\"; filename=\"pipeline.yaml\""));
        assert!(b.ends_with(&format!("\r\nx: 1\n\r\n--{}--\r\n", boundary)));
    }

    #[test]
    fn error_messages_are_one_line() {
        assert_eq!(
            error_message(r#"{"code":5,"message":"not\nfound"}"#),
            "not found"
        );
        assert_eq!(error_message(r#"{"error_message":"bad file"}"#), "bad file");
        assert_eq!(error_message(""), "(no message)");
    }
}
