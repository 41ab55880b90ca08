// Package kfpconfig runs upstream's own libraries on what kfp-aws renders:
// the configuration code that KFP 2.14.4 components are built on, fed with
// the rendered objects.
//
//   - The v2 launcher opens its bucket with gocloud.dev v0.40.0 (s3blob, AWS
//     SDK v2) from a URL built from kfp-launcher's defaultPipelineRoot when
//     credentials come from the environment. The tests open that URL with
//     gocloud itself, through a recording HTTPS proxy on 127.0.0.1, and check
//     the host the SDK chose and the region it signed for.
//   - The API server reads ObjectStoreConfig.* through viper over its
//     image's config.json (which holds MinIO's keys). The tests set up viper
//     as its main.go does and read the keys with the rendered environment.
//
// KFP's own module (github.com/kubeflow/pipelines) is not served by the Go
// module proxy, so the few lines of KFP that build the bucket URL
// (backend/src/v2/objectstore/config.go, bucketURL) and set up viper
// (backend/src/apiserver/main.go) are restated here, each marked.
//
// The kfp-aws binary comes from KFP_AWS_BIN. Nothing leaves 127.0.0.1: every
// HTTPS request goes through the local proxy, which answers itself.
package kfpconfig

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/viper"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob"
)

// A request the proxy saw.
type seen struct {
	Host, Method, Path, Authorization string
}

type recorder struct {
	mu   sync.Mutex
	reqs []seen
	ca   *x509.Certificate
	key  *ecdsa.PrivateKey
}

func (r *recorder) take() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

var rec *recorder

func TestMain(m *testing.M) {
	if os.Getenv("KFP_AWS_BIN") == "" {
		fmt.Fprintln(os.Stderr, "KFP_AWS_BIN must name the kfp-aws binary")
		os.Exit(2)
	}
	// The system roots are read once per process, before TestMain can set
	// SSL_CERT_FILE: make the CA first, then run the tests in a child
	// process that trusts it.
	dir := os.Getenv("KFPCONFIG_DIR")
	if dir == "" {
		os.Exit(parent())
	}
	var err error
	rec, err = startProxy(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(2)
	}
	// A pod with credentials from the chain but no region: what IRSA and
	// kube2iam give the launcher (the compiler sets no AWS_REGION).
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "NO_PROXY", "no_proxy", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		os.Unsetenv(k)
	}
	os.Setenv("AWS_ACCESS_KEY_ID", "AKIDHARNESSHARNESS00")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "harness-secret-not-real")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	os.Exit(m.Run())
}

// parent writes a CA into a fresh directory and runs the tests again in a
// child that trusts it; it returns the child's exit status.
func parent() int {
	dir, err := os.MkdirTemp("", "kfpconfig")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kfpconfig test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	caFile := filepath.Join(dir, "ca.pem")
	if os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600) != nil ||
		os.WriteFile(filepath.Join(dir, "ca-key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600) != nil {
		fmt.Fprintln(os.Stderr, "cannot write the test CA")
		return 2
	}
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	// Only the test CA is trusted (no SSL_CERT_DIR, no AWS_CA_BUNDLE), so a
	// request that went anywhere but the local proxy would fail.
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "SSL_CERT_FILE" && k != "SSL_CERT_DIR" && k != "AWS_CA_BUNDLE" {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "KFPCONFIG_DIR="+dir, "SSL_CERT_FILE="+caFile, "SSL_CERT_DIR="+dir)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

// startProxy serves an HTTP CONNECT proxy on 127.0.0.1 that terminates TLS
// itself with certificates of the test CA (trusted through SSL_CERT_FILE),
// records each request and answers 200. It never dials anywhere.
func startProxy(dir string) (*recorder, error) {
	cpem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, err
	}
	kpem, err := os.ReadFile(filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		return nil, err
	}
	cb, _ := pem.Decode(cpem)
	kb, _ := pem.Decode(kpem)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("bad test CA files")
	}
	ca, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, err
	}
	r := &recorder{ca: ca, key: key}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	proxy := "http://" + ln.Addr().String()
	os.Setenv("HTTPS_PROXY", proxy)
	os.Setenv("HTTP_PROXY", proxy)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r, nil
}

