//! Strategic merge patch, as kustomize v5.5.0 applies it.
//!
//! kustomize does not use the apiserver's strategic merge: its
//! `patchesStrategicMerge` / `patches` transformers run kyaml's `merge2`
//! (a `walk.Walker` with the `Merger` visitor) with
//! `ListIncreaseDirection: MergeOptionsListPrepend`. This module reproduces
//! that walker closely, including its quirks, because output must match
//! `kubectl kustomize` byte for byte.
//!
//! # How the walk goes
//! * Maps: the field names of target and patch are walked in sorted order.
//!   A patch value of `null` removes the field; a field only in the patch is
//!   added (with its own `null`s and `$patch: delete` maps dropped); scalars and
//!   lists without a merge strategy are replaced whole. `$patch: replace` on a
//!   map replaces it, `$patch: delete` removes it, `$patch: merge` is the
//!   default. A patch map on a target scalar (and every other change of node
//!   kind) is an error.
//! * Lists are merged by key only where the schema marks them
//!   `x-kubernetes-patch-strategy: merge`; everywhere else (including all of a
//!   custom resource, whose `metadata` has no schema either) the patch list
//!   replaces the target's. kyaml's element-based inference of merge keys is
//!   switched off in `merge2.Merge` (`InferAssociativeLists` is false).
//! * Keyed lists: the patch's elements come first, in patch order, then the
//!   target's elements that the patch did not name, in target order (this is
//!   the prepend direction). A patch element with `$patch: delete` removes the
//!   matching element; an element `{$patch: replace}` makes the patch list
//!   replace the whole list; `$patch: replace` on an element is ignored (the
//!   target's element is kept unchanged, as in kyaml). With two merge keys
//!   (container `ports`: containerPort+protocol, Service `ports`: port+protocol,
//!   `topologySpreadConstraints`), every target element whose keys are all
//!   present is moved after the others, in target order, and a patch element
//!   that names a protocol the target element lacks does not match it.
//! * Primitive lists with a merge strategy (`finalizers`, `podCIDRs`) are
//!   unions: the patch's values first, then the target's other values.
//! * `$retainKeys`, `$setElementOrder/...` and `$deleteFromPrimitiveList/...`
//!   mean nothing to kyaml: they are ordinary fields and stay in the output,
//!   and so does a `$patch` element in a list without a merge strategy.
//! * A top-level `$patch: delete` deletes the object; a top-level
//!   `$patch: replace` leaves it unchanged (kustomize keeps the target node).
//!
//! # Merge keys (kyaml's built-in Kubernetes v1.21.2 OpenAPI)
//! | where | list | keys |
//! | --- | --- | --- |
//! | ObjectMeta (`metadata`, every built-in kind; pod template, job template and ephemeral volume claim template metadata) | `finalizers` | primitive union |
//! | ObjectMeta | `ownerReferences` | `uid` |
//! | PodSpec (Pod `spec`; `spec.template.spec` of PodTemplate, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job; CronJob `spec.jobTemplate.spec.template.spec`) | `containers`, `initContainers`, `ephemeralContainers` | `name` |
//! | PodSpec | `imagePullSecrets`, `volumes` | `name` |
//! | PodSpec | `hostAliases` | `ip` |
//! | PodSpec | `topologySpreadConstraints` | `topologyKey`, `whenUnsatisfiable` |
//! | Container (containers, initContainers) | `env` | `name` |
//! | Container | `ports` | `containerPort`, `protocol` |
//! | Container, EphemeralContainer | `volumeMounts` / `volumeDevices` | `mountPath` / `devicePath` |
//! | EphemeralContainer | `env` | `name` (its `ports` are replaced) |
//! | Service `spec` | `ports` | `port`, `protocol` |
//! | ServiceAccount | `secrets` | `name` (its `imagePullSecrets` are replaced) |
//! | Node | `spec.podCIDRs`; `status.addresses` | primitive; `type` |
//! | `status.conditions` of Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, Pod, Namespace, Node, PVC, Service, PDB, APIService; ComponentStatus `conditions` | | `type` |
//! | Pod `status.podIPs` | | `ip` |
//! | Mutating/ValidatingWebhookConfiguration | `webhooks` | `name` |
//! | CSINode `spec` | `drivers` | `name` |
//! | kustomize.config.k8s.io/v1beta1 Kustomization | `configMapGenerator`, `secretGenerator` | `name` |
//!
//! Everything else is replaced whole: `tolerations`, `envFrom`, `args`,
//! `command`, StatefulSet `volumeClaimTemplates`, RBAC `rules`, Ingress rules,
//! and so on. The schema is chosen by the exact apiVersion and kind (so
//! `extensions/v1beta1` Deployment, absent from the v1.21.2 schema, merges like
//! a custom resource). Inside a map that has no schema, a map carrying
//! `apiVersion` and `kind` of a built-in type takes that type's schema, as in
//! kyaml.
//!
//! The function merges only: restoring the target's name, kind and namespace
//! afterwards (kustomize's `Resource.ApplySmPatch`, which honours
//! `allowNameChange` / `allowKindChange`) is the caller's job.
//!
//! Map keys keep their place; keys added by the patch follow, sorted.
//!
//! # Where JSON input cannot carry what kyaml sees
//! * A null in the target is taken as written `null`/`~`, which survives a
//!   silent patch; kyaml drops an empty value (`key:`) in that case.
//! * A number or boolean from the patch over a target string becomes a string
//!   when the target string must have been quoted (`"3"`, `"true"`); over a
//!   quoted string that needs no quotes (`"abc"`) kyaml would make it a string
//!   too, here it stays a number.
//! * Unknown fields inside built-in kinds are treated as schema-covered, so
//!   the apiVersion/kind lookup above happens only where kyaml surely has no
//!   schema (custom resources and kinds outside the table).
//! * Nesting deeper than `MAX_DEPTH` levels is refused instead of walked.

use serde_json::{Map, Value};
use std::fmt;

/// Outcome of applying one strategic merge patch to one object.
pub enum SmpOutcome {
    Merged(Value),
    Deleted,
}

/// A patch kustomize would refuse.
#[derive(Debug)]
pub struct SmpError {
    pub message: String,
}

impl fmt::Display for SmpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SmpError {}

fn err<T>(message: impl Into<String>) -> Result<T, SmpError> {
    Err(SmpError {
        message: message.into(),
    })
}

/// Deepest nesting accepted, to keep the recursive walk far from the stack limit.
const MAX_DEPTH: usize = 200;

/// `api_version` like "apps/v1" or "v1", `kind` like "Deployment": selects the built-in merge-key schema.
/// Objects of kinds without a built-in schema (custom resources) fall back to kyaml's schema-less rules.
pub fn strategic_merge(
    target: &Value,
    patch: &Value,
    api_version: &str,
    kind: &str,
) -> Result<SmpOutcome, SmpError> {
    if !target.is_object() {
        return err("strategic merge patch: the target object is not a mapping");
    }
    if !patch.is_object() {
        return err("strategic merge patch: the patch is not a mapping");
    }
    if depth_exceeds(target, MAX_DEPTH) || depth_exceeds(patch, MAX_DEPTH) {
        return err(format!(
            "strategic merge patch: nesting deeper than {} levels",
            MAX_DEPTH
        ));
    }
    let mut t = Tree { nodes: Vec::new() };
    let dest = t.import(target);
    let origin = t.import(patch);
    // kyaml takes the schema from the target's apiVersion and kind (kustomize
    // gives the patch the target's apiVersion; its kind stays the patch's).
    let root = root_type(api_version, kind)
        .or_else(|| {
            let (av, k) = t.type_meta(dest);
            root_type(&av, &k)
        })
        .or_else(|| {
            let (_, k) = t.type_meta(origin);
            root_type(api_version, &k)
        });
    let sch = root.map_or(Sch::Nil, Sch::Obj);
    // the root's schema is settled: no further lookup there
    let walked = t.walk([Some(dest), Some(origin)], sch, 0, false)?;
    if walked.is_none() {
        return Ok(SmpOutcome::Deleted);
    }
    // kustomize keeps the target node, merged in place; a node returned in its
    // stead (top-level `$patch: replace`) is dropped.
    let out = t.export(dest);
    if out.as_object().map(|m| m.is_empty()).unwrap_or(true) {
        return Ok(SmpOutcome::Deleted);
    }
    Ok(SmpOutcome::Merged(out))
}

fn depth_exceeds(v: &Value, limit: usize) -> bool {
    let mut stack = vec![(v, 0usize)];
    while let Some((v, d)) = stack.pop() {
        if d > limit {
            return true;
        }
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Value::Object(m) => stack.extend(m.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    false
}

// ---------------------------------------------------------------------------
// Schema: the parts of kyaml's built-in OpenAPI that change how a merge goes.

type Fields = &'static [(&'static str, F)];

/// A field that leads to a list with a merge strategy.
#[derive(Clone, Copy)]
enum F {
    /// An object type with such fields below it.
    Obj(Fields),
    /// A list with `x-kubernetes-patch-strategy: merge`: its merge keys (none
    /// for a primitive list) and the element type when it matters.
    List(&'static [&'static str], Option<Fields>),
}

/// The schema of the node being walked.
#[derive(Clone, Copy)]
enum Sch {
    /// kyaml has no schema here: lists are replaced, and a map with a
    /// built-in apiVersion and kind takes that type's schema.
    Nil,
    /// A known type with no merge lists below it.
    Opaque,
    Obj(Fields),
    MergeList(&'static [&'static str], Option<Fields>),
}

impl Sch {
    fn field(self, name: &str) -> Sch {
        match self {
            Sch::Nil => Sch::Nil,
            Sch::Opaque => Sch::Opaque,
            Sch::Obj(fields) => match fields.iter().find(|(n, _)| *n == name) {
                Some((_, F::Obj(f))) => Sch::Obj(f),
                Some((_, F::List(k, e))) => Sch::MergeList(k, *e),
                None => Sch::Opaque,
            },
            // An array schema has no properties.
            Sch::MergeList(..) => Sch::Nil,
        }
    }

