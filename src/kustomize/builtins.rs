//! Built-in configuration facts of kustomize v5.5.0 (the version embedded in
//! kubectl v1.32), transcribed for the Rust engine.
//!
//! # Provenance
//!
//! * `DEFAULT_FIELD_SPECS`: the string constants of
//!   `api/internal/konfig/builtinpluginconsts/{nameprefix,namesuffix,commonlabels,
//!   metadatalabels,templatelabels,commonannotations,namespace,varreference,
//!   namereference,images,replicas}.go`, joined exactly as
//!   `GetDefaultFieldSpecs()` (`defaultconfig.go`) joins them. The text was taken
//!   from the kustomize v5.5.0 build itself, not from a later or earlier branch:
//!   it was copied byte for byte out of the read-only data of a kubectl v1.32.5
//!   binary that reports `Kustomize Version: v5.5.0`. Go folds constants, so
//!   `commonLabelFieldSpecs` (= the selector specs + `metadataLabelsFieldSpecs`) and
//!   `templateLabelFieldSpecs` (= `"templateLabels:"` + `metadataLabelsFieldSpecs`)
//!   appear already joined. It was checked against the upstream
//!   source files. The only edit is that trailing spaces were dropped from one
//!   blank line in `varReference`. Compared with later upstream `master`,
//!   v5.5.0 has NO knative `ConfigMap` referrers, and it DOES have the
//!   `ValidatingAdmissionPolicy` back-reference.
//! * Cluster scope: `kyaml/openapi/openapi.go` (`precomputedIsNamespaceScoped`,
//!   `IsCertainlyClusterScoped`) and `kyaml/resid/gvk.go`. The result was checked by
//!   running `kubectl kustomize` (v5.5.0) with `namespace:` over about 95
//!   apiVersion/kind pairs.
//! * Legacy order: `api/internal/builtins/SortOrderTransformer.go`
//!   (`defaultOrderFirst`, `defaultOrderLast`, `legacyIDSorter`). Checked by
//!   running kubectl kustomize v5.5.0 (see the doc on [`ORDER_FIRST`]).
//! * Name references: `api/internal/accumulator/namereferencetransformer.go`,
//!   `api/filters/nameref/{nameref,seqfilter}.go`, `api/resmap/reswrangler.go`,
//!   `api/resource/resource.go`, `api/internal/utils/{makeResIds,stringslice}.go`,
//!   `kyaml/resid/resid.go`. Checked against kubectl kustomize v5.5.0 behaviour.
//! * Hash: `api/hasher/hasher.go`, `api/internal/builtins/HashTransformer.go`.
//!   Checked by recomputing v5.5.0 generator hashes.
//!
//! # How kustomize uses the default field specs (`builtinconfig`)
//!
//! * `MakeDefaultConfig()` parses `GetDefaultFieldSpecs()` into a
//!   `TransformerConfig`. Keys: `namePrefix`, `nameSuffix`, `namespace`,
//!   `commonLabels`, `labels` (no built-in entries), `templateLabels`,
//!   `commonAnnotations`, `nameReference`, `varReference`, `images`,
//!   `replicas`. Unknown keys are rejected (`yaml.UnmarshalStrict`).
//! * `makeTransformerConfigFromBytes` and every `Merge` call `sortFields()`:
//!   each `FsSlice` and the `nameReference` list itself are `sort.Sort`ed, which
//!   is NOT a stable sort, by `Gvk.IsLessThan`. That function uses the kind ranks of
//!   [`ORDER_FIRST`]/[`ORDER_LAST`] (an unlisted kind, including an empty kind,
//!   has rank 0), then compares the string `group_version_kind` with `~G`/`~V`/`~K`
//!   for empty parts. The `fieldSpecs` (referrers) inside one nameReference entry
//!   are NOT sorted. The accumulator always reaches its config through `Merge`,
//!   so the lists that transformers use are in sorted order, not file order.
//! * `FsSlice.MergeOne` de-duplicates. An incoming spec `x` is "already present" if
//!   some existing `s` has `s.Gvk.IsSelected(&x.Gvk)` (the empty fields of `x` act
//!   as wildcards) and `s.path == x.path`. It is then skipped, or is an error
//!   "conflicting fieldspecs" if `create` differs. Because of this, the duplicate
//!   `spec/tls/secretName` / `Ingress` referrer of `Secret` counts once.
//!   NameBackReferences with equal Gvk merge their referrer lists.
//! * Labels (`kusttarget_configplugin.go`). `commonLabels:` uses
//!   `commonLabels` (selectors + metadata + templates). Each `labels:` entry uses
//!   its own `fields` merged with `tc.Labels`, then:
//!   * `includeSelectors: true`: add `commonLabels`;
//!   * otherwise: if `includeTemplates: true`, add `templateLabels`; in both
//!     cases add `{path: metadata/labels, create: true}`.
//! * Paths are `/`-separated. `\/` is an escaped slash, part of one key, as in
//!   `metadata/annotations/nginx.ingress.kubernetes.io\/auth-secret`. A YAML
//!   plain scalar keeps the backslash, so the engine's path splitter must handle
//!   it. `[]` after a segment marks a list (e.g. `spec/containers[]/image`).
//!   A path segment that lands on a sequence is applied to every element
//!   even without `[]`. Examples: `spec/template/spec/containers/env/...`,
//!   `rules/resourceNames`, `subjects`.
//! * The IngressClass back-reference really has `group: networking.k8s.io/v1`.
//!   That is an upstream typo, so `group` never matches a real IngressClass, and
//!   the entry is inert in practice.
//! * Prefix/suffix transformers never rename (they skip by OrgId) any kind
//!   `CustomResourceDefinition` (any group), any kind `Namespace` (any group), or
//!   `APIService` in group `apiregistration.k8s.io`. See [`PREFIX_SUFFIX_SKIP`].
//!
//! # Name-reference fix-up (`nameReferenceTransformer` + `nameref.Filter`)
//!
//! When: once, at the top-level kustomization only (`makeCustomizedResMap`).
//! This happens after the whole recursive accumulation and after the hash
//! suffixes are added (`addHashesToNames`), and before vars are resolved. It does
//! not run per base or overlay.
//!
//! Bookkeeping used:
//! * Every rename goes through `StorePreviousId()`: the prefix transformer (when
//!   the prefix is non-empty), the suffix transformer, the hash transformer, patches
//!   that change a name or kind, and the namespace transformer. The namespace
//!   transformer calls it for EVERY non-empty resource, even if the namespace does
//!   not change. The call appends the current `name`, `EffectiveNamespace()` and
//!   `kind` to the CSV build annotations `internal.config.kubernetes.io/previousNames`,
//!   `previousNamespaces` and `previousKinds`. `EffectiveNamespace()` is
//!   `_non_namespaceable_` for a cluster-scoped id, `default` for `""` or `default`,
//!   and the namespace otherwise.
//! * `PrevIds()` turns those annotations into ResIds, oldest first. Each id takes
//!   its group/version from the CURRENT apiVersion and its kind from
//!   previousKinds. These ids are built without the cluster-scope flag.
//!   `OrgId()` = `PrevIds()[0]`, or `CurId()` if there is no history.
//! * `AddNamePrefix`/`AddNameSuffix` keep CSV lists of the prefixes and suffixes
//!   applied, one per kustomization level, innermost first. Empty values are not
//!   recorded.
//!
//! Algorithm:
//! 1. For each back-reference `{gvk: T, fieldSpecs: referrers}`, in config order,
//!    then each referrer spec, then each resource R: R is a potential referrer if
//!    `R.OrgId()` is selected by the spec's gvk. Matching uses the ORIGINAL
//!    kind; for every non-empty field of the selector (group, version, kind) the
//!    value must be equal. Each (R, spec, T) becomes a filter.
//! 2. The candidates for R come from `SubsetThatCouldBeReferencedByResource(R)`:
//!    * if `R.CurId()` is cluster-scoped: every resource;
//!    * else a resource X is kept if `X.CurId()` is cluster-scoped, OR X has the
//!      same effective CURRENT namespace as R (`""` and `"default"` are equal), OR R's
//!      kind is `RoleBinding` and X's current `metadata.namespace` equals the
//!      `namespace` of one of R's `subjects` that has `kind: ServiceAccount`.
//! 3. The value at the spec path is changed by node type:
//!    * scalar: `selectReferral(value, candidates, allNamesAreTheSame)`. If a
//!      referral is found, record `refBy` on it, and write its CURRENT name when
//!      that name differs.
//!    * mapping: this is the case for `webhooks/clientConfig/service`, each element of
//!      `subjects`, and the like. The mapping must have a `name` key, else the error
//!      "path config error; no 'name' field in node". If it has a `namespace` key
//!      N, the candidates become those whose OrgId effective namespace is N
//!      (`GroupedByOriginalNamespace`). If no original namespace matches, they become
//!      those whose current effective namespace is N; this can be empty.
//!      Cluster-scoped ones are excluded in both cases. Then
//!      `selectReferral(name, candidates, allNamesAndNamespacesAreTheSame)`. If
//!      the referral's name == the old name and its namespace == "", nothing
//!      happens. Else `name` := the referral's current name, and, if the
//!      referral's current `metadata.namespace` is non-empty, `namespace` := it.
//!      The key is created if absent, so a subject without a namespace gains one.
//!    * sequence: each scalar element is handled as a scalar and each mapping
//!      element as a mapping. Any other element is an error.
//! 4. `selectReferral(oldName, cands, identical)` applies these sieves in order:
//!    * a. `previousNameMatches(oldName)`: keep X if SOME id in `X.PrevIds()` has
//!      `Name == oldName`. The current name is NOT consulted. A resource that
//!      was never renamed or namespaced has no PrevIds and is never a referral.
//!      A reference that already uses the new name is left alone.
//!    * b. `previousIdSelectedByGvk(T)`: keep X if SOME PrevId is selected by the
//!      target gvk T (empty fields of T are wildcards). a and b may match
//!      different history entries.
//!    * c. roleRef: only when the spec path ends with `roleRef/name`. Read
//!      `roleRef.apiGroup` and `roleRef.kind` from R. If either is missing, accept
//!      all. Otherwise keep X if SOME PrevId is selected by
//!      `Gvk{group: apiGroup, kind: kind}` (version is a wildcard). So a
//!      `roleRef {kind: ClusterRole, name: x}` never binds to a Role named x.
//!      `subjects` get NO such check: a `kind: User` or `kind: Group` subject
//!      whose name equals a renamed ServiceAccount's old name IS rewritten, and
//!      gains that SA's namespace.
//!    * d. `sameCurrentNamespaceAsReferrer`: if `R.CurId()` is cluster-scoped, accept
//!      all. Else keep X if `X.CurId()` is cluster-scoped, or `X.kind ==
//!      "ServiceAccount"`, or X has the same effective current namespace as R.
//!    * If exactly 1 remains, it is the answer.
//!    * e. `prefixSuffixEquals(R, allowEmpty=true)`. The prefix test passes if
//!      either list is empty or `SameEndingSubSlice`. The suffix test works the
//!      same way, and both must pass. If more than 1 remains, apply it again with
//!      `allowEmpty=false`: `SameEndingSubSlice(X.prefixes, R.prefixes) &&
//!      SameEndingSubSlice(X.suffixes, R.suffixes)`. Here `SameEndingSubSlice(a, b)`
//!      is true if the shorter list is a suffix of the longer one, and an empty
//!      list equals only an empty list.
//!    * If 1 remains, it is the answer. If 0 remain, there is no referral and
//!      nothing changes. If there are several: when `identical` holds (all current
//!      names equal, plus all current namespaces equal for mappings), take the
//!      first in resmap order. Otherwise fail with `"found multiple possible
//!      referrals: ..."` (followed by the ids).
//!
//! Consequences (all checked with v5.5.0):
//! * Two ConfigMaps with original name `cm` in namespaces `a` and `b`: a Pod in `a`
//!   resolves to the one in `a`. Steps 2 and 4d both use the current namespace.
//! * A ClusterRoleBinding subject `{kind: ServiceAccount, name: sa, namespace: b}`
//!   resolves to `sa` in `b`. Without the `namespace` key, two such SAs give the
//!   "found multiple possible referrals" error.
//! * A subject with `namespace: default` matches resources that originally had no
//!   namespace, and after a `namespace:` transform it is rewritten to the new
//!   namespace.
//!
//! # Hash suffix (`api/hasher/hasher.go`)
//!
//! The suffix is added once, at the top level, to every resource marked
//! `needsHashSuffix`, i.e. generated ones unless `disableNameSuffixHash`. The hash
//! is taken after all transformers; then `StorePreviousId()` runs and the name
//! becomes `name + "-" + hash`.
//! * ConfigMap: JSON-encode `{"kind":"ConfigMap","name":N,"data":D}`, plus
//!   `"binaryData":B` only if binaryData is a mapping.
//! * Secret: JSON-encode `{"kind":"Secret","type":T,"name":N,"data":D}`, plus
//!   `"stringData":S` only if stringData is a mapping.
//! * Values: a missing field gives `""`. A mapping is converted to a JSON object;
//!   a scalar gives its string value. N is ALWAYS `""` in v5.5.0: the lookup
//!   `yaml.Lookup("metadata/name")` treats `metadata/name` as one key and finds
//!   nothing. This was checked: the real hashes match only with an empty name.
//! * Encoding is Go `encoding/json`: keys sorted by byte value, no whitespace,
//!   `<` `>` `&` escaped as `\u003c` `\u003e` `\u0026`, U+2028/U+2029 escaped,
//!   other non-ASCII characters written as raw UTF-8.
//! * hash = the first 10 hex digits of sha256(encoding), with the characters
//!   mapped `0->g`, `1->h`, `3->k`, `a->m`, `e->t`.
//! * Any other kind is hashed as `json.Marshal` of the yaml.Node itself; in
//!   practice this is unused.