func (r *recorder) leaf(host string) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, r.ca, &key.PublicKey, r.key)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func (r *recorder) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		fmt.Fprint(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	target := req.Host
	if os.Getenv("KFPCONFIG_TRACE") != "" {
		fmt.Fprintln(os.Stderr, "proxy: CONNECT", target)
	}
	fmt.Fprint(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	host, _, _ := net.SplitHostPort(target)
	tc := tls.Server(c, &tls.Config{
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := h.ServerName
			if name == "" {
				name = host
			}
			return r.leaf(name)
		},
		NextProtos: []string{"http/1.1"},
	})
	if err := tc.Handshake(); err != nil {
		if os.Getenv("KFPCONFIG_TRACE") != "" {
			fmt.Fprintln(os.Stderr, "proxy: handshake:", err)
		}
		return
	}
	tr := bufio.NewReader(tc)
	for {
		in, err := http.ReadRequest(tr)
		if err != nil {
			return
		}
		body := make([]byte, 0)
		if in.Body != nil {
			buf := make([]byte, 4096)
			for {
				n, err := in.Body.Read(buf)
				body = append(body, buf[:n]...)
				if err != nil {
					break
				}
			}
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, seen{Host: in.Host, Method: in.Method, Path: in.URL.Path, Authorization: in.Header.Get("Authorization")})
		r.mu.Unlock()
		fmt.Fprint(tc, "HTTP/1.1 200 OK\r\nETag: \"0123456789abcdef0123456789abcdef\"\r\nContent-Length: 0\r\n\r\n")
	}
}

// render runs `kfp-aws render -o json` and returns its objects.
func render(t *testing.T, overlay string, sets ...string) []map[string]any {
	t.Helper()
	args := []string{"render", "-o", "json", "--no-crds", "--overlay", overlay}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(os.Getenv("KFP_AWS_BIN"), args...)
	cmd.Env = append(os.Environ(), "KFP_AWS_ACCESS_KEY_ID=AKIAEXAMPLEEXAMPLE00", "KFP_AWS_SECRET_ACCESS_KEY=example-secret-key-for-tests-only")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("kfp-aws %v: %v %s", args, err, msg)
	}
	var items []map[string]any
	if err := json.Unmarshal(out, &items); err != nil {
		var list map[string]any
		if err2 := json.Unmarshal(out, &list); err2 != nil {
			t.Fatalf("render output is not JSON: %v", err)
		}
		for _, it := range list["items"].([]any) {
			items = append(items, it.(map[string]any))
		}
	}
	return items
}

func find(t *testing.T, items []map[string]any, kind, name string) map[string]any {
	t.Helper()
	for _, it := range items {
		md, _ := it["metadata"].(map[string]any)
		if it["kind"] == kind && md["name"] == name {
			return it
		}
	}
	t.Fatalf("no %s %s in the render", kind, name)
	return nil
}

// bucketURL restates KFP 2.14.4's backend/src/v2/objectstore/config.go
// (ParseBucketPathToConfig, then Config.bucketURL): the URL the launcher
// opens with blob.OpenBucket when credentials come from the environment.
var bucketPattern = regexp.MustCompile(`(^[a-z][a-z0-9]+:///?)([^/?]+)(/[^?]*)?(\?.+)?$`)

func bucketURL(t *testing.T, root string) (string, string) {
	ms := bucketPattern.FindStringSubmatch(root)
	if ms == nil {
		t.Fatalf("pipeline root %q does not parse", root)
	}
	prefix := strings.TrimPrefix(ms[3], "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	q := ms[4]
	if prefix != "" {
		if q != "" {
			q += "&prefix=" + prefix
		} else {
			q = "?prefix=" + prefix
		}
	}
	return ms[1] + ms[2] + q, prefix
}

// write opens the bucket as the launcher does and writes one object.
func write(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		return err
	}
	defer b.Close()
	return b.WriteAll(ctx, "harness/probe.txt", []byte("probe"), nil)
}