    fn elements(self) -> Sch {
        match self {
            Sch::MergeList(_, Some(f)) => Sch::Obj(f),
            Sch::MergeList(_, None) | Sch::Opaque => Sch::Opaque,
            Sch::Obj(_) | Sch::Nil => Sch::Nil,
        }
    }
}

const NAME: &[&str] = &["name"];
const TYPE: &[&str] = &["type"];
const PRIMITIVE: &[&str] = &[];

static OBJECT_META: Fields = &[
    ("finalizers", F::List(PRIMITIVE, None)),
    ("ownerReferences", F::List(&["uid"], None)),
];
static CONTAINER: Fields = &[
    ("env", F::List(NAME, None)),
    ("ports", F::List(&["containerPort", "protocol"], None)),
    ("volumeDevices", F::List(&["devicePath"], None)),
    ("volumeMounts", F::List(&["mountPath"], None)),
];
static EPHEMERAL_CONTAINER: Fields = &[
    ("env", F::List(NAME, None)),
    ("volumeDevices", F::List(&["devicePath"], None)),
    ("volumeMounts", F::List(&["mountPath"], None)),
];
static PVC_TEMPLATE: Fields = &[("metadata", F::Obj(OBJECT_META))];
static EPHEMERAL_VOLUME_SOURCE: Fields = &[("volumeClaimTemplate", F::Obj(PVC_TEMPLATE))];
static VOLUME: Fields = &[("ephemeral", F::Obj(EPHEMERAL_VOLUME_SOURCE))];
static POD_SPEC: Fields = &[
    ("containers", F::List(NAME, Some(CONTAINER))),
    (
        "ephemeralContainers",
        F::List(NAME, Some(EPHEMERAL_CONTAINER)),
    ),
    ("hostAliases", F::List(&["ip"], None)),
    ("imagePullSecrets", F::List(NAME, None)),
    ("initContainers", F::List(NAME, Some(CONTAINER))),
    (
        "topologySpreadConstraints",
        F::List(&["topologyKey", "whenUnsatisfiable"], None),
    ),
    ("volumes", F::List(NAME, Some(VOLUME))),
];
static POD_TEMPLATE_SPEC: Fields = &[
    ("metadata", F::Obj(OBJECT_META)),
    ("spec", F::Obj(POD_SPEC)),
];
static CONDITIONS: Fields = &[("conditions", F::List(TYPE, None))];
static TEMPLATE_SPEC: Fields = &[("template", F::Obj(POD_TEMPLATE_SPEC))];
static WORKLOAD: Fields = &[
    ("metadata", F::Obj(OBJECT_META)),
    ("spec", F::Obj(TEMPLATE_SPEC)),
    ("status", F::Obj(CONDITIONS)),
];
static JOB_TEMPLATE_SPEC: Fields = &[
    ("metadata", F::Obj(OBJECT_META)),
    ("spec", F::Obj(TEMPLATE_SPEC)),
];
static CRON_JOB: Fields = &[
    ("metadata", F::Obj(OBJECT_META)),
    (
        "spec",
        F::Obj(&[("jobTemplate", F::Obj(JOB_TEMPLATE_SPEC))]),
    ),
];
static POD: Fields = &[
    ("metadata", F::Obj(OBJECT_META)),
    ("spec", F::Obj(POD_SPEC)),
    (
        "status",
        F::Obj(&[
            ("conditions", F::List(TYPE, None)),
            ("podIPs", F::List(&["ip"], None)),
        ]),
    ),
];
static POD_TEMPLATE: Fields = &[
    ("metadata", F::Obj(OBJECT_META)),
    ("template", F::Obj(POD_TEMPLATE_SPEC)),
];
static SERVICE: Fields = &[
    ("metadata", F::Obj(OBJECT_META)),
    (
        "spec",
        F::Obj(&[("ports", F::List(&["port", "protocol"], None))]),
    ),
    ("status", F::Obj(CONDITIONS)),
];
static SERVICE_ACCOUNT: Fields = &[
    ("metadata", F::Obj(OBJECT_META)),
    ("secrets", F::List(NAME, None)),
];
static NODE: Fields = &[
    ("metadata", F::Obj(OBJECT_META)),
    ("spec", F::Obj(&[("podCIDRs", F::List(PRIMITIVE, None))])),
    (
        "status",
        F::Obj(&[
            ("addresses", F::List(TYPE, None)),
            ("conditions", F::List(TYPE, None)),
        ]),
    ),
];
static WITH_STATUS_CONDITIONS: Fields = &[
    ("metadata", F::Obj(OBJECT_META)),
    ("status", F::Obj(CONDITIONS)),
];
static COMPONENT_STATUS: Fields = &[
    ("conditions", F::List(TYPE, None)),
    ("metadata", F::Obj(OBJECT_META)),
];
static WEBHOOK_CONFIGURATION: Fields = &[
    ("metadata", F::Obj(OBJECT_META)),
    ("webhooks", F::List(NAME, None)),
];
static CSI_NODE: Fields = &[
    ("metadata", F::Obj(OBJECT_META)),
    ("spec", F::Obj(&[("drivers", F::List(NAME, None))])),
];
static META_ONLY: Fields = &[("metadata", F::Obj(OBJECT_META))];
static KUSTOMIZATION: Fields = &[
    ("configMapGenerator", F::List(NAME, None)),
    ("secretGenerator", F::List(NAME, None)),
];

/// The built-in schema of a resource type, by exact apiVersion and kind.
fn root_type(api_version: &str, kind: &str) -> Option<Fields> {
    let av = api_version;
    let f = match kind {
        "Deployment" | "DaemonSet" | "ReplicaSet" | "StatefulSet" if av == "apps/v1" => WORKLOAD,
        "ReplicationController" if av == "v1" => WORKLOAD,
        "Job" if av == "batch/v1" => WORKLOAD,
        "CronJob" if av == "batch/v1" || av == "batch/v1beta1" => CRON_JOB,
        "Pod" if av == "v1" => POD,
        "PodTemplate" if av == "v1" => POD_TEMPLATE,
        "Service" if av == "v1" => SERVICE,
        "ServiceAccount" if av == "v1" => SERVICE_ACCOUNT,
        "Node" if av == "v1" => NODE,
        "Namespace" | "PersistentVolumeClaim" if av == "v1" => WITH_STATUS_CONDITIONS,
        "PodDisruptionBudget" if av == "policy/v1" || av == "policy/v1beta1" => {
            WITH_STATUS_CONDITIONS
        }
        "APIService"
            if av == "apiregistration.k8s.io/v1" || av == "apiregistration.k8s.io/v1beta1" =>
        {
            WITH_STATUS_CONDITIONS
        }
        "ComponentStatus" if av == "v1" => COMPONENT_STATUS,
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration"
            if av == "admissionregistration.k8s.io/v1"
                || av == "admissionregistration.k8s.io/v1beta1" =>
        {
            WEBHOOK_CONFIGURATION
        }
        "CSINode" if av == "storage.k8s.io/v1" || av == "storage.k8s.io/v1beta1" => CSI_NODE,
        "Kustomization" if av == "kustomize.config.k8s.io/v1beta1" => KUSTOMIZATION,
        _ if meta_only_kind(av, kind) => META_ONLY,
        _ => return None,
    };
    Some(f)
}

/// Built-in kinds (v1.21.2) whose only merge lists are in `metadata`.
fn meta_only_kind(av: &str, kind: &str) -> bool {
    const KINDS: &[(&str, &[&str])] = &[
        (
            "v1",
            &[
                "Binding",
                "ConfigMap",
                "Endpoints",
                "Event",
                "LimitRange",
                "PersistentVolume",
                "ResourceQuota",
                "Secret",
            ],
        ),
        ("apps/v1", &["ControllerRevision"]),
        ("authentication.k8s.io/v1", &["TokenRequest", "TokenReview"]),
        ("authentication.k8s.io/v1beta1", &["TokenReview"]),
        (
            "authorization.k8s.io/v1",
            &[
                "LocalSubjectAccessReview",
                "SelfSubjectAccessReview",
                "SelfSubjectRulesReview",
                "SubjectAccessReview",
            ],
        ),
        (
            "authorization.k8s.io/v1beta1",
            &[
                "LocalSubjectAccessReview",
                "SelfSubjectAccessReview",
                "SelfSubjectRulesReview",
                "SubjectAccessReview",
            ],
        ),
        ("autoscaling/v1", &["HorizontalPodAutoscaler", "Scale"]),
        ("autoscaling/v2beta1", &["HorizontalPodAutoscaler"]),
        ("autoscaling/v2beta2", &["HorizontalPodAutoscaler"]),
        ("certificates.k8s.io/v1", &["CertificateSigningRequest"]),
        (
            "certificates.k8s.io/v1beta1",
            &["CertificateSigningRequest"],
        ),
        ("coordination.k8s.io/v1", &["Lease"]),
        ("coordination.k8s.io/v1beta1", &["Lease"]),
        ("discovery.k8s.io/v1", &["EndpointSlice"]),
        ("discovery.k8s.io/v1beta1", &["EndpointSlice"]),
        ("events.k8s.io/v1", &["Event"]),
        ("events.k8s.io/v1beta1", &["Event"]),
        ("extensions/v1beta1", &["Ingress"]),
        (
            "flowcontrol.apiserver.k8s.io/v1beta1",
            &["FlowSchema", "PriorityLevelConfiguration"],
        ),
        (
            "networking.k8s.io/v1",
            &["Ingress", "IngressClass", "NetworkPolicy"],
        ),
        ("networking.k8s.io/v1beta1", &["Ingress", "IngressClass"]),
        ("node.k8s.io/v1", &["RuntimeClass"]),
        ("node.k8s.io/v1beta1", &["RuntimeClass"]),
        ("policy/v1beta1", &["Eviction", "PodSecurityPolicy"]),
        (
            "rbac.authorization.k8s.io/v1",
            &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
        ),
        (
            "rbac.authorization.k8s.io/v1beta1",
            &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
        ),
        ("scheduling.k8s.io/v1", &["PriorityClass"]),
        ("scheduling.k8s.io/v1beta1", &["PriorityClass"]),
        (
            "storage.k8s.io/v1",
            &["CSIDriver", "StorageClass", "VolumeAttachment"],
        ),
        (
            "storage.k8s.io/v1beta1",
            &[
                "CSIDriver",
                "CSIStorageCapacity",
                "StorageClass",
                "VolumeAttachment",
            ],
        ),
        ("apiextensions.k8s.io/v1", &["CustomResourceDefinition"]),
        (
            "apiextensions.k8s.io/v1beta1",
            &["CustomResourceDefinition"],
        ),
    ];
    KINDS.iter().any(|(v, ks)| *v == av && ks.contains(&kind))
}