/// kustomize v5.5.0's built-in transformer configuration. It is one YAML document
/// in the `configurations:` file format: the output of `GetDefaultFieldSpecs()`
/// with the sections in kustomize's own order: `namePrefix`, `nameSuffix`,
/// `commonLabels`, `templateLabels`, `commonAnnotations`, `namespace`,
/// `varReference`, `nameReference`, `images`, `replicas`.
///
/// `templateLabels` is a separate key in v5.5. It holds the
/// `metadataLabelsFieldSpecs` part of `commonLabels` (from `metadata/labels`
/// onward). `labels:` entries with `includeTemplates: true` use it. kustomize sorts
/// these lists before use; see the module docs.
pub const DEFAULT_FIELD_SPECS: &str = r#"namePrefix:
- path: metadata/name


nameSuffix:
- path: metadata/name


commonLabels:
- path: spec/selector
  create: true
  version: v1
  kind: Service

- path: spec/selector
  create: true
  version: v1
  kind: ReplicationController
- path: spec/selector/matchLabels
  create: true
  kind: Deployment

- path: spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels
  create: false
  group: apps
  kind: Deployment

- path: spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels
  create: false
  group: apps
  kind: Deployment

- path: spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels
  create: false
  group: apps
  kind: Deployment

- path: spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels
  create: false
  group: apps
  kind: Deployment

