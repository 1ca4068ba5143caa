//go:build soak

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pycotr/pycotr/internal/testkit"
)

// TestTaskLifecycleSoak runs the Taskfile's lifecycle as a user would —
// `go tool task up`, `status`, `down` — on free ports and a private run
// directory, and checks that every process `up` started is gone after
// `down`. Behind the soak tag: the first `go tool task` builds Task.
func TestTaskLifecycleSoak(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	runDir := t.TempDir()
	vars := []string{
		"RUN_DIR=" + runDir,
		fmt.Sprintf("PORT_1=%d", testkit.FreePort(t)), fmt.Sprintf("PORT_2=%d", testkit.FreePort(t)), fmt.Sprintf("PORT_3=%d", testkit.FreePort(t)),
		fmt.Sprintf("NATS_PORT=%d", testkit.FreePort(t)),
		"PAUSE_1=0.3", "PAUSE_2=0.5", "PAUSE_3=0.7",
	}
	task := func(name string) string {
		t.Helper()
		cmd := exec.Command("go", append([]string{"tool", "-modfile=tools/go.mod", "task", name}, vars...)...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("task %s: %v\n%s", name, err, out)
		}
		return string(out)
	}
	t.Cleanup(func() { // whatever happens, leave nothing running
		cmd := exec.Command("go", append([]string{"tool", "-modfile=tools/go.mod", "task", "down"}, vars...)...)
		cmd.Dir = root
		cmd.Run()
	})
	task("up")
	var pids []int
	for i := 1; i <= 3; i++ {
		data, err := os.ReadFile(filepath.Join(runDir, fmt.Sprintf("node-%d.pid", i)))
		if err != nil {
			t.Fatalf("no pid file for node-%d: %v", i, err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	out := task("status")
	for i := 1; i <= 3; i++ {
		if !strings.Contains(out, fmt.Sprintf("node-%d", i)) {
			t.Errorf("status does not list node-%d:\n%s", i, out)
		}
	}
	task("down")
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("pid %d still runs after task down", pid)
		}
	}
}