// ---------------------------------------------------------------------------
// Nodes. kyaml mutates yaml.Node pointers in place and sometimes holds the
// same node in two places; an arena of nodes addressed by index keeps those
// semantics.

type Id = usize;

#[derive(Clone)]
enum Node {
    /// A scalar tagged `!!null` (from `null`, `~` or an empty value).
    Null,
    /// Any other scalar. `Value::Null` here is kyaml's untagged copy of a null.
    Scalar(Value),
    Map(Vec<(String, Id)>),
    Seq(Vec<Id>),
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Scalar,
    Map,
    Seq,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Scalar => "ScalarNode",
            Kind::Map => "MappingNode",
            Kind::Seq => "SequenceNode",
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Directive {
    Unknown,
    Replace,
    Delete,
    Merge,
}

struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    fn add(&mut self, n: Node) -> Id {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    fn import(&mut self, v: &Value) -> Id {
        let n = match v {
            Value::Null => Node::Null,
            Value::Array(a) => Node::Seq(a.iter().map(|x| self.import(x)).collect()),
            Value::Object(m) => {
                Node::Map(m.iter().map(|(k, x)| (k.clone(), self.import(x))).collect())
            }
            other => Node::Scalar(other.clone()),
        };
        self.add(n)
    }

    fn export(&self, id: Id) -> Value {
        match &self.nodes[id] {
            Node::Null => Value::Null,
            Node::Scalar(v) => v.clone(),
            Node::Seq(items) => Value::Array(items.iter().map(|&i| self.export(i)).collect()),
            Node::Map(fields) => {
                let mut m = Map::new();
                for (k, i) in fields {
                    // a duplicated key keeps its first value, as a lookup would find
                    if !m.contains_key(k) {
                        m.insert(k.clone(), self.export(*i));
                    }
                }
                Value::Object(m)
            }
        }
    }

    fn kind(&self, id: Id) -> Kind {
        match self.nodes[id] {
            Node::Null | Node::Scalar(_) => Kind::Scalar,
            Node::Map(_) => Kind::Map,
            Node::Seq(_) => Kind::Seq,
        }
    }

    fn is_null(&self, id: Id) -> bool {
        matches!(self.nodes[id], Node::Null)
    }

    /// `yaml.IsMissingOrNull`
    fn missing_or_null(&self, n: Option<Id>) -> bool {
        match n {
            Some(i) => self.is_null(i),
            None => true,
        }
    }

    /// `yaml.IsEmptyMap`
    fn empty_map(&self, n: Option<Id>) -> bool {
        match n {
            None => true,
            Some(i) => match &self.nodes[i] {
                Node::Null => true,
                Node::Map(f) => f.is_empty(),
                _ => false,
            },
        }
    }

    fn is_map(&self, id: Id) -> bool {
        matches!(self.nodes[id], Node::Map(_))
    }

    /// The node's `Value` text: the scalar as written, "" for collections.
    fn text(&self, id: Id) -> String {
        match &self.nodes[id] {
            Node::Null => "null".to_string(),
            Node::Scalar(v) => scalar_text(v),
            Node::Map(_) | Node::Seq(_) => String::new(),
        }
    }

    /// The value text of a field, "" when missing, null, empty or a collection
    /// (`ElementValuesList`, `GetMeta`).
    fn field_text(&self, id: Id, key: &str) -> String {
        match self.field(id, key) {
            None => String::new(),
            Some(v) => match &self.nodes[v] {
                Node::Null => String::new(),
                _ => self.text(v),
            },
        }
    }

    fn field(&self, id: Id, name: &str) -> Option<Id> {
        match &self.nodes[id] {
            Node::Map(f) => f.iter().find(|(k, _)| k == name).map(|(_, v)| *v),
            _ => None,
        }
    }

    fn content(&self, id: Id) -> Vec<Id> {
        match &self.nodes[id] {
            Node::Seq(items) => items.clone(),
            _ => Vec::new(),
        }
    }

    fn set_content(&mut self, id: Id, items: Vec<Id>) {
        self.nodes[id] = Node::Seq(items);
    }

    fn type_meta(&self, id: Id) -> (String, String) {
        (
            self.field_text(id, "apiVersion"),
            self.field_text(id, "kind"),
        )
    }

    fn wrong_kind(&self, expected: Kind, id: Id) -> SmpError {
        let got = self.kind(id);
        SmpError {
            message: format!(
                "wrong node kind: expected {} but got {}: node contents:\n{}",
                expected.name(),
                got.name(),
                self.export(id)
            ),
        }
    }

    /// `ErrorIfInvalid`: a missing or null node passes.
    fn require(&self, n: Option<Id>, expected: Kind) -> Result<(), SmpError> {
        match n {
            Some(i) if !self.is_null(i) && self.kind(i) != expected => {
                Err(self.wrong_kind(expected, i))
            }
            _ => Ok(()),
        }
    }

    // -- the walker ---------------------------------------------------------

    /// `Walker.Walk` over the sources [dest, origin].
    fn walk(
        &mut self,
        src: [Option<Id>; 2],
        sch: Sch,
        depth: usize,
        lookup: bool,
    ) -> Result<Option<Id>, SmpError> {
        if depth > MAX_DEPTH {
            return err("strategic merge patch: nesting too deep");
        }
        let sch = match sch {
            Sch::Nil if lookup => self.schema_of(&src),
            s => s,
        };
        let kind = src
            .iter()
            .flatten()
            .copied()
            .find(|&i| !self.is_null(i))
            .map(|i| self.kind(i));
        match kind {
            Some(k) => {
                for s in src {
                    self.require(s, k)?;
                }
                match k {
                    Kind::Map => self.walk_map(src, sch, depth),
                    Kind::Seq if matches!(sch, Sch::MergeList(..)) => {
                        self.walk_associative(src, sch, depth)
                    }
                    // non-associative list and scalar: the patch's value wins
                    Kind::Seq | Kind::Scalar => Ok(if src[1].is_some() { src[1] } else { src[0] }),
                }
            }
            None => self.walk_map(src, sch, depth),
        }
    }

    /// `GetSchema` for a node without one: the schema of a built-in type named
    /// by a source's apiVersion and kind.
    fn schema_of(&self, src: &[Option<Id>; 2]) -> Sch {
        for &i in src.iter().flatten() {
            if self.is_null(i) || !self.is_map(i) {
                continue;
            }
            let (av, k) = self.type_meta(i);
            if av.is_empty() || k.is_empty() {
                continue;
            }
            if let Some(f) = root_type(&av, &k) {
                return Sch::Obj(f);
            }
        }
        Sch::Nil
    }

    /// `Merger.VisitMap`
    fn visit_map(&mut self, src: &[Option<Id>; 2]) -> Result<Option<Id>, SmpError> {
        let [dest, origin] = *src;
        if self.missing_or_null(dest) {
            // errors are ignored here, as in kyaml
            let ps = self.directive(origin).unwrap_or(Directive::Unknown);
            if ps == Directive::Delete {
                return Ok(None);
            }
            if origin.is_none() {
                if let Some(d) = dest {
                    // an explicit null in the target survives when the patch is silent
                    let kept = match &self.nodes[d] {
                        Node::Null => Value::Null,
                        Node::Scalar(v) => v.clone(),
                        _ => Value::Null,
                    };
                    return Ok(Some(self.add(Node::Scalar(kept))));
                }
            }
            return Ok(origin);
        }
        if origin.is_some_and(|o| self.is_null(o)) {
            return Ok(None);
        }
        match self.directive(origin)? {
            Directive::Delete => Ok(None),
            Directive::Replace => Ok(origin),
            _ => Ok(dest),
        }
    }

    /// `Merger.VisitList` for an associative list.
    fn visit_list(&mut self, src: &[Option<Id>; 2]) -> Result<Option<Id>, SmpError> {
        let [dest, origin] = *src;
        if self.missing_or_null(dest) {
            return Ok(origin);
        }
        if origin.is_some_and(|o| self.is_null(o)) {
            return Ok(None);
        }
        match self.directive(origin)? {
            Directive::Delete => Ok(None),
            Directive::Replace => Ok(origin),
            _ => Ok(dest),
        }
    }

    /// `determineSmpDirective`: reads `$patch` and removes it from the patch.
    fn directive(&mut self, patch: Option<Id>) -> Result<Directive, SmpError> {
        let Some(p) = patch else {
            return Ok(Directive::Merge);
        };
        match self.kind(p) {
            Kind::Map => {
                let Some(v) = self.field(p, "$patch") else {
                    return Ok(Directive::Merge);
                };
                let text = self.text(v);
                let d = parse_directive(&text)?;
                self.clear_field(p, "$patch")?;
                Ok(d)
            }
            Kind::Seq => {
                // the first map element with a `$patch` field
                let found = self
                    .content(p)
                    .into_iter()
                    .find(|&e| self.is_map(e) && self.field(e, "$patch").is_some());
                let Some(e) = found else {
                    return Ok(Directive::Merge);
                };
                let single = matches!(&self.nodes[e], Node::Map(f) if f.len() <= 1);
                if !single {
                    return Ok(Directive::Merge);
                }
                let Some(v) = self.field(e, "$patch") else {
                    return Ok(Directive::Merge);
                };
                let text = self.text(v);
                let d = parse_directive(&text)?;
                self.element_setter(p, None, &["$patch".to_string()], &[text])?;
                Ok(d)
            }
            Kind::Scalar => err(format!(
                "no implemented strategic merge patch strategy for '{}'",
                self.export(p)
            )),
        }
    }

    /// `FieldClearer`
    fn clear_field(&mut self, id: Id, name: &str) -> Result<(), SmpError> {
        self.require(Some(id), Kind::Map)?;
        if let Node::Map(f) = &mut self.nodes[id] {
            if let Some(pos) = f.iter().position(|(k, _)| k == name) {
                f.remove(pos);
            }
        }
        Ok(())
    }

    /// `FieldSetter{Name, Value}`: a missing or null value clears the field.
    fn set_field(&mut self, id: Id, name: &str, val: Option<Id>) -> Result<(), SmpError> {
        let Some(v) = val.filter(|&v| !self.is_null(v)) else {
            return self.clear_field(id, name);
        };
        if self.is_null(id) {
            return Ok(());
        }
        self.require(Some(id), Kind::Map)?;
        match self.field(id, name) {
            Some(existing) => {
                if existing != v {
                    let mut n = self.nodes[v].clone();
                    // kyaml keeps the target's quoting style: a number or
                    // boolean written over a quoted string stays a string
                    if let (Node::Scalar(Value::String(old)), Node::Scalar(new)) =
                        (&self.nodes[existing], &n)
                    {
                        if matches!(new, Value::Number(_) | Value::Bool(_))
                            && !resolve_plain(old).is_string()
                        {
                            n = Node::Scalar(Value::String(scalar_text(new)));
                        }
                    }
                    self.nodes[existing] = n;
                }
            }
            None => {
                if let Node::Map(f) = &mut self.nodes[id] {
                    f.push((name.to_string(), v));
                }
            }
        }
        Ok(())
    }

    /// `walkMap`
    fn walk_map(
        &mut self,
        mut src: [Option<Id>; 2],
        sch: Sch,
        depth: usize,
    ) -> Result<Option<Id>, SmpError> {
        let dest = self.visit_map(&src)?;
        src[0] = dest;
        let Some(dest) = dest else { return Ok(None) };
        let mut names: Vec<String> = Vec::new();
        for &s in src.iter().flatten() {
            if let Node::Map(f) = &self.nodes[s] {
                names.extend(f.iter().map(|(k, _)| k.clone()));
            }
        }
        names.sort();
        names.dedup();
        for name in names {
            let fv = [
                src[0].and_then(|s| self.field(s, &name)),
                src[1].and_then(|s| self.field(s, &name)),
            ];
            let val = self.walk(fv, sch.field(&name), depth + 1, true)?;
            self.set_field(dest, &name, val)?;
        }
        Ok(Some(dest))
    }

    /// `walkAssociativeSequence`
    fn walk_associative(
        &mut self,
        mut src: [Option<Id>; 2],
        sch: Sch,
        depth: usize,
    ) -> Result<Option<Id>, SmpError> {
        let dest = self.visit_list(&src)?;
        src[0] = dest;
        let Some(dest) = dest else { return Ok(None) };
        let keys: Vec<String> = match sch {
            Sch::MergeList(k, _) => k.iter().map(|s| s.to_string()).collect(),
            _ => Vec::new(),
        };
        let elem_sch = sch.elements();
        let values = self.element_values(&src, &keys);
        if !values.is_empty() || !keys.is_empty() {
            return self.set_elements(values, &keys, dest, &src, elem_sch, depth);
        }
        let values = self.element_primitive_values(&src);
        self.set_elements(values, &[String::new()], dest, &src, elem_sch, depth)
    }

    /// Key values of every element, patch first (the prepend direction), unique.
    fn element_values(&self, src: &[Option<Id>; 2], keys: &[String]) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for s in [src[1], src[0]].into_iter().flatten() {
            for e in self.content(s) {
                let vals: Vec<String> = keys.iter().map(|k| self.field_text(e, k)).collect();
                if vals.is_empty() || out.contains(&vals) {
                    continue;
                }
                out.push(vals);
            }
        }
        out
    }

