// Package procstack runs the real binary the way an operator does, for the
// programs that measure it from outside (make bench, make soak): built from this
// checkout, as subprocesses on a fresh Postgres schema, the bundled fake
// sending API beside the service. It also reads a process's figures from
// /proc.
package procstack

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Build builds the service from the current directory (the module root)
// into a temporary directory, with the build tags tags (may be empty), and
// returns the binary's path.
func Build(tags string) (string, error) {
	dir, err := os.MkdirTemp("", "notify-procstack")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "notify")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if tags != "" {
		cmd.Args = []string{"go", "build", "-tags", tags, "-o", bin, "."}
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("error building the service: %w", err)
	}
	return bin, nil
}

// Schema creates a schema of its own on the Postgres of adminURL and
// returns a DATABASE_URL pointing at it, and a function dropping it.
func Schema(admin *sql.DB, adminURL, prefix string) (string, func(), error) {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := prefix + "_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		return "", nil, fmt.Errorf("error creating schema: %w", err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("error parsing the Postgres URL")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() { _, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE") }, nil
}

// Process is a running subprocess and the URL it said it listens on.
type Process struct {
	Cmd *exec.Cmd
	URL string
}

// Start runs bin with args and env (added to this process's) and waits
// for the stdout line containing ready, whose next word is the URL. The
// process's stderr (its log) goes to stderr, or nowhere when nil.
func Start(ctx context.Context, bin string, args, env []string, ready string, stderr io.Writer) (*Process, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = cmp.Or[io.Writer](stderr, io.Discard)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if i := strings.Index(sc.Text(), ready); i >= 0 {
			go io.Copy(io.Discard, out)
			return &Process{Cmd: cmd, URL: strings.Fields(sc.Text()[i+len(ready):])[0]}, nil
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, fmt.Errorf("%s %s exited before it was ready", filepath.Base(bin), strings.Join(args, " "))
}

// Stop sends SIGTERM and waits up to 20 s before killing.
func (p *Process) Stop() {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-done
	}
}

// RSS returns the resident memory of pid in MB (VmRSS).
func RSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			return kb / 1024
		}
	}
	return 0
}

// OpenFiles returns how many file descriptors pid has open.
func OpenFiles(pid int) int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0
	}
	return len(entries)
}
