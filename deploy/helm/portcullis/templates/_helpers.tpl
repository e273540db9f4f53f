{{/* Chart name, truncated to the 63 characters of a label value. */}}
{{- define "portcullis.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name of the release's objects: release-chart, unless the release name holds the chart name. */}}
{{- define "portcullis.fullname" -}}
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

{{- define "portcullis.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "portcullis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portcullis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "portcullis.labels" -}}
helm.sh/chart: {{ include "portcullis.chart" . }}
{{ include "portcullis.selectorLabels" . }}
app.kubernetes.io/component: controller
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "portcullis.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "portcullis.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "portcullis.ingressClassName" -}}
{{- default .Values.controller.ingressClass .Values.controller.ingressClassResource.name -}}
{{- end -}}

{{- define "portcullis.image" -}}
{{- printf "%s:%s" .Values.controller.image.repository (default .Chart.AppVersion .Values.controller.image.tag) -}}
{{- end -}}

{{/* The Lease electing the replica that writes Ingress status: one per release. */}}
{{/* The Secret made from controller.imageCredentials. */}}
{{- define "portcullis.pullSecretName" -}}
{{- printf "%s-pull" (include "portcullis.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "portcullis.electionID" -}}
{{- printf "%s-leader" (include "portcullis.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The ConfigMap holding controller.tcpServices. */}}
{{- define "portcullis.tcpServicesName" -}}
{{- printf "%s-tcp-services" (include "portcullis.fullname" .) -}}
{{- end -}}

{{/* controller.shutdownDelay in whole seconds: 90, "90s", "2m" or "1m30s". */}}
{{- define "portcullis.shutdownDelaySeconds" -}}
{{- $d := .Values.controller.shutdownDelay -}}
{{- if kindIs "string" $d -}}
{{- if or (eq $d "") (not (regexMatch "^([0-9]+m)?([0-9]+s)?$" $d)) -}}
{{- fail (printf "controller.shutdownDelay %q must be whole seconds: 90, \"90s\", \"2m\" or \"1m30s\"" $d) -}}
{{- end -}}
{{- add (mul (regexFind "[0-9]+m" $d | trimSuffix "m" | default "0" | atoi) 60) (regexFind "[0-9]+s" $d | trimSuffix "s" | default "0" | atoi) -}}
{{- else -}}
{{- int $d -}}
{{- end -}}
{{- end -}}

{{/* --stop-timeout in seconds: what the grace period leaves after the shutdown delay, less a
5 s margin for the controller to exit before the kubelet kills it. */}}
{{- define "portcullis.stopTimeoutSeconds" -}}
{{- $grace := int .Values.controller.terminationGracePeriodSeconds -}}
{{- $delay := include "portcullis.shutdownDelaySeconds" . | atoi -}}
{{- $stop := sub (sub $grace $delay) 5 -}}
{{- if le $stop 0 -}}
{{- fail (printf "controller.terminationGracePeriodSeconds (%d) must exceed controller.shutdownDelay (%ds) by more than 5 s: the difference less 5 s is HAProxy's --stop-timeout" $grace $delay) -}}
{{- end -}}
{{- $stop -}}
{{- end -}}

{{/* Fails on controller.tcpServices ports that HAProxy could not listen on, and on
controller.tcpServicesNodePorts keys that name no entry. */}}
{{- define "portcullis.checkTCPServices" -}}
{{- $c := .Values.controller -}}
{{- $lowest := 1024 -}}
{{- range (($c.podSecurityContext | default dict).sysctls | default list) -}}
{{- if eq .name "net.ipv4.ip_unprivileged_port_start" -}}
{{- $lowest = toString .value | atoi -}}
{{- end -}}
{{- end -}}
{{- $taken := dict -}}
{{- range $name := list "http" "https" "stat" "healthz" "controller" -}}
{{- if index $c.service.enablePorts $name -}}
{{- $_ := set $taken (include "portcullis.scalar" (index $c.service.ports $name)) (printf "controller.service.ports.%s" $name) -}}
{{- end -}}
{{- end -}}
{{- range $name := list "http" "https" "controller" "stat" "healthz" -}}
{{- $_ := set $taken (include "portcullis.scalar" (index $c.containerPort $name)) (printf "controller.containerPort.%s" $name) -}}
{{- end -}}
{{- $tcpPortTargets := dict -}}
{{- range $i, $e := $c.service.tcpPorts -}}
{{- $target := include "portcullis.scalar" $e.targetPort -}}
{{- $_ := set $tcpPortTargets $target true -}}
{{- with get $taken $target -}}
{{- fail (printf "controller.service.tcpPorts[%d] targetPort %s is already %s" $i $target .) -}}
{{- end -}}
{{- if lt (atoi $target) $lowest -}}
{{- fail (printf "controller.service.tcpPorts[%d] targetPort %s: the container runs unprivileged and cannot listen below %d; pick a higher targetPort (port, the Service's, can be anything), or set controller.sysctls net.ipv4.ip_unprivileged_port_start" $i $target $lowest) -}}
{{- end -}}
{{- end -}}
{{- range $key, $_ := $c.tcpServices -}}
{{- $port := atoi $key -}}
{{- if or (ne (toString $port) $key) (lt $port 1) (gt $port 65535) -}}
{{- fail (printf "controller.tcpServices key %q must be a port number from 1 to 65535" $key) -}}
{{- end -}}
{{- if lt $port $lowest -}}
{{- fail (printf "controller.tcpServices port %d: the container runs unprivileged and cannot listen below %d; pick a higher port (with controller.service.tcpPorts, the Service's port can still be anything), or lower net.ipv4.ip_unprivileged_port_start with controller.sysctls" $port $lowest) -}}
{{- end -}}
{{- with get $taken $key -}}
{{- if not (hasKey $tcpPortTargets $key) -}}
{{- fail (printf "controller.tcpServices port %d is already %s" $port .) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $key, $_ := $c.tcpServicesNodePorts -}}
{{- if not (hasKey ($c.tcpServices | default dict) $key) -}}
{{- fail (printf "controller.tcpServicesNodePorts key %q is not a port of controller.tcpServices" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The namespaces watched (controller.scope.namespaces, once each), as a JSON list; empty:
every namespace. */}}
{{- define "portcullis.watchedNamespaces" -}}
{{- ((.Values.controller.scope | default dict).namespaces | default list) | uniq | toJson -}}
{{- end -}}

{{/* namespace/name of the --publish-service, or empty when no Service's addresses are
published. */}}
{{- define "portcullis.publishService" -}}
{{- $p := .Values.controller.publishService -}}
{{- if and $p.enabled (not $p.addresses) -}}
{{- default (printf "%s/%s" .Release.Namespace (include "portcullis.fullname" .)) $p.pathOverride -}}
{{- end -}}
{{- end -}}

{{/* What the controller reads and writes in a watched namespace: the objects it serves from,
Ingress status, and the Events about its problems. */}}
{{- define "portcullis.watchRules" -}}
- apiGroups: [""]
  resources: [services, secrets]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
# get: the status writer re-reads an Ingress whose status update conflicts.
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io]
  resources: [ingresses/status]
  verbs: [update]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- if .Values.gatewayAPI.controllerName }}
# Gateway API (gatewayAPI.controllerName): get, as for Ingresses, re-reads an object whose status
# update conflicts.
- apiGroups: [gateway.networking.k8s.io]
  resources: [gateways, httproutes, grpcroutes, tlsroutes]
  verbs: [get, list, watch]
- apiGroups: [gateway.networking.k8s.io]
  resources: [referencegrants]
  verbs: [list, watch]
- apiGroups: [gateway.networking.k8s.io]
  resources: [gateways/status, httproutes/status, grpcroutes/status, tlsroutes/status]
  verbs: [update]
{{- end }}
{{- end -}}

{{/* Fails when a namespaced install (controller.scope.namespaces) names a Service or Secret in
a namespace it does not watch: the controller only sees objects of watched namespaces. */}}
{{- define "portcullis.checkScope" -}}
{{- $c := .Values.controller -}}
{{- $namespaces := include "portcullis.watchedNamespaces" . | fromJsonArray -}}
{{- if $namespaces -}}
{{- with $c.defaultBackendService -}}
{{- if not (has (index (splitList "/" .) 0) $namespaces) -}}
{{- fail (printf "controller.defaultBackendService %q is in a namespace that controller.scope.namespaces does not list: the controller would not see it" .) -}}
{{- end -}}
{{- end -}}
{{- if and $c.defaultTLSSecret.enabled $c.defaultTLSSecret.secret -}}
{{- $ns := default $.Release.Namespace $c.defaultTLSSecret.secretNamespace -}}
{{- if not (has $ns $namespaces) -}}
{{- fail (printf "controller.defaultTLSSecret is in namespace %q, which controller.scope.namespaces does not list: the controller would not see it" $ns) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The controller's command line. */}}
{{- define "portcullis.args" -}}
{{- $c := .Values.controller -}}
{{- include "portcullis.checkTCPServices" . -}}
{{- include "portcullis.checkScope" . -}}
- {{ printf "--ingress.class=%s" $c.ingressClass | quote }}
- {{ printf "--controller-name=%s" $c.ingressClassResource.controllerValue | quote }}
- {{ printf "--configmap=%s/%s" .Release.Namespace (include "portcullis.fullname" .) | quote }}
- {{ printf "--http-bind-port=%d" (int64 $c.containerPort.http) | quote }}
- {{ printf "--https-bind-port=%d" (int64 $c.containerPort.https) | quote }}
- {{ printf "--controller-port=%d" (int64 $c.containerPort.controller) | quote }}
- {{ printf "--stats-bind-port=%d" (int64 $c.containerPort.stat) | quote }}
- {{ printf "--healthz-bind-port=%d" (int64 $c.containerPort.healthz) | quote }}
- {{ printf "--shutdown-delay=%ss" (include "portcullis.shutdownDelaySeconds" .) | quote }}
- {{ printf "--stop-timeout=%ss" (include "portcullis.stopTimeoutSeconds" .) | quote }}
- {{ printf "--config-dir=%s" $c.configDir | quote }}
- {{ printf "--runtime-dir=%s" $c.runtimeDir | quote }}
- {{ printf "--log=%s" $c.logging.level | quote }}
- {{ printf "--log-format=%s" $c.logging.format | quote }}
{{- with $c.defaultBackendService }}
- {{ printf "--default-backend-service=%s" . | quote }}
{{- end }}
{{- if and $c.defaultTLSSecret.enabled $c.defaultTLSSecret.secret }}
- {{ printf "--default-ssl-certificate=%s/%s" (default .Release.Namespace $c.defaultTLSSecret.secretNamespace) $c.defaultTLSSecret.secret | quote }}
{{- end }}
{{- if $c.publishService.enabled }}
{{- if $c.publishService.addresses }}
- {{ printf "--publish-status-address=%s" (join "," $c.publishService.addresses) | quote }}
{{- else }}
- {{ printf "--publish-service=%s" (include "portcullis.publishService" .) | quote }}
{{- end }}
{{- end }}
{{- if or $c.publishService.enabled .Values.gatewayAPI.controllerName }}
- {{ printf "--election-id=%s" (include "portcullis.electionID" .) | quote }}
{{- end }}
- {{ printf "--gateway-controller-name=%s" .Values.gatewayAPI.controllerName | quote }}
{{- with .Values.gatewayAPI.addressPool }}
- {{ printf "--gateway-address-pool=%s" . | quote }}
{{- end }}
{{- if $c.tcpServices }}
- {{ printf "--tcp-services-configmap=%s/%s" .Release.Namespace (include "portcullis.tcpServicesName" .) | quote }}
{{- end }}
{{- with include "portcullis.watchedNamespaces" . | fromJsonArray }}
- {{ printf "--namespace-whitelist=%s" (join "," .) | quote }}
{{- end }}
{{- if $c.hostOwnership }}
- "--host-ownership"
{{- end }}
{{- range $c.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}