- path: spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels
  create: false
  group: apps
  kind: Deployment

- path: spec/selector/matchLabels
  create: true
  kind: ReplicaSet

- path: spec/selector/matchLabels
  create: true
  kind: DaemonSet

- path: spec/selector/matchLabels
  create: true
  group: apps
  kind: StatefulSet

- path: spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels
  create: false
  group: apps
  kind: StatefulSet

- path: spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels
  create: false
  group: apps
  kind: StatefulSet

- path: spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels
  create: false
  group: apps
  kind: StatefulSet

- path: spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels
  create: false
  group: apps
  kind: StatefulSet

- path: spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels
  create: false
  group: apps
  kind: StatefulSet

- path: spec/selector/matchLabels
  create: false
  group: batch
  kind: Job

- path: spec/jobTemplate/spec/selector/matchLabels
  create: false
  group: batch
  kind: CronJob

- path: spec/selector/matchLabels
  create: false
  group: policy
  kind: PodDisruptionBudget

- path: spec/podSelector/matchLabels
  create: false
  group: networking.k8s.io
  kind: NetworkPolicy

- path: spec/ingress/from/podSelector/matchLabels
  create: false
  group: networking.k8s.io
  kind: NetworkPolicy

- path: spec/egress/to/podSelector/matchLabels
  create: false
  group: networking.k8s.io
  kind: NetworkPolicy

- path: metadata/labels
  create: true

- path: spec/template/metadata/labels
  create: true
  version: v1
  kind: ReplicationController

- path: spec/template/metadata/labels
  create: true
  kind: Deployment

- path: spec/template/metadata/labels
  create: true
  kind: ReplicaSet

- path: spec/template/metadata/labels
  create: true
  kind: DaemonSet

- path: spec/template/metadata/labels
  create: true
  group: apps
  kind: StatefulSet

- path: spec/volumeClaimTemplates[]/metadata/labels
  create: true
  group: apps
  kind: StatefulSet

- path: spec/template/metadata/labels
  create: true
  group: batch
  kind: Job

- path: spec/jobTemplate/metadata/labels
  create: true
  group: batch
  kind: CronJob

- path: spec/jobTemplate/spec/template/metadata/labels
  create: true
  group: batch
  kind: CronJob


