{{/* Generated from the controller's flag set by `make docs` (go test ./cmd/controller -run
TestFlagsDoc -update). Do not edit by hand. The names of the controller's flags: controller.extraArgs
may only use these. */}}
{{- define "portcullis.controllerFlags" -}}
config-dir configmap configmap-tcp-services controller-name controller-port default-backend-service default-ssl-certificate election-id election-namespace empty-ingress-class gateway-address-pool gateway-controller-name healthz-bind-port host-ownership http-bind-port https-bind-port ingress.class ipv4-bind-address kubeconfig log log-format namespace-whitelist pod-ip program publish-service publish-status-address runtime-dir server-slot-budget shutdown-delay spare-backends stats-bind-port status-address-type stop-timeout tcp-services-configmap udp-services-configmap
{{- end -}}