    /// The values of a primitive list, patch first, unique.
    fn element_primitive_values(&self, src: &[Option<Id>; 2]) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for s in [src[1], src[0]].into_iter().flatten() {
            for e in self.content(s) {
                let v = vec![self.text(e)];
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// `setAssociativeSequenceElements`
    fn set_elements(
        &mut self,
        mut values_list: Vec<Vec<String>>,
        keys: &[String],
        dest: Id,
        src: &[Option<Id>; 2],
        elem_sch: Sch,
        depth: usize,
    ) -> Result<Option<Id>, SmpError> {
        let items = self.add(Node::Seq(Vec::new()));
        if keys.len() > 1 {
            merge_values(&mut values_list);
        }
        let mut valid_keys: Vec<String> = Vec::new();
        for values in values_list.clone() {
            if values.is_empty() {
                continue;
            }
            let (vk, vv) = validate_keys(&values_list, &values, keys);
            valid_keys = vk;
            let valid_values = vv;
            let sources = self.element_value_list(src, &valid_keys, &valid_values);
            let val = self.walk(sources, elem_sch, depth + 1, true)?;
            let mut deleted = false;
            for (i, key) in valid_keys.iter().enumerate() {
                if self.missing_or_null(val) || self.empty_map(val) {
                    self.element_setter(dest, None, &valid_keys, &valid_values)?;
                    deleted = true;
                } else if let Some(v) = val {
                    let kv = valid_values.get(i).cloned().unwrap_or_default();
                    if self.field(v, key).is_none() && !kv.is_empty() {
                        self.set_key_field(v, key, &kv)?;
                    }
                }
            }
            if deleted {
                continue;
            }
            self.element_setter(items, val, &valid_keys, &valid_values)?;
        }
        let mut dest = dest;
        if !values_list.is_empty() {
            // prepend: the target's elements are set into the patch-ordered list
            self.append_list_node(items, dest, &valid_keys)?;
            dest = items;
        }
        if self.is_null(dest) {
            return Ok(None);
        }
        Ok(Some(dest))
    }

    /// `SetField(key, NewScalarRNode(value))` on a merged element that lost its key.
    fn set_key_field(&mut self, v: Id, key: &str, text: &str) -> Result<(), SmpError> {
        if key.is_empty() {
            // a scalar set to its own text: nothing changes
            return self.require(Some(v), Kind::Scalar);
        }
        let s = self.add(Node::Scalar(resolve_plain(text)));
        self.set_field(v, key, Some(s))
    }

    /// `elementValueList`: the element of each source matching the key values.
    fn element_value_list(
        &self,
        src: &[Option<Id>; 2],
        keys: &[String],
        values: &[String],
    ) -> [Option<Id>; 2] {
        let (keys, values) = validate_keys(&[values.to_vec()], values, keys);
        let find = |s: Option<Id>| s.and_then(|s| self.element_list(s, &keys, &values));
        [find(src[0]), find(src[1])]
    }

    /// `RNode.ElementList` (an `ElementMatcher` whose errors read as no match).
    fn element_list(&self, seq: Id, keys: &[String], values: &[String]) -> Option<Id> {
        if self.kind(seq) != Kind::Seq || self.is_null(seq) {
            return None;
        }
        let keys: Vec<String> = if keys.is_empty() {
            vec![String::new()]
        } else {
            keys.to_vec()
        };
        let values: Vec<String> = if values.is_empty() {
            vec![String::new()]
        } else {
            values.to_vec()
        };
        let items = self.content(seq);
        if keys[0].is_empty() {
            return items.into_iter().find(|&e| self.text(e) == values[0]);
        }
        for e in items {
            if !self.is_map(e) && !self.is_null(e) {
                continue;
            }
            if keys.len() != values.len() {
                return None;
            }
            if self.is_null(e) {
                continue;
            }
            let all = keys
                .iter()
                .zip(values.iter())
                .all(|(k, v)| match &self.nodes[e] {
                    Node::Map(f) => f.iter().any(|(fk, fv)| fk == k && self.text(*fv) == *v),
                    _ => false,
                });
            if all {
                return Some(e);
            }
        }
        None
    }

    /// `FieldMatcher{Name, StringValue}` on a list element: with an empty
    /// value any value of the field matches; an empty name compares scalars.
    fn field_matcher(&self, elem: Id, name: &str, value: &str) -> Result<Option<Id>, SmpError> {
        if self.is_null(elem) {
            return Ok(None);
        }
        if name.is_empty() {
            self.require(Some(elem), Kind::Scalar)?;
            return Ok(if self.text(elem) == value {
                Some(elem)
            } else {
                None
            });
        }
        self.require(Some(elem), Kind::Map)?;
        if let Node::Map(f) = &self.nodes[elem] {
            for (k, v) in f {
                if k == name && (value.is_empty() || self.text(*v) == value) {
                    return Ok(Some(*v));
                }
            }
        }
        Ok(None)
    }

    /// `ElementSetter`: replaces (or, without an element, deletes) the elements
    /// matching the key values, appending the element when none matched.
    /// Like kyaml it drops null and empty-map elements on the way, and drops
    /// every element when given keys but no values.
    fn element_setter(
        &mut self,
        seq: Id,
        element: Option<Id>,
        keys: &[String],
        values: &[String],
    ) -> Result<Option<Id>, SmpError> {
        let keys: Vec<String> = if keys.is_empty() {
            vec![String::new()]
        } else {
            keys.to_vec()
        };
        self.require(Some(seq), Kind::Seq)?;
        let mapping_setter = !keys[0].is_empty() && values.first().is_some_and(|v| !v.is_empty());
        let mut kept = Vec::new();
        let mut matched = false;
        for e in self.content(seq) {
            if self.is_null(e) || self.empty_map(Some(e)) {
                continue;
            }
            if !self.is_map(e) && mapping_setter {
                kept.push(e);
                continue;
            }
            let mut found = true;
            let mut val: Option<Id> = None;
            for (j, key) in keys.iter().enumerate() {
                if let Some(v) = values.get(j) {
                    val = self.field_matcher(e, key, v)?;
                }
                if val.is_none() {
                    found = false;
                    break;
                }
            }
            if !found {
                if !values.is_empty() {
                    kept.push(e);
                }
                continue;
            }
            matched = true;
            if let Some(el) = element {
                kept.push(el);
            }
        }
        if !matches!(self.nodes[seq], Node::Seq(_)) {
            // a null list: kyaml edits content that is never written out
            return Ok(element.filter(|&el| !self.is_null(el)));
        }
        self.set_content(seq, kept);
        let Some(el) = element.filter(|&el| !self.is_null(el)) else {
            return Ok(None);
        };
        if !matched {
            if let Node::Seq(items) = &mut self.nodes[seq] {
                items.push(el);
            }
        }
        Ok(Some(el))
    }

    /// `appendListNode(dst, src, keys)`: set each element of `src` into `dst`.
    fn append_list_node(&mut self, dst: Id, src: Id, keys: &[String]) -> Result<(), SmpError> {
        let primitive = keys.first().map(|k| k.is_empty()).unwrap_or(true);
        for elem in self.content(src) {
            if primitive {
                let t = self.text(elem);
                self.element_setter(dst, Some(elem), &[String::new()], &[t])?;
                continue;
            }
            let mut v: Vec<String> = Vec::new();
            for key in keys {
                let found = if self.is_null(elem) {
                    None
                } else {
                    self.require(Some(elem), Kind::Map)?;
                    self.field(elem, key)
                };
                match found {
                    None => {
                        if let Node::Seq(items) = &mut self.nodes[dst] {
                            items.push(elem);
                        }
                    }
                    Some(f) => v.push(self.text(f)),
                }
            }
            if keys.len() > 1 {
                // with several keys kyaml removes the matches first, so the
                // element moves to the end
                self.element_setter(dst, None, keys, &v)?;
            }
            self.element_setter(dst, Some(elem), keys, &v)?;
        }
        Ok(())
    }
}

fn parse_directive(text: &str) -> Result<Directive, SmpError> {
    match text {
        "delete" => Ok(Directive::Delete),
        "replace" => Ok(Directive::Replace),
        "merge" => Ok(Directive::Merge),
        other => err(format!("unknown patch strategy '{}'", other)),
    }
}

/// `mergeValues`: key tuples that agree where both are set and share one
/// value are treated as the same element (a port with and without protocol).
fn merge_values(list: &mut [Vec<String>]) {
    for i in 0..list.len() {
        let v1 = list[i].clone();
        for j in 0..list.len() {
            let v2 = list[j].clone();
            if let Some(merged) = match_values(&v1, &v2) {
                list[i] = merged.clone();
                list[j] = merged;
            }
        }
    }
}

fn match_values(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b.iter()) {
        if x == y {
            common = true;
            out.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if !x.is_empty() {
            out.push(x.clone());
        } else {
            out.push(y.clone());
        }
    }
    if common {
        Some(out)
    } else {
        None
    }
}

/// `validateKeys`: keep the keys that have a value somewhere in the list.
fn validate_keys(
    list: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut set: Vec<&str> = Vec::new();
    for vals in list {
        for (i, v) in vals.iter().enumerate() {
            if !v.is_empty() {
                if let Some(k) = keys.get(i) {
                    if !set.contains(&k.as_str()) {
                        set.push(k);
                    }
                }
            }
        }
    }
    if set.is_empty() {
        return (keys.to_vec(), values.to_vec());
    }
    let valid_keys = keys
        .iter()
        .filter(|k| set.contains(&k.as_str()))
        .cloned()
        .collect();
    let valid_values = values
        .iter()
        .enumerate()
        .filter(|(i, v)| !v.is_empty() || keys.get(*i).is_some_and(|k| set.contains(&k.as_str())))
        .map(|(_, v)| v.clone())
        .collect();
    (valid_keys, valid_values)
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        // not reached: collections are never scalars
        Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// How text written as a plain YAML scalar reads back (yaml.v3's resolver,
/// closely enough to tell strings from the rest).
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = unsigned.strip_prefix(prefix) {
            if let Ok(i) = i64::from_str_radix(digits, radix) {
                return Value::from(if text.starts_with('-') { -i } else { i });
            }
        }
    }
    let lower = unsigned.to_ascii_lowercase();
    if matches!(lower.as_str(), ".inf" | ".nan") {
        // not representable in JSON; it is not a string either
        return Value::Null;
    }
    let float_like = !unsigned.is_empty()
        && unsigned
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && unsigned
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.');
    if float_like {
        if let Ok(f) = text.parse::<f64>() {
            if let Some(n) = serde_json::Number::from_f64(f) {
                return Value::Number(n);
            }
        }
    }
    Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    //! Each `kubectl_*` case is a kustomization (resource + patch under
    //! `patches:`) run through `kubectl kustomize` (kustomize v5.5.0); the
    //! expected value is its output.
    use super::*;

    fn yaml(s: &str) -> Value {
        serde_saphyr::from_str_with_options(s, serde_saphyr::options! { strict_booleans: true })
            .expect("test YAML")
    }

    fn run(res: &str, patch: &str) -> Result<SmpOutcome, SmpError> {
        let target = yaml(res);
        let av = target["apiVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let kind = target["kind"].as_str().unwrap_or_default().to_string();
        strategic_merge(&target, &yaml(patch), &av, &kind)
    }

    fn merged(res: &str, patch: &str, want: &str) {
        match run(res, patch) {
            Ok(SmpOutcome::Merged(got)) => {
                assert_eq!(got, yaml(want), "\n got: {}\nwant: {}", got, want)
            }
            Ok(SmpOutcome::Deleted) => panic!("deleted, expected {}", want),
            Err(e) => panic!("error {}, expected {}", e, want),
        }
    }

    fn deleted(res: &str, patch: &str) {
        match run(res, patch) {
            Ok(SmpOutcome::Deleted) => {}
            Ok(SmpOutcome::Merged(got)) => panic!("expected deletion, got {}", got),
            Err(e) => panic!("expected deletion, got error {}", e),
        }
    }

    fn fails(res: &str, patch: &str, msg: &str) {
        match run(res, patch) {
            Err(e) => assert!(
                e.message.contains(msg),
                "error {:?} lacks {:?}",
                e.message,
                msg
            ),
            Ok(SmpOutcome::Merged(got)) => panic!("expected an error, got {}", got),
            Ok(SmpOutcome::Deleted) => panic!("expected an error, got deletion"),
        }
    }

    /// new containers and env vars go first, in patch order; the target's other elements follow in their order
    #[test]
    fn kubectl_dep_order() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        env:
        - name: E1
          value: "1"
        - name: E2
          value: "2"
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: c
        image: c
      - name: b
        image: b2
      - name: d
        image: d
      - name: a
        env:
        - name: N1
          value: n1
        - name: E2
          value: x
        - name: N2
          value: n2"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"image":"c","name":"c"},{"image":"b2","name":"b"},{"image":"d","name":"d"},{"env":[{"name":"N1","value":"n1"},{"name":"E2","value":"x"},{"name":"N2","value":"n2"},{"name":"E1","value":"1"}],"image":"a","name":"a"}]}}}}"#,
        );
    }

