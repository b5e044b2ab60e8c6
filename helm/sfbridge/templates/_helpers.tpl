{{/* Names and labels. */}}
{{- define "sfbridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sfbridge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "sfbridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sfbridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sfbridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sfbridge.labels" -}}
helm.sh/chart: {{ include "sfbridge.chart" . }}
{{ include "sfbridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sfbridge
{{- end -}}

{{/* Selector labels of one org's component. Args: dict root org component. */}}
{{- define "sfbridge.componentSelectorLabels" -}}
{{ include "sfbridge.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
sfbridge.io/org: {{ .org.id }}
{{- end -}}

{{- define "sfbridge.componentLabels" -}}
{{ include "sfbridge.labels" .root }}
app.kubernetes.io/component: {{ .component }}
sfbridge.io/org: {{ .org.id }}
{{- end -}}

{{/* Name of one org's component: <fullname>-<org>-<component>. Args: dict root org component. */}}
{{- define "sfbridge.componentName" -}}
{{- printf "%s-%s-%s" (include "sfbridge.fullname" .root) .org.id .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sfbridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sfbridge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sfbridge.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
A component's settings for one org: the chart-wide defaults (.Values.<component>) with the org's
overrides (org.<component>) merged over them, as YAML. Args: dict root org component.
*/}}
{{- define "sfbridge.settings" -}}
{{- $defaults := deepCopy (get .root.Values .component) -}}
{{- $overrides := deepCopy (default dict (get .org .component)) -}}
{{- toYaml (mergeOverwrite $defaults $overrides) -}}
{{- end -}}

{{/*
One org with the chart-wide Salesforce defaults merged under its own salesforce settings, as YAML.
Every template ranges over orgs through this. Args: dict root org.
*/}}
{{- define "sfbridge.org" -}}
{{- $org := deepCopy .org -}}
{{- $sf := mergeOverwrite (deepCopy .root.Values.salesforce) (default dict $org.salesforce) -}}
{{- $_ := set $org "salesforce" $sf -}}
{{- toYaml $org -}}
{{- end -}}

{{/* Keys shared by every service's properties file. Args: root. */}}
{{- define "sfbridge.commonConfig" -}}
{{- dict "metrics.host" "0.0.0.0" "metrics.port" .Values.metricsPort "log.level" .Values.log.level "log.format" .Values.log.format | toYaml -}}
{{- end -}}

{{/* Mount points of secrets that services read as files. */}}
{{- define "sfbridge.privateKeyPath" -}}/etc/sfbridge/salesforce/private-key.pem{{- end -}}
{{- define "sfbridge.caPath" -}}/etc/sfbridge/salesforce-ca/ca.pem{{- end -}}
{{- define "sfbridge.tlsDir" -}}/etc/sfbridge/tls{{- end -}}
{{- define "sfbridge.configPath" -}}/etc/sfbridge/config/sfbridge.properties{{- end -}}

{{/* Salesforce settings that go in the properties file. Args: root org. */}}
{{- define "sfbridge.salesforceConfig" -}}
{{- $sf := .org.salesforce -}}
{{- $cfg := dict "salesforce.login-url" $sf.loginUrl "salesforce.auth" $sf.auth "salesforce.api-version" $sf.apiVersion -}}
{{- if eq $sf.auth "jwt" -}}
{{- $_ := set $cfg "salesforce.private-key-file" (include "sfbridge.privateKeyPath" .) -}}
{{- end -}}
{{- if $sf.caSecret -}}
{{- $_ := set $cfg "salesforce.ca-file" (include "sfbridge.caPath" .) -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/*
Properties file of one org's component: chart-managed keys, then the component's `config`
merged over them. Keys come out sorted, one "key = value" line each. Args: dict root org component.
*/}}
{{- define "sfbridge.properties" -}}
{{- $root := .root -}}
{{- $org := .org -}}
{{- $s := include "sfbridge.settings" . | fromYaml -}}
{{- $cfg := include "sfbridge.commonConfig" $root | fromYaml -}}
{{- $_ := set $cfg "org.id" $org.id -}}
{{- if eq .component "fetcher" -}}
{{- $_ := set $cfg "kafka.brokers" $root.Values.kafka.brokers -}}
{{- $cfg = mergeOverwrite $cfg (include "sfbridge.salesforceConfig" . | fromYaml) -}}
{{- if $org.objects -}}
{{- $_ := set $cfg "fetcher.objects" (join "," $org.objects) -}}
{{- end -}}
{{- else if eq .component "writer" -}}
{{- $_ := set $cfg "kafka.brokers" $root.Values.kafka.brokers -}}
{{- $_ := set $cfg "writer.schema" $s.schema -}}
{{- $_ := set $cfg "writer.read-role" $s.readRole -}}
{{- $_ := set $cfg "grpc.host" "0.0.0.0" -}}
{{- $_ := set $cfg "grpc.port" $s.grpcPort -}}
{{- else if eq .component "proxy" -}}
{{- $writer := include "sfbridge.settings" (dict "root" $root "org" $org "component" "writer") | fromYaml -}}
{{- $cfg = mergeOverwrite $cfg (include "sfbridge.salesforceConfig" . | fromYaml) -}}
{{- $_ := set $cfg "listen.host" "0.0.0.0" -}}
{{- $_ := set $cfg "listen.port" $s.port -}}
{{- $_ := set $cfg "upstream.host" $root.Values.postgres.host -}}
{{- $_ := set $cfg "upstream.port" $root.Values.postgres.port -}}
{{- $_ := set $cfg "writer.address" (printf "%s:%v" (include "sfbridge.componentName" (dict "root" $root "org" $org "component" "writer")) $writer.grpcPort) -}}
{{- if $s.tls.enabled -}}
{{- $_ := set $cfg "tls.cert" (printf "%s/tls.crt" (include "sfbridge.tlsDir" .)) -}}
{{- $_ := set $cfg "tls.key" (printf "%s/tls.key" (include "sfbridge.tlsDir" .)) -}}
{{- end -}}
{{- end -}}
{{- $cfg = mergeOverwrite $cfg (default dict $s.config) -}}
{{- range $k, $v := $cfg }}
{{ $k }} = {{ $v }}
{{- end -}}
{{- end -}}

{{/* A secretKeyRef environment variable. Args: dict name secret key optional. */}}
{{- define "sfbridge.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end -}}

{{/* Salesforce credentials from the org's Secret, as the flow needs them. Args: org. */}}
{{- define "sfbridge.salesforceEnv" -}}
{{- $sf := .salesforce -}}
{{- $secret := $sf.existingSecret -}}
{{ include "sfbridge.secretEnv" (dict "name" "SFBRIDGE_SALESFORCE_CLIENT_ID" "secret" $secret "key" "client-id") }}
{{- if has $sf.auth (list "password" "client_credentials" "refresh_token") }}
{{ include "sfbridge.secretEnv" (dict "name" "SFBRIDGE_SALESFORCE_CLIENT_SECRET" "secret" $secret "key" "client-secret" "optional" (eq $sf.auth "refresh_token")) }}
{{- end }}
{{- if has $sf.auth (list "password" "jwt") }}
{{ include "sfbridge.secretEnv" (dict "name" "SFBRIDGE_SALESFORCE_USERNAME" "secret" $secret "key" "username") }}
{{- end }}
{{- if eq $sf.auth "password" }}
{{ include "sfbridge.secretEnv" (dict "name" "SFBRIDGE_SALESFORCE_PASSWORD" "secret" $secret "key" "password") }}
{{- end }}
{{- if eq $sf.auth "refresh_token" }}
{{ include "sfbridge.secretEnv" (dict "name" "SFBRIDGE_SALESFORCE_REFRESH_TOKEN" "secret" $secret "key" "refresh-token") }}
{{- end }}
{{- end -}}

{{/* Volumes for the Salesforce private key and CA file. Args: org. */}}
{{- define "sfbridge.salesforceVolumes" -}}
{{- $sf := .salesforce -}}
{{- if eq $sf.auth "jwt" }}
- name: salesforce-key
  secret:
    secretName: {{ $sf.existingSecret }}
    defaultMode: 0400
    items:
      - key: private-key
        path: private-key.pem
{{- end }}
{{- if $sf.caSecret }}
- name: salesforce-ca
  secret:
    secretName: {{ $sf.caSecret }}
    items:
      - key: {{ $sf.caSecretKey }}
        path: ca.pem
{{- end }}
{{- end -}}

{{- define "sfbridge.salesforceMounts" -}}
{{- $sf := .salesforce -}}
{{- if eq $sf.auth "jwt" }}
- name: salesforce-key
  mountPath: {{ include "sfbridge.privateKeyPath" . | dir }}
  readOnly: true
{{- end }}
{{- if $sf.caSecret }}
- name: salesforce-ca
  mountPath: {{ include "sfbridge.caPath" . | dir }}
  readOnly: true
{{- end }}
{{- end -}}

{{/*
Pod template shared by the three Deployments. Args: dict root org component settings env
volumes mounts ports.
*/}}
{{- define "sfbridge.podTemplate" -}}
{{- $root := .root -}}
{{- $s := .settings -}}
{{- $args := dict "root" $root "org" .org "component" .component -}}
metadata:
  labels:
    {{- include "sfbridge.componentLabels" $args | nindent 4 }}
    {{- with $s.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include "sfbridge.properties" $args | sha256sum }}
    {{- if $root.Values.monitoring.podAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $root.Values.metricsPort | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $s.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "sfbridge.serviceAccountName" $root }}
  automountServiceAccountToken: false
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  terminationGracePeriodSeconds: {{ $s.terminationGracePeriodSeconds }}
  containers:
    - name: {{ .component }}
      image: {{ include "sfbridge.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args: [{{ .component | quote }}]
      env:
        - name: SFBRIDGE_CONFIG
          value: {{ include "sfbridge.configPath" $root }}
        {{- .env | nindent 8 }}
      ports:
        - name: metrics
          containerPort: {{ $root.Values.metricsPort }}
          protocol: TCP
        {{- with .ports }}
        {{- . | nindent 8 }}
        {{- end }}
      livenessProbe:
        httpGet: {path: /healthz, port: metrics}
        {{- toYaml $root.Values.probes.liveness | nindent 8 }}
      readinessProbe:
        httpGet: {path: /readyz, port: metrics}
        {{- toYaml $root.Values.probes.readiness | nindent 8 }}
      {{- with $s.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: config
          mountPath: {{ include "sfbridge.configPath" $root | dir }}
          readOnly: true
        - name: tmp
          mountPath: /tmp
        {{- with .mounts }}
        {{- . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "sfbridge.componentName" $args }}
        items:
          - key: sfbridge.properties
            path: sfbridge.properties
    - name: tmp
      emptyDir: {}
    {{- with .volumes }}
    {{- . | nindent 4 }}
    {{- end }}
  {{- with $s.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $s.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $s.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* Checks that values cannot express in the JSON schema: unique org ids and writer schemas. */}}
{{- define "sfbridge.validate" -}}
{{- $ids := list -}}
{{- $schemas := list -}}
{{- if not .Values.orgs -}}
{{- fail "orgs: list at least one org (orgs[].id, orgs[].salesforce.existingSecret)" -}}
{{- end -}}
{{- range .Values.orgs -}}
{{- if has .id $ids -}}
{{- fail (printf "orgs: id %q appears more than once" .id) -}}
{{- end -}}
{{- $ids = append $ids .id -}}
{{- $w := include "sfbridge.settings" (dict "root" $ "org" . "component" "writer") | fromYaml -}}
{{- if has $w.schema $schemas -}}
{{- fail (printf "orgs: org %q uses writer schema %q, which another org already uses; give each org its own (orgs[].writer.schema)" .id $w.schema) -}}
{{- end -}}
{{- $schemas = append $schemas $w.schema -}}
{{- $p := include "sfbridge.settings" (dict "root" $ "org" . "component" "proxy") | fromYaml -}}
{{- if and $p.enabled $p.tls.enabled (not $p.tls.existingSecret) -}}
{{- fail (printf "orgs: org %q has proxy.tls.enabled without proxy.tls.existingSecret" .id) -}}
{{- end -}}
{{- if and $p.enabled (not $.Values.postgres.host) -}}
{{- fail "postgres.host is required when the proxy is enabled (the proxy forwards clients to it)" -}}
{{- end -}}
{{- end -}}
{{- end -}}