templateLabels:

- path: metadata/labels
  create: true

- path: spec/template/metadata/labels
  create: true
  version: v1
  kind: ReplicationController

- path: spec/template/metadata/labels
  create: true
  kind: Deployment

- path: spec/template/metadata/labels
  create: true
  kind: ReplicaSet

- path: spec/template/metadata/labels
  create: true
  kind: DaemonSet

- path: spec/template/metadata/labels
  create: true
  group: apps
  kind: StatefulSet

- path: spec/volumeClaimTemplates[]/metadata/labels
  create: true
  group: apps
  kind: StatefulSet

- path: spec/template/metadata/labels
  create: true
  group: batch
  kind: Job

- path: spec/jobTemplate/metadata/labels
  create: true
  group: batch
  kind: CronJob

- path: spec/jobTemplate/spec/template/metadata/labels
  create: true
  group: batch
  kind: CronJob


commonAnnotations:
- path: metadata/annotations
  create: true

- path: spec/template/metadata/annotations
  create: true
  version: v1
  kind: ReplicationController

- path: spec/template/metadata/annotations
  create: true
  kind: Deployment

- path: spec/template/metadata/annotations
  create: true
  kind: ReplicaSet

- path: spec/template/metadata/annotations
  create: true
  kind: DaemonSet

- path: spec/template/metadata/annotations
  create: true
  kind: StatefulSet

- path: spec/template/metadata/annotations
  create: true
  group: batch
  kind: Job

- path: spec/jobTemplate/metadata/annotations
  create: true
  group: batch
  kind: CronJob

- path: spec/jobTemplate/spec/template/metadata/annotations
  create: true
  group: batch
  kind: CronJob


namespace:
- path: metadata/name
  kind: Namespace
  create: true
- path: spec/service/namespace
  group: apiregistration.k8s.io
  kind: APIService
  create: true
- path: spec/conversion/webhook/clientConfig/service/namespace
  group: apiextensions.k8s.io
  kind: CustomResourceDefinition


varReference:
- path: spec/jobTemplate/spec/template/spec/containers/args
  kind: CronJob

- path: spec/jobTemplate/spec/template/spec/containers/command
  kind: CronJob

- path: spec/jobTemplate/spec/template/spec/containers/env/value
  kind: CronJob

- path: spec/jobTemplate/spec/template/spec/containers/volumeMounts/mountPath
  kind: CronJob

- path: spec/jobTemplate/spec/template/spec/initContainers/args
  kind: CronJob

- path: spec/jobTemplate/spec/template/spec/initContainers/command
  kind: CronJob

- path: spec/jobTemplate/spec/template/spec/initContainers/env/value
  kind: CronJob

- path: spec/jobTemplate/spec/template/spec/initContainers/volumeMounts/mountPath
  kind: CronJob

- path: spec/jobTemplate/spec/template/volumes/nfs/server
  kind: CronJob

- path: spec/template/spec/containers/args
  kind: DaemonSet

- path: spec/template/spec/containers/command
  kind: DaemonSet

- path: spec/template/spec/containers/env/value
  kind: DaemonSet

- path: spec/template/spec/containers/volumeMounts/mountPath
  kind: DaemonSet

- path: spec/template/spec/initContainers/args
  kind: DaemonSet

- path: spec/template/spec/initContainers/command
  kind: DaemonSet

- path: spec/template/spec/initContainers/env/value
  kind: DaemonSet

- path: spec/template/spec/initContainers/volumeMounts/mountPath
  kind: DaemonSet

- path: spec/template/spec/volumes/nfs/server
  kind: DaemonSet

- path: spec/template/spec/containers/args
  kind: Deployment

- path: spec/template/spec/containers/command
  kind: Deployment

- path: spec/template/spec/containers/env/value
  kind: Deployment

- path: spec/template/spec/containers/volumeMounts/mountPath
  kind: Deployment

- path: spec/template/spec/initContainers/args
  kind: Deployment

- path: spec/template/spec/initContainers/command
  kind: Deployment

- path: spec/template/spec/initContainers/env/value
  kind: Deployment

- path: spec/template/spec/initContainers/volumeMounts/mountPath
  kind: Deployment

- path: spec/template/spec/volumes/nfs/server
  kind: Deployment

- path: spec/template/metadata/annotations
  kind: Deployment

- path: spec/rules/host
  kind: Ingress

- path: spec/tls/hosts
  kind: Ingress

- path: spec/tls/secretName
  kind: Ingress

- path: spec/template/spec/containers/args
  kind: Job

- path: spec/template/spec/containers/command
  kind: Job

- path: spec/template/spec/containers/env/value
  kind: Job

- path: spec/template/spec/containers/volumeMounts/mountPath
  kind: Job

- path: spec/template/spec/initContainers/args
  kind: Job

- path: spec/template/spec/initContainers/command
  kind: Job

- path: spec/template/spec/initContainers/env/value
  kind: Job

- path: spec/template/spec/initContainers/volumeMounts/mountPath
  kind: Job

- path: spec/template/spec/volumes/nfs/server
  kind: Job

- path: spec/containers/args
  kind: Pod

- path: spec/containers/command
  kind: Pod

- path: spec/containers/env/value
  kind: Pod

- path: spec/containers/volumeMounts/mountPath
  kind: Pod

- path: spec/initContainers/args
  kind: Pod

- path: spec/initContainers/command
  kind: Pod

- path: spec/initContainers/env/value
  kind: Pod

- path: spec/initContainers/volumeMounts/mountPath
  kind: Pod

- path: spec/volumes/nfs/server
  kind: Pod

- path: spec/template/spec/containers/args
  kind: ReplicaSet

- path: spec/template/spec/containers/command
  kind: ReplicaSet

- path: spec/template/spec/containers/env/value
  kind: ReplicaSet

