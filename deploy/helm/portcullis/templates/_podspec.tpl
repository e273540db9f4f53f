{{/* The pod template shared by the Deployment and the DaemonSet. */}}
{{- define "portcullis.podTemplate" -}}
{{- $c := .Values.controller -}}
metadata:
  labels:
    {{- include "portcullis.selectorLabels" . | nindent 4 }}
    {{- with $c.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    {{- with $c.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "portcullis.serviceAccountName" . }}
  automountServiceAccountToken: true
  terminationGracePeriodSeconds: {{ $c.terminationGracePeriodSeconds }}
  {{- with $c.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with $c.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $c.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: controller
      image: {{ include "portcullis.image" . | quote }}
      imagePullPolicy: {{ $c.image.pullPolicy }}
      args:
        {{- include "portcullis.args" . | nindent 8 }}
      ports:
        - name: http
          containerPort: {{ $c.containerPort.http }}
          protocol: TCP
          {{- if and (eq $c.kind "DaemonSet") $c.daemonset.useHostPort }}
          hostPort: {{ $c.daemonset.hostPorts.http }}
          {{- end }}
        - name: https
          containerPort: {{ $c.containerPort.https }}
          protocol: TCP
          {{- if and (eq $c.kind "DaemonSet") $c.daemonset.useHostPort }}
          hostPort: {{ $c.daemonset.hostPorts.https }}
          {{- end }}
        - name: controller
          containerPort: {{ $c.containerPort.controller }}
          protocol: TCP
        - name: healthz
          containerPort: {{ $c.containerPort.healthz }}
          protocol: TCP
          {{- if and (eq $c.kind "DaemonSet") $c.daemonset.useHostPort $c.daemonset.hostPorts.healthz }}
          hostPort: {{ $c.daemonset.hostPorts.healthz }}
          {{- end }}
        {{- if $c.service.enablePorts.stat }}
        - name: stat
          containerPort: {{ $c.containerPort.stat }}
          protocol: TCP
        {{- end }}
        {{- range $port, $_ := $c.tcpServices }}
        - name: {{ printf "tcp-%s" $port }}
          containerPort: {{ $port }}
          protocol: TCP
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
        {{- toYaml . | nindent 8 }}
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
        {{- toYaml . | nindent 8 }}
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
    {{- toYaml . | nindent 4 }}
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