    /// container ports merge on containerPort+protocol: a patch port without protocol matches by containerPort only; every target port with both keys moves after the others
    #[test]
    fn kubectl_ports() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        ports:
        - containerPort: 80
        - containerPort: 443
          protocol: TCP
        - containerPort: 53
          protocol: TCP"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        ports:
        - containerPort: 80
          name: http
        - containerPort: 53
          protocol: UDP
        - containerPort: 443
          name: https"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"name":"a","ports":[{"containerPort":53,"protocol":"UDP"},{"containerPort":80,"name":"http"},{"containerPort":443,"protocol":"TCP"},{"containerPort":53,"protocol":"TCP"}]}]}}}}"#,
        );
    }

    /// `$patch: replace` on a list element is ignored: the target element stays as it was
    #[test]
    fn kubectl_replace_elem() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: new
        $patch: replace"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"args":["x","y"],"image":"a","name":"a","resources":{"limits":{"cpu":1}}},{"image":"b","name":"b"}]}}}}"#,
        );
    }

    /// `$patch: delete` on an element removes the matching element
    #[test]
    fn kubectl_delete_elem() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        $patch: delete"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"image":"b","name":"b"}]}}}}"#,
        );
    }

    /// an element `{$patch: replace}` makes the patch list replace the whole list
    #[test]
    fn kubectl_list_replace() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: c
        image: c
      - $patch: replace"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"image":"c","name":"c"}]}}}}"#,
        );
    }

    /// a list without merge strategy is replaced whole, `$patch` element included
    #[test]
    fn kubectl_nonassoc_patch_elem() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        args:
        - z
        - $patch: replace"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"args":["z",{"$patch":"replace"}],"image":"a","name":"a","resources":{"limits":{"cpu":1}}},{"image":"b","name":"b"}]}}}}"#,
        );
    }

    /// a top-level `$patch: delete` deletes the object
    #[test]
    fn kubectl_top_delete() {
        deleted(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
$patch: delete"#,
        );
    }

    /// `$patch: replace` on a map replaces it
    #[test]
    fn kubectl_map_replace() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        resources:
          $patch: replace
          requests:
            cpu: 2"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"args":["x","y"],"image":"a","name":"a","resources":{"requests":{"cpu":2}}},{"image":"b","name":"b"}]}}}}"#,
        );
    }

    /// `$patch: delete` on a map and `null` remove fields; nulls inside added maps and elements are dropped
    #[test]
    fn kubectl_map_delete_nulls() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        resources:
          $patch: delete
        args: null
        newmap:
          x: null
          y: 1
          z: {}
          w: {q: null}
      - name: n
        image: n
        env:
        - name: E
          value: null
        foo: null"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"image":"a","name":"a","newmap":{"w":{},"y":1,"z":{}}},{"env":[{"name":"E"}],"image":"n","name":"n"},{"image":"b","name":"b"}]}}}}"#,
        );
    }

    /// `$retainKeys`, `$setElementOrder/..` and `$deleteFromPrimitiveList/..` are plain fields to kyaml
    #[test]
    fn kubectl_directives_literal() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  $deleteFromPrimitiveList/finalizers: [a]