- path: spec/template/spec/containers/volumeMounts/mountPath
  kind: ReplicaSet

- path: spec/template/spec/initContainers/args
  kind: ReplicaSet

- path: spec/template/spec/initContainers/command
  kind: ReplicaSet

- path: spec/template/spec/initContainers/env/value
  kind: ReplicaSet

- path: spec/template/spec/initContainers/volumeMounts/mountPath
  kind: ReplicaSet

- path: spec/template/spec/volumes/nfs/server
  kind: ReplicaSet

- path: spec/ports/port
  kind: Service

- path: spec/ports/targetPort
  kind: Service

- path: spec/template/spec/containers/args
  kind: StatefulSet

- path: spec/template/spec/containers/command
  kind: StatefulSet

- path: spec/template/spec/containers/env/value
  kind: StatefulSet

- path: spec/template/spec/containers/volumeMounts/mountPath
  kind: StatefulSet

- path: spec/template/spec/initContainers/args
  kind: StatefulSet

- path: spec/template/spec/initContainers/command
  kind: StatefulSet

- path: spec/template/spec/initContainers/env/value
  kind: StatefulSet

- path: spec/template/spec/initContainers/volumeMounts/mountPath
  kind: StatefulSet

- path: spec/volumeClaimTemplates/spec/nfs/server
  kind: StatefulSet

- path: spec/nfs/server
  kind: PersistentVolume

- path: metadata/labels

- path: metadata/annotations


nameReference:
- kind: Deployment
  fieldSpecs:
  - path: spec/scaleTargetRef/name
    kind: HorizontalPodAutoscaler

- kind: ReplicationController
  fieldSpecs:
  - path: spec/scaleTargetRef/name
    kind: HorizontalPodAutoscaler

- kind: ReplicaSet
  fieldSpecs:
  - path: spec/scaleTargetRef/name
    kind: HorizontalPodAutoscaler

- kind: StatefulSet
  fieldSpecs:
  - path: spec/scaleTargetRef/name
    kind: HorizontalPodAutoscaler

- kind: ConfigMap
  version: v1
  fieldSpecs:
  - path: spec/volumes/configMap/name
    version: v1
    kind: Pod
  - path: spec/containers/env/valueFrom/configMapKeyRef/name
    version: v1
    kind: Pod
  - path: spec/initContainers/env/valueFrom/configMapKeyRef/name
    version: v1
    kind: Pod
  - path: spec/containers/envFrom/configMapRef/name
    version: v1
    kind: Pod
  - path: spec/initContainers/envFrom/configMapRef/name
    version: v1
    kind: Pod
  - path: spec/volumes/projected/sources/configMap/name
    version: v1
    kind: Pod
  - path: template/spec/volumes/configMap/name
    kind: PodTemplate
  - path: template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: PodTemplate
  - path: template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: PodTemplate
  - path: template/spec/containers/envFrom/configMapRef/name
    kind: PodTemplate
  - path: template/spec/initContainers/envFrom/configMapRef/name
    kind: PodTemplate
  - path: template/spec/volumes/projected/sources/configMap/name
    kind: PodTemplate
  - path: spec/template/spec/volumes/configMap/name
    kind: Deployment
  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: Deployment
  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: Deployment
  - path: spec/template/spec/containers/envFrom/configMapRef/name
    kind: Deployment
  - path: spec/template/spec/initContainers/envFrom/configMapRef/name
    kind: Deployment
  - path: spec/template/spec/volumes/projected/sources/configMap/name
    kind: Deployment
  - path: spec/template/spec/volumes/configMap/name
    kind: ReplicaSet
  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: ReplicaSet
  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: ReplicaSet
  - path: spec/template/spec/containers/envFrom/configMapRef/name
    kind: ReplicaSet
  - path: spec/template/spec/initContainers/envFrom/configMapRef/name
    kind: ReplicaSet
  - path: spec/template/spec/volumes/projected/sources/configMap/name
    kind: ReplicaSet
  - path: spec/template/spec/volumes/configMap/name
    kind: DaemonSet
  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: DaemonSet
  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: DaemonSet
  - path: spec/template/spec/containers/envFrom/configMapRef/name
    kind: DaemonSet
  - path: spec/template/spec/initContainers/envFrom/configMapRef/name
    kind: DaemonSet
  - path: spec/template/spec/volumes/projected/sources/configMap/name
    kind: DaemonSet
  - path: spec/template/spec/volumes/configMap/name
    kind: StatefulSet
  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: StatefulSet
  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: StatefulSet
  - path: spec/template/spec/containers/envFrom/configMapRef/name
    kind: StatefulSet
  - path: spec/template/spec/initContainers/envFrom/configMapRef/name
    kind: StatefulSet
  - path: spec/template/spec/volumes/projected/sources/configMap/name
    kind: StatefulSet
  - path: spec/template/spec/volumes/configMap/name
    kind: Job
  - path: spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: Job
  - path: spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: Job
  - path: spec/template/spec/containers/envFrom/configMapRef/name
    kind: Job
  - path: spec/template/spec/initContainers/envFrom/configMapRef/name
    kind: Job
  - path: spec/template/spec/volumes/projected/sources/configMap/name
    kind: Job
  - path: spec/jobTemplate/spec/template/spec/volumes/configMap/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/volumes/projected/sources/configMap/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/containers/envFrom/configMapRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/initContainers/envFrom/configMapRef/name
    kind: CronJob
  - path: spec/configSource/configMap
    kind: Node
  - path: rules/resourceNames
    kind: Role
  - path: rules/resourceNames
    kind: ClusterRole
  - path: metadata/annotations/nginx.ingress.kubernetes.io\/fastcgi-params-configmap
    kind: Ingress

