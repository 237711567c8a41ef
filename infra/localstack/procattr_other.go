//go:build unix && !linux

package localstack

import "syscall"

// procAttr puts an emulator in its own process group, so Stop can signal the
// whole group. Outside Linux there is no parent-death signal: an emulator
// outlives a test binary that is killed before it calls Stop.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