spec:
  template:
    spec:
      $setElementOrder/containers:
      - name: b
      - name: a
      containers:
      - name: a
        resources:
          $retainKeys: [limits]"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"$deleteFromPrimitiveList/finalizers":["a"],"name":"d"},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"args":["x","y"],"image":"a","name":"a","resources":{"$retainKeys":["limits"],"limits":{"cpu":1}}},{"image":"b","name":"b"}]}}}}"#,
        );
    }

    /// a map over a scalar is an error
    #[test]
    fn kubectl_scalar_to_map() {
        fails(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image:
          x: 1"#,
            "wrong node kind: expected ScalarNode but got MappingNode",
        );
    }

    /// a scalar over a map is an error
    #[test]
    fn kubectl_map_to_scalar() {
        fails(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        resources: foo"#,
            "wrong node kind: expected MappingNode but got ScalarNode",
        );
    }

    /// a scalar over a list is an error
    #[test]
    fn kubectl_list_to_scalar() {
        fails(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        args: foo"#,
            "wrong node kind: expected SequenceNode but got ScalarNode",
        );
    }

    /// a keyed list into a missing field: deleted elements and nulls are dropped
    #[test]
    fn kubectl_list_into_missing() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      volumes:
      - name: v1
        emptyDir: {}
        x: null
      - name: v2
        $patch: delete
      - name: v3
        configMap: {name: c}
      containers:
      - name: a
        env:
        - name: A
          value: a
        - name: B
          valueFrom: {x: null}"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"args":["x","y"],"env":[{"name":"A","value":"a"},{"name":"B","valueFrom":{}}],"image":"a","name":"a","resources":{"limits":{"cpu":1}}},{"image":"b","name":"b"}],"volumes":[{"emptyDir":{},"name":"v1"},{"configMap":{"name":"c"},"name":"v3"}]}}}}"#,
        );
    }

    /// deleting every element leaves an empty list
    #[test]
    fn kubectl_delete_all() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        $patch: delete
      - name: b
        $patch: delete"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[]}}}}"#,
        );
    }

    /// an unknown `$patch` value on a map is an error
    #[test]
    fn kubectl_unknown_directive() {
        fails(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    $patch: foo"#,
            "unknown patch strategy 'foo'",
        );
    }

    /// an unknown `$patch` value in a list is an error
    #[test]
    fn kubectl_unknown_list_directive() {
        fails(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - $patch: foo"#,
            "unknown patch strategy 'foo'",
        );
    }

    /// a top-level `$patch: replace` leaves the object unchanged
    #[test]
    fn kubectl_top_replace() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  labels: {x: y}