- kind: Secret
  version: v1
  fieldSpecs:
  - path: spec/volumes/secret/secretName
    version: v1
    kind: Pod
  - path: spec/containers/env/valueFrom/secretKeyRef/name
    version: v1
    kind: Pod
  - path: spec/initContainers/env/valueFrom/secretKeyRef/name
    version: v1
    kind: Pod
  - path: spec/containers/envFrom/secretRef/name
    version: v1
    kind: Pod
  - path: spec/initContainers/envFrom/secretRef/name
    version: v1
    kind: Pod
  - path: spec/imagePullSecrets/name
    version: v1
    kind: Pod
  - path: spec/volumes/projected/sources/secret/name
    version: v1
    kind: Pod
  - path: template/spec/volumes/secret/secretName
    kind: PodTemplate
  - path: template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: PodTemplate
  - path: template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: PodTemplate
  - path: template/spec/containers/envFrom/secretRef/name
    kind: PodTemplate
  - path: template/spec/initContainers/envFrom/secretRef/name
    kind: PodTemplate
  - path: template/spec/imagePullSecrets/name
    kind: PodTemplate
  - path: template/spec/volumes/projected/sources/secret/name
    kind: PodTemplate
  - path: spec/template/spec/volumes/secret/secretName
    kind: Deployment
  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: Deployment
  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: Deployment
  - path: spec/template/spec/containers/envFrom/secretRef/name
    kind: Deployment
  - path: spec/template/spec/initContainers/envFrom/secretRef/name
    kind: Deployment
  - path: spec/template/spec/imagePullSecrets/name
    kind: Deployment
  - path: spec/template/spec/volumes/projected/sources/secret/name
    kind: Deployment
  - path: spec/template/spec/volumes/secret/secretName
    kind: ReplicaSet
  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: ReplicaSet
  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: ReplicaSet
  - path: spec/template/spec/containers/envFrom/secretRef/name
    kind: ReplicaSet
  - path: spec/template/spec/initContainers/envFrom/secretRef/name
    kind: ReplicaSet
  - path: spec/template/spec/imagePullSecrets/name
    kind: ReplicaSet
  - path: spec/template/spec/volumes/projected/sources/secret/name
    kind: ReplicaSet
  - path: spec/template/spec/volumes/secret/secretName
    kind: DaemonSet
  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: DaemonSet
  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: DaemonSet
  - path: spec/template/spec/containers/envFrom/secretRef/name
    kind: DaemonSet
  - path: spec/template/spec/initContainers/envFrom/secretRef/name
    kind: DaemonSet
  - path: spec/template/spec/imagePullSecrets/name
    kind: DaemonSet
  - path: spec/template/spec/volumes/projected/sources/secret/name
    kind: DaemonSet
  - path: spec/template/spec/volumes/secret/secretName
    kind: StatefulSet
  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: StatefulSet
  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: StatefulSet
  - path: spec/template/spec/containers/envFrom/secretRef/name
    kind: StatefulSet
  - path: spec/template/spec/initContainers/envFrom/secretRef/name
    kind: StatefulSet
  - path: spec/template/spec/imagePullSecrets/name
    kind: StatefulSet
  - path: spec/template/spec/volumes/projected/sources/secret/name
    kind: StatefulSet
  - path: spec/template/spec/volumes/secret/secretName
    kind: Job
  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: Job
  - path: spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: Job
  - path: spec/template/spec/containers/envFrom/secretRef/name
    kind: Job
  - path: spec/template/spec/initContainers/envFrom/secretRef/name
    kind: Job
  - path: spec/template/spec/imagePullSecrets/name
    kind: Job
  - path: spec/template/spec/volumes/projected/sources/secret/name
    kind: Job
  - path: spec/jobTemplate/spec/template/spec/volumes/secret/secretName
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/volumes/projected/sources/secret/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/containers/envFrom/secretRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/initContainers/envFrom/secretRef/name
    kind: CronJob
  - path: spec/jobTemplate/spec/template/spec/imagePullSecrets/name
    kind: CronJob
  - path: spec/tls/secretName
    kind: Ingress
  - path: metadata/annotations/ingress.kubernetes.io\/auth-secret
    kind: Ingress
  - path: metadata/annotations/nginx.ingress.kubernetes.io\/auth-secret
    kind: Ingress
  - path: metadata/annotations/nginx.ingress.kubernetes.io\/auth-tls-secret
    kind: Ingress
  - path: spec/tls/secretName
    kind: Ingress
  - path: imagePullSecrets/name
    kind: ServiceAccount
  - path: parameters/secretName
    kind: StorageClass
  - path: parameters/adminSecretName
    kind: StorageClass
  - path: parameters/userSecretName
    kind: StorageClass
  - path: parameters/secretRef
    kind: StorageClass
  - path: rules/resourceNames
    kind: Role
  - path: rules/resourceNames
    kind: ClusterRole
  - path: spec/template/spec/containers/env/valueFrom/secretKeyRef/name
    kind: Service
    group: serving.knative.dev
    version: v1
  - path: spec/azureFile/secretName
    kind: PersistentVolume

- kind: Service
  version: v1
  fieldSpecs:
  - path: spec/serviceName
    kind: StatefulSet
    group: apps
  - path: spec/rules/http/paths/backend/serviceName
    kind: Ingress
  - path: spec/backend/serviceName
    kind: Ingress
  - path: spec/rules/http/paths/backend/service/name
    kind: Ingress
  - path: spec/defaultBackend/service/name
    kind: Ingress
  - path: spec/service/name
    kind: APIService
    group: apiregistration.k8s.io
  - path: webhooks/clientConfig/service
    kind: ValidatingWebhookConfiguration
    group: admissionregistration.k8s.io
  - path: webhooks/clientConfig/service
    kind: MutatingWebhookConfiguration
    group: admissionregistration.k8s.io

- kind: Role
  group: rbac.authorization.k8s.io
  fieldSpecs:
  - path: roleRef/name
    kind: RoleBinding
    group: rbac.authorization.k8s.io

