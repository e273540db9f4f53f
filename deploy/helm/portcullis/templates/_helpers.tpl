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
{{- define "portcullis.electionID" -}}
{{- printf "%s-leader" (include "portcullis.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The controller's command line. */}}
{{- define "portcullis.args" -}}
{{- $c := .Values.controller -}}
- {{ printf "--ingress.class=%s" $c.ingressClass | quote }}
- {{ printf "--controller-name=%s" $c.ingressClassResource.controllerValue | quote }}
- {{ printf "--configmap=%s/%s" .Release.Namespace (include "portcullis.fullname" .) | quote }}
- {{ printf "--http-bind-port=%v" $c.containerPort.http | quote }}
- {{ printf "--https-bind-port=%v" $c.containerPort.https | quote }}
- {{ printf "--controller-port=%v" $c.containerPort.controller | quote }}
- {{ printf "--stats-bind-port=%v" $c.containerPort.stat | quote }}
- {{ printf "--config-dir=%s" $c.configDir | quote }}
- {{ printf "--runtime-dir=%s" $c.runtimeDir | quote }}
- {{ printf "--log=%s" $c.logging.level | quote }}
- {{ printf "--log-format=%s" $c.logging.format | quote }}
{{- with $c.defaultBackendService }}
- {{ printf "--default-backend-service=%s" . | quote }}
{{- end }}
{{- if $c.defaultTLSSecret.enabled }}
{{- if not $c.defaultTLSSecret.secret }}
{{- fail "controller.defaultTLSSecret.enabled needs controller.defaultTLSSecret.secret" }}
{{- end }}
- {{ printf "--default-ssl-certificate=%s/%s" (default .Release.Namespace $c.defaultTLSSecret.secretNamespace) $c.defaultTLSSecret.secret | quote }}
{{- end }}
{{- if $c.publishService.enabled }}
{{- if $c.publishService.addresses }}
- {{ printf "--publish-status-address=%s" (join "," $c.publishService.addresses) | quote }}
{{- else }}
- {{ printf "--publish-service=%s" (default (printf "%s/%s" .Release.Namespace (include "portcullis.fullname" .)) $c.publishService.pathOverride) | quote }}
{{- end }}
- {{ printf "--election-id=%s" (include "portcullis.electionID" .) | quote }}
{{- end }}
{{- range $c.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}
