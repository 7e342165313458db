package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// servicesCPU is the CPU seconds the service's instances used so far
// (/proc/<pid>/stat utime+stime).
func servicesCPU(cmds []*exec.Cmd) float64 {
	var s float64
	for _, c := range cmds {
		s += cpuSeconds(c.Process.Pid)
	}
	return s
}

// pgCPUSeconds is the CPU seconds Postgres used so far, when it runs on this
// machine: utime+stime of every live postgres process (backends and
// background workers), plus the postmaster's cutime+cstime, which holds what
// the backends that exited used. It counts every client of the server, so
// on a shared machine it is an upper bound of the benchmark's share; zero
// when no postgres process is visible.
func pgCPUSeconds() float64 {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total float64
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open || string(b[open+1:end]) != "postgres" {
			continue
		}
		f := strings.Fields(string(b[end+2:]))
		if len(f) < 15 {
			continue
		}
		// From the state (f[0]): utime f[11], stime f[12], cutime f[13],
		// cstime f[14], in ticks of 1/100 s; ppid f[1].
		for _, i := range []int{11, 12} {
			v, _ := strconv.ParseFloat(f[i], 64)
			total += v / 100
		}
		if ppid, _ := strconv.Atoi(f[1]); !isPostgres(ppid) {
			for _, i := range []int{13, 14} {
				v, _ := strconv.ParseFloat(f[i], 64)
				total += v / 100
			}
		}
	}
	return total
}

// isPostgres reports whether pid is a postgres process (the postmaster's
// parent is not).
func isPostgres(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return err == nil && strings.TrimSpace(string(b)) == "postgres"
}