- kind: ClusterRole
  group: rbac.authorization.k8s.io
  fieldSpecs:
  - path: roleRef/name
    kind: RoleBinding
    group: rbac.authorization.k8s.io
  - path: roleRef/name
    kind: ClusterRoleBinding
    group: rbac.authorization.k8s.io

- kind: ServiceAccount
  version: v1
  fieldSpecs:
  - path: subjects
    kind: RoleBinding
    group: rbac.authorization.k8s.io
  - path: subjects
    kind: ClusterRoleBinding
    group: rbac.authorization.k8s.io
  - path: spec/serviceAccountName
    kind: Pod
  - path: spec/template/spec/serviceAccountName
    kind: StatefulSet
  - path: spec/template/spec/serviceAccountName
    kind: Deployment
  - path: spec/template/spec/serviceAccountName
    kind: ReplicationController
  - path: spec/jobTemplate/spec/template/spec/serviceAccountName
    kind: CronJob
  - path: spec/template/spec/serviceAccountName
    kind: Job
  - path: spec/template/spec/serviceAccountName
    kind: DaemonSet

- kind: PersistentVolumeClaim
  version: v1
  fieldSpecs:
  - path: spec/volumes/persistentVolumeClaim/claimName
    kind: Pod
  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName
    kind: StatefulSet
  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName
    kind: Deployment
  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName
    kind: ReplicationController
  - path: spec/jobTemplate/spec/template/spec/volumes/persistentVolumeClaim/claimName
    kind: CronJob
  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName
    kind: Job
  - path: spec/template/spec/volumes/persistentVolumeClaim/claimName
    kind: DaemonSet

- kind: PersistentVolume
  version: v1
  fieldSpecs:
  - path: spec/volumeName
    kind: PersistentVolumeClaim
  - path: rules/resourceNames
    kind: ClusterRole

- kind: StorageClass
  version: v1
  group: storage.k8s.io
  fieldSpecs:
  - path: spec/storageClassName
    kind: PersistentVolume
  - path: spec/storageClassName
    kind: PersistentVolumeClaim
  - path: spec/volumeClaimTemplates/spec/storageClassName
    kind: StatefulSet

- kind: PriorityClass
  version: v1
  group: scheduling.k8s.io
  fieldSpecs:
  - path: spec/priorityClassName
    kind: Pod
  - path: spec/template/spec/priorityClassName
    kind: StatefulSet
  - path: spec/template/spec/priorityClassName
    kind: Deployment
  - path: spec/template/spec/priorityClassName
    kind: ReplicationController
  - path: spec/jobTemplate/spec/template/spec/priorityClassName
    kind: CronJob
  - path: spec/template/spec/priorityClassName
    kind: Job
  - path: spec/template/spec/priorityClassName
    kind: DaemonSet

- kind: IngressClass
  version: v1
  group: networking.k8s.io/v1
  fieldSpecs:
  - path: spec/ingressClassName
    kind: Ingress

- kind: ValidatingAdmissionPolicy
  group: admissionregistration.k8s.io
  fieldSpecs:
  - path: spec/policyName
    kind: ValidatingAdmissionPolicyBinding
    group: admissionregistration.k8s.io


images:
- path: spec/containers[]/image
  create: true
- path: spec/initContainers[]/image
  create: true
- path: spec/template/spec/containers[]/image
  create: true
- path: spec/template/spec/initContainers[]/image
  create: true


replicas:
- path: spec/replicas
  create: true
  kind: Deployment

- path: spec/replicas
  create: true
  kind: ReplicationController

- path: spec/replicas
  create: true
  kind: ReplicaSet

- path: spec/replicas
  create: true
  kind: StatefulSet
"#;

/// Kinds that kustomize v5.5.0 treats as cluster-scoped (not namespaceable).
///
/// In v5.5.0 there is no hard-coded, kind-only list. The pre-v4 `resid.NotNamespaceableKinds`
/// is gone. The scope is decided per exact `(apiVersion, kind)` by
/// `openapi.IsCertainlyClusterScoped`, which first looks in
/// `precomputedIsNamespaceScoped` and then in the built-in Kubernetes OpenAPI
/// schema (v1.21.2); see [`CLUSTER_SCOPED_API_TYPES`]. This list is the set of
/// kinds that occur there. Use it only where no apiVersion is available.
/// `Gvk::IsClusterScoped` is false for kinds under any other apiVersion,
/// e.g. `rbac.authorization.k8s.io/v1alpha1 ClusterRole`, a CRD kind `Cluster`,
/// or `example.com/v1 Namespace`.
pub const CLUSTER_SCOPED_KINDS: &[&str] = &[
    "APIService",
    "CSIDriver",
    "CSINode",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "NodeProxyOptions",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

/// The exact `(apiVersion, kind)` pairs that kustomize v5.5.0 treats as
/// cluster-scoped. Matching is by exact string equality on both fields.
///
/// These are the entries with value `false` in `kyaml/openapi`'s
/// `precomputedIsNamespaceScoped`. The built-in v1.21.2 schema fallback adds
/// nothing: `findNamespaceability` only considers GET paths, so the review
/// types such as `TokenReview` and `SubjectAccessReview` count as
/// namespace-scoped or unknown, and therefore NOT cluster-scoped. Alpha versions are absent from the
/// schema. This was checked with kubectl kustomize v5.5.0 and `namespace:` over
/// these pairs and about 60 others: exactly these were left without a namespace.
/// A kustomization's `openapi:` field, or a custom schema, can change the answer
/// for other types. `crds:` only adds field specs, not scope.
pub const CLUSTER_SCOPED_API_TYPES: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "NodeProxyOptions"),
    ("v1", "PersistentVolume"),
];

