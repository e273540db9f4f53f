{{/* The pod template shared by the Deployment and the DaemonSet. */}}
{{- define "portcullis.podTemplate" -}}
{{- $c := .Values.controller -}}
{{- $hostCfg := ternary ($c.daemonset | default dict) ($c.deployment | default dict) (eq $c.kind "DaemonSet") -}}
{{/* A Deployment's host ports (haproxytech's deployment.hostPorts) default to daemonset.hostPorts. */}}
{{- $hostPorts := merge (deepCopy ($hostCfg.hostPorts | default dict)) ($c.daemonset.hostPorts | default dict) -}}
{{- $useHostPort := $hostCfg.useHostPort -}}
{{- $tcpPortsByTarget := dict -}}
{{- range $c.service.tcpPorts -}}
{{- $_ := set $tcpPortsByTarget (include "portcullis.scalar" .targetPort) . -}}
{{- end -}}
metadata:
  labels:
    {{- include "portcullis.selectorLabels" . | nindent 4 }}
    {{- with $c.podLabels }}
    {{- include "portcullis.stringMap" . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    {{- with $c.podAnnotations }}
    {{- if kindIs "string" . }}
    {{- include "portcullis.tplYaml" (list $ .) | nindent 4 }}
    {{- else }}
    {{- include "portcullis.stringMap" . | nindent 4 }}
    {{- end }}
    {{- end }}
spec:
  serviceAccountName: {{ include "portcullis.serviceAccountName" . }}
  automountServiceAccountToken: true
  terminationGracePeriodSeconds: {{ int64 $c.terminationGracePeriodSeconds }}
  {{- if $c.hostNetwork }}
  hostNetwork: true
  {{- end }}
  {{- if $c.dnsPolicy }}
  dnsPolicy: {{ $c.dnsPolicy }}
  {{- else if $c.hostNetwork }}
  dnsPolicy: ClusterFirstWithHostNet
  {{- end }}
  {{- with $c.dnsConfig }}
  dnsConfig:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if not (kindIs "invalid" $c.enableServiceLinks) }}
  enableServiceLinks: {{ $c.enableServiceLinks }}
  {{- end }}
  {{- with $c.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with $c.runtimeClassName }}
  runtimeClassName: {{ . }}
  {{- end }}
  {{- with $c.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.initContainers }}
  initContainers:
    {{- include "portcullis.tplYaml" (list $ .) | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ $c.name | default "controller" }}
      image: {{ include "portcullis.image" . | quote }}
      imagePullPolicy: {{ $c.image.pullPolicy }}
      args:
        {{- include "portcullis.args" . | nindent 8 }}
      ports:
        {{- $hostIP := $hostCfg.hostIP }}
        {{- range $name := list "http" "https" "controller" "healthz" "stat" }}
        - name: {{ $name }}
          containerPort: {{ int64 (index $c.containerPort $name) }}
          protocol: TCP
          {{- $hostPort := index $hostPorts $name | default 0 | int64 }}
          {{- if and $useHostPort $hostPort (not $c.hostNetwork) }}
          hostPort: {{ $hostPort }}
          {{- with $hostIP }}
          hostIP: {{ . }}
          {{- end }}
          {{- end }}
        {{- end }}
        {{- range $port, $_ := $c.tcpServices }}
        {{- if not (hasKey $tcpPortsByTarget $port) }}
        - name: {{ printf "tcp-%s" $port }}
          containerPort: {{ $port }}
          protocol: TCP
          {{- if and $useHostPort (not $c.hostNetwork) }}
          hostPort: {{ $port }}
          {{- with $hostIP }}
          hostIP: {{ . }}
          {{- end }}
          {{- end }}
        {{- end }}
        {{- end }}
        {{- range $c.service.tcpPorts }}
        - name: {{ .name | trunc 15 | trimSuffix "-" }}
          containerPort: {{ int64 .targetPort }}
          protocol: TCP
          {{- if and $useHostPort (not $c.hostNetwork) }}
          hostPort: {{ int64 .port }}
          {{- with $hostIP }}
          hostIP: {{ . }}
          {{- end }}
          {{- end }}
        {{- end }}
      env:
        # The leader election Lease lives in POD_NAMESPACE; POD_NAME identifies the replica.
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        # The pod's own addresses (--pod-ip): endpoints there are refused.
        - name: POD_IP
          valueFrom:
            fieldRef:
              fieldPath: status.podIPs
        {{- with $c.extraEnvs }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $c.extraEnvFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.livenessProbe }}
      livenessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.readinessProbe }}
      readinessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.startupProbe }}
      startupProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.lifecycle }}
      lifecycle:
        {{- include "portcullis.tplYaml" (list $ .) | nindent 8 }}
      {{- end }}
      {{- with $c.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: config
          mountPath: {{ $c.configDir }}
        - name: runtime
          mountPath: {{ $c.runtimeDir }}
        - name: tmp
          mountPath: /tmp
        {{- with $c.extraVolumeMounts }}
        {{- include "portcullis.tplYaml" (list $ .) | nindent 8 }}
        {{- end }}
    {{- with $c.extraContainers }}
    {{- include "portcullis.tplYaml" (list $ .) | nindent 4 }}
    {{- end }}
  volumes:
    - name: config
      emptyDir: {}
    - name: runtime
      emptyDir:
        medium: Memory
        sizeLimit: 16Mi
    - name: tmp
      emptyDir:
        medium: Memory
        sizeLimit: 64Mi
    {{- with $c.extraVolumes }}
    {{- include "portcullis.tplYaml" (list $ .) | nindent 4 }}
    {{- end }}
  {{- with $c.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if and (eq $c.kind "Deployment") $c.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml $c.topologySpreadConstraints | nindent 4 }}
  {{- end }}
{{- end -}}
