package portcullis_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// chartCRDs is where the chart keeps its copies of the Gateway API CRDs (gatewayAPI.installCRDs).
const chartCRDs = "deploy/helm/portcullis/files/gateway-api-crds"

// TestChartGatewayAPICRDsAreTheModules checks that the chart's Gateway API CRDs are the files of
// the sigs.k8s.io/gateway-api module this controller is built with (config/crd/standard), byte for
// byte and none missing or extra, so that the CRDs the chart installs are those the code reads.
// After a module upgrade: cp "$(go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api)"/config/crd/standard/*.yaml deploy/helm/portcullis/files/gateway-api-crds/
func TestChartGatewayAPICRDsAreTheModules(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		t.Fatalf("finding the sigs.k8s.io/gateway-api module: %v", err)
	}
	moduleDir := filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard")
	want, err := filepath.Glob(filepath.Join(moduleDir, "*.yaml"))
	if err != nil || len(want) == 0 {
		t.Fatalf("no CRDs in %s: %v", moduleDir, err)
	}
	have, err := filepath.Glob(filepath.Join(chartCRDs, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base := func(paths []string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = filepath.Base(p)
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(base(have), base(want)) {
		t.Fatalf("the chart holds %v, the module %v", base(have), base(want))
	}
	for _, name := range base(want) {
		a, err := os.ReadFile(filepath.Join(moduleDir, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(chartCRDs, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s/%s differs from the module's %s", chartCRDs, name, filepath.Join(moduleDir, name))
		}
	}
}
