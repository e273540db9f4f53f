package conformance

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/apis/v1alpha2"
	"sigs.k8s.io/gateway-api/apis/v1alpha3"
	xv1alpha1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"
	"sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/tests"
	conformanceconfig "sigs.k8s.io/gateway-api/conformance/utils/config"
	"sigs.k8s.io/gateway-api/conformance/utils/flags"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/gateway-api/pkg/features"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// The suite's own flags (sigs.k8s.io/gateway-api/conformance/utils/flags: -run-test, -skip-tests,
// -supported-features, -report-output, -debug, -timeout-config-overrides, ...) are registered in
// this test binary and override the options below when given after -args. -full is ours.
var fullProfile = flag.Bool("full", false,
	"run every test of the GATEWAY-HTTP and GATEWAY-GRPC profiles (make conformance) "+
		"instead of the subset make test runs")

// GatewayClassName is the GatewayClass the harness creates for the suite.
const GatewayClassName = "portcullis"

// ControllerName is the controller's --gateway-controller-name, the GatewayClass's
// spec.controllerName.
const ControllerName = "portcullis.io/gateway-controller"

// SubsetTests are the tests `make test` runs: the GatewayClass status, routing by host and path,
// matching, weights, an invalid cross-namespace reference, listener status, HTTPS, gRPC, and TLS
// passthrough.
var SubsetTests = []string{
	"GatewayClassObservedGenerationBump",
	"HTTPRouteSimpleSameNamespace",
	"HTTPRouteMatching",
	"HTTPRouteWeight",
	"HTTPRouteInvalidCrossNamespaceBackendRef",
	"GatewayWithAttachedRoutes",
	"HTTPRouteHTTPSListener",
	"GRPCExactMethodMatching",
	"TLSRouteSimpleSameNamespace",
}

// TestGatewayAPIConformance runs the upstream suite, profiles GATEWAY-HTTP, GATEWAY-GRPC and
// GATEWAY-TLS, against the controller binary in the lab: the subset SubsetTests by default, every
// test with -full.
func TestGatewayAPIConformance(t *testing.T) {
	log.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true)))
	StartLab(t)

	// The suite's clients, as conformance.DefaultOptions makes them, for the lab's cluster.
	cfg := framework.RESTConfig()
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatalf("creating the suite's client: %v", err)
	}
	for _, install := range []func(*runtime.Scheme) error{
		v1alpha3.Install, v1alpha2.Install, xv1alpha1.Install, gatewayv1.Install, apiextensionsv1.AddToScheme,
	} {
		if err := install(c.Scheme()); err != nil {
			t.Fatal(err)
		}
	}
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("creating the suite's clientset: %v", err)
	}
	// The suite does not create the GatewayClass it is given. An earlier run of this test binary
	// (-count) may have.
	gwc := &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: GatewayClassName},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: ControllerName},
	}
	if err := c.Create(t.Context(), gwc); apierrors.IsAlreadyExists(err) {
		if err := c.Get(t.Context(), client.ObjectKeyFromObject(gwc), gwc); err != nil {
			t.Fatalf("reading GatewayClass %s: %v", GatewayClassName, err)
		}
		if gwc.Spec.ControllerName != ControllerName {
			t.Fatalf("GatewayClass %s exists with controllerName %s, want %s", GatewayClassName, gwc.Spec.ControllerName, ControllerName)
		}
	} else if err != nil {
		t.Fatalf("creating GatewayClass %s: %v", GatewayClassName, err)
	}

	framework.StartController(t, framework.ControllerOptions{
		AllNamespaces: true,
		ExtraArgs: []string{
			"--gateway-controller-name=" + ControllerName,
			"--gateway-address-pool=" + GatewayAddressPool,
			// The suite's h2c client (roundtripper.h2cPriorKnowledgeTransport) makes an
			// http2.Transport per request and never closes it: its idle connections outlive the
			// GOAWAY of HAProxy's soft stop, which then waits for them until `timeout client`.
			// Nothing is in flight at the end of the run; stop within the framework's 10s.
			"--stop-timeout=5s",
		},
	})
	supported := claimedFeatures(t, c)
	t.Logf("the controller claims %v", supported)

	opts := suite.ConformanceOptions{
		ConfigurableOptions: suite.ConfigurableOptions{
			GatewayClassName: GatewayClassName,
			ConformanceProfiles: []suite.ConformanceProfileName{
				suite.GatewayHTTPConformanceProfileName, suite.GatewayGRPCConformanceProfileName, suite.GatewayTLSConformanceProfileName,
			},
			SupportedFeatures: supported,
			// The cluster is thrown away after the run: deleting the base resources only costs time.
			CleanupBaseResources: false,
			CleanupTestResources: flags.DefaultCleanupTestResources,
			Mode:                 flags.DefaultMode,
			TimeoutConfig:        conformanceconfig.DefaultTimeoutConfig(),
			Implementation: confv1.Implementation{
				Organization: "portcullis-ingress",
				Project:      "portcullis",
				URL:          "https://github.com/portcullis-ingress/portcullis",
				Version:      "dev",
				Contact:      []string{"https://github.com/portcullis-ingress/portcullis/issues"},
			},
		},
		Client:     c,
		Clientset:  clientset,
		RestConfig: cfg,
		ManifestFS: []fs.FS{&conformance.Manifests},
	}
	if !*fullProfile {
		opts.SkipTests = subsetSkips()
	}
	// Flags given explicitly win (-run-test, -skip-tests, -report-output, -debug, ...).
	flags.ApplyAll(&opts.ConfigurableOptions)
	if opts.ReportOutputPath != "" {
		t.Logf("writing the conformance report to %s", opts.ReportOutputPath)
	}
	conformance.RunConformanceWithOptions(t, opts)
}

// claimedFeatures waits for the controller to accept the GatewayClass and returns the features it
// claims in its status: the suite is run for exactly those.
func claimedFeatures(t *testing.T, c client.Client) []features.FeatureName {
	t.Helper()
	var out []features.FeatureName
	framework.Eventually(t, 30*time.Second, func() error {
		gwc := &gatewayv1.GatewayClass{}
		if err := c.Get(t.Context(), client.ObjectKey{Name: GatewayClassName}, gwc); err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(gwc.Status.Conditions, string(gatewayv1.GatewayClassConditionStatusAccepted)) ||
			len(gwc.Status.SupportedFeatures) == 0 {
			return fmt.Errorf("GatewayClass %s not accepted with its supported features yet: %+v", GatewayClassName, gwc.Status)
		}
		out = out[:0]
		for _, f := range gwc.Status.SupportedFeatures {
			out = append(out, features.FeatureName(f.Name))
		}
		return nil
	})
	return out
}

// subsetSkips lists every test but SubsetTests.
func subsetSkips() []string {
	var skip []string
	for _, test := range tests.ConformanceTests {
		if !slices.Contains(SubsetTests, test.ShortName) {
			skip = append(skip, test.ShortName)
		}
	}
	return skip
}
