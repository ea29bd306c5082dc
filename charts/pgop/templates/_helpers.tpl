{{/* Labels on every object of the release. */}}
{{- define "pgop.labels" -}}
app.kubernetes.io/name: pgop
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one controller; call with (dict "root" $ "component" "cluster-controller"). */}}
{{- define "pgop.selector" -}}
app.kubernetes.io/name: pgop
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The same labels as "k=v,k=v". */}}
{{- define "pgop.selectorString" -}}
{{- $pairs := list -}}
{{- range $key, $value := include "pgop.selector" . | fromYaml -}}
{{- $pairs = append $pairs (printf "%s=%s" $key $value) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{/* The name of one controller's objects. */}}
{{- define "pgop.name" -}}
{{ .root.Release.Name }}-{{ .component }}
{{- end -}}

{{/*
A controller Deployment. Call with (dict "root" $ "component" "..." "values" .Values.x "entrypoint" "...").
Both controllers run the same image; each has its own ServiceAccount and RBAC.
*/}}
{{- define "pgop.deployment" -}}
{{- $name := include "pgop.name" . -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "pgop.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  replicas: {{ .values.replicas }}
  selector:
    matchLabels:
      {{- include "pgop.selector" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "pgop.labels" .root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
      {{- with .root.Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ $name }}
      # Leader election: a stopped replica releases its Lease; the standby takes over at once.
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    {{- include "pgop.selector" . | nindent 20 }}
      containers:
        - name: controller
          image: "{{ .root.Values.image.repository }}:{{ .root.Values.image.tag }}"
          imagePullPolicy: {{ .root.Values.image.pullPolicy | default "IfNotPresent" }}
          args: [{{ .entrypoint | quote }}]
          env:
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: LOG_LEVEL
              value: {{ .values.logLevel | default "info" | quote }}
            - name: PGOP_POSTGRES_IMAGES
              value: {{ include "pgop.postgresImages" .root | quote }}
            - name: PGOP_POOLER_IMAGE
              value: {{ .root.Values.poolerImage | quote }}
            - name: PGOP_WATCH_NAMESPACES
              value: {{ join "," (.root.Values.watchNamespaces | default list) | quote }}
            - name: PGOP_ALLOWED_IMAGE_REGISTRIES
              value: {{ join "," (.root.Values.allowedImageRegistries | default list) | quote }}
            {{- range $name, $value := .env }}
            - name: {{ $name }}
              value: {{ $value | quote }}
            {{- end }}
          ports:
            - name: http
              containerPort: 8080
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
          resources:
            {{- toYaml .values.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
{{- end -}}

{{/* "15=image,17=image": the PostgreSQL image catalog for the cluster controller. */}}
{{- define "pgop.postgresImages" -}}
{{- $entries := list -}}
{{- range $major, $image := .Values.postgresImages -}}
{{- $entries = append $entries (printf "%s=%s" $major $image) -}}
{{- end -}}
{{- join "," $entries -}}
{{- end -}}

{{/* The ServiceAccount, and the Role that lets a controller hold its leader Lease. */}}
{{- define "pgop.identity" -}}
{{- $name := include "pgop.name" . -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "pgop.labels" .root | nindent 4 }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name }}-leader-election
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "pgop.labels" .root | nindent 4 }}
rules:
  - apiGroups: ["coordination.k8s.io"]
    resources: ["leases"]
    verbs: ["get", "create", "update"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}-leader-election
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "pgop.labels" .root | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ $name }}-leader-election
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ .root.Release.Namespace }}
{{- /*
The controller's rules (the ClusterRole of its name) apply everywhere, or, with watchNamespaces,
only in those namespaces: one RoleBinding each to the same ClusterRole.
*/ -}}
{{- if .root.Values.watchNamespaces }}
{{- range .root.Values.watchNamespaces }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}
  namespace: {{ . }}
  labels:
    {{- include "pgop.labels" $.root | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ $.root.Release.Namespace }}
{{- end }}
{{- else }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ $name }}
  labels:
    {{- include "pgop.labels" .root | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ $name }}
    namespace: {{ .root.Release.Namespace }}
{{- end }}
{{- end -}}
