package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// What the runner understands of a Pod spec: enough for the suite's echo Pods, and an error for
// the rest, never a silent approximation.

// writeVolumes writes the Pod's Secret and ConfigMap volumes (honouring items) and creates its
// emptyDir volumes under dir, and returns the host directory of each volume by name.
func (r *Runner) writeVolumes(ctx context.Context, pod *corev1.Pod, dir string) (map[string]string, error) {
	hostDirs := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		hostDir := filepath.Join(dir, "volumes", v.Name)
		if err := os.MkdirAll(hostDir, 0o755); err != nil {
			return nil, err
		}
		hostDirs[v.Name] = hostDir
		var data map[string][]byte
		var items []corev1.KeyToPath
		switch {
		case v.Secret != nil:
			secret, err := r.cfg.Kube.CoreV1().Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			data, items = secret.Data, v.Secret.Items
		case v.ConfigMap != nil:
			cm, err := r.cfg.Kube.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
			data = map[string][]byte{}
			for k, s := range cm.Data {
				data[k] = []byte(s)
			}
			for k, b := range cm.BinaryData {
				data[k] = b
			}
			items = v.ConfigMap.Items
		case v.EmptyDir != nil:
			continue
		default:
			return nil, fmt.Errorf("volume %s: only secret, configMap and emptyDir volumes are supported", v.Name)
		}
		if len(items) == 0 {
			for key := range data {
				items = append(items, corev1.KeyToPath{Key: key, Path: key})
			}
		}
		for _, item := range items {
			value, ok := data[item.Key]
			if !ok {
				return nil, fmt.Errorf("volume %s: no key %q", v.Name, item.Key)
			}
			path := filepath.Join(hostDir, filepath.Clean("/"+item.Path))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, value, 0o600); err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
		}
	}
	return hostDirs, nil
}

// prepareContainer resolves a container's environment and arguments. Paths under its volume
// mounts are rewritten to the volumes' host directories, since the process runs in the host's
// file system.
func (r *Runner) prepareContainer(ctx context.Context, pod *corev1.Pod, c corev1.Container, volumes map[string]string, dir string) (*containerState, error) {
	cs := &containerState{spec: c, run: isEchoBasic(c.Image), logPath: filepath.Join(dir, c.Name+".log")}
	if !cs.run {
		r.log.Printf("pod %s/%s: container %s (%s) is not run: only echo-basic images are; it counts as ready", pod.Namespace, pod.Name, c.Name, c.Image)
		return cs, nil
	}
	if len(c.Command) > 0 {
		return nil, fmt.Errorf("command %q: the runner runs echo-basic's own entry point only", c.Command)
	}
	var mounts []corev1.VolumeMount
	for _, m := range c.VolumeMounts {
		if _, ok := volumes[m.Name]; !ok {
			return nil, fmt.Errorf("volume mount %s: no such volume", m.Name)
		}
		mounts = append(mounts, m)
	}
	// Longest mount path first, so that nested mounts win.
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].MountPath) > len(mounts[j].MountPath) })
	rewrite := func(s string) string {
		for _, m := range mounts {
			mp := strings.TrimSuffix(m.MountPath, "/")
			if s == mp || strings.HasPrefix(s, mp+"/") {
				host := volumes[m.Name]
				if m.SubPath != "" {
					host = filepath.Join(host, m.SubPath)
				}
				return host + strings.TrimPrefix(s, mp)
			}
		}
		return s
	}

	env := map[string]string{}
	var order []string
	set := func(name, value string) {
		if _, ok := env[name]; !ok {
			order = append(order, name)
		}
		env[name] = value
	}
	set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	set("HOSTNAME", pod.Name)
	for _, from := range c.EnvFrom {
		var data map[string]string
		switch {
		case from.SecretRef != nil:
			secret, err := r.cfg.Kube.CoreV1().Secrets(pod.Namespace).Get(ctx, from.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("envFrom: %w", err)
			}
			data = map[string]string{}
			for k, v := range secret.Data {
				data[k] = string(v)
			}
		case from.ConfigMapRef != nil:
			cm, err := r.cfg.Kube.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, from.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("envFrom: %w", err)
			}
			data = cm.Data
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(from.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		value, err := r.envValue(ctx, pod, e, env)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		set(e.Name, rewrite(value))
	}
	for _, name := range order {
		cs.env = append(cs.env, name+"="+env[name])
	}
	for _, a := range c.Args {
		cs.args = append(cs.args, rewrite(expand(a, env)))
	}
	return cs, nil
}

// envValue resolves one environment variable as the kubelet does.
func (r *Runner) envValue(ctx context.Context, pod *corev1.Pod, e corev1.EnvVar, defined map[string]string) (string, error) {
	from := e.ValueFrom
	switch {
	case from == nil:
		return expand(e.Value, defined), nil
	case from.FieldRef != nil:
		return fieldValue(pod, from.FieldRef.FieldPath)
	case from.SecretKeyRef != nil:
		secret, err := r.cfg.Kube.CoreV1().Secrets(pod.Namespace).Get(ctx, from.SecretKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		v, ok := secret.Data[from.SecretKeyRef.Key]
		if !ok {
			return "", fmt.Errorf("secret %s has no key %q", from.SecretKeyRef.Name, from.SecretKeyRef.Key)
		}
		return string(v), nil
	case from.ConfigMapKeyRef != nil:
		cm, err := r.cfg.Kube.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, from.ConfigMapKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		v, ok := cm.Data[from.ConfigMapKeyRef.Key]
		if !ok {
			return "", fmt.Errorf("configMap %s has no key %q", from.ConfigMapKeyRef.Name, from.ConfigMapKeyRef.Key)
		}
		return v, nil
	default:
		return "", fmt.Errorf("only value, fieldRef, secretKeyRef and configMapKeyRef are supported")
	}
}

// fieldValue resolves a downward API fieldRef.
func fieldValue(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	case "status.podIPs":
		ips := make([]string, 0, len(pod.Status.PodIPs))
		for _, p := range pod.Status.PodIPs {
			ips = append(ips, p.IP)
		}
		return strings.Join(ips, ","), nil
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if key, ok := strings.CutPrefix(path, prefix+"['"); ok && strings.HasSuffix(key, "']") {
			return m[strings.TrimSuffix(key, "']")], nil
		}
	}
	return "", fmt.Errorf("fieldRef %s is not supported", path)
}

// expand replaces $(NAME) with the value of a variable defined before, keeps unknown references
// as they are, and turns $$ into $, as the kubelet does.
func expand(s string, defined map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteByte('$')
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := defined[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// isEchoBasic reports whether an image is the suite's echo server, whatever its registry and tag.
func isEchoBasic(image string) bool {
	name, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name = name[:i]
	}
	return name == "echo-basic" || strings.HasSuffix(name, "/echo-basic")
}