$patch: replace
spec:
  replicas: 3"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"args":["x","y"],"image":"a","name":"a","resources":{"limits":{"cpu":1}}},{"image":"b","name":"b"}]}}}}"#,
        );
    }

    /// a patch with only apiVersion, kind and name changes nothing
    #[test]
    fn kubectl_empty_patch() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"args":["x","y"],"image":"a","name":"a","resources":{"limits":{"cpu":1}}},{"image":"b","name":"b"}]}}}}"#,
        );
    }

    /// a patch element without the merge key deletes every target element that has the key
    #[test]
    fn kubectl_patch_elem_without_key() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - image: nokey
      - name: b
        image: b2"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"image":"b2","name":"b"}]}}}}"#,
        );
    }

    /// a scalar element in a keyed patch list empties the list
    #[test]
    fn kubectl_scalar_elem_in_assoc() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        image: a
        args: [x, y]
        resources:
          limits:
            cpu: 1
      - name: b
        image: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - foo"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[]}}}}"#,
        );
    }

    /// explicit nulls in the target survive when the patch is silent
    #[test]
    fn kubectl_dest_nulls() {
        merged(
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: d
data:
  a: null
  c: ~
  d: x"#,
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: d
data:
  d: y"#,
            r#"{"apiVersion":"v1","data":{"a":null,"c":null,"d":"y"},"kind":"ConfigMap","metadata":{"name":"d"}}"#,
        );
    }

    /// finalizers are a union: patch values first, then the target's others
    #[test]
    fn kubectl_finalizers() {
        merged(
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: d
  finalizers: [a, b, c]
data:
  x: "1""#,
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: d
  finalizers: [d, b, e]"#,
            r#"{"apiVersion":"v1","data":{"x":"1"},"kind":"ConfigMap","metadata":{"finalizers":["d","b","e","a","c"],"name":"d"}}"#,
        );
    }

    /// a custom resource has no schema: its lists and finalizers are replaced
    #[test]
    fn kubectl_crd_replace() {
        merged(
            r#"apiVersion: example.com/v1
kind: Foo
metadata:
  name: x
  finalizers: [a, b]
spec:
  items:
  - name: a
    v: 1
  - name: b
    v: 2
  ports:
  - containerPort: 80
    x: 1"#,
            r#"apiVersion: example.com/v1
kind: Foo
metadata:
  name: x
  finalizers: [c]
spec:
  items:
  - name: c
    v: 3
  - name: a
    w: 1
  ports:
  - containerPort: 81"#,
            r#"{"apiVersion":"example.com/v1","kind":"Foo","metadata":{"finalizers":["c"],"name":"x"},"spec":{"items":[{"name":"c","v":3},{"name":"a","w":1}],"ports":[{"containerPort":81}]}}"#,
        );
    }

    /// Service ports merge on port+protocol
    #[test]
    fn kubectl_svc_ports() {
        merged(
            r#"apiVersion: v1
kind: Service
metadata:
  name: s
spec:
  ports:
  - port: 80
    targetPort: 8080
  - port: 53
    protocol: UDP
    name: dns-udp
  - port: 53
    protocol: TCP
    name: dns-tcp"#,
            r#"apiVersion: v1
kind: Service
metadata:
  name: s
spec:
  ports:
  - port: 9090
    name: new
  - port: 80
    targetPort: 9999
  - port: 53
    protocol: UDP
    targetPort: 5353"#,
            r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"name":"new","port":9090},{"port":80,"targetPort":9999},{"name":"dns-udp","port":53,"protocol":"UDP","targetPort":5353},{"name":"dns-tcp","port":53,"protocol":"TCP"}]}}"#,
        );
    }

    /// a patch port naming a protocol the target port lacks matches nothing and is lost
    #[test]
    fn kubectl_svc_ports_protocol_patch_only() {
        merged(
            r#"apiVersion: v1
kind: Service
metadata:
  name: s
spec:
  ports:
  - port: 80
    targetPort: 8080
    name: a
  - port: 81
    name: b"#,
            r#"apiVersion: v1
kind: Service
metadata:
  name: s
spec:
  ports:
  - port: 81
    protocol: TCP
    targetPort: 1
  - port: 80
    protocol: TCP
    targetPort: 9999"#,
            r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"name":"a","port":80,"targetPort":8080},{"name":"b","port":81}]}}"#,
        );
    }

    /// without any protocol, ports merge on port alone and keep patch order; "80" matches 80
    #[test]
    fn kubectl_svc_ports_no_protocol() {
        merged(
            r#"apiVersion: v1
kind: Service
metadata:
  name: s
spec:
  ports:
  - port: 80
    name: a
  - port: 81
    name: b
  - port: 82
    name: c"#,
            r#"apiVersion: v1
kind: Service
metadata:
  name: s
spec:
  ports:
  - port: 90
    name: n
  - port: 82
    targetPort: 2
  - port: "80"
    targetPort: 1"#,
            r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"name":"n","port":90},{"name":"c","port":82,"targetPort":2},{"name":"a","port":"80","targetPort":1},{"name":"b","port":81}]}}"#,
        );
    }

    /// a target element without the merge key wipes the merged list but itself
    #[test]
    fn kubectl_dest_elem_without_key() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        env:
        - name: A
          value: a
        - value: nokey
        - name: B
          value: b"#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        env:
        - name: C
          value: c
        - name: B
          value: b2"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"env":[{"value":"nokey"}],"name":"a"}]}}}}"#,
        );
    }

    /// with duplicate keys in the target, the last duplicate overwrites the merged element
    #[test]
    fn kubectl_dup_in_dest() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        env:
        - name: A
          value: "1"
        - name: B
          value: b
        - name: A
          value: "2""#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
        env:
        - name: A
          value: p
          x: y"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"env":[{"name":"A","value":"2"},{"name":"B","value":"b"}],"name":"a"}]}}}}"#,
        );
    }

    /// ServiceAccount secrets merge by name; its imagePullSecrets are replaced (v1.21.2 schema)
    #[test]
    fn kubectl_sa() {
        merged(
            r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: s
secrets:
- name: a
imagePullSecrets:
- name: a"#,
            r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: s
secrets:
- name: b
imagePullSecrets:
- name: b"#,
            r#"{"apiVersion":"v1","imagePullSecrets":[{"name":"b"}],"kind":"ServiceAccount","metadata":{"name":"s"},"secrets":[{"name":"b"},{"name":"a"}]}"#,
        );
    }

    /// extensions/v1beta1 Deployment is not in the schema: lists are replaced
    #[test]
    fn kubectl_ext_deployment() {
        merged(
            r#"apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: d
  finalizers: [a]
spec:
  template:
    spec:
      containers:
      - name: a
        image: a"#,
            r#"apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: d
  finalizers: [b]
spec:
  template:
    spec:
      containers:
      - name: b
        image: b"#,
            r#"{"apiVersion":"extensions/v1beta1","kind":"Deployment","metadata":{"finalizers":["b"],"name":"d"},"spec":{"template":{"spec":{"containers":[{"image":"b","name":"b"}]}}}}"#,
        );
    }

    /// inside a custom resource, a map with a built-in apiVersion and kind takes that schema
    #[test]
    fn kubectl_nested_kind_crd() {
        merged(
            r#"apiVersion: ex.com/v1
kind: Foo
metadata:
  name: d
spec:
  inner:
    apiVersion: apps/v1
    kind: Deployment
    spec:
      template:
        spec:
          containers:
          - name: a
            image: a
  other:
    spec:
      template:
        spec:
          containers:
          - name: a
            image: a"#,
            r#"apiVersion: ex.com/v1
kind: Foo
metadata:
  name: d
spec:
  inner:
    spec:
      template:
        spec:
          containers:
          - name: b
            image: b
  other:
    spec:
      template:
        spec:
          containers:
          - name: b
            image: b"#,
            r#"{"apiVersion":"ex.com/v1","kind":"Foo","metadata":{"name":"d"},"spec":{"inner":{"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{"spec":{"containers":[{"image":"b","name":"b"},{"image":"a","name":"a"}]}}}},"other":{"spec":{"template":{"spec":{"containers":[{"image":"b","name":"b"}]}}}}}}"#,
        );
    }

    /// topologySpreadConstraints merge on two keys, hostAliases on ip, tolerations are replaced
    #[test]
    fn kubectl_tsc_tol_hostaliases() {
        merged(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  tolerations:
  - key: a
    operator: Exists
  hostAliases:
  - ip: 1.1.1.1
    hostnames: [a]
  topologySpreadConstraints:
  - topologyKey: zone
    whenUnsatisfiable: DoNotSchedule
    maxSkew: 1
  - topologyKey: host
    whenUnsatisfiable: ScheduleAnyway
    maxSkew: 1
  containers:
  - name: c"#,
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  tolerations:
  - key: b
    operator: Exists
  hostAliases:
  - ip: 2.2.2.2
    hostnames: [b]
  - ip: 1.1.1.1
    hostnames: [c]
  topologySpreadConstraints:
  - topologyKey: zone
    whenUnsatisfiable: DoNotSchedule
    maxSkew: 5
  - topologyKey: region
    whenUnsatisfiable: DoNotSchedule
    maxSkew: 2"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}],"hostAliases":[{"hostnames":["b"],"ip":"2.2.2.2"},{"hostnames":["c"],"ip":"1.1.1.1"}],"tolerations":[{"key":"b","operator":"Exists"}],"topologySpreadConstraints":[{"maxSkew":2,"topologyKey":"region","whenUnsatisfiable":"DoNotSchedule"},{"maxSkew":5,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule"},{"maxSkew":1,"topologyKey":"host","whenUnsatisfiable":"ScheduleAnyway"}]}}"#,
        );
    }

    /// `$patch: replace` in a primitive merge list; a duplicated patch key keeps the first
    #[test]
    fn kubectl_finalizers_replace_dup_patch() {
        merged(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
  finalizers: [a, b]
spec:
  containers:
  - name: c
    env:
    - name: X
      value: x"#,
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
  finalizers:
  - c
  - $patch: replace
spec:
  containers:
  - name: c
    env:
    - name: Y
      value: "1"
    - name: Y
      value: "2""#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"finalizers":["c"],"name":"p"},"spec":{"containers":[{"env":[{"name":"Y","value":"1"},{"name":"X","value":"x"}],"name":"c"}]}}"#,
        );
    }

    /// ownerReferences merge by uid, volumes by name (sources pile up), volumeMounts by mountPath; volumeClaimTemplates are replaced
    #[test]
    fn kubectl_ownerrefs_volumes() {
        merged(
            r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: s
  ownerReferences:
  - uid: u1
    name: o1
    kind: X
    apiVersion: v1
  - uid: u2
    name: o2
    kind: X
    apiVersion: v1
spec:
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      resources: {requests: {storage: 1Gi}}
  template:
    spec:
      volumes:
      - name: cfg
        configMap:
          name: c
      - name: other
        emptyDir: {}
      containers:
      - name: a
        volumeMounts:
        - mountPath: /a
          name: cfg
        - mountPath: /b
          name: other"#,
            r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: s
  ownerReferences:
  - uid: u2
    name: renamed
spec:
  volumeClaimTemplates:
  - metadata:
      name: data2
  template:
    spec:
      volumes:
      - name: cfg
        secret:
          secretName: s
      containers:
      - name: a
        volumeMounts:
        - mountPath: /b
          name: cfg
          readOnly: true
        - mountPath: /c
          name: new"#,
            r#"{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s","ownerReferences":[{"apiVersion":"v1","kind":"X","name":"renamed","uid":"u2"},{"apiVersion":"v1","kind":"X","name":"o1","uid":"u1"}]},"spec":{"template":{"spec":{"containers":[{"name":"a","volumeMounts":[{"mountPath":"/b","name":"cfg","readOnly":true},{"mountPath":"/c","name":"new"},{"mountPath":"/a","name":"cfg"}]}],"volumes":[{"configMap":{"name":"c"},"name":"cfg","secret":{"secretName":"s"}},{"emptyDir":{},"name":"other"}]}},"volumeClaimTemplates":[{"metadata":{"name":"data2"}}]}}"#,
        );
    }

    /// CronJob job template: metadata finalizers, imagePullSecrets, init and regular containers merge; envFrom is replaced
    #[test]
    fn kubectl_cronjob() {
        merged(
            r#"apiVersion: batch/v1
kind: CronJob
metadata:
  name: c
spec:
  schedule: "* * * * *"
  jobTemplate:
    metadata:
      finalizers: [x]
    spec:
      template:
        spec:
          imagePullSecrets:
          - name: a
          containers:
          - name: a
            image: a
            envFrom:
            - configMapRef: {name: a}
            ports:
            - containerPort: 80"#,
            r#"apiVersion: batch/v1
kind: CronJob
metadata:
  name: c
spec:
  jobTemplate:
    metadata:
      finalizers: [y]
    spec:
      template:
        spec:
          imagePullSecrets:
          - name: b
          initContainers:
          - name: init
            image: i
          containers:
          - name: side
            image: s
          - name: a
            envFrom:
            - secretRef: {name: b}
            ports:
            - containerPort: 81"#,
            r#"{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c"},"spec":{"jobTemplate":{"metadata":{"finalizers":["y","x"]},"spec":{"template":{"spec":{"containers":[{"image":"s","name":"side"},{"envFrom":[{"secretRef":{"name":"b"}}],"image":"a","name":"a","ports":[{"containerPort":81},{"containerPort":80}]}],"imagePullSecrets":[{"name":"b"},{"name":"a"}],"initContainers":[{"image":"i","name":"init"}]}}}},"schedule":"* * * * *"}}"#,
        );
    }

    /// ephemeral containers merge env but replace ports; init container ports merge
    #[test]
    fn kubectl_job_ephemeral() {
        merged(
            r#"apiVersion: batch/v1
kind: Job
metadata:
  name: j
spec:
  template:
    spec:
      ephemeralContainers:
      - name: e
        ports:
        - containerPort: 1
        env:
        - name: A
          value: a
      initContainers:
      - name: i
        ports:
        - containerPort: 1
      containers:
      - name: c"#,
            r#"apiVersion: batch/v1
kind: Job
metadata:
  name: j
spec:
  template:
    spec:
      ephemeralContainers:
      - name: e
        ports:
        - containerPort: 2
        env:
        - name: B
          value: b
      initContainers:
      - name: i
        ports:
        - containerPort: 2"#,
            r#"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"spec":{"template":{"spec":{"containers":[{"name":"c"}],"ephemeralContainers":[{"env":[{"name":"B","value":"b"},{"name":"A","value":"a"}],"name":"e","ports":[{"containerPort":2}]}],"initContainers":[{"name":"i","ports":[{"containerPort":2},{"containerPort":1}]}]}}}}"#,
        );
    }

    /// `- $patch: delete` removes a keyed list; `- $patch: merge` is the default
    #[test]
    fn kubectl_list_delete_directive() {
        merged(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    env:
    - name: A
      value: a
  volumes:
  - name: v
    emptyDir: {}"#,
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  volumes:
  - $patch: delete
  containers:
  - name: c
    env:
    - $patch: merge
    - name: B
      value: b"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"env":[{"name":"B","value":"b"},{"name":"A","value":"a"}],"name":"c"}]}}"#,
        );
    }

    /// null removes a list; an empty patch list keeps the target list
    #[test]
    fn kubectl_null_list_and_empty_list() {
        merged(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  imagePullSecrets:
  - name: x
  containers:
  - name: c
    env:
    - name: A
      value: a
    ports:
    - containerPort: 80"#,
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  imagePullSecrets: null
  containers:
  - name: c
    env: []
    ports: null"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"env":[{"name":"A","value":"a"}],"name":"c"}]}}"#,
        );
    }

    /// a keyed patch list over a null target list
    #[test]
    fn kubectl_dest_null_list() {
        merged(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    env: null
    args: null"#,
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    env:
    - name: A
      value: a
    - name: B
      $patch: delete"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"args":null,"env":[{"name":"A","value":"a"}],"name":"c"}]}}"#,
        );
    }

    /// directives inside a new element, and an element without key inside a new list
    #[test]
    fn kubectl_new_elem_nested_directives() {
        merged(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c"#,
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: n
    $patch: replace
    resources:
      $patch: replace
      limits: {cpu: 1}
    securityContext:
      $patch: delete
    env:
    - name: A
      value: a
    - name: B
      $patch: delete
    - $patch: replace"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"env":[{"$patch":"replace"}],"name":"n","resources":{"limits":{"cpu":1}}},{"name":"c"}]}}"#,
        );
    }

    /// label removal by null, annotations replaced, data merged
    #[test]
    fn kubectl_labels_annotations() {
        merged(
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  labels: {a: "1", b: "2"}
  annotations: {x: y}
data:
  k: v"#,
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  labels: {a: null, c: "3"}
  annotations:
    $patch: replace
    z: w
data:
  k: null
  n: m
binaryData: null"#,
            r#"{"apiVersion":"v1","data":{"n":"m"},"kind":"ConfigMap","metadata":{"annotations":{"z":"w"},"labels":{"b":"2","c":"3"},"name":"c"}}"#,
        );
    }

    /// webhooks merge by name
    #[test]
    fn kubectl_webhooks() {
        merged(
            r#"apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: w
webhooks:
- name: a.x.io
  sideEffects: None
  rules:
  - operations: [CREATE]
- name: b.x.io
  sideEffects: None"#,
            r#"apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: w
webhooks:
- name: b.x.io
  clientConfig:
    caBundle: Zm9v
- name: a.x.io
  rules:
  - operations: [UPDATE]"#,
            r#"{"apiVersion":"admissionregistration.k8s.io/v1","kind":"MutatingWebhookConfiguration","metadata":{"name":"w"},"webhooks":[{"clientConfig":{"caBundle":"Zm9v"},"name":"b.x.io","sideEffects":"None"},{"name":"a.x.io","rules":[{"operations":["UPDATE"]}],"sideEffects":"None"}]}"#,
        );
    }

    /// Node podCIDRs union, addresses and conditions merge by type
    #[test]
    fn kubectl_status_conditions_node() {
        merged(
            r#"apiVersion: v1
kind: Node
metadata:
  name: n
spec:
  podCIDRs: [10.0.0.0/24]
status:
  addresses:
  - type: InternalIP
    address: 1.1.1.1
  conditions:
  - type: Ready
    status: "True""#,
            r#"apiVersion: v1
kind: Node
metadata:
  name: n
spec:
  podCIDRs: [10.0.1.0/24, 10.0.0.0/24]
status:
  addresses:
  - type: Hostname
    address: h
  conditions:
  - type: Ready
    status: "False""#,
            r#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"},"spec":{"podCIDRs":["10.0.1.0/24","10.0.0.0/24"]},"status":{"addresses":[{"address":"h","type":"Hostname"},{"address":"1.1.1.1","type":"InternalIP"}],"conditions":[{"status":"False","type":"Ready"}]}}"#,
        );
    }

    /// a map inside a primitive merge list is an error
    #[test]
    fn kubectl_finalizers_map_elem() {
        fails(
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  finalizers: [a]"#,
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  finalizers:
  - {x: y}"#,
            "wrong node kind: expected ScalarNode but got MappingNode",
        );
    }

    /// a top-level `$patch: merge`; duplicates in finalizers collapse
    #[test]
    fn kubectl_finalizers_dups_root_merge() {
        merged(
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  finalizers: [a, a, b]"#,
            r#"$patch: merge
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  finalizers: [b, c, c]
data:
  x: "1""#,
            r#"{"apiVersion":"v1","data":{"x":"1"},"kind":"ConfigMap","metadata":{"finalizers":["b","c","a"],"name":"c"}}"#,
        );
    }

    /// merge keys compare as text: 1 matches "1", "8080" matches 8080; the target's quoting is kept
    #[test]
    fn kubectl_null_key_and_numbers() {
        merged(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    ports:
    - containerPort: 8080
      protocol: TCP
    - containerPort: 9090
      protocol: TCP
    env:
    - name: "1"
      value: a"#,
            r#"apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    ports:
    - containerPort: "8080"
      protocol: TCP
      name: http
    env:
    - name: 1
      value: b"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"env":[{"name":"1","value":"b"}],"name":"c","ports":[{"containerPort":"8080","name":"http","protocol":"TCP"},{"containerPort":9090,"protocol":"TCP"}]}]}}"#,
        );
    }

    /// an embedded Pod template with apiVersion and kind inside a custom resource merges like a Pod
    #[test]
    fn kubectl_crd_nested_pod_and_maps() {
        merged(
            r#"apiVersion: kubeflow.org/v1
kind: Notebook
metadata:
  name: nb
  labels: {a: b}
spec:
  template:
    apiVersion: v1
    kind: Pod
    metadata:
      finalizers: [x]
    spec:
      containers:
      - name: nb
        image: a
        env:
        - name: A
          value: a"#,
            r#"apiVersion: kubeflow.org/v1
kind: Notebook
metadata:
  name: nb
  labels: {c: d}
spec:
  template:
    metadata:
      finalizers: [y]
    spec:
      containers:
      - name: nb
        env:
        - name: B
          value: b"#,
            r#"{"apiVersion":"kubeflow.org/v1","kind":"Notebook","metadata":{"labels":{"a":"b","c":"d"},"name":"nb"},"spec":{"template":{"apiVersion":"v1","kind":"Pod","metadata":{"finalizers":["y","x"]},"spec":{"containers":[{"env":[{"name":"B","value":"b"},{"name":"A","value":"a"}],"image":"a","name":"nb"}]}}}}"#,
        );
    }

    /// a port without protocol in the target meets two patch ports with protocols
    #[test]
    fn kubectl_new_container_ports_udp() {
        merged(
            r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ds
spec:
  template:
    spec:
      containers:
      - name: a
        ports:
        - containerPort: 53
          name: dns"#,
            r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ds
spec:
  template:
    spec:
      containers:
      - name: a
        ports:
        - containerPort: 53
          protocol: UDP
          name: dns-udp
        - containerPort: 53
          protocol: TCP
          name: dns-tcp"#,
            r#"{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"ds"},"spec":{"template":{"spec":{"containers":[{"name":"a","ports":[{"containerPort":53,"name":"dns"}]}]}}}}"#,
        );
    }

    /// duplicate patch ports on two keys collapse to the last; a condition is deleted by type
    #[test]
    fn kubectl_patch_dup_multikey_and_status() {
        merged(
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      containers:
      - name: a
status:
  conditions:
  - type: Available
    status: "True"
  - type: Progressing
    status: "True""#,
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  replicas: 3
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
      - name: a
        ports:
        - containerPort: 1
          protocol: TCP
          name: first
        - containerPort: 1
          protocol: TCP
          name: second
status:
  conditions:
  - type: Progressing
    $patch: delete"#,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":3,"template":{"metadata":{"labels":{"app":"x"}},"spec":{"containers":[{"name":"a","ports":[{"containerPort":1,"name":"second","protocol":"TCP"}]}]}}},"status":{"conditions":[{"status":"True","type":"Available"}]}}"#,
        );
    }

    /// a number or boolean written over a quoted string keeps the string type
    #[test]
    fn kubectl_quoted_style_kept() {
        merged(
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: c
data:
  a: "3"
  b: "true"
  c: abc
  d: 4
  e: "1.5"
  f: "0x1F""#,
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: c
data:
  a: 3
  b: false
  c: 5
  d: "4"
  e: 2.5
  f: 7"#,
            r#"{"apiVersion":"v1","data":{"a":"3","b":"false","c":5,"d":"4","e":"2.5","f":"7"},"kind":"ConfigMap","metadata":{"name":"c"}}"#,
        );
    }

    #[test]
    fn non_mapping_inputs_are_errors() {
        let obj =
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert!(strategic_merge(&obj, &serde_json::json!([1]), "v1", "ConfigMap").is_err());
        assert!(strategic_merge(&obj, &Value::Null, "v1", "ConfigMap").is_err());
        assert!(strategic_merge(&serde_json::json!("x"), &obj, "v1", "ConfigMap").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut deep = serde_json::json!(1);
        for _ in 0..1000 {
            deep = serde_json::json!({ "a": deep });
        }
        let target = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "data": deep});
        let patch = serde_json::json!({"data": {"a": {"b": 2}}});
        assert!(strategic_merge(&target, &patch, "v1", "ConfigMap").is_err());
        // just inside the limit works
        let mut ok = serde_json::json!(1);
        for _ in 0..(MAX_DEPTH - 2) {
            ok = serde_json::json!({ "a": ok });
        }
        let target = serde_json::json!({"data": ok.clone()});
        let patch = serde_json::json!({"data": ok});
        assert!(strategic_merge(&target, &patch, "v1", "ConfigMap").is_ok());
    }

    #[test]
    fn merge_keys_table() {
        let pod = Sch::Obj(root_type("apps/v1", "Deployment").expect("schema"))
            .field("spec")
            .field("template")
            .field("spec");
        assert!(matches!(
            pod.field("containers"),
            Sch::MergeList(["name"], Some(_))
        ));
        assert!(matches!(pod.field("tolerations"), Sch::Opaque));
        let c = pod.field("containers").elements();
        assert!(matches!(
            c.field("ports"),
            Sch::MergeList(["containerPort", "protocol"], None)
        ));
        assert!(matches!(c.field("envFrom"), Sch::Opaque));
        let cron = Sch::Obj(root_type("batch/v1", "CronJob").expect("schema"));
        let cpod = cron
            .field("spec")
            .field("jobTemplate")
            .field("spec")
            .field("template")
            .field("spec");
        assert!(matches!(
            cpod.field("volumes"),
            Sch::MergeList(["name"], Some(_))
        ));
        assert!(root_type("example.com/v1", "Deployment").is_none());
        assert!(matches!(
            Sch::Obj(root_type("v1", "Secret").expect("schema"))
                .field("metadata")
                .field("finalizers"),
            Sch::MergeList([], None)
        ));
    }
}
