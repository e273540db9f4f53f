package framework

import "testing"

func TestParseReloads(t *testing.T) {
	for _, tc := range []struct {
		name     string
		showProc string
		want     int
		wantErr  bool
	}{
		{
			name: "a fresh master on haproxy 2.6",
			showProc: "#<PID>          <type>          <reloads>       <uptime>        <version>      \n" +
				"9573            master          0 [failed: 0]   0d00h10m18s     2.6.12-1+deb12u4\n" +
				"# workers\n" +
				"9575            worker          0               0d00h10m18s     2.6.12-1+deb12u4\n" +
				"# programs\n\n",
			want: 0,
		},
		{
			name: "a master after a reload, with an old worker still draining",
			showProc: "#<PID>          <type>          <reloads>       <uptime>        <version>      \n" +
				"9573            master          1 [failed: 0]   0d00h10m20s     2.6.12-1+deb12u4\n" +
				"# workers\n" +
				"19852           worker          0               0d00h00m01s     2.6.12-1+deb12u4\n" +
				"# old workers\n" +
				"9575            worker          1               0d00h10m20s     2.6.12-1+deb12u4\n" +
				"# programs\n\n",
			want: 1,
		},
		{name: "no master line", showProc: "Unknown command.\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseReloads(tc.showProc)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseReloads: got %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