func signedRegion(auth string) string {
	// AWS4-HMAC-SHA256 Credential=AKID/20260101/<region>/s3/aws4_request, ...
	m := regexp.MustCompile(`Credential=[^/]+/\d{8}/([^/]+)/s3/`).FindStringSubmatch(auth)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestLauncherOpensTheBucketInTheRenderedRegion(t *testing.T) {
	cases := []struct {
		name, host, region string
		sets               []string
	}{
		{"irsa", "kfp-artifacts-example.s3.us-east-1.amazonaws.com", "us-east-1", nil},
		{"irsa team-a eu-west-1", "kfp-artifacts-example.s3.eu-west-1.amazonaws.com", "eu-west-1",
			[]string{"namespace=team-a", "awsRegion=eu-west-1", "s3Endpoint=", "iamRoleArn=arn:aws:iam::123456789012:role/kfp-eu"}},
		{"kube2iam eu-central-1", "kfp-artifacts-example.s3.eu-central-1.amazonaws.com", "eu-central-1",
			[]string{"iamMode=kube2iam", "awsRegion=eu-central-1", "s3Endpoint=", "iamRoleArn=arn:aws:iam::123456789012:role/kfp-eu"}},
		{"china", "kfp-artifacts-example.s3.cn-north-1.amazonaws.com.cn", "cn-north-1",
			[]string{"awsRegion=cn-north-1", "s3Endpoint=", "iamRoleArn=arn:aws-cn:iam::123456789012:role/kfp"}},
		{"fips endpoint", "kfp-artifacts-example.s3-fips.us-east-1.amazonaws.com", "us-east-1",
			[]string{"s3Endpoint=s3-fips.us-east-1.amazonaws.com"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items := render(t, "iam", c.sets...)
			data := find(t, items, "ConfigMap", "kfp-launcher")["data"].(map[string]any)
			root := data["defaultPipelineRoot"].(string)
			url, prefix := bucketURL(t, root)
			rec.take()
			if err := write(url); err != nil {
				t.Fatalf("root %q: opening and writing with gocloud failed: %v", root, err)
			}
			reqs := rec.take()
			if len(reqs) == 0 {
				t.Fatalf("root %q: no request reached the proxy", root)
			}
			last := reqs[len(reqs)-1]
			host, _, _ := strings.Cut(last.Host, ":")
			if host != c.host || last.Method != http.MethodPut {
				t.Errorf("root %q: %s to %s, want PUT to %s", root, last.Method, last.Host, c.host)
			}
			if !strings.HasSuffix(last.Path, "/"+prefix+"harness/probe.txt") {
				t.Errorf("root %q: path %s, want the key under %s", root, last.Path, prefix)
			}
			if got := signedRegion(last.Authorization); got != c.region {
				t.Errorf("root %q: signed for region %q, want %q", root, got, c.region)
			}
		})
	}
}

// Without the query, as rendered before, the same pod cannot even sign: the
// region is nowhere (kubeflow/pipelines#10846, #11310).
func TestARootWithoutTheRegionFails(t *testing.T) {
	url, _ := bucketURL(t, "s3://kfp-artifacts-example/artifacts/v2")
	rec.take()
	err := write(url)
	if err == nil {
		t.Fatalf("a write without a region succeeded: %v", rec.take())
	}
	if !strings.Contains(strings.ToLower(err.Error()), "region") {
		t.Errorf("error %q does not name the region", err)
	}
}

// The access-key overlay's root has no query, so v2/config/s3.go uses the
// providers block and its secretRef (not run here: KFP's own module).
func TestAccessKeyRootHasNoQuery(t *testing.T) {
	items := render(t, "accesskey")
	root := find(t, items, "ConfigMap", "kfp-launcher")["data"].(map[string]any)["defaultPipelineRoot"].(string)
	if strings.Contains(root, "?") {
		t.Fatalf("accesskey root %q has a query", root)
	}
}

// configJSON holds the keys of the API server image's
// backend/src/apiserver/config/config.json that matter here.
const configJSON = `{
  "DBDriverName": "mysql",
  "ObjectStoreConfig": {
    "AccessKey": "minio",
    "SecretAccessKey": "minio123",
    "BucketName": "mlpipeline",
    "PipelinePath": "pipelines"
  }
}`

// apiServerViper restates the setup of backend/src/apiserver/main.go: the
// config file, `.` to `_` in environment names, AutomaticEnv and
// AllowEmptyEnv.
func apiServerViper(t *testing.T) *viper.Viper {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(configJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		t.Fatal(err)
	}
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	v.AllowEmptyEnv(true)
	return v
}

// setPodEnv sets the environment the kubelet would give the API server's
// container: literal values, and Secret and ConfigMap keys of the render.
func setPodEnv(t *testing.T, items []map[string]any) {
	dep := find(t, items, "Deployment", "ml-pipeline")
	spec := dep["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	var c map[string]any
	for _, x := range spec["containers"].([]any) {
		if x.(map[string]any)["name"] == "ml-pipeline-api-server" {
			c = x.(map[string]any)
		}
	}
	for _, e := range c["env"].([]any) {
		env := e.(map[string]any)
		name := env["name"].(string)
		if v, ok := env["value"]; ok {
			t.Setenv(name, v.(string))
			continue
		}
		from, _ := env["valueFrom"].(map[string]any)
		if ref, ok := from["secretKeyRef"].(map[string]any); ok {
			s := find(t, items, "Secret", ref["name"].(string))
			enc, _ := s["data"].(map[string]any)[ref["key"].(string)].(string)
			dec, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				t.Fatalf("Secret %s key %s: %v", ref["name"], ref["key"], err)
			}
			t.Setenv(name, string(dec))
		} else if ref, ok := from["configMapKeyRef"].(map[string]any); ok {
			cm := find(t, items, "ConfigMap", ref["name"].(string))
			t.Setenv(name, cm["data"].(map[string]any)[ref["key"].(string)].(string))
		}
	}
}

func TestAPIServerObjectStoreKeys(t *testing.T) {
	// Without any environment the image's MinIO keys win: the defect the
	// iam overlay has to undo.
	if got := apiServerViper(t).GetString("ObjectStoreConfig.AccessKey"); got != "minio" {
		t.Fatalf("config.json alone gives AccessKey %q, want minio", got)
	}
	for _, c := range []struct {
		name, overlay string
		sets          []string
		static        bool
	}{
		{"irsa", "iam", nil, false},
		{"kube2iam", "iam", []string{"iamMode=kube2iam"}, false},
		{"accesskey", "accesskey", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			items := render(t, c.overlay, c.sets...)
			setPodEnv(t, items)
			v := apiServerViper(t)
			ak := v.GetString("ObjectStoreConfig.AccessKey")
			sk := v.GetString("ObjectStoreConfig.SecretAccessKey")
			// client/minio.go: static keys only when both are non-empty;
			// otherwise the chain (env, then IAM: IRSA or instance profile).
			static := ak != "" && sk != ""
			if static != c.static {
				t.Fatalf("static keys in use: %v, want %v (AccessKey is minio's: %v)", static, c.static, ak == "minio")
			}
			if c.static && ak != "AKIAEXAMPLEEXAMPLE00" {
				t.Fatalf("the access key is not the rendered Secret's")
			}
			if got := v.GetString("ObjectStoreConfig.Region"); got != "us-east-1" {
				t.Errorf("Region %q", got)
			}
			if got := v.GetString("ObjectStoreConfig.BucketName"); got != "kfp-artifacts-example" {
				t.Errorf("BucketName %q", got)
			}
			if got := v.GetString("ObjectStoreConfig.PipelinePath"); got != "artifacts/pipelines" {
				t.Errorf("PipelinePath %q", got)
			}
		})
	}
}
