{{/*
haproxytech's kubernetes-ingress chart's value names, and the checks that make the install fail
on what Portcullis cannot honour. values.schema.json lists every key the chart knows (unknown keys
fail there); the keys below are known, and either become their Portcullis counterpart or, when
their value asks for what Portcullis does not do, fail the install here, all at once, each named
with what to use instead. documentation/helm-values.md lists them.
*/}}

{{/* A scalar as text, numbers exactly: YAML numbers reach templates as float64, which toString
prints in exponent form from a million on (2e+06). */}}
{{- define "portcullis.scalar" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) -}}
{{- int64 . -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/* A map of labels or annotations, every value a quoted string, numbers exactly (8080, not
8080 unquoted, which the API refuses as a label or annotation value; 2000000, not 2e+06). */}}
{{- define "portcullis.stringMap" -}}
{{- $lines := list -}}
{{- range $key, $value := . -}}
{{- $lines = append $lines (printf "%s: %s" ($key | quote) (include "portcullis.scalar" $value | quote)) -}}
{{- end -}}
{{- join "\n" $lines -}}
{{- end -}}

{{/* A value that is a list or map, or a string rendered as a template (haproxytech allows both
for extraContainers, initContainers, extraVolumes, extraVolumeMounts, lifecycle and
podAnnotations), as YAML. Called with (list $root $value). */}}
{{- define "portcullis.tplYaml" -}}
{{- $root := index . 0 -}}
{{- $v := index . 1 -}}
{{- if kindIs "string" $v -}}
{{- tpl $v $root | trim -}}
{{- else -}}
{{- toYaml $v | trim -}}
{{- end -}}
{{- end -}}

{{/* haproxytech's chart names its namespace helper so, and its defaultTLSSecret.secretNamespace
default renders it: defined here, such values files render too. */}}
{{- define "kubernetes-ingress.namespace" -}}
{{- .Release.Namespace -}}
{{- end -}}

{{/* Flags of haproxytech's controller that Portcullis's does not have, with what to do instead. */}}
{{- define "portcullis.haproxytechFlags" -}}
{{- $gone := "Portcullis is event-driven and resyncs nothing: remove it" -}}
{{- $ipv6 := "HAProxy listens on IPv4 only (--ipv4-bind-address): remove it" -}}
{{- $quic := "Portcullis serves no QUIC (HTTP/3): remove it" -}}
{{- $sync := "Portcullis's controller watches the API itself, in every replica: remove it" -}}
{{- $s6 := "the controller runs HAProxy's master process itself: remove it" -}}
{{- $remove := "Portcullis has no such feature: remove it" -}}
{{- toJson (dict
  "namespace-blacklist" "no deny list: list the namespaces to watch in controller.scope.namespaces"
  "ipv6-bind-address" $ipv6 "disable-ipv4" $ipv6 "disable-ipv6" $ipv6
  "disable-http" "both listeners always run: leave the port out of the Service with controller.service.enablePorts.http false"
  "disable-https" "both listeners always run: leave the port out of the Service with controller.service.enablePorts.https false"
  "http-bind-thread" $remove "https-bind-thread" $remove
  "prometheus" "the controller always serves /metrics on its port (controller.containerPort.controller): remove it"
  "pprof" "Portcullis serves no pprof: remove it" "p" "Portcullis serves no pprof: remove it"
  "localpeer-port" "Portcullis declares no HAProxy peers: remove it"
  "default-backend-port" "the built-in default backend listens on no port of its own; controller.defaultBackendService names a Service instead: remove it"
  "external" "outside the cluster, pass --kubeconfig; the controller always runs HAProxy itself (--program): remove it"
  "e" "outside the cluster, pass --kubeconfig; the controller always runs HAProxy itself (--program): remove it"
  "sync-period" $gone "initial-sync-period" $gone "cache-resync-period" $gone "channel-size" $gone
  "with-s6-overlay" $s6 "with-pebble" $s6 "t" $s6
  "configmap-errorfiles" $remove "configmap-patternfiles" $remove
  "gateway-controller-name" "this chart has no haproxytech Gateway API switch: remove it"
  "job-check-crd" "Portcullis installs no CRDs through a job: remove it"
  "custom-validation-rules" $remove "enable-custom-annotations-on-ingress" $remove "experimental" $remove
  "disable-config-snippets" "Portcullis never takes configuration snippets: remove it"
  "disable-quic" $quic "quic-bind-port" $quic "quic-announce-port" $quic
  "disable-ingress-status-update" "set controller.publishService.enabled false"
  "proxy-server-mode" $sync "k8s-api-sync-type" $sync "proxy-svc-label-selector" $sync "proxy-k8s-fetch-period" $sync
) -}}
{{- end -}}