/// Resources that the prefix and suffix transformers never rename, as
/// `(group, kind)` with `""` for "any group". The check is made against the
/// resource's OrgId: `id.IsSelected(&Gvk{group, kind})`.
pub const PREFIX_SUFFIX_SKIP: &[(&str, &str)] = &[
    ("", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("", "Namespace"),
];

/// Legacy sort order, head (`defaultOrderFirst` in
/// `api/internal/builtins/SortOrderTransformer.go`; `orderFirst` in
/// `kyaml/resid/gvk.go` is the same list). v5.5.0 includes `Endpoints`; older
/// `api/resid/gvk.go` did not.
///
/// # Exact legacy comparator (kustomize v5.5.0, checked against kubectl 1.32)
///
/// kustomize applies it at the end of `kustomize build` / `kubectl kustomize`
/// when the kustomization has no `sortOptions`, or has `sortOptions.order: legacy`.
/// In the second case `legacySortOptions.orderFirst/orderLast` replace these
/// lists. `order: fifo` keeps accumulation order. Each resource is keyed by its
/// FINAL `CurId()`: the apiVersion split into group/version, kind, name, namespace.
///
/// `rank(kind)`:
/// * `-len(first) + i` for the i-th entry of [`ORDER_FIRST`], i.e. -22 … -1;
/// * `1 + i` for the i-th entry of [`ORDER_LAST`], i.e. 1, 2;
/// * `0` for every other kind.
///
/// Unlisted kinds therefore go after `PodDisruptionBudget` and before
/// `MutatingWebhookConfiguration`.
///
/// `less(a, b)`:
/// 1. If the GVKs differ in any of group, version or kind:
///    * a. if `rank(a.kind) != rank(b.kind)`, compare the ranks;
///    * b. else, if both kinds are `"Namespace"` and at least one group is `""`,
///      return `gs(a) > gs(b)` (REVERSED). This is new in v5.5, and it puts core
///      `v1 Namespace` before `example.com/v1 Namespace`;
///    * c. else return `gs(a) < gs(b)`, where `gs(x) = G + "_" + V + "_" + K` with
///      `~G`, `~V`, `~K` for empty parts.
///    * Note `~` (0x7E) sorts after letters, so among unlisted kinds the core
///      group comes last. Example order: `apps_v1_DaemonSet`, `batch_v1_Job`,
///      `example.com_v1_Widget`, `~G_v1_Pod`.
/// 2. If the GVKs are equal, compare the strings
///    `gvk.String() + "|" + ns + "|" + name`, with `ns = "~X"` if the namespace is
///    empty and `name = "~N"` if the name is empty. `gvk.String()` is the same on
///    both sides, so this is a plain byte comparison of `ns + "|" + name`,
///    which is NOT a tuple comparison. For example `ab|a` < `a|y` because `b`
///    (0x62) < `|` (0x7C). Resources with no namespace (`~X`) sort after all
///    namespaced ones; an explicit `default` is NOT the same as empty.
///
/// Go's `sort.Sort` is not stable. Ties (identical keys) cannot occur in a valid
/// resmap, so the result is fully determined.
pub const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Legacy sort order, tail (`defaultOrderLast`). See [`ORDER_FIRST`] for the
/// comparator.
pub const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_scoped_kinds_are_sorted_and_cover_every_api_type() {
        // `cluster_scoped` binary-searches the kinds before the exact pairs.
        assert!(CLUSTER_SCOPED_KINDS.windows(2).all(|w| w[0] < w[1]));
        for (_, kind) in CLUSTER_SCOPED_API_TYPES {
            assert!(CLUSTER_SCOPED_KINDS.binary_search(kind).is_ok(), "{kind}");
        }
    }

    #[test]
    fn default_field_specs_parse_and_have_all_sections() {
        let v: serde_json::Value = serde_saphyr::from_str::<serde_json::Value>(DEFAULT_FIELD_SPECS)
            .expect("DEFAULT_FIELD_SPECS must be valid YAML");
        let obj = v.as_object().expect("top level must be a mapping");
        let expected = [
            ("namePrefix", 1),
            ("nameSuffix", 1),
            ("commonLabels", 32),
            ("templateLabels", 10),
            ("commonAnnotations", 9),
            ("namespace", 3),
            ("varReference", 72),
            ("nameReference", 16),
            ("images", 4),
            ("replicas", 4),
        ];
        assert_eq!(
            obj.len(),
            expected.len(),
            "unexpected top-level keys: {:?}",
            obj.keys()
        );
        for (key, count) in expected {
            let list = obj
                .get(key)
                .unwrap_or_else(|| panic!("missing key {key}"))
                .as_array()
                .unwrap_or_else(|| panic!("{key} must be a list"));
            assert!(!list.is_empty(), "{key} must be non-empty");
            assert_eq!(list.len(), count, "entry count of {key}");
            for item in list {
                if key == "nameReference" {
                    assert!(item.get("kind").and_then(|k| k.as_str()).is_some());
                    let fs = item
                        .get("fieldSpecs")
                        .and_then(|f| f.as_array())
                        .expect("fieldSpecs");
                    assert!(!fs.is_empty());
                    for f in fs {
                        assert!(f.get("path").and_then(|p| p.as_str()).is_some());
                    }
                } else {
                    assert!(
                        item.get("path").and_then(|p| p.as_str()).is_some(),
                        "{key}: {item}"
                    );
                }
            }
        }
        // Escaped slashes and `[]` survive verbatim.
        assert!(DEFAULT_FIELD_SPECS.contains(r"nginx.ingress.kubernetes.io\/auth-tls-secret"));
        assert!(DEFAULT_FIELD_SPECS.contains("spec/template/spec/containers[]/image"));
    }

    #[test]
    fn legacy_order_lists() {
        assert_eq!(ORDER_FIRST.len(), 22);
        assert_eq!(ORDER_FIRST[12], "Endpoints");
        assert_eq!(ORDER_LAST.len(), 2);
        for (_, kind) in CLUSTER_SCOPED_API_TYPES {
            assert!(CLUSTER_SCOPED_KINDS.contains(kind), "{kind}");
        }
    }
}
