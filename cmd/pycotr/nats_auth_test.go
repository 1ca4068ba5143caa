package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/testkit"
)

// TestNATSCredentialRefusedIsOneLine: a node (and `pycotr status`) whose
// NATS credential the server refuses prints one line naming the setting
// and exits 2, at once, instead of retrying for ever; the secret itself is
// not printed. The right credential starts the node.
func TestNATSCredentialRefusedIsOneLine(t *testing.T) {
	srv, err := events.StartServer(events.ServerConfig{Listen: "127.0.0.1:0", User: "node1", Password: "right-pa55"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	tokenSrv, err := events.StartServer(events.ServerConfig{Listen: "127.0.0.1:0", Token: "right-t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tokenSrv.Shutdown)

	cases := []struct {
		name, setting string
		args          []string
		env           []string
	}{
		{"node user", "PYCOTR_NATS_USER/PYCOTR_NATS_PASSWORD", []string{"node"},
			[]string{"PYCOTR_NATS_URL=" + srv.ClientURL(), "PYCOTR_NATS_USER=node1", "PYCOTR_NATS_PASSWORD=wrong-pa55"}},
		{"node token", "PYCOTR_NATS_TOKEN", []string{"node"},
			[]string{"PYCOTR_NATS_URL=" + tokenSrv.ClientURL(), "PYCOTR_NATS_TOKEN=wrong-t0ken"}},
		{"node none", "none set", []string{"node"}, []string{"PYCOTR_NATS_URL=" + tokenSrv.ClientURL()}},
		{"status token", "PYCOTR_NATS_TOKEN", []string{"status"},
			[]string{"PYCOTR_NATS_URL=" + tokenSrv.ClientURL(), "PYCOTR_NATS_TOKEN=wrong-t0ken"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, pycotrBin, tc.args...)
			cmd.Env = append(os.Environ(), append(tc.env, "PYCOTR_LOG_LEVEL=error", fmt.Sprintf("PYCOTR_HTTP_ADDR=127.0.0.1:%d", testkit.FreePort(t)))...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
				t.Fatalf("exit: %v, want code %d; stderr:\n%s", err, exitUsage, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.setting) || !strings.Contains(lines[0], "credentials refused") {
				t.Fatalf("stderr is not one line naming %s:\n%s", tc.setting, stderr.String())
			}
			if strings.Contains(stderr.String(), "wrong-") || strings.Contains(stderr.String(), "right-") {
				t.Fatalf("stderr shows a secret: %s", stderr.String())
			}
		})
	}

	// The right credential: the node connects, syncs and is ready.
	port := testkit.FreePort(t)
	p := startProc(t, "node-auth", []string{"PYCOTR_NATS_URL=" + srv.ClientURL(), "PYCOTR_NATS_USER=node1",
		"PYCOTR_NATS_PASSWORD=right-pa55", fmt.Sprintf("PYCOTR_HTTP_ADDR=127.0.0.1:%d", port), "PYCOTR_MINER_AUTOSTART=false"}, "node")
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	testkit.Eventually(t, 20*time.Second, "the node with the right credentials is ready", func() bool {
		return tryStatus(url+"/readyz") == 200
	})
	if strings.Contains(p.log.String(), "right-pa55") {
		t.Fatal("the node's log shows its NATS password")
	}
}
