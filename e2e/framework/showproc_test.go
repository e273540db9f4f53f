package framework

import (
	"slices"
	"testing"
)

func TestParseProcState(t *testing.T) {
	for _, tc := range []struct {
		name     string
		showProc string
		want     ProcState
		wantErr  bool
	}{
		{
			name: "a fresh master on haproxy 2.6",
			showProc: "#<PID>          <type>          <reloads>       <uptime>        <version>      \n" +
				"9573            master          0 [failed: 0]   0d00h10m18s     2.6.12-1+deb12u4\n" +
				"# workers\n" +
				"9575            worker          0               0d00h10m18s     2.6.12-1+deb12u4\n" +
				"# programs\n\n",
			want: ProcState{MasterPID: 9573, Workers: []int{9575}},
		},
		{
			name: "after a failed reload, with an old worker still draining",
			showProc: "#<PID>          <type>          <reloads>       <uptime>        <version>      \n" +
				"9573            master          2 [failed: 1]   0d00h10m20s     2.6.12-1+deb12u4\n" +
				"# workers\n" +
				"19852           worker          0               0d00h00m01s     2.6.12-1+deb12u4\n" +
				"# old workers\n" +
				"9575            worker          1               0d00h10m20s     2.6.12-1+deb12u4\n" +
				"# programs\n\n",
			want: ProcState{MasterPID: 9573, Reloads: 2, Failed: 1, Workers: []int{19852}, OldWorkers: []int{9575}},
		},
		{
			name: "haproxy 3.2, without a programs section, after a reload",
			showProc: "#<PID>          <type>          <reloads>       <uptime>        <version>      \n" +
				"16411           master          1 [failed: 0]   0d00h00m02s     3.2.0-e134140d2\n" +
				"# workers\n" +
				"16515           worker          0               0d00h00m01s     3.2.0-e134140d2\n" +
				"# old workers\n" +
				"16413           worker          1               0d00h00m02s     3.2.0-e134140d2\n\n",
			want: ProcState{MasterPID: 16411, Reloads: 1, Workers: []int{16515}, OldWorkers: []int{16413}},
		},
		{name: "no master line", showProc: "Unknown command.\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcState(tc.showProc)
			if (err != nil) != tc.wantErr || got.MasterPID != tc.want.MasterPID || got.Reloads != tc.want.Reloads ||
				got.Failed != tc.want.Failed || !slices.Equal(got.Workers, tc.want.Workers) || !slices.Equal(got.OldWorkers, tc.want.OldWorkers) {
				t.Errorf("parseProcState: got %+v, %v; want %+v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseMetrics(t *testing.T) {
	body := []byte(`# HELP portcullis_reloads_total HAProxy starts and reloads, by reason.
# TYPE portcullis_reloads_total counter
portcullis_reloads_total{reason="backend_added"} 2
portcullis_reloads_total{reason="start"} 1
# TYPE portcullis_runtime_updates_total counter
portcullis_runtime_updates_total 17
portcullis_apply_duration_seconds_bucket{kind="reload",le="+Inf"} 3
`)
	m, err := parseMetrics(body)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		got  float64
		want float64
	}{
		{"a labelled series", m.Value("portcullis_reloads_total", "reason", "start"), 1},
		{"an unlabelled series", m.Value("portcullis_runtime_updates_total"), 17},
		{"labels given out of order", m.Value("portcullis_apply_duration_seconds_bucket", "le", "+Inf", "kind", "reload"), 3},
		{"an absent series", m.Value("portcullis_reloads_total", "reason", "slots_exhausted"), 0},
		{"a sum over labels", m.Sum("portcullis_reloads_total"), 3},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if _, err := parseMetrics([]byte("no_value\n")); err == nil {
		t.Error("a line without a value: got no error")
	}
}