{{/* The ConfigMaps (namespace/name) that controller.extraArgs hands the controller as TCP
services, as a JSON list: the chart lets the controller read them. */}}
{{- define "portcullis.extraTCPServicesConfigMaps" -}}
{{- $out := list -}}
{{- range .Values.controller.extraArgs -}}
{{- $kv := regexSplit "=" . 2 -}}
{{- if and (eq (len $kv) 2) (has (index $kv 0) (list "--configmap-tcp-services" "--tcp-services-configmap")) (regexMatch "^[a-z0-9][-a-z0-9]*/[a-z0-9][-.a-z0-9]*$" (index $kv 1)) -}}
{{- $out = append $out (index $kv 1) -}}
{{- end -}}
{{- end -}}
{{- $out | uniq | toJson -}}
{{- end -}}

{{/* What is wrong with the values beyond what the schema checks, as a list of messages. */}}
{{- define "portcullis.problems" -}}
{{- $v := .Values -}}
{{- $c := $v.controller -}}
{{- $p := list -}}
{{- if ($v.podSecurityPolicy | default dict).enabled -}}
{{- $p = append $p "podSecurityPolicy.enabled: PodSecurityPolicies are gone from Kubernetes (1.25); the pod runs unprivileged (controller.podSecurityContext): remove it" -}}
{{- end -}}
{{- if ($v.namespace | default dict).create -}}
{{- $p = append $p "namespace.create: create the namespace with helm install --create-namespace instead" -}}
{{- end -}}
{{- if $v.namespaceOverride -}}
{{- $p = append $p "namespaceOverride: install into that namespace with helm install --namespace instead" -}}
{{- end -}}
{{- if ($v.aws | default dict).licenseConfigSecretName -}}
{{- $p = append $p "aws.licenseConfigSecretName: HAProxy Enterprise's AWS licence; Portcullis needs none: remove it" -}}
{{- end -}}
{{- if eq (toString (index $v.serviceAccount "automountServiceAccountToken")) "false" -}}
{{- $p = append $p "serviceAccount.automountServiceAccountToken: the controller reads the API with the ServiceAccount's token, which the chart mounts: remove it" -}}
{{- end -}}
{{- if eq (toString (index $c "unprivileged")) "false" -}}
{{- $p = append $p "controller.unprivileged: the pod always runs as uid 1000 without privileges; to listen below port 1024 set controller.sysctls net.ipv4.ip_unprivileged_port_start (or controller.allowPrivilegedPorts): remove it" -}}
{{- end -}}
{{- if eq (toString (index ($c.prometheus | default dict) "enabled")) "false" -}}
{{- $p = append $p "controller.prometheus.enabled: the controller always serves /metrics on its port: remove it" -}}
{{- end -}}
{{- if ($c.pprof | default dict).enabled -}}
{{- $p = append $p "controller.pprof.enabled: Portcullis serves no pprof: set it false or remove it" -}}
{{- end -}}
{{- if ($c.quic | default dict).announcePort -}}
{{- $p = append $p "controller.quic.announcePort: Portcullis serves no QUIC (HTTP/3): remove it" -}}
{{- end -}}
{{- if index $c.service.enablePorts "quic" -}}
{{- $p = append $p "controller.service.enablePorts.quic: Portcullis serves no QUIC (HTTP/3): set it false" -}}
{{- end -}}
{{- if ($c.kubernetesGateway | default dict).enabled -}}
{{- $p = append $p "controller.kubernetesGateway.enabled: this chart has no haproxytech Gateway API switch: remove it" -}}
{{- end -}}
{{- if ($c.keda | default dict).enabled -}}
{{- $p = append $p "controller.keda.enabled: the chart makes no KEDA ScaledObject; use controller.autoscaling (a HorizontalPodAutoscaler, with autoscaling.custom for other metrics)" -}}
{{- end -}}
{{- if $c.auxiliaryConfig -}}
{{- $p = append $p "controller.auxiliaryConfig: Portcullis takes no raw HAProxy configuration; use controller.config keys (documentation/configmap.md)" -}}
{{- end -}}
{{- with ($c.sync | default dict).mode -}}
{{- if ne . "default" -}}
{{- $p = append $p (printf "controller.sync.mode %q: Portcullis's controller watches the API itself, in every replica: remove it" .) -}}
{{- end -}}
{{- end -}}
{{- with ($c.logging.traffic | default dict) -}}
{{- if and .format (ne .format "raw") -}}
{{- $p = append $p (printf "controller.logging.traffic.format %q: HAProxy logs to stdout raw and to syslog in its default format; remove it" .format) -}}
{{- end -}}
{{- if and .facility (ne .facility "local0") -}}
{{- $p = append $p (printf "controller.logging.traffic.facility %q: traffic logs use facility local0: remove it" .facility) -}}
{{- end -}}
{{- range $k := list "level" "minlevel" "length" -}}
{{- if index $c.logging.traffic $k -}}
{{- $p = append $p (printf "controller.logging.traffic.%s: not configurable: remove it" $k) -}}
{{- end -}}
{{- end -}}
{{- if and .port (not .address) -}}
{{- $p = append $p "controller.logging.traffic.port needs controller.logging.traffic.address" -}}
{{- end -}}
{{- end -}}
{{- range $c.service.ipFamilies -}}
{{- if ne . "IPv4" -}}
{{- $p = append $p (printf "controller.service.ipFamilies %s: HAProxy listens on IPv4 only: use [IPv4] or leave it empty" .) -}}
{{- end -}}
{{- end -}}
{{- if and $c.service.ipFamilyPolicy (ne $c.service.ipFamilyPolicy "SingleStack") -}}
{{- $p = append $p (printf "controller.service.ipFamilyPolicy %s: HAProxy listens on IPv4 only: use SingleStack or leave it empty" $c.service.ipFamilyPolicy) -}}
{{- end -}}
{{- range $m := list "serviceMonitor" "podMonitor" -}}
{{- range $i, $e := (index $c $m).endpoints -}}
{{- if and (kindIs "map" $e) (not (has (toString $e.port) (list "controller" "stat" "admin"))) -}}
{{- $p = append $p (printf "controller.%s.endpoints[%d].port %q: the ports with metrics are controller (the controller's /metrics; haproxytech's admin) and stat (HAProxy's exporter)" $m $i (toString $e.port)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $known := include "portcullis.controllerFlags" . | splitList " " -}}
{{- $ht := include "portcullis.haproxytechFlags" . | fromJson -}}
{{- range $c.extraArgs -}}
{{- $flag := regexReplaceAll "=.*$" . "" -}}
{{- $name := trimPrefix "-" (trimPrefix "-" $flag) -}}
{{- if hasKey $ht $name -}}
{{- $p = append $p (printf "controller.extraArgs %s: a flag of haproxytech's controller only; %s" $flag (get $ht $name)) -}}
{{- else if regexMatch "bind-thread$" $name -}}
{{- $p = append $p (printf "controller.extraArgs %s: a flag of haproxytech's controller only; Portcullis binds no listener to a thread: remove it" $flag) -}}
{{- else if or (not (hasPrefix "--" $flag)) (not (has $name $known)) -}}
{{- $p = append $p (printf "controller.extraArgs %s: the controller has no such flag (documentation/flags.md lists them)" $flag) -}}
{{- end -}}
{{- end -}}
{{- $portNames := list "http" "https" "controller" "healthz" "stat" -}}
{{- range $port, $_ := $c.tcpServices -}}
{{- $portNames = append $portNames (printf "tcp-%s" $port) -}}
{{- end -}}
{{- range $c.service.tcpPorts -}}
{{- $portNames = append $portNames (.name | trunc 15 | trimSuffix "-") -}}
{{- end -}}
{{- range $name, $target := ($c.service.targetPorts | default dict) -}}
{{- if and (kindIs "string" $target) (ne $name "quic") (not (has $target $portNames)) -}}
{{- $p = append $p (printf "controller.service.targetPorts.%s %q names no container port (%s)" $name $target (join ", " $portNames)) -}}
{{- end -}}
{{- end -}}
{{- include "portcullis.tcpPortsProblems" (dict "root" . "problems" $p) -}}
{{- end -}}

{{/* Appends to .problems what is wrong with controller.service.tcpPorts, and prints the whole
list as JSON. */}}
{{- define "portcullis.tcpPortsProblems" -}}
{{- $c := .root.Values.controller -}}
{{- $p := .problems -}}
{{- $external := include "portcullis.extraTCPServicesConfigMaps" .root | fromJsonArray -}}
{{- $names := dict -}}
{{- range $i, $e := $c.service.tcpPorts -}}
{{- $target := include "portcullis.scalar" $e.targetPort -}}
{{- if and (not (hasKey ($c.tcpServices | default dict) $target)) (not $external) -}}
{{- $p = append $p (printf "controller.service.tcpPorts[%d] (%s): nothing listens on targetPort %s; add controller.tcpServices.\"%s\" (\"<namespace>/<service>:<port>\"), or pass a TCP services ConfigMap with controller.extraArgs --configmap-tcp-services=<namespace>/<name>" $i $e.name $target $target) -}}
{{- end -}}
{{- $short := $e.name | trunc 15 | trimSuffix "-" -}}
{{- if or (hasKey $names $short) (has $short (list "http" "https" "controller" "healthz" "stat")) -}}
{{- $p = append $p (printf "controller.service.tcpPorts[%d]: the name %q (%q as a port name) is already taken" $i $e.name $short) -}}
{{- end -}}
{{- $_ := set $names $short true -}}
{{- end -}}
{{- toJson $p -}}
{{- end -}}

{{/* Turns haproxytech's names into Portcullis's, in place, once per render, and fails listing
every value that cannot be honoured. Each template includes it first. */}}
{{- define "portcullis.normalize" -}}
{{- $c := .Values.controller -}}
{{- if not (hasKey $c "__normalized") -}}
{{- $_ := set $c "__normalized" true -}}
{{- with $c.PodDisruptionBudget -}}
{{- if hasKey . "enable" -}}
{{- $_ := set $c.podDisruptionBudget "enabled" .enable -}}
{{- end -}}
{{- if or .maxUnavailable .minAvailable -}}
{{- $_ := set $c.podDisruptionBudget "maxUnavailable" (.maxUnavailable | default "") -}}
{{- $_ := set $c.podDisruptionBudget "minAvailable" (.minAvailable | default "") -}}
{{- end -}}
{{- end -}}
{{- with $c.strategy -}}
{{- $_ := set $c "updateStrategy" . -}}
{{- end -}}
{{- range $m := list "serviceMonitor" "podMonitor" -}}
{{- $mon := index $c $m -}}
{{- with $mon.extraLabels -}}
{{- $_ := set $mon "labels" (merge (deepCopy .) ($mon.labels | default dict)) -}}
{{- end -}}
{{- $eps := list -}}
{{- range $mon.endpoints -}}
{{- if eq (toString .port) "admin" -}}
{{- $eps = append $eps (merge (dict "port" "controller") (omit . "port")) -}}
{{- else -}}
{{- $eps = append $eps . -}}
{{- end -}}
{{- end -}}
{{- $_ := set $mon "endpoints" $eps -}}
{{- end -}}
{{- if hasKey $c.containerPort "admin" -}}
{{- $_ := set $c.containerPort "controller" $c.containerPort.admin -}}
{{- end -}}
{{- range $k := list "ports" "nodePorts" "enablePorts" "targetPorts" -}}
{{- $m := index $c.service $k | default dict -}}
{{- if hasKey $m "admin" -}}
{{- $_ := set $m "controller" (get $m "admin") -}}
{{- end -}}
{{- end -}}
{{/* haproxytech's container port names: admin is controller here. */}}
{{- range $name, $target := ($c.service.targetPorts | default dict) -}}
{{- if eq (toString $target) "admin" -}}
{{- $_ := set $c.service.targetPorts $name "controller" -}}
{{- end -}}
{{- end -}}
{{- $hostCfg := ternary ($c.daemonset | default dict) ($c.deployment | default dict) (eq $c.kind "DaemonSet") -}}
{{- if $hostCfg.useHostNetwork -}}
{{- $_ := set $c "hostNetwork" true -}}
{{- end -}}
{{- $secrets := list -}}
{{- range $c.imagePullSecrets -}}
{{- $secrets = append $secrets (ternary (dict "name" .) . (kindIs "string" .)) -}}
{{- end -}}
{{- with $c.existingImagePullSecret -}}
{{- $secrets = append $secrets (dict "name" .) -}}
{{- end -}}
{{- if ($c.imageCredentials | default dict).registry -}}
{{- $secrets = append $secrets (dict "name" (include "portcullis.pullSecretName" .)) -}}
{{- end -}}
{{- $_ := set $c "imagePullSecrets" $secrets -}}
{{- with ($c.logging.traffic | default dict) -}}
{{- if and .address (not (hasKey ($c.config | default dict) "syslog-server")) -}}
{{- $target := ternary .address (printf "%s:%s" .address (include "portcullis.scalar" .port)) (or (not .port) (eq .address "stdout")) -}}
{{- $_ := set $c "config" (merge (dict "syslog-server" $target) ($c.config | default dict)) -}}
{{- end -}}
{{- end -}}
{{- $sysctls := dict -}}
{{- if $c.allowPrivilegedPorts -}}
{{- $_ := set $sysctls "net.ipv4.ip_unprivileged_port_start" "0" -}}
{{- end -}}
{{- range $name, $value := $c.sysctls -}}
{{- $_ := set $sysctls $name (include "portcullis.scalar" $value) -}}
{{- end -}}
{{- if $sysctls -}}
{{- $psc := $c.podSecurityContext | default dict -}}
{{- $list := list -}}
{{- range $psc.sysctls -}}
{{- if not (hasKey $sysctls .name) -}}
{{- $list = append $list . -}}
{{- end -}}
{{- end -}}
{{- range $name := keys $sysctls | sortAlpha -}}
{{- $list = append $list (dict "name" $name "value" (get $sysctls $name)) -}}
{{- end -}}
{{- $_ := set $psc "sysctls" $list -}}
{{- $_ := set $c "podSecurityContext" $psc -}}
{{- end -}}
{{- if eq (toString (index $c "enableRuntimeDefaultSeccompProfile")) "false" -}}
{{- $_ := unset ($c.podSecurityContext | default dict) "seccompProfile" -}}
{{- $_ := unset ($c.securityContext | default dict) "seccompProfile" -}}
{{- end -}}
{{- if hasKey $c "allowPrivilegeEscalation" -}}
{{- $_ := set $c "securityContext" (merge (dict "allowPrivilegeEscalation" $c.allowPrivilegeEscalation) ($c.securityContext | default dict)) -}}
{{- end -}}
{{- with $c.defaultTLSSecret.secretNamespace -}}
{{- $_ := set $c.defaultTLSSecret "secretNamespace" (tpl . $) -}}
{{- end -}}
{{- $problems := include "portcullis.problems" . | fromJsonArray -}}
{{- if $problems -}}
{{- fail (printf "\n\nThese values cannot be honoured (see documentation/helm-values.md):\n- %s\n" (join "\n- " $problems)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
